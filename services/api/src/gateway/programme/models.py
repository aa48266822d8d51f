"""The criteria topics are prioritised by, each weight change kept with why, and the topics with their scores."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, JSONDocument
from gateway.writes import Recorded, when, who

CRITERION_GROUPS = ("current_risk", "potential_impact", "other")
TOPIC_KINDS = ("thematic_inspection", "primary_research", "secondary_analysis")
TOPIC_STATUSES = ("proposed", "agreed", "fieldwork", "published")
LOWEST_SCORE, HIGHEST_SCORE = 0, 5


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class Criterion(Recorded, Base):
    """One of the letter's criteria, in its group, with the weight the inspectorate gives it now."""

    __tablename__ = "programme_criteria"
    __table_args__ = (
        CheckConstraint(_one_of("criterion_group", CRITERION_GROUPS), name="group_known"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    criterion_group: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)
    # The criterion's ETag: a weight changed on a stale read is refused.
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class CriterionWeightChange(Base):
    """A change of a criterion's weight: from what, to what, why, by whom and when."""

    __tablename__ = "programme_criterion_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    criterion_id: Mapped[str] = mapped_column(ForeignKey("programme_criteria.id", ondelete="RESTRICT"), index=True)
    weight_before: Mapped[float] = mapped_column(Float)
    weight_after: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = when()
    changed_by: Mapped[str] = who()


class Topic(Recorded, Base):
    """A thematic inspection or research topic, for a programme year."""

    __tablename__ = "programme_topics"
    __table_args__ = (
        UniqueConstraint("programme_year", "name"),
        CheckConstraint(_one_of("kind", TOPIC_KINDS), name="kind_known"),
        CheckConstraint(_one_of("status", TOPIC_STATUSES), name="status_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    programme_year: Mapped[str] = mapped_column(String(7), index=True)
    lead: Mapped[str | None] = mapped_column(String(200))
    partner_inspectorates: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    groups: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class TopicScore(Recorded, Base):
    """A topic's score on one criterion, with the rationale for it."""

    __tablename__ = "programme_topic_scores"
    __table_args__ = (
        CheckConstraint(f"score BETWEEN {LOWEST_SCORE} AND {HIGHEST_SCORE}", name="score_in_range"),
    )

    topic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("programme_topics.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[str] = mapped_column(ForeignKey("programme_criteria.id", ondelete="RESTRICT"),
                                              primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(Text)
