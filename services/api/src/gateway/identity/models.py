"""People and systems that call the gateway: accounts, their roles on units, their sign-in sessions, the
record of failed sign-ins, and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, JSONDocument, UTCDateTime
from gateway.permissions import Role
from gateway.writes import Recorded, when, who

ROLES = ", ".join(f"'{role}'" for role in Role)


class User(Recorded, Base):
    """A person who signs in."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Held in lower case, so one address is one account however it is typed."""
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_generation: Mapped[int] = mapped_column(Integer, default=0)
    """Moved on to end every access token issued before at once (sign-out everywhere, deactivation, a new
    password): each token carries the generation it was issued in."""
    version: Mapped[int] = mapped_column(Integer)

    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", lazy="raise_on_sql", order_by="RoleGrant.created_at", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}


class RoleGrant(Base):
    """A person's role on a unit, covering the units below it; the admin role is held on no unit: everywhere."""

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint(f"role IN ({ROLES})", name="role_known"),
        CheckConstraint(
            "(role = 'admin' AND unit_id IS NULL) OR (role <> 'admin' AND unit_id IS NOT NULL)",
            name="unit_unless_admin",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = when()
    created_by: Mapped[str] = who()

    user: Mapped[User] = relationship(back_populates="grants", lazy="raise_on_sql")


class RefreshToken(Base):
    """One refresh token: single use, replaced by the next of its family at each exchange. A family is one
    sign-in; a token of it used twice means it was copied, and the whole family is revoked."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = when()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(Base):
    """Failed sign-ins counted for one account or one client address, in a window that ends at `resets_at`.
    Kept in the database so that every gateway process counts the same failures."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of `account:<email>` or `address:<ip>`: what was typed as a user name (a password, by
    mistake, now and then) and addresses are not kept."""
    failures: Mapped[int] = mapped_column(Integer)
    resets_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiKey(Recorded, Base):
    """A key a system calls with: its scopes are permissions, held on one unit (and those below it) or on
    all. Only a hash of the key is kept; the key itself is shown once, when it is made."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    """The key's first characters, to tell keys apart in lists and logs."""
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONDocument)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
