"""The queries behind the summary of an inspection: its head (the inspection, its unit, the unit's
parent and the pinned framework's name) in one query, and the state a held summary is checked against."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager

from gateway.frameworks.models import FrameworkVersion
from gateway.inspections.models import Inspection
from gateway.units.models import Unit

State = tuple[int, int, int, int | None]
"""Inspection version, its evidence revision, unit version, parent unit version (None without one)."""

_parent = aliased(Unit)
STATE = (
    select(Inspection.version, Inspection.evidence_revision, Unit.version, _parent.version)
    .join(Unit, Unit.id == Inspection.unit_id)
    .outerjoin(_parent, _parent.id == Unit.parent_id)
    .where(Inspection.id == bindparam("inspection_id"))
)
"""Every change to anything a summary shows moves one of these on, in the transaction that makes it."""


@dataclass(frozen=True)
class SummaryHead:
    inspection: Inspection
    """With its unit loaded."""
    parent: Unit | None
    framework_version: str
    framework_name: str


async def summary_head(session: AsyncSession, inspection_id: uuid.UUID) -> SummaryHead | None:
    parent = aliased(Unit)
    row = (
        await session.execute(
            select(Inspection, parent, FrameworkVersion.version, FrameworkVersion.name)
            .join(Inspection.unit)
            .options(contains_eager(Inspection.unit))
            .outerjoin(parent, parent.id == Unit.parent_id)
            .join(FrameworkVersion, FrameworkVersion.id == Inspection.framework_id)
            .where(Inspection.id == inspection_id)
        )
    ).one_or_none()
    return SummaryHead(*row) if row is not None else None


async def state(session: AsyncSession, inspection_id: uuid.UUID) -> State | None:
    row = (await session.execute(STATE, {"inspection_id": inspection_id})).one_or_none()
    return tuple(row) if row is not None else None
