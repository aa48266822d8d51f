"""The audit log: one row per change or named event, each holding the hash of the one before it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, UTCDateTime

Document = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
"""JSON (JSONB on PostgreSQL); an absent document is NULL, not JSON null."""


class AuditEntry(Base):
    """Appended by `gateway.audit` only, never changed (on PostgreSQL a trigger refuses UPDATE and
    DELETE). Ids are consecutive: each is one more than the entry it follows."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        # The list is newest first (by id) under any one filter: each index ends with the id.
        Index("ix_audit_entries_actor_id_id", "actor_id", "id"),
        Index("ix_audit_entries_entity_entity_id_id", "entity", "entity_id", "id"),
        Index("ix_audit_entries_inspection_id_id", "inspection_id", "id"),
        Index("ix_audit_entries_action_id", "action", "id"),
        Index("ix_audit_entries_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str] = mapped_column(String(100))
    actor_kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    """insert, update, delete, or the name of an event (such as sign_in)."""
    entity: Mapped[str] = mapped_column(String(64))
    """The table changed, or what a named event concerns."""
    entity_id: Mapped[str | None] = mapped_column(Text)
    """The row's primary key; a key of several columns as a JSON array (an idempotent request's route and
    the caller's key: no length the log could refuse)."""
    # No foreign key: the log outlives what it describes.
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    request_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(Document)
    after: Mapped[dict[str, Any] | None] = mapped_column(Document)
    details: Mapped[dict[str, Any] | None] = mapped_column(Document)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
