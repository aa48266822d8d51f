"""The queries behind inspections: lists in keyset pages, and the few wide reads dashboards and report
generators make. Each read is a fixed, small number of queries whatever the size of the inspection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from gateway.assessments.models import CaseAssessment, Judgement
from gateway.caseloads.models import Sample, SampledCase
from gateway.frameworks.models import FrameworkStandard, FrameworkVersion
from gateway.inspections.models import Inspection, InspectionStatusChange
from gateway.pagination import decode_cursor, encode_cursor
from gateway.ratings.models import RatingSnapshot
from gateway.units.models import Unit
from inspection_shared.problems import FieldError, InvalidInput

IN_SAMPLE = ("selected", "reserve_used")
"""Sampled-case statuses of the cases that are to be assessed."""


def _bad_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not one this list issued.",
        [FieldError(field="query.cursor", message="not a cursor from this list")],
    )


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise _bad_cursor() from None


# --- one inspection ----------------------------------------------------------------------------------


async def inspection_with_unit(session: AsyncSession, inspection_id: uuid.UUID) -> tuple[Inspection, Unit] | None:
    row = (
        await session.execute(
            select(Inspection, Unit).join(Unit, Unit.id == Inspection.unit_id).where(Inspection.id == inspection_id)
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def latest_announcement(session: AsyncSession, inspection_id: uuid.UUID) -> datetime | None:
    """When the inspection last moved into pre_fieldwork: the day the fieldwork dates were notified."""
    return await session.scalar(
        select(InspectionStatusChange.changed_at)
        .where(InspectionStatusChange.inspection_id == inspection_id, InspectionStatusChange.to_status == "pre_fieldwork")
        .order_by(InspectionStatusChange.changed_at.desc())
        .limit(1)
    )


async def latest_snapshot(session: AsyncSession, inspection_id: uuid.UUID) -> RatingSnapshot | None:
    """The latest snapshot's result, without the evidence it was rated on: a read of the ratings never
    needs the evidence, which for a whole inspection is hundreds of kilobytes of JSON."""
    return await session.scalar(
        select(RatingSnapshot)
        .options(defer(RatingSnapshot.request, raiseload=True))
        .where(RatingSnapshot.inspection_id == inspection_id)
        .order_by(RatingSnapshot.sequence.desc())
        .limit(1)
    )


async def latest_snapshot_brief(session: AsyncSession, inspection_id: uuid.UUID) -> tuple[uuid.UUID, int, str] | None:
    """Id, sequence and overall rating of the latest snapshot, without its (large) documents."""
    row = (
        await session.execute(
            select(RatingSnapshot.id, RatingSnapshot.sequence, RatingSnapshot.overall_rating)
            .where(RatingSnapshot.inspection_id == inspection_id)
            .order_by(RatingSnapshot.sequence.desc())
            .limit(1)
        )
    ).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


# --- the status history ------------------------------------------------------------------------------


async def status_changes(
    session: AsyncSession, inspection_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[InspectionStatusChange], str | None]:
    """Oldest first, keyed on (changed_at, id)."""
    statement = select(InspectionStatusChange).where(InspectionStatusChange.inspection_id == inspection_id)
    if cursor is not None:
        at, change_id = decode_cursor(cursor, 2)
        try:
            after = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            raise _bad_cursor() from None
        if after.tzinfo is None:
            raise _bad_cursor()
        after_id = _uuid(change_id)
        statement = statement.where(
            or_(
                InspectionStatusChange.changed_at > after,
                and_(InspectionStatusChange.changed_at == after, InspectionStatusChange.id > after_id),
            )
        )
    statement = statement.order_by(InspectionStatusChange.changed_at, InspectionStatusChange.id).limit(limit + 1)
    changes = list((await session.scalars(statement)).all())
    if len(changes) > limit:
        last = changes[limit - 1]
        return changes[:limit], encode_cursor([last.changed_at.isoformat(), str(last.id)])
    return changes, None


# --- lists of inspections, newest fieldwork first ----------------------------------------------------


def _newest_first(statement: Select, cursor: str | None) -> Select:
    """Order by first day of fieldwork, newest first and undated last, then id; resume after `cursor`."""
    if cursor is not None:
        start, inspection_id = decode_cursor(cursor, 2)
        after_id = _uuid(inspection_id)
        if start is None:
            statement = statement.where(Inspection.fieldwork_start.is_(None), Inspection.id < after_id)
        else:
            try:
                after = date.fromisoformat(start)
            except (TypeError, ValueError):
                raise _bad_cursor() from None
            statement = statement.where(
                or_(
                    Inspection.fieldwork_start < after,
                    and_(Inspection.fieldwork_start == after, Inspection.id < after_id),
                    Inspection.fieldwork_start.is_(None),
                )
            )
    return statement.order_by(Inspection.fieldwork_start.desc().nulls_last(), Inspection.id.desc())


def _next_cursor(last: Inspection) -> str:
    start = last.fieldwork_start.isoformat() if last.fieldwork_start is not None else None
    return encode_cursor([start, str(last.id)])


@dataclass(frozen=True)
class InspectionFilters:
    unit_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    framework_id: str | None = None
    year: int | None = None
    statuses: list[str] | None = None
    types: list[str] | None = None
    ratings: list[str] | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.unit_id is not None:
            conditions.append(Inspection.unit_id == self.unit_id)
        if self.region_id is not None:
            conditions.append(or_(Inspection.unit_id == self.region_id, Unit.parent_id == self.region_id))
        if self.framework_id is not None:
            conditions.append(Inspection.framework_id == self.framework_id)
        if self.year is not None:
            conditions.append(Inspection.fieldwork_start >= date(self.year, 1, 1))
            conditions.append(Inspection.fieldwork_start <= date(self.year, 12, 31))
        if self.statuses:
            conditions.append(Inspection.status.in_(self.statuses))
        if self.types:
            conditions.append(Inspection.type.in_(self.types))
        if self.ratings:
            conditions.append(Inspection.current_rating.in_(self.ratings))
        return conditions


async def list_inspections(
    session: AsyncSession, filters: InspectionFilters, limit: int, cursor: str | None
) -> tuple[list[tuple[Inspection, Unit]], str | None]:
    statement = select(Inspection, Unit).join(Unit, Unit.id == Inspection.unit_id).where(*filters.conditions())
    rows = [(row[0], row[1]) for row in (await session.execute(_newest_first(statement, cursor).limit(limit + 1))).all()]
    if len(rows) > limit:
        return rows[:limit], _next_cursor(rows[limit - 1][0])
    return rows, None


@dataclass(frozen=True)
class RatedInspection:
    inspection: Inspection
    snapshot_id: uuid.UUID | None
    overall_rating: str | None
    overall_score: int | None
    max_score: int | None


async def ratings_history(
    session: AsyncSession, unit_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[RatedInspection], str | None]:
    """The unit's inspections, each with its latest snapshot's overall figures, in one query."""
    latest = (
        select(RatingSnapshot.inspection_id, func.max(RatingSnapshot.sequence).label("sequence"))
        .join(Inspection, Inspection.id == RatingSnapshot.inspection_id)
        .where(Inspection.unit_id == unit_id)
        .group_by(RatingSnapshot.inspection_id)
        .subquery()
    )
    snapshot = aliased(RatingSnapshot)
    statement = (
        select(
            Inspection,
            snapshot.id,
            snapshot.overall_rating,
            snapshot.overall_score,
            snapshot.result[("overall", "max_score")].as_integer(),
        )
        .outerjoin(latest, latest.c.inspection_id == Inspection.id)
        .outerjoin(
            snapshot, and_(snapshot.inspection_id == Inspection.id, snapshot.sequence == latest.c.sequence)
        )
        .where(Inspection.unit_id == unit_id)
    )
    rows = (await session.execute(_newest_first(statement, cursor).limit(limit + 1))).all()
    rated = [RatedInspection(row[0], row[1], row[2], row[3], row[4]) for row in rows]
    if len(rated) > limit:
        return rated[:limit], _next_cursor(rated[limit - 1].inspection)
    return rated, None


# --- the summary -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryHead:
    inspection: Inspection
    unit: Unit
    parent: Unit | None
    framework_version: str
    framework_name: str


async def summary_head(session: AsyncSession, inspection_id: uuid.UUID) -> SummaryHead | None:
    """The inspection, its unit and the unit's parent, and the pinned framework's name, in one query."""
    parent = aliased(Unit)
    row = (
        await session.execute(
            select(Inspection, Unit, parent, FrameworkVersion.version, FrameworkVersion.name)
            .join(Unit, Unit.id == Inspection.unit_id)
            .outerjoin(parent, parent.id == Unit.parent_id)
            .join(FrameworkVersion, FrameworkVersion.id == Inspection.framework_id)
            .where(Inspection.id == inspection_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return SummaryHead(row[0], row[1], row[2], row[3], row[4])


@dataclass(frozen=True)
class SampleTally:
    sample_id: uuid.UUID
    sample_type: str
    drawn_at: datetime
    case_status: str | None
    cases: int
    assessed: int


async def sample_tallies(session: AsyncSession, inspection_id: uuid.UUID) -> list[SampleTally]:
    """Per sample and case status: the cases, and how many of them have an assessment recorded."""
    rows = (
        await session.execute(
            select(
                Sample.id,
                Sample.sample_type,
                Sample.drawn_at,
                SampledCase.status,
                func.count(SampledCase.id),
                func.count(CaseAssessment.id),
            )
            .select_from(Sample)
            .outerjoin(SampledCase, SampledCase.sample_id == Sample.id)
            .outerjoin(CaseAssessment, CaseAssessment.sampled_case_id == SampledCase.id)
            .where(Sample.inspection_id == inspection_id)
            .group_by(Sample.id, Sample.sample_type, Sample.drawn_at, SampledCase.status)
            .order_by(Sample.sample_type, Sample.drawn_at)
        )
    ).all()
    return [SampleTally(*row) for row in rows]


async def judged_standards(
    session: AsyncSession, inspection_id: uuid.UUID, framework_id: str
) -> list[tuple[str, bool]]:
    """The framework's judged standards in order, each with whether its judgement is recorded."""
    rows = (
        await session.execute(
            select(FrameworkStandard.id, Judgement.id)
            .outerjoin(
                Judgement,
                and_(Judgement.inspection_id == inspection_id, Judgement.standard_id == FrameworkStandard.id),
            )
            .where(FrameworkStandard.framework_id == framework_id, FrameworkStandard.kind == "judged")
            .order_by(FrameworkStandard.position)
        )
    ).all()
    return [(standard_id, judgement_id is not None) for standard_id, judgement_id in rows]
