"""Inspections: a unit inspected against a pinned framework version, moving through its phases."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base, JSONDocument, UTCDateTime
from gateway.inspections.lifecycle import INSPECTION_TYPES, TEAM_ROLES, InspectionStatus, allowed_moves
from gateway.units.models import Unit
from gateway.writes import Recorded, when, who


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class Inspection(Recorded, Base):
    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(_one_of("type", INSPECTION_TYPES), name="type_known"),
        CheckConstraint(_one_of("status", tuple(InspectionStatus)), name="status_known"),
        CheckConstraint(
            "fieldwork_start IS NULL OR fieldwork_end IS NULL OR fieldwork_end >= fieldwork_start",
            name="fieldwork_in_order",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    # Pinned at creation: the inspection is rated against this version whatever the library does later.
    framework_id: Mapped[str] = mapped_column(ForeignKey("frameworks.id", ondelete="RESTRICT"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    lead: Mapped[str | None] = mapped_column(String(200))
    partner_inspectorates: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    fieldwork_start: Mapped[date | None] = mapped_column(Date, index=True)
    fieldwork_end: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The rating on the latest snapshot, kept here so lists can filter on it without reading snapshots.
    current_rating: Mapped[str | None] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # Moves on with every change to what is recorded for the inspection (frames, samples, answers,
    # judgements, ratings), as `version` does with the inspection itself; with the two, a reader knows
    # whether a document it derived from them is stale. Bumped by `guards.inspection_for_change` only.
    evidence_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Loaded with the inspection by the queries that read it (never lazily): its reads name the unit.
    unit: Mapped[Unit] = relationship(lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}

    @property
    def unit_code(self) -> str:
        return self.unit.code

    @property
    def unit_name(self) -> str:
        return self.unit.name

    @property
    def allowed_transitions(self) -> tuple[InspectionStatus, ...]:
        return allowed_moves(self.status)


class InspectionStatusChange(Base):
    """Every move through the lifecycle, kept."""

    __tablename__ = "inspection_status_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = when()
    changed_by: Mapped[str] = who()
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    # Written beside the inspection, which the unit of work then inserts first.
    inspection: Mapped[Inspection] = relationship(lazy="raise_on_sql")


class TeamMember(Recorded, Base):
    """A person's place on an inspection's team: only the team records case answers and judgements in it."""

    __tablename__ = "inspection_team_members"
    __table_args__ = (
        UniqueConstraint("inspection_id", "user_id"),
        CheckConstraint(_one_of("role", TEAM_ROLES), name="role_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    inspection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    # Accounts are deactivated, never deleted, while they hold a place on a team.
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(32))
