"""Rows for lifecycle tests, written straight into the test's transaction so that each test can start
from the phase it is about. The `gateway` client shares that transaction and sees them."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.inspections.models import Inspection
from gateway.units.models import Unit


async def make_unit(session: AsyncSession, *, type: str = "pdu", parent: Unit | None = None, **fields) -> Unit:
    tag = uuid.uuid4().hex[:8].upper()
    if type == "pdu" and parent is None:
        parent = await make_unit(session, type="region")
    unit = Unit(
        code=fields.pop("code", f"T{tag}"),
        name=fields.pop("name", f"Test {type} {tag}"),
        type=type,
        nation=fields.pop("nation", "England"),
        parent_id=parent.id if parent else None,
        created_by="test",
        updated_by="test",
        **fields,
    )
    session.add(unit)
    await session.flush()
    return unit


async def make_inspection(
    session: AsyncSession,
    *,
    unit: Unit | None = None,
    framework_id: str = "probation-pdu-2021",
    status: str = "planned",
    type: str = "core",
    **fields,
) -> Inspection:
    unit = unit or await make_unit(session)
    inspection = Inspection(
        unit_id=unit.id,
        framework_id=framework_id,
        type=type,
        status=status,
        fieldwork_start=fields.pop("fieldwork_start", date(2026, 3, 2)),
        fieldwork_end=fields.pop("fieldwork_end", date(2026, 3, 20)),
        created_by="test",
        updated_by="test",
        **fields,
    )
    session.add(inspection)
    await session.flush()
    return inspection
