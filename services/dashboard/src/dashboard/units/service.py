"""The units table: each unit beside its latest published inspection, filtered, sorted and counted.

Pure functions over what the gateway answered, so that the page's figures are the API's figures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from inspection_shared.clients.gateway import Inspection, Unit

RATING_ORDER = {"outstanding": 0, "good": 1, "requires_improvement": 2, "inadequate": 3}
NOT_INSPECTED = "not_inspected"
SORTS = ("name", "region", "type", "rating", "published")


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    region_code: str | None
    region_name: str | None
    latest: Inspection | None
    published_on: date | None
    days_since: int | None
    overdue: bool

    @property
    def rating(self) -> str | None:
        return self.latest.current_rating if self.latest else None


@dataclass(frozen=True)
class UnitFilters:
    region: str | None = None
    type: str | None = None
    rating: str | None = None
    """A rating code, or NOT_INSPECTED."""
    overdue: bool = False
    sort: str = "name"
    descending: bool = False


def _published_day(inspection: Inspection) -> date:
    return datetime.fromisoformat(str(inspection.published_at).replace("Z", "+00:00")).date()


def unit_rows(units: list[Unit], published: list[Inspection], today: date, interval_days: int) -> list[UnitRow]:
    """Every unit with its latest published inspection (by publication), the days since, and whether
    that is longer ago than the programme's interval."""
    regions = {unit.code: unit.name for unit in units if unit.type == "region"}
    latest: dict[str, Inspection] = {}
    for inspection in published:
        if not inspection.published_at:
            continue
        held = latest.get(inspection.unit_id)
        if held is None or str(inspection.published_at) > str(held.published_at):
            latest[inspection.unit_id] = inspection
    rows = []
    for unit in units:
        region_code = unit.code if unit.type == "region" else unit.parent_code
        found = latest.get(unit.id)
        day = _published_day(found) if found else None
        days = (today - day).days if day else None
        rows.append(UnitRow(unit, region_code, regions.get(region_code or ""), found, day, days,
                            days is not None and days > interval_days))
    return rows


def _sort_key(sort: str):
    def key(row: UnitRow):
        missing = (1,)  # rows without the value go last, whichever the order
        if sort == "region":
            return (0, row.region_name or "") if row.region_name else missing
        if sort == "type":
            return (0, row.unit.type, row.unit.name)
        if sort == "rating":
            return (0, RATING_ORDER.get(row.rating or "", 9)) if row.rating else missing
        if sort == "published":
            return (0, row.published_on.toordinal()) if row.published_on else missing
        return (0, row.unit.name.lower())

    return key


def filtered(rows: list[UnitRow], filters: UnitFilters) -> list[UnitRow]:
    chosen = [
        row for row in rows
        if (not filters.region or row.region_code == filters.region)
        and (not filters.type or row.unit.type == filters.type)
        and (not filters.rating or (row.rating or NOT_INSPECTED) == filters.rating)
        and (not filters.overdue or row.overdue)
    ]
    sort = filters.sort if filters.sort in SORTS else "name"
    present = [row for row in chosen if _sort_key(sort)(row)[0] == 0]
    absent = [row for row in chosen if _sort_key(sort)(row)[0] != 0]
    present.sort(key=_sort_key(sort), reverse=filters.descending)
    return present + absent


def distribution(rows: list[UnitRow]) -> dict[str, int]:
    """How many of `rows` have each latest rating, and how many have none published."""
    counts = Counter(row.rating or NOT_INSPECTED for row in rows)
    return {code: counts.get(code, 0) for code in (*RATING_ORDER, NOT_INSPECTED)}
