"""The rules of the units registry: reading, creating and changing units of inspection.

Every write keeps the tree sound: a parent of an allowed type (rules.PARENT_TYPES), no cycles, validity
dates in order, codes unique. A fault is a problem response naming the field; nothing is half-written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from gateway.actors import Actor
from gateway.db import utcnow
from gateway.pagination import decode_cursor, encode_cursor
from gateway.preconditions import check_if_match
from gateway.preconditions import etag as version_etag
from gateway.units.models import Unit
from gateway.units.rules import UnitType, parent_fault
from gateway.units.schemas import (
    UnitChildrenQuery,
    UnitCreate,
    UnitListQuery,
    UnitUpdate,
)
from inspection_shared.problems import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
)

_CURSOR_CODE = re.compile(r"^[A-Z0-9_-]{1,32}$")
_CODE_CHUNK = 500
"""Codes per IN (...) list when loading many units by code."""


# --- reading -----------------------------------------------------------------------------------------


def etag(unit: Unit) -> str:
    """The unit's entity tag: changes with every write to the unit."""
    return version_etag(unit.version)


def _with_parent(statement: Select) -> Select:
    return statement.options(joinedload(Unit.parent))


def active_on(day: date) -> ColumnElement[bool]:
    """In service on `day`: started on or before it, and not ended before it (valid_to is inclusive)."""
    return and_(
        or_(Unit.valid_from.is_(None), Unit.valid_from <= day),
        or_(Unit.valid_to.is_(None), Unit.valid_to >= day),
    )


async def get_unit(session: AsyncSession, unit_id: uuid.UUID) -> Unit:
    unit = (await session.scalars(_with_parent(select(Unit).where(Unit.id == unit_id)))).one_or_none()
    if unit is None:
        raise NotFound(f"No unit {unit_id}")
    return unit


async def units_by_code(session: AsyncSession, codes: Iterable[str]) -> list[Unit]:
    """The held units with these codes, each with its parent loaded."""
    wanted = sorted(set(codes))
    found: list[Unit] = []
    for start in range(0, len(wanted), _CODE_CHUNK):
        chunk = wanted[start : start + _CODE_CHUNK]
        found.extend((await session.scalars(_with_parent(select(Unit).where(Unit.code.in_(chunk))))).all())
    return found


async def _page(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], limit: int, cursor: str | None
) -> tuple[list[Unit], str | None]:
    """One page in code order, keyed on the (unique) code so that pages stay stable under inserts."""
    statement = _with_parent(select(Unit).where(*conditions))
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not isinstance(after, str) or not _CURSOR_CODE.match(after):
            raise InvalidInput(
                "The cursor is not one this list issued.",
                [FieldError(field="query.cursor", message="not a cursor from this list")],
            )
        statement = statement.where(Unit.code > after)
    units = list((await session.scalars(statement.order_by(Unit.code).limit(limit + 1))).all())
    if len(units) > limit:
        return units[:limit], encode_cursor([units[limit - 1].code])
    return units, None


async def list_units(session: AsyncSession, query: UnitListQuery) -> tuple[list[Unit], str | None]:
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
    return await _page(session, conditions, query.limit, query.cursor)


async def list_children(
    session: AsyncSession, unit_id: uuid.UUID, query: UnitChildrenQuery
) -> tuple[list[Unit], str | None]:
    if await session.get(Unit, unit_id) is None:
        raise NotFound(f"No unit {unit_id}")
    conditions: list[ColumnElement[bool]] = [Unit.parent_id == unit_id]
    if query.type is not None:
        conditions.append(Unit.type == query.type)
    if query.active_on is not None:
        conditions.append(active_on(query.active_on))
    if query.synthetic is not None:
        conditions.append(Unit.synthetic.is_(query.synthetic))
    return await _page(session, conditions, query.limit, query.cursor)


# --- writing -----------------------------------------------------------------------------------------


def _duplicate_code(code: str) -> Conflict:
    return Conflict(
        f"A unit with code {code} already exists.",
        errors=[FieldError(field="body.code", message=f"{code} is already the code of another unit")],
    )


async def flush_or_conflict(session: AsyncSession, what: str) -> None:
    """Write now, so that a clash with a concurrent request is answered here rather than at commit."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(
            f"{what} clashed with a change made at the same time; read the units again and retry."
        ) from error


async def _code_taken(session: AsyncSession, code: str, other_than: uuid.UUID | None = None) -> bool:
    statement = select(Unit.id).where(Unit.code == code)
    if other_than is not None:
        statement = statement.where(Unit.id != other_than)
    return (await session.scalar(statement)) is not None


async def _ancestry(session: AsyncSession, start: Unit) -> list[Unit]:
    """`start` and the units above it, nearest first."""
    chain = [start]
    seen = {start.id}
    parent_id = start.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = await session.get(Unit, parent_id)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent.id)
        parent_id = parent.parent_id
    return chain


async def create_unit(session: AsyncSession, data: UnitCreate, actor: Actor) -> Unit:
    if await _code_taken(session, data.code):
        raise _duplicate_code(data.code)
    parent = None
    if data.parent_id is not None:
        parent = await session.get(Unit, data.parent_id)
        if parent is None:
            raise InvalidInput(
                f"The parent unit {data.parent_id} does not exist.",
                [FieldError(field="body.parent_id", message=f"no unit {data.parent_id}")],
            )
    fault = parent_fault(data.type, parent.type if parent else None)  # type: ignore[arg-type]
    if fault:
        raise InvalidInput(f"The unit cannot sit there: {fault}.", [FieldError(field="body.parent_id", message=fault)])
    now = utcnow()
    unit = Unit(
        id=uuid.uuid4(),
        **data.model_dump(exclude={"parent_id"}),
        parent=parent,
        created_at=now,
        created_by=actor.id,
        updated_at=now,
        updated_by=actor.id,
    )
    session.add(unit)
    await flush_or_conflict(session, f"Creating unit {data.code}")
    return unit


async def update_unit(
    session: AsyncSession, unit_id: uuid.UUID, changes: UnitUpdate, if_match: str | None, actor: Actor
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
            parent = await session.get(Unit, changes.parent_id)
            if parent is None:
                errors.append(FieldError(field="body.parent_id", message=f"no unit {changes.parent_id}"))
            else:
                chain = await _ancestry(session, parent)
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
        children = (
            await session.execute(select(Unit.code, Unit.type).where(Unit.parent_id == unit.id).order_by(Unit.code))
        ).all()
        for child_code, child_type in children:
            fault = parent_fault(child_type, new_type)
            if fault:
                errors.append(FieldError(field="body.type", message=f"{child_code} sits under this unit and {fault}"))

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
    if "code" in given and changes.code != unit.code and await _code_taken(session, changes.code, unit.id):  # type: ignore[arg-type]
        raise _duplicate_code(changes.code)  # type: ignore[arg-type]

    changed = False
    for field in given - {"parent_id"}:
        value = getattr(changes, field)
        if getattr(unit, field) != value:
            setattr(unit, field, value)
            changed = True
    if parent is not unit.parent:
        unit.parent = parent
        changed = True
    if changed:
        unit.updated_at = utcnow()
        unit.updated_by = actor.id
        try:
            await flush_or_conflict(session, f"Changing unit {unit.code}")
        except StaleDataError as error:
            raise Problem(
                412,
                "Precondition failed",
                "The unit was changed by another request at the same time; read it again and reapply the change.",
                slug="precondition-failed",
            ) from error
    return unit
