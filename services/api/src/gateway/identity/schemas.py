"""Wire shapes of identity: accounts, grants, API keys, tokens, and who the caller is."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from gateway.pagination import PageQuery
from gateway.permissions import Permission, Role
from inspection_shared.fields import Flag, Omittable

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("may not hold control characters")
    return value


def _an_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("is not an email address")
    return value


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=3, max_length=254),
    AfterValidator(_an_email),
    Field(description="The person's email address, the name they sign in with; held in lower case.",
          examples=["jane.doe@justice.example"]),
]
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_control_characters)
]
Password = Annotated[
    str, Field(min_length=1, max_length=1024, description="At least 8 characters, not one of the commonest.")
]

# --- accounts ------------------------------------------------------------------------------------------


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "jane.doe@justice.example", "name": "Jane Doe",
                                         "password": "a long passphrase of hers"}]},
    )

    email: Email
    name: PersonName
    password: Password


class UserUpdate(BaseModel):
    """The fields to change. Deactivating (`"active": false`) ends the person's sessions at once, in every
    gateway process; a new password ends them too."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    name: Omittable[PersonName] = None
    active: Omittable[Flag] = None
    password: Omittable[Password] = None


class GrantCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "inspector", "unit_id": "7d1c2f0e-2a41-4bf5-9a0c-3f6c1a1e5b10"},
                                        {"role": "admin", "unit_id": None}]},
    )

    role: Role
    unit_id: uuid.UUID | None = Field(
        default=None, description="The unit the role is held on, covering the units below it; null only for admin."
    )


class GrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: Role
    unit_id: uuid.UUID | None
    unit_code: str | None = None
    created_at: datetime
    created_by: str


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    active: bool
    grants: list[GrantRead]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class UserListQuery(PageQuery):
    active: bool | None = Field(default=None, description="Only active (true) or deactivated (false) accounts.")
    email: Email | None = Field(default=None, description="The account with this email address.")


# --- API keys ------------------------------------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Report generator", "scopes": ["reports:read", "inspections:read"],
                                         "unit_id": None, "expires_at": "2027-06-30T00:00:00Z"}]},
    )

    name: PersonName = Field(description="What the key is for, to tell keys apart.")
    scopes: list[Permission] = Field(min_length=1, description="The permissions the key holds.")
    unit_id: uuid.UUID | None = Field(
        default=None, description="Held on this unit and those below it only; null: on every unit."
    )
    expires_at: AwareDatetime | None = Field(default=None, description="When the key stops working; null: never.")


KeyStatus = Literal["active", "expired", "revoked"]


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it by.")
    scopes: list[Permission]
    unit_id: uuid.UUID | None
    unit_code: str | None = None
    expires_at: datetime | None
    revoked_at: datetime | None
    status: KeyStatus
    created_at: datetime
    created_by: str


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself, shown this once only: send it as `Authorization: Bearer <key>`.")


class ApiKeyListQuery(PageQuery):
    status: KeyStatus | None = None


# --- tokens --------------------------------------------------------------------------------------------


class TokenResponse(BaseModel):
    """An OAuth 2.0 token response (RFC 6749 section 5.1)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9...", "token_type": "bearer", "expires_in": 900,
        "refresh_token": "rt_3q2-7wXk...",
    }]})

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token is good for.")
    refresh_token: str = Field(description="Exchange it once for new tokens (grant_type=refresh_token).")


# --- who I am ------------------------------------------------------------------------------------------


class MyGrant(BaseModel):
    role: Role | None = Field(description="The role held; null for an API key's scopes.")
    unit_id: uuid.UUID | None = Field(description="The unit it is held on (and those below it); null: every unit.")
    unit_code: str | None
    units_covered: int | None = Field(description="How many units it covers; null: every unit.")
    permissions: list[Permission]


class UnitPermissions(BaseModel):
    unit_id: uuid.UUID | None = Field(description="Null: every unit.")
    unit_code: str | None
    permissions: list[Permission] = Field(description="Held on this unit and every unit below it.")


class Me(BaseModel):
    id: str
    kind: Literal["person", "key", "system"]
    name: str
    email: str | None = None
    grants: list[MyGrant]
    allows: list[UnitPermissions] = Field(description="What the grants allow, unit by unit.")
