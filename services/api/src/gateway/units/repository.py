"""The queries that read units: for the units routes, and for every other domain that reads the tree."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from gateway.pagination import Key, PageQuery, keyset_page
from gateway.units.models import Unit
from inspection_shared.pagination import Page

Item = TypeVar("Item")

_CODE_CHUNK = 500
"""Codes per IN (...) list when loading many units by code."""
BY_CODE = (Key(Unit.code),)
"""Lists of units are in code order: codes are unique, so the order is a key."""


def in_service(unit: Unit, day: date) -> bool:
    """`active_on`, of a unit held."""
    return (unit.valid_from is None or unit.valid_from <= day) and (unit.valid_to is None or unit.valid_to >= day)


def with_parent(statement: Select) -> Select:
    return statement.options(joinedload(Unit.parent))


def active_on(day: date) -> ColumnElement[bool]:
    """In service on `day`: started on or before it, and not ended before it (valid_to is inclusive)."""
    return and_(
        or_(Unit.valid_from.is_(None), Unit.valid_from <= day),
        or_(Unit.valid_to.is_(None), Unit.valid_to >= day),
    )


async def get(session: AsyncSession, unit_id: uuid.UUID) -> Unit | None:
    return await session.get(Unit, unit_id)


async def get_with_parent(session: AsyncSession, unit_id: uuid.UUID) -> Unit | None:
    return (await session.scalars(with_parent(select(Unit).where(Unit.id == unit_id)))).one_or_none()


async def by_codes(session: AsyncSession, codes: Iterable[str]) -> list[Unit]:
    """The held units with these codes, each with its parent loaded."""
    wanted = sorted(set(codes))
    found: list[Unit] = []
    for start in range(0, len(wanted), _CODE_CHUNK):
        chunk = wanted[start : start + _CODE_CHUNK]
        found.extend((await session.scalars(with_parent(select(Unit).where(Unit.code.in_(chunk))))).all())
    return found


async def units_of_type(session: AsyncSession, unit_type: str, day: date) -> list[Unit]:
    """The units of a type in service on `day`, in code order, each with its parent loaded."""
    statement = with_parent(select(Unit).where(Unit.type == unit_type, active_on(day))).order_by(Unit.code)
    return list((await session.scalars(statement)).all())


async def by_ids(session: AsyncSession, unit_ids: Iterable[uuid.UUID]) -> list[Unit]:
    """The held units with these ids, each with its parent loaded."""
    wanted = sorted(set(unit_ids))
    found: list[Unit] = []
    for start in range(0, len(wanted), _CODE_CHUNK):
        chunk = wanted[start : start + _CODE_CHUNK]
        found.extend((await session.scalars(with_parent(select(Unit).where(Unit.id.in_(chunk))))).all())
    return found


async def code_taken(session: AsyncSession, code: str, other_than: uuid.UUID | None = None) -> bool:
    statement = select(Unit.id).where(Unit.code == code)
    if other_than is not None:
        statement = statement.where(Unit.id != other_than)
    return (await session.scalar(statement)) is not None


async def children(session: AsyncSession, unit_id: uuid.UUID) -> list[Unit]:
    """The units directly under a unit, in code order."""
    return list((await session.scalars(select(Unit).where(Unit.parent_id == unit_id).order_by(Unit.code))).all())


async def pdus_of(session: AsyncSession, region_id: uuid.UUID, day: date) -> list[Unit]:
    """The PDUs of a region in service on `day`, in code order: those a region's inspection covers."""
    statement = select(Unit).where(Unit.parent_id == region_id, Unit.type == "pdu", active_on(day))
    return list((await session.scalars(statement.order_by(Unit.code))).all())


async def subtree_codes(session: AsyncSession, unit_id: uuid.UUID) -> list[str]:
    """The code of a unit, then the codes of every unit below it: its children, theirs, and so on."""
    codes = list((await session.scalars(select(Unit.code).where(Unit.id == unit_id))).all())
    seen = {unit_id}
    level = [unit_id]
    while level:
        rows = (await session.execute(select(Unit.id, Unit.code).where(Unit.parent_id.in_(level)))).all()
        level = [unit for unit, _ in rows if unit not in seen]
        seen.update(level)
        codes += [code for unit, code in rows if unit in level]
    return codes


async def ancestry(session: AsyncSession, start: Unit) -> list[Unit]:
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


async def page(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], query: PageQuery, item: Callable[[Unit], Item]
) -> Page[Item]:
    """One page of the units meeting `conditions`, in code order, each with its parent, as `item` makes it."""
    return await keyset_page(session, with_parent(select(Unit).where(*conditions)), BY_CODE, query, item)
