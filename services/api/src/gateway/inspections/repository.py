"""The queries that read inspections, their status history and their teams, in keyset pages where they
are lists.

Each read is a fixed, small number of queries whatever the size of the inspection; an inspection is
read with its unit, which its reads name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from gateway.actors import Actor
from gateway.identity.models import User
from gateway.inspections.lifecycle import FROZEN_STATUSES, LEAD, PUBLISHED
from gateway.inspections.models import Inspection, InspectionStatusChange, TeamMember
from gateway.pagination import Key, PageQuery, keyset_page
from gateway.permissions import ALL_UNITS, Permission, units_with
from gateway.units.models import Unit
from inspection_shared.pagination import Page

Item = TypeVar("Item")

NEWEST_FIRST = (Key(Inspection.fieldwork_start, descending=True, nulls_last=True), Key(Inspection.id, descending=True))
"""Lists of inspections: first day of fieldwork, newest first and undated last, then id."""
OLDEST_FIRST = (Key(InspectionStatusChange.changed_at), Key(InspectionStatusChange.id))
"""An inspection's status history."""


def with_unit(statement: Select) -> Select:
    """Inspections joined with, and carrying, their units."""
    return statement.join(Inspection.unit).options(contains_eager(Inspection.unit))


def unit_and_status(connection: Connection, inspection_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """The inspection's unit and status, read on the connection of a flush under way (where the write
    path's hooks run, and the session cannot be asked)."""
    table = Inspection.__table__
    unit_id, status = connection.execute(select(table.c.unit_id, table.c.status).where(table.c.id == inspection_id)).one()
    return unit_id, status


async def inspection_with_unit(session: AsyncSession, inspection_id: uuid.UUID) -> Inspection | None:
    return await session.scalar(with_unit(select(Inspection)).where(Inspection.id == inspection_id))


async def overlapping(
    session: AsyncSession, unit_id: uuid.UUID, start: date, end: date, other_than: uuid.UUID | None = None
) -> Inspection | None:
    """The first open (not published or withdrawn) inspection of the unit whose fieldwork shares a day with
    `start`..`end`. The unit's row is locked first, so two plans for one unit are checked one at a time."""
    await session.execute(select(Unit.id).where(Unit.id == unit_id).with_for_update())
    statement = select(Inspection).where(
        Inspection.unit_id == unit_id,
        Inspection.status.not_in(list(FROZEN_STATUSES)),
        Inspection.fieldwork_start <= end,
        Inspection.fieldwork_end >= start,
    )
    if other_than is not None:
        statement = statement.where(Inspection.id != other_than)
    return await session.scalar(statement.order_by(Inspection.fieldwork_start, Inspection.id).limit(1))


async def latest_announcement(session: AsyncSession, inspection_id: uuid.UUID) -> datetime | None:
    """When the inspection last moved into pre_fieldwork: the day the fieldwork dates were notified."""
    return await session.scalar(
        select(InspectionStatusChange.changed_at)
        .where(InspectionStatusChange.inspection_id == inspection_id, InspectionStatusChange.to_status == "pre_fieldwork")
        .order_by(InspectionStatusChange.changed_at.desc())
        .limit(1)
    )


async def status_changes(
    session: AsyncSession, inspection_id: uuid.UUID, query: PageQuery, item: Callable[[InspectionStatusChange], Item]
) -> Page[Item]:
    statement = select(InspectionStatusChange).where(InspectionStatusChange.inspection_id == inspection_id)
    return await keyset_page(session, statement, OLDEST_FIRST, query, item)


async def team(session: AsyncSession, inspection_id: uuid.UUID) -> list[tuple[TeamMember, User]]:
    """The inspection's team with each member's account: the lead first, then by name."""
    statement = (
        select(TeamMember, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.inspection_id == inspection_id)
        .order_by(case((TeamMember.role == LEAD, 0), else_=1), User.name, User.email)
    )
    return [(member, user) for member, user in (await session.execute(statement)).all()]


async def on_team(session: AsyncSession, inspection_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    statement = select(TeamMember.id).where(TeamMember.inspection_id == inspection_id, TeamMember.user_id == user_id)
    return (await session.scalar(statement)) is not None


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


def visible(
    actor: Actor,
    unit_id: ColumnElement[Any] = Inspection.unit_id,
    status: ColumnElement[Any] = Inspection.status,
    published_at: ColumnElement[Any] | None = Inspection.published_at,
    *,
    need: Permission = Permission.INSPECTIONS_READ,
) -> list[ColumnElement[bool]]:
    """What an actor may see of inspections: those of the units it may read (holding `need` there:
    `reports:read` for what published reports say), and of those only the public ones (`guards.is_public`:
    published, or withdrawn after publication) where it may not read drafts. `unit_id`, `status` and
    `published_at` are the columns that hold them, by default the inspection's own (an event holds the
    first two as they were, and no `published_at`)."""
    conditions: list[ColumnElement[bool]] = []
    readable = units_with(actor, need)
    if readable is not ALL_UNITS:
        conditions.append(unit_id.in_(readable))
    drafts = units_with(actor, Permission.DRAFTS_READ)
    if drafts is not ALL_UNITS:
        public = [status == PUBLISHED] + ([published_at.is_not(None)] if published_at is not None else [])
        conditions.append(or_(*public, unit_id.in_(drafts)))
    return conditions


async def list_inspections(
    session: AsyncSession,
    filters: InspectionFilters,
    query: PageQuery,
    item: Callable[[Inspection], Item],
    *,
    visible_to: Actor,
) -> Page[Item]:
    statement = with_unit(select(Inspection)).where(*filters.conditions(), *visible(visible_to))
    return await keyset_page(session, statement, NEWEST_FIRST, query, item)


async def published_before(session: AsyncSession, moment: datetime) -> list[Inspection]:
    """Inspections published before `moment` (withdrawn since or not), with their units, oldest first."""
    statement = (
        with_unit(select(Inspection))
        .where(Inspection.published_at < moment)
        .order_by(Inspection.published_at, Inspection.id)
    )
    return list((await session.scalars(statement)).all())
