"""The rules of the units tree, kept as data: which types exist, which may sit under which, and the
nations spelled one way.

Change the tree's shape here and nowhere else (a new type also needs a migration for the database's
check on `units.type`).
"""

from __future__ import annotations

from typing import Literal, get_args

UnitType = Literal["region", "pdu", "nps_division", "crc", "ldu", "yos", "other"]
UNIT_TYPES: tuple[UnitType, ...] = get_args(UnitType)

PARENT_TYPES: dict[UnitType, frozenset[UnitType | None]] = {
    # None: the unit may stand at the top of the tree, with no parent.
    "region": frozenset({None}),
    "pdu": frozenset({"region"}),
    "nps_division": frozenset({None}),
    "crc": frozenset({None}),
    "ldu": frozenset({"nps_division", "crc"}),
    "yos": frozenset({None, "region"}),
    "other": frozenset({None, "region", "other"}),
}
"""For each type of unit, the types its parent may have."""

KNOWN_NATIONS = ("England", "Wales", "Scotland", "Northern Ireland", "Guernsey", "Jersey", "Isle of Man")
"""Spelled this way whatever the case given; any other nation is kept as written."""


def canonical_nation(nation: str) -> str:
    stripped = " ".join(nation.split())
    return next((known for known in KNOWN_NATIONS if known.lower() == stripped.lower()), stripped)


def _describe(types: frozenset[UnitType | None]) -> str:
    named = sorted(t for t in types if t is not None)
    return " or ".join(named)


def parent_fault(unit_type: UnitType, parent_type: UnitType | None) -> str | None:
    """Why a unit of this type may not sit under a parent of that type (None: no parent), or None if it may."""
    allowed = PARENT_TYPES[unit_type]
    if parent_type in allowed:
        return None
    if parent_type is None:
        return f"a unit of type {unit_type} must sit under a unit of type {_describe(allowed)}"
    if allowed == {None}:
        return f"a unit of type {unit_type} takes no parent (given one of type {parent_type})"
    top = "stand at the top or " if None in allowed else ""
    return f"a unit of type {unit_type} may {top}sit under a unit of type {_describe(allowed)}, not {parent_type}"
