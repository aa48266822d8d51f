"""The rules of the units registry: reading, creating and changing units of inspection.

Every write keeps the tree sound: a parent of an allowed type (rules.PARENT_TYPES), no cycles, validity
dates in order, codes unique. A fault is a problem response naming the field; nothing is half-written.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, func
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.preconditions import check_if_match
from gateway.preconditions import etag as version_etag
from gateway.units import repository
from gateway.units.models import Unit
from gateway.units.repository import active_on
from gateway.units.rules import UnitType, parent_fault
from gateway.units.schemas import (
    UnitChildrenQuery,
    UnitCreate,
    UnitListQuery,
    UnitRead,
    UnitUpdate,
)
from gateway.writes import flush
from inspection_shared.pagination import Page
from inspection_shared.problems import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
)

# --- reading -----------------------------------------------------------------------------------------


def etag(unit: Unit) -> str:
    """The unit's entity tag: changes with every write to the unit."""
    return version_etag(unit.version)


async def get_unit(session: AsyncSession, unit_id: uuid.UUID) -> Unit:
    unit = await repository.get_with_parent(session, unit_id)
    if unit is None:
        raise NotFound(f"No unit {unit_id}")
    return unit


async def list_units(session: AsyncSession, query: UnitListQuery) -> Page[UnitRead]:
    conditions: list[ColumnElement[bool]] = []
    if query.type is not None:
        conditions.append(Unit.type == query.type)
    if query.nation is not None:
        conditions.append(func.lower(Unit.nation) == query.nation.strip().lower())
    if query.parent_id is not None:
        conditions.append(Unit.parent_id == query.parent_id)
    if query.code is not None:
        conditions.append(Unit.code == query.code.strip().upper())
    if query.active_on is not None:
        conditions.append(active_on(query.active_on))
    if query.q is not None:
        conditions.append(Unit.name.icontains(query.q.strip(), autoescape=True))
    if query.synthetic is not None:
        conditions.append(Unit.synthetic.is_(query.synthetic))
    return await repository.page(session, conditions, query, UnitRead.model_validate)


async def list_children(session: AsyncSession, unit_id: uuid.UUID, query: UnitChildrenQuery) -> Page[UnitRead]:
    if await repository.get(session, unit_id) is None:
        raise NotFound(f"No unit {unit_id}")
    conditions: list[ColumnElement[bool]] = [Unit.parent_id == unit_id]
    if query.type is not None:
        conditions.append(Unit.type == query.type)
    if query.active_on is not None:
        conditions.append(active_on(query.active_on))
    if query.synthetic is not None:
        conditions.append(Unit.synthetic.is_(query.synthetic))
    return await repository.page(session, conditions, query, UnitRead.model_validate)


# --- writing -----------------------------------------------------------------------------------------


def _duplicate_code(code: str) -> Conflict:
    return Conflict(
        f"A unit with code {code} already exists.",
        errors=[FieldError(field="body.code", message=f"{code} is already the code of another unit")],
    )


def clash(what: str) -> str:
    """The 409 detail of a write to the tree that lost a race with another."""
    return f"{what} clashed with a change made at the same time; read the units again and retry."


async def create_unit(session: AsyncSession, data: UnitCreate) -> Unit:
    if await repository.code_taken(session, data.code):
        raise _duplicate_code(data.code)
    parent = None
    if data.parent_id is not None:
        parent = await repository.get(session, data.parent_id)
        if parent is None:
            raise InvalidInput(
                f"The parent unit {data.parent_id} does not exist.",
                [FieldError(field="body.parent_id", message=f"no unit {data.parent_id}")],
            )
    fault = parent_fault(data.type, parent.type if parent else None)  # type: ignore[arg-type]
    if fault:
        raise InvalidInput(f"The unit cannot sit there: {fault}.", [FieldError(field="body.parent_id", message=fault)])
    unit = Unit(id=uuid.uuid4(), **data.model_dump(exclude={"parent_id"}), parent=parent)
    session.add(unit)
    await flush(session, clash=clash(f"Creating unit {data.code}"))
    return unit


async def update_unit(
    session: AsyncSession, unit_id: uuid.UUID, changes: UnitUpdate, if_match: str | None
) -> Unit:
    unit = await get_unit(session, unit_id)
    check_if_match("the unit", unit.version, if_match)
    given = changes.model_fields_set
    errors: list[FieldError] = []

    new_type: UnitType = changes.type if "type" in given else unit.type  # type: ignore[assignment]
    parent = unit.parent
    if "parent_id" in given and changes.parent_id != unit.parent_id:
        parent = None
        if changes.parent_id == unit.id:
            errors.append(FieldError(field="body.parent_id", message="a unit cannot be its own parent"))
        elif changes.parent_id is not None:
            parent = await repository.get(session, changes.parent_id)
            if parent is None:
                errors.append(FieldError(field="body.parent_id", message=f"no unit {changes.parent_id}"))
            else:
                chain = await repository.ancestry(session, parent)
                if any(above.id == unit.id for above in chain):
                    path = [above.code for above in chain[: [a.id for a in chain].index(unit.id) + 1]]
                    errors.append(
                        FieldError(
                            field="body.parent_id",
                            message="would make a cycle: " + " -> ".join([unit.code, *path]),
                        )
                    )
    if not errors:
        fault = parent_fault(new_type, parent.type if parent else None)  # type: ignore[arg-type]
        if fault:
            field = "body.parent_id" if "parent_id" in given else "body.type"
            errors.append(FieldError(field=field, message=fault))
    if new_type != unit.type:
        for child in await repository.children(session, unit.id):
            fault = parent_fault(child.type, new_type)  # type: ignore[arg-type]
            if fault:
                errors.append(FieldError(field="body.type", message=f"{child.code} sits under this unit and {fault}"))

    valid_from = changes.valid_from if "valid_from" in given else unit.valid_from
    valid_to = changes.valid_to if "valid_to" in given else unit.valid_to
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        if "valid_to" in given:
            errors.append(
                FieldError(field="body.valid_to", message=f"must be on or after valid_from ({valid_from.isoformat()})")
            )
        else:
            errors.append(
                FieldError(field="body.valid_from", message=f"must be on or before valid_to ({valid_to.isoformat()})")
            )
    if errors:
        raise InvalidInput(
            f"Unit {unit.code} cannot be changed that way: " + "; ".join(e.message for e in errors) + ".", errors
        )
    if "code" in given and changes.code != unit.code and await repository.code_taken(session, changes.code, unit.id):  # type: ignore[arg-type]
        raise _duplicate_code(changes.code)  # type: ignore[arg-type]

    for field in given - {"parent_id"}:
        value = getattr(changes, field)
        if getattr(unit, field) != value:
            setattr(unit, field, value)
    if parent is not unit.parent:
        unit.parent = parent
    await flush(session, clash=clash(f"Changing unit {unit.code}"), changed="the unit")
    return unit
