"""Wire shapes of the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from gateway.pagination import PageQuery

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
_Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_PRINTABLE)]


class AuditQuery(PageQuery.sized(50, 500)):
    actor: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_PRINTABLE)] | None = Field(
        default=None, description="Entries of this actor: a person's user id, key:<id>, or system."
    )
    entity: _Name | None = Field(default=None, description="Entries about this table or event subject, e.g. units.")
    entity_id: Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=_PRINTABLE)] | None = Field(
        default=None, description="With entity: entries about this row (its primary key)."
    )
    inspection: uuid.UUID | None = Field(default=None, description="Entries about rows of this inspection.")
    action: _Name | None = Field(default=None, description="insert, update, delete, or an event such as sign_in.")
    from_: AwareDatetime | None = Field(default=None, alias="from", description="Entries at or after this time.")
    to: AwareDatetime | None = Field(default=None, description="Entries before this time.")

    model_config = ConfigDict(populate_by_name=True)


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Entries are numbered consecutively, in the order they were written.")
    at: AwareDatetime
    actor_id: str
    actor_kind: str = Field(description="person, key or system.")
    action: str
    entity: str
    entity_id: str | None
    inspection_id: uuid.UUID | None
    request_id: str | None
    before: dict[str, Any] | None = Field(description="Changed fields before (an update), or the row deleted.")
    after: dict[str, Any] | None = Field(description="Changed fields after (an update), or the row inserted.")
    details: dict[str, Any] | None = Field(description="What a named event records.")
    prev_hash: str
    hash: str = Field(description="SHA-256 of the entry, its predecessor's hash included.")
