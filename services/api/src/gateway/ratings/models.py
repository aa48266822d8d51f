"""Rating snapshots: immutable records of what the rating engine said, and of every panel decision."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gateway.casedata.sealing import SealedDocument
from gateway.db import Base, JSONDocument
from gateway.writes import when, who


class RatingSnapshot(Base):
    """Never updated: a panel override or a re-run adds a new snapshot; history is the list of them."""

    __tablename__ = "rating_snapshots"
    __table_args__ = (UniqueConstraint("inspection_id", "sequence"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    # run: the engine rated the evidence; override: a ratings panel decision on top of the previous one.
    kind: Mapped[str] = mapped_column(String(16))
    based_on_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rating_snapshots.id", ondelete="RESTRICT"))
    framework_id: Mapped[str] = mapped_column(String(64))
    framework_version: Mapped[str] = mapped_column(String(32))
    rules_version: Mapped[str] = mapped_column(String(32))
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    # The evidence as the engine was sent it, its cases sealed (see casedata.sealing); once purged under
    # retention, each case-based standard's cases are replaced by its key-question counts.
    request: Mapped[dict[str, Any]] = mapped_column(SealedDocument)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # For an inspection of a region: the engine's pooled answer for the same cases, each PDU's figures
    # beside the region's (a `PooledRatingResult`); None for any other inspection.
    units: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    overall_rating: Mapped[str] = mapped_column(String(32))
    overall_score: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = when()
    created_by: Mapped[str] = who()


class PublishedVersion(Base):
    """What was published, version by version: never updated, never deleted.

    Version 1 is the publication; each correction adds the next version with a new snapshot (or, for a
    withdrawal, the same one), and says why and what changed. Every version stays readable.
    """

    __tablename__ = "published_versions"
    __table_args__ = (
        UniqueConstraint("inspection_id", "version"),
        CheckConstraint("kind IN ('publication', 'correction', 'withdrawal')", name="kind_known"),
        CheckConstraint("version = 1 OR reason IS NOT NULL", name="correction_has_reason"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Found by (inspection_id, version): the unique constraint's index serves.
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    snapshot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rating_snapshots.id", ondelete="RESTRICT"))
    reason: Mapped[str | None] = mapped_column(Text)
    # What the correction changed: ratings, panel decisions, judgements and how many case assessments (no
    # case reference). Null for the publication itself.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = when()
    created_by: Mapped[str] = who()
