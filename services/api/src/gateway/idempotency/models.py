"""Idempotency keys: the first answer to a POST that starts work, kept so that a repeat gets it again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.casedata.sealing import SealedDocument
from gateway.db import Base, JSONDocument
from gateway.writes import when, who


class IdempotentRequest(Base):
    __tablename__ = "idempotent_requests"

    # The route and its target (e.g. "POST /api/v1/inspections/{id}/rating-runs") with the caller's key.
    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    # Both null while the first request with the key is still at work.
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(SealedDocument)  # its case data sealed
    headers: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = when()
    created_by: Mapped[str] = who()
