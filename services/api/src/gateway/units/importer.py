"""Bulk import of units from CSV or JSON: all or nothing, upsert by code, every fault reported at once.

A file is read whole and checked whole (each row's fields, duplicate codes, parents known in the file or
already held, parent types, cycles, validity dates, and children left under a unit whose type changes)
before anything is written; one fault and nothing is. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.units.models import Unit
from gateway.units.repository import by_codes
from gateway.units.rules import UnitType, parent_fault
from gateway.units.schemas import (
    IMPORT_COLUMNS,
    ImportedUnit,
    UnitImportReport,
    UnitImportRow,
)
from gateway.units.service import clash
from gateway.writes import flush
from inspection_shared.bulk_import import RowRef, nothing_imported, read_header, readable_csv
from inspection_shared.fields import FROM_TEXT
from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.wording import counted

MAX_ROWS = 10_000
MAX_ERRORS = 200
"""Faults listed in one answer; the count of all of them is given beside."""

REQUIRED_COLUMNS = ("code", "name", "type", "nation")
_FIELDS = tuple(f for f in IMPORT_COLUMNS if f not in ("code", "parent_code"))
"""Unit attributes an import row sets directly (the parent is resolved from parent_code)."""


@dataclass
class ImportRow:
    ref: RowRef
    unit: UnitImportRow
    given: frozenset[str]
    """The fields the row states; on update, the others keep the held unit's value."""


@dataclass
class ParsedImport:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)


def _field_of(loc: tuple[Any, ...]) -> str | None:
    return str(loc[0]) if loc else None


def _parse_row(parsed: ParsedImport, ref: RowRef, raw: dict[str, Any], *, from_text: bool = False) -> None:
    try:
        unit = UnitImportRow.model_validate(raw, context=FROM_TEXT if from_text else None)
    except ValidationError as invalid:
        code = raw.get("code") if isinstance(raw.get("code"), str) else None
        for error in invalid.errors():
            message = "not a unit field" if error["type"] == "extra_forbidden" else error["msg"]
            parsed.errors.append(ref.error(_field_of(error["loc"]), message, unit_code=code.strip().upper() if code else None))
        return
    parsed.rows.append(ImportRow(ref, unit, frozenset(raw)))


def _too_many(count: int) -> InvalidInput:
    return InvalidInput(
        f"An import holds at most {MAX_ROWS} units; this one holds {count}. Split it into several files.",
        [FieldError(field="body", message=f"more than {MAX_ROWS} units")],
    )


def parse_csv(text: str) -> ParsedImport:
    """Rows of a CSV file whose header names columns of IMPORT_COLUMNS (code, name, type and nation required).

    A blank cell is an empty value: it clears an optional field, and `synthetic` blank means false.
    """
    parsed = ParsedImport()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    with readable_csv(reader):
        columns = read_header(
            reader,
            known=IMPORT_COLUMNS,
            required=REQUIRED_COLUMNS,
            unknown="not a unit column; expected one of " + ", ".join(IMPORT_COLUMNS),
            what="unit",
        )
        line = reader.line_num
        count = 0
        for cells in reader:
            ref, line = RowRef(line=line + 1), reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > MAX_ROWS:
                raise _too_many(count)
            if len(cells) > len(columns):
                parsed.errors.append(
                    ref.error(None, f"{counted(len(cells), 'cell')}, but the header names {counted(len(columns), 'column')}")
                )
                continue
            raw: dict[str, Any] = {}
            for name, cell in zip(columns, [*cells, *[""] * (len(columns) - len(cells))], strict=True):
                value = cell.strip()
                if value:
                    raw[name] = value
                elif name == "synthetic":
                    raw[name] = False
                elif name not in REQUIRED_COLUMNS:  # a blank required cell reads as missing
                    raw[name] = None
            _parse_row(parsed, ref, raw, from_text=True)
    if not parsed.rows and not parsed.errors:
        raise InvalidInput("The file holds no units.", [FieldError(field="body", message="no rows after the header")])
    return parsed


def parse_json(document: Any) -> ParsedImport:
    """Items of a JSON array, each an object with the fields of UnitImportRow."""
    if not isinstance(document, list):
        raise InvalidInput(
            "A JSON import is an array of units.", [FieldError(field="body", message="expected an array of units")]
        )
    if not document:
        raise InvalidInput("The import holds no units.", [FieldError(field="body", message="empty array")])
    if len(document) > MAX_ROWS:
        raise _too_many(len(document))
    parsed = ParsedImport()
    for index, item in enumerate(document):
        ref = RowRef(index=index)
        if not isinstance(item, dict):
            parsed.errors.append(ref.error(None, "expected an object with the unit's fields"))
            continue
        _parse_row(parsed, ref, item)
    return parsed


@dataclass
class _Plan:
    """What one row will make of its unit."""

    row: ImportRow
    held: Unit | None
    type: UnitType
    parent_code: str | None


def _planned_value(row: ImportRow, held: Unit | None, name: str) -> Any:
    return getattr(row.unit, name) if held is None or name in row.given else getattr(held, name)


