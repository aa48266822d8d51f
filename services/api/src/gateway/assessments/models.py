"""What inspectors record: an assessment of each sampled case, and a judgement on each judged standard."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.casedata.sealing import SealedCaseRef
from gateway.db import Base, JSONDocument
from gateway.writes import Recorded


class CaseAssessment(Recorded, Base):
    """The answers for one sampled case: key question id -> yes / no / not_applicable."""

    __tablename__ = "case_assessments"
    __table_args__ = (UniqueConstraint("sampled_case_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    sampled_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sampled_cases.id", ondelete="CASCADE"))
    case_ref: Mapped[str] = mapped_column(SealedCaseRef)  # sealed; found through its sampled case
    sample_type: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    # Only the attributes the framework's case filters use (e.g. unpaid_work_requirement).
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    evidence_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Judgement(Recorded, Base):
    """The inspectors' rating of a judged (domain one or policy-and-provision) standard."""

    __tablename__ = "judgements"
    __table_args__ = (
        UniqueConstraint("inspection_id", "standard_id"),
        CheckConstraint(
            "rating IN ('outstanding', 'good', 'requires_improvement', 'inadequate')", name="rating_known"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    standard_id: Mapped[str] = mapped_column(String(16))
    rating: Mapped[str] = mapped_column(String(32))
    evidence_summary: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class UnitJudgement(Recorded, Base):
    """The inspectors' rating of a judged standard for one PDU of a regional inspection (domain one is
    judged for the region in `Judgement`, and for each of its PDUs here)."""

    __tablename__ = "unit_judgements"
    __table_args__ = (
        UniqueConstraint("inspection_id", "unit_id", "standard_id"),
        CheckConstraint(
            "rating IN ('outstanding', 'good', 'requires_improvement', 'inadequate')", name="rating_known"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    standard_id: Mapped[str] = mapped_column(String(16))
    rating: Mapped[str] = mapped_column(String(32))
    evidence_summary: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
