"""The outbox of events, and the webhook subscriptions and deliveries that carry them out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gateway.casedata.sealing import SealedBytes
from gateway.db import Base, JSONDocument, UTCDateTime
from gateway.writes import Recorded

EventId = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit id; on SQLite an INTEGER, the only type its row ids autoincrement as."""


class Event(Base):
    """One event, written by `outbox` in the transaction of the change it tells of, and never changed.
    Ids follow the order of the commits (see `outbox`): an event's id is the feed's cursor."""

    __tablename__ = "events"
    __table_args__ = {"sqlite_autoincrement": True}  # never an id used again

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # No foreign keys: the feed outlives what it tells of, as the audit log does.
    inspection_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    inspection_status: Mapped[str] = mapped_column(String(16))
    """The inspection's status once the change was made: who may see the event (`guards.sees`)."""
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class WebhookSubscription(Recorded, Base):
    """A URL told of the events of some types that its owner (`created_by`: the person or API key that
    made it) may see."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSONDocument)
    signing_key: Mapped[bytes] = mapped_column(SealedBytes)
    """The secret's key (the bytes `whsec_` is followed by, in base64), sealed at rest."""
    considered_through: Mapped[int] = mapped_column(EventId)
    """The last event the delivery worker has considered for this subscription (none before it was made)."""


class WebhookDelivery(Base):
    """One event to one subscription: pending until delivered, or failed once retries give up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(EventId, ForeignKey("events.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When it is next due; while one process is sending it, the end of that process's claim on it."""


class WebhookAttempt(Base):
    """One attempt to deliver: when, the receiver's status code or the error, and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[float] = mapped_column(Float)
