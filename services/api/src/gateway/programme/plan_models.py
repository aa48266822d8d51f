"""Programme plans: the schedule by quarter, each slot with why it was chosen, and each re-flow kept."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, JSONDocument, UTCDateTime
from gateway.programme.models import _one_of
from gateway.writes import Recorded, when, who

SLOT_KINDS = ("full", "proportionate", "joint", "commissioned")
SLOT_RULES = ("reinspect_inadequate", "max_interval", "random", "concern", "commissioned", "by_hand")
CAPACITY_UNITS = ("hours", "inspections")


class Plan(Recorded, Base):
    """A plan of inspections over one or more programme years, made from its request and the registry."""

    __tablename__ = "programme_plans"
    __table_args__ = (CheckConstraint(_one_of("capacity_unit", CAPACITY_UNITS), name="capacity_unit_known"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    programme_years: Mapped[list[str]] = mapped_column(JSONDocument)
    first_day: Mapped[date] = mapped_column(Date, index=True)
    unit_type: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    # The request as sent (rules, capacity, intelligence scores, commissioned bodies): the plan is remade from it.
    request: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    capacity_unit: Mapped[str] = mapped_column(String(16))
    per_quarter: Mapped[float] = mapped_column(Float)
    full_load: Mapped[float] = mapped_column(Float)
    proportionate_load: Mapped[float] = mapped_column(Float)
    # The sampling service's answer: its algorithm, seed and the codes it chose.
    random_selection: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # Quarter label -> the reason it was suspended.
    suspended: Mapped[dict[str, str]] = mapped_column(JSONDocument, default=dict)
    # Units (or bodies) a rule wanted that no quarter could take: at creation, or moved out by a re-flow.
    not_placed: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    # The plan's ETag: every change of a slot moves it on.
    version: Mapped[int] = mapped_column(Integer)
    # Published as the programme: readable by anyone who reads published inspections, its reasons kept back.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __mapper_args__ = {"version_id_col": version}


class PlanSlot(Recorded, Base):
    """One inspection in a plan's quarter: a unit of the tree, or a commissioned body outside it."""

    __tablename__ = "programme_plan_slots"
    __table_args__ = (
        CheckConstraint(_one_of("kind", SLOT_KINDS), name="kind_known"),
        CheckConstraint(_one_of("rule", SLOT_RULES), name="rule_known"),
        CheckConstraint("(unit_id IS NULL) <> (commissioned_body IS NULL)", name="unit_or_body"),
        CheckConstraint("load >= 0", name="load_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_plans.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    commissioned_body: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    partners: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    load: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    inspection_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inspections.id", ondelete="SET NULL"))


class PlanReflow(Base):
    """A quarter suspended and the plan re-flowed: why, the slots moved, those no later quarter took, and
    those kept in the quarter because they were made inspections already."""

    __tablename__ = "programme_plan_reflows"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_plans.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    moved: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    not_placed: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    kept: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list, server_default=text("'[]'"))
    reflowed_at: Mapped[datetime] = when()
    reflowed_by: Mapped[str] = who()
