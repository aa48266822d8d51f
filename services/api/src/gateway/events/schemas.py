"""Wire shapes of the event feed and of webhook subscriptions and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal["inspection.phase_changed", "inspection.published", "rating_run.completed", "panel.decided"]


class EventRead(BaseModel):
    """An event of the feed, and the body of a webhook delivery."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Increases with each event; read on with `after` set to the last one read.")
    type: EventType
    occurred_at: datetime
    inspection_id: uuid.UUID
    unit_id: uuid.UUID
    data: dict[str, Any] = Field(
        description="phase_changed: from, to; published: published_at, snapshot_id, overall_rating; "
        "rating_run.completed: snapshot_id, sequence, overall_rating, overall_score; panel.decided: the same "
        "and based_on_id."
    )


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: int = Field(default=0, ge=0, description="The id of the last event read (0: from the first).")
    limit: int = Field(default=100, ge=1, le=500, description="Events per page, at most 500.")
    type: list[EventType] | None = Field(default=None, description="Only events of these types; repeat to give several.")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"url": "https://reports.example.org/hooks/inspections",
                                         "event_types": ["inspection.published"]}]},
    )

    url: str = Field(min_length=1, max_length=2000, description="http or https; redirects are not followed.")
    event_types: list[EventType] = Field(min_length=1, description="The types of event to deliver.")
    secret: str | None = Field(
        default=None, max_length=200,
        description="`whsec_` and 24 to 64 bytes in base64, to sign deliveries with; made for you if not given.",
    )


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    event_types: list[EventType]
    created_at: datetime
    created_by: str = Field(description="Its owner: it delivers only the events they may see.")


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret, shown this once only (Standard Webhooks: `whsec_...`).")


class WebhookAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's answer; null if none came (see `error`).")
    error: str | None
    duration_ms: float


class WebhookDeliveryRead(BaseModel):
    id: uuid.UUID = Field(description="Sent as `webhook-id`: the same on every attempt.")
    event_id: int
    event_type: EventType
    status: Literal["pending", "delivered", "failed"]
    next_attempt_at: datetime | None
    attempts: list[WebhookAttemptRead]
