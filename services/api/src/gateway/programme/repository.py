"""The programme's queries: those other domains may call (topic names), and those that read other domains'
tables (the units' last inspections, a plan's slots with the units they name)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.inspections.models import Inspection
from gateway.programme.models import Topic
from gateway.programme.plan_models import PlanSlot
from gateway.units.models import Unit

PUBLISHED = "published"
"""A withdrawn inspection no longer counts: the unit's last inspection is its last published one."""


async def topic_names(session: AsyncSession, topic_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The name of each topic of `topic_ids` that exists; those missing are not topics."""
    if not topic_ids:
        return {}
    rows = await session.execute(select(Topic.id, Topic.name).where(Topic.id.in_(list(topic_ids))))
    return {topic_id: name for topic_id, name in rows.all()}


async def last_inspections(session: AsyncSession, unit_ids: Iterable[uuid.UUID], before: date
                           ) -> dict[uuid.UUID, tuple[date, str | None]]:
    """Each unit's last published inspection that ended before `before`: the day it ended (its fieldwork's
    last day, else the day it was published) and its rating. A PDU inspected within its region's inspection
    (the letter's model) was inspected then too, with the region's overall rating, the one rating given."""
    wanted = list(unit_ids)
    parents = dict((await session.execute(select(Unit.id, Unit.parent_id).where(Unit.id.in_(wanted)))).all())
    regions = {parent for parent in parents.values() if parent is not None}
    ended = func.coalesce(Inspection.fieldwork_end, Inspection.fieldwork_start)
    rows = await session.execute(
        select(Inspection.unit_id, ended, Inspection.published_at, Inspection.current_rating)
        .join(Unit, Unit.id == Inspection.unit_id)
        .where(Inspection.status == PUBLISHED,
               or_(Inspection.unit_id.in_(wanted), and_(Inspection.unit_id.in_(list(regions)), Unit.type == "region")))
    )
    by_region: dict[uuid.UUID, list[uuid.UUID]] = {}
    for unit_id, parent in parents.items():
        by_region.setdefault(parent, []).append(unit_id)
    last: dict[uuid.UUID, tuple[date, str | None]] = {}
    for inspected, day, published_at, rating in rows.all():
        day = day or (published_at.date() if published_at else None)
        if day is None or day >= before:
            continue
        for unit_id in [inspected] if inspected in parents else by_region.get(inspected, []):
            if unit_id not in last or day > last[unit_id][0]:
                last[unit_id] = (day, rating)
    return last


async def plan_slots(session: AsyncSession, plan_id: uuid.UUID) -> list[tuple[PlanSlot, str | None, str | None]]:
    """The plan's slots, each with its unit's code and name (None for a commissioned body)."""
    rows = await session.execute(
        select(PlanSlot, Unit.code, Unit.name).outerjoin(Unit, Unit.id == PlanSlot.unit_id)
        .where(PlanSlot.plan_id == plan_id)
    )
    return [(slot, code, name) for slot, code, name in rows.all()]
