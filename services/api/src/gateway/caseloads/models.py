"""Caseload frames, the samples drawn from them (and those discarded), and every substitution of a sampled case."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.casedata.sealing import SealedBytes, SealedCaseRef, SealedDocument, blind_index_of
from gateway.db import Base, JSONDocument
from gateway.writes import when, who


class CaseloadFrame(Base):
    """One frame per inspection and sample type; only the columns the sample needs are kept."""

    __tablename__ = "caseload_frames"
    __table_args__ = (UniqueConstraint("inspection_id", "sample_type"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    sample_type: Mapped[str] = mapped_column(String(64))
    columns: Mapped[list[str]] = mapped_column(JSONDocument)
    case_count: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The frame as canonical CSV, gzip-compressed: what the sampling service is sent, byte for byte.
    # Sealed at rest; None once its cases are purged under retention (the description above stays).
    content: Mapped[bytes | None] = mapped_column(SealedBytes, nullable=True)
    uploaded_at: Mapped[datetime] = when(on="change")
    uploaded_by: Mapped[str] = who(on="change")


_LIVE = text("NOT discarded")


class Sample(Base):
    """A sample drawn by the sampling service, stored whole so anyone can redraw and check it.

    A frame has one sample in use at a time; a sample discarded before any case of it was assessed is
    kept for the record (`SampleDiscard` says why) and another may be drawn from the frame.
    """

    __tablename__ = "samples"
    __table_args__ = (
        Index("uq_samples_frame_id_in_use", "frame_id", unique=True, postgresql_where=_LIVE, sqlite_where=_LIVE),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    frame_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("caseload_frames.id", ondelete="RESTRICT"), index=True)
    sample_type: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(BigInteger)
    # Sealed where they hold case references (see casedata.sealing): the cases drawn and the reserves,
    # and the values of an exclusion filter on case_ref.
    design: Mapped[dict[str, Any]] = mapped_column(SealedDocument)
    frame_fingerprint: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(100))
    result: Mapped[dict[str, Any]] = mapped_column(SealedDocument)
    drawn_at: Mapped[datetime] = when()
    drawn_by: Mapped[str] = who()
    # Set when the sample is discarded (with a SampleDiscard): nothing reads its cases from then on.
    discarded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SampleDiscard(Base):
    """Why, when and by whom a sample was discarded: before the first case answer, never after."""

    __tablename__ = "sample_discards"

    sample_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    discarded_at: Mapped[datetime] = when()
    discarded_by: Mapped[str] = who()


class SampledCase(Base):
    """A case in the sample: drawn at first, or brought in from the reserve list by a substitution."""

    __tablename__ = "sampled_cases"
    __table_args__ = (UniqueConstraint("sample_id", "case_ref_index"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    sample_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), index=True)
    # Sealed, and found (and kept unique in its sample) by its blind index; both None once purged under
    # retention, the row staying for the sample's counts.
    case_ref: Mapped[str | None] = mapped_column(SealedCaseRef, nullable=True)
    case_ref_index: Mapped[str | None] = blind_index_of("case_ref", nullable=True)
    unit: Mapped[str | None] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(200))
    inclusion_probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))  # a schemas.CaseStatus
    reserve_rank: Mapped[int | None] = mapped_column(Integer)
    # Set when its first case answers are recorded: an assessed case stays in the sample.
    assessed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Substitution(Base):
    __tablename__ = "substitutions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    sample_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), index=True)
    replaced_case_ref: Mapped[str] = mapped_column(SealedCaseRef)
    replaced_case_ref_index: Mapped[str] = blind_index_of("replaced_case_ref")
    reserve_case_ref: Mapped[str] = mapped_column(SealedCaseRef)
    reserve_case_ref_index: Mapped[str] = blind_index_of("reserve_case_ref")
    stratum: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    substituted_at: Mapped[datetime] = when()
    substituted_by: Mapped[str] = who()