async def import_units(session: AsyncSession, parsed: ParsedImport) -> UnitImportReport:
    """Create or update every unit of the import, by code, or refuse the whole import naming each fault."""
    errors = list(parsed.errors)

    plans: dict[str, _Plan] = {}
    for row in parsed.rows:
        code = row.unit.code
        if code in plans:
            errors.append(row.ref.error("code", f"{code} is also on {plans[code].row.ref.describe()}", unit_code=code))
            continue
        plans[code] = _Plan(row=row, held=None, type=row.unit.type, parent_code=row.unit.parent_code)

    held = {
        unit.code: unit
        for unit in await by_codes(session, [*plans, *(p.parent_code for p in plans.values() if p.parent_code)])
    }
    for plan in plans.values():
        plan.held = held.get(plan.row.unit.code)
        if plan.held is not None:
            plan.type = _planned_value(plan.row, plan.held, "type")
            if "parent_code" not in plan.row.given:
                plan.parent_code = plan.held.parent_code
                if plan.held.parent is not None:
                    held.setdefault(plan.held.parent.code, plan.held.parent)

    # Each row's place in the tree, against the tree as it will be once the whole file is in.
    for code, plan in plans.items():
        ref, parent_code = plan.row.ref, plan.parent_code
        parent_field = "parent_code" if "parent_code" in plan.row.given else "type"
        parent_type: UnitType | None = None
        if parent_code == code:
            errors.append(ref.error("parent_code", "a unit cannot be its own parent", unit_code=code))
            continue
        if parent_code is not None:
            if parent_code in plans:
                parent_type = plans[parent_code].type
            elif parent_code in held:
                parent_type = held[parent_code].type  # type: ignore[assignment]
            else:
                errors.append(
                    ref.error("parent_code", f"no unit {parent_code} in this import or already held", unit_code=code)
                )
                continue
        fault = parent_fault(plan.type, parent_type)
        if fault:
            under = f" ({parent_code} is a {parent_type})" if parent_code else ""
            errors.append(ref.error(parent_field, fault + under, unit_code=code))
        valid_from = _planned_value(plan.row, plan.held, "valid_from")
        valid_to = _planned_value(plan.row, plan.held, "valid_to")
        if valid_from is not None and valid_to is not None and valid_to < valid_from:
            errors.append(
                ref.error("valid_to", f"must be on or after valid_from ({valid_from.isoformat()})", unit_code=code)
            )

    # Held units left out of the file stay under their parents: a parent's new type must still suit them.
    retyped = {plan.held.id: plan for plan in plans.values() if plan.held is not None and plan.type != plan.held.type}
    if retyped:
        children = (
            await session.execute(
                select(Unit.code, Unit.type, Unit.parent_id)
                .where(Unit.parent_id.in_(list(retyped)))
                .order_by(Unit.code)
            )
        ).all()
        for child_code, child_type, parent_id in children:
            plan = retyped[parent_id]
            if child_code in plans:
                continue
            fault = parent_fault(child_type, plan.type)
            if fault:
                errors.append(
                    plan.row.ref.error(
                        "type", f"{child_code} sits under this unit and {fault}", unit_code=plan.row.unit.code
                    )
                )

    errors += await _cycles(session, plans, held)

    if errors:
        raise nothing_imported(errors, MAX_ERRORS)
    return await _write(session, plans, held)


async def _cycles(session: AsyncSession, plans: dict[str, _Plan], held: dict[str, Unit]) -> list[FieldError]:
    """Faults for every cycle the import would make. The held tree has none, so each passes through a row."""
    # A unit named as its own parent is reported on its own; it is no cycle through the tree.
    parent_of: dict[str, str | None] = {
        code: plan.parent_code if plan.parent_code != code else None for code, plan in plans.items()
    }
    frontier = {p for p in parent_of.values() if p is not None and p not in parent_of}
    while frontier:  # the chains above held parents, one level at a time
        above = await by_codes(session, frontier)
        for unit in above:
            parent_of[unit.code] = unit.parent_code
        frontier = {u.parent_code for u in above if u.parent_code is not None and u.parent_code not in parent_of}

    errors: list[FieldError] = []
    done: set[str] = set()
    for start in plans:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node in parent_of and node not in done:
            if node in on_path:
                cycle = path[on_path[node] :]
                first = min((plans[c] for c in cycle if c in plans), key=lambda p: p.row.ref.position)
                ring = cycle[cycle.index(first.row.unit.code) :] + cycle[: cycle.index(first.row.unit.code)]
                errors.append(
                    first.row.ref.error(
                        "parent_code",
                        "would make a cycle: " + " -> ".join([*ring, ring[0]]),
                        unit_code=first.row.unit.code,
                    )
                )
                break
            on_path[node] = len(path)
            path.append(node)
            node = parent_of[node]
        done.update(path)
    return errors


async def _write(session: AsyncSession, plans: dict[str, _Plan], held: dict[str, Unit]) -> UnitImportReport:
    units: dict[str, Unit] = dict(held)
    for code, plan in plans.items():
        if plan.held is None:
            units[code] = Unit(id=uuid.uuid4(), code=code)

    outcomes: list[ImportedUnit] = []
    for code, plan in plans.items():
        unit = units[code]
        parent = units[plan.parent_code] if plan.parent_code is not None else None
        if plan.held is None:
            for name in _FIELDS:
                setattr(unit, name, getattr(plan.row.unit, name))
            unit.parent = parent
            session.add(unit)
            outcomes.append(ImportedUnit(code=code, id=unit.id, outcome="created"))
            continue
        changed = False
        for name in _FIELDS:
            if name in plan.row.given and getattr(unit, name) != getattr(plan.row.unit, name):
                setattr(unit, name, getattr(plan.row.unit, name))
                changed = True
        if unit.parent is not parent:
            unit.parent = parent
            changed = True
        outcomes.append(ImportedUnit(code=code, id=unit.id, outcome="updated" if changed else "unchanged"))

    await flush(session, clash=clash("The import"))
    return UnitImportReport(
        created=sum(o.outcome == "created" for o in outcomes),
        updated=sum(o.outcome == "updated" for o in outcomes),
        unchanged=sum(o.outcome == "unchanged" for o in outcomes),
        units=outcomes,
    )
