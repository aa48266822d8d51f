"""How often the PDUs can be inspected: the 2020 consultation letter's open question ("once we have
calculated the case sample sizes required for an inspection of each PDU we will be clearer on the
resource implications and therefore the frequency"), answered for two designs side by side.

- `per_pdu`: an inspection of each PDU, its sample sized on the PDU's own caseload, so every PDU gets
  its own findings (what the letter proposes);
- `per_region`: an inspection of each region, one sample sized on the caseload of its PDUs together (as
  under the previous methodology).

An inspection needs its cases' hours (cases x hours per case) and the hours of domain one (interviews,
focus groups: hours per inspection); a full cycle inspects every unit of the design once. A cycle of
y years needs a y-th of those hours each year; the shortest cycle the annual capacity allows is the
fewest whole years whose capacity covers the cycle. The sample sizes are the sampling service's; the
hours are counted exactly (as fractions of the numbers sent), so a cycle that exactly fits is feasible.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Design = Literal["per_pdu", "per_region"]


@dataclass(frozen=True)
class PduCaseload:
    """A PDU, its region and the cases it supervises."""

    unit_id: uuid.UUID
    code: str
    name: str
    region_id: uuid.UUID
    region_code: str
    region_name: str
    caseload: int


@dataclass(frozen=True)
class Inspected:
    """What one inspection of a design covers: a PDU, or a region's PDUs together."""

    unit_id: uuid.UUID
    code: str
    name: str
    caseload: int
    pdus: int


@dataclass(frozen=True)
class Hours:
    """Inspector hours: per sampled case, per inspection (domain one), and available in a year."""

    per_case: Fraction
    per_inspection: Fraction
    annual: Fraction


@dataclass(frozen=True)
class InspectionNeed:
    inspected: Inspected
    cases: int
    hours: Fraction


@dataclass(frozen=True)
class Cycle:
    years: int
    hours_per_year: Fraction
    feasible: bool


@dataclass(frozen=True)
class DesignNeed:
    design: Design
    inspections: list[InspectionNeed]
    cases: int
    hours: Fraction
    cycles: list[Cycle]
    shortest_cycle: int


def per_pdu(pdus: Iterable[PduCaseload]) -> list[Inspected]:
    """One inspection per PDU, in code order."""
    return sorted((Inspected(p.unit_id, p.code, p.name, p.caseload, 1) for p in pdus), key=lambda i: i.code)


def per_region(pdus: Iterable[PduCaseload]) -> list[Inspected]:
    """One inspection per region, of its PDUs' caseloads together, in code order."""
    regions: dict[uuid.UUID, Inspected] = {}
    for p in pdus:
        held = regions.get(p.region_id)
        regions[p.region_id] = Inspected(
            p.region_id, p.region_code, p.region_name,
            p.caseload + (held.caseload if held else 0), 1 + (held.pdus if held else 0),
        )
    return sorted(regions.values(), key=lambda i: i.code)


def shortest_cycle(hours: Fraction, annual: Fraction) -> int:
    """The fewest whole years whose capacity covers `hours` (at least one)."""
    return max(1, math.ceil(hours / annual))


def need(design: Design, inspected: list[Inspected], sizes: Mapping[str, int], hours: Hours,
         cycles: Iterable[int]) -> DesignNeed:
    """The cases and hours each inspection of `design` needs (`sizes`: cases by the inspected unit's code),
    the hours of a full cycle, each cycle asked about, and the shortest cycle the capacity allows."""
    inspections = [
        InspectionNeed(unit, sizes[unit.code], sizes[unit.code] * hours.per_case + hours.per_inspection)
        for unit in inspected
    ]
    total = sum((i.hours for i in inspections), Fraction(0))
    return DesignNeed(
        design=design,
        inspections=inspections,
        cases=sum(i.cases for i in inspections),
        hours=total,
        cycles=[Cycle(years, total / years, total <= hours.annual * years) for years in sorted(set(cycles))],
        shortest_cycle=shortest_cycle(total, hours.annual),
    )


def _number(value: Fraction | float, places: int = 2) -> str:
    """A number as a reader writes it: thousands separated, at most `places` decimals, no trailing zeros."""
    text = f"{float(value):,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def working(needs: list[DesignNeed], hours: Hours, *, z: float, n0: float, confidence: float, margin: float
            ) -> list[str]:
    """The working, step by step, in words and numbers."""
    lines = [
        f"Each sample is sized by the sampling service for a margin of {_number(margin * 100)} points at "
        f"{_number(confidence * 100)}% confidence (two-sided): z = {z:.4f}; n0 = z² × 0.5 × (1 − 0.5) / "
        f"{margin}² = {_number(n0)}; for a caseload of N, n = n0 × N / (n0 + N − 1), rounded up.",
        f"Hours per inspection = cases × {_number(hours.per_case)} hours per case + "
        f"{_number(hours.per_inspection)} hours per inspection (domain one: interviews, focus groups).",
    ]
    for need_ in needs:
        unit = "PDU" if need_.design == "per_pdu" else "region"
        years = need_.hours / hours.annual
        lines.append(
            f"{need_.design}: {len(need_.inspections)} inspections, one per {unit}, each sample sized on the "
            f"{unit}'s caseload: {need_.cases:,} cases; a full cycle needs {need_.cases:,} × "
            f"{_number(hours.per_case)} + {len(need_.inspections)} × {_number(hours.per_inspection)} = "
            f"{_number(need_.hours)} hours, {_number(years)} years of {_number(hours.annual)} hours a year: "
            f"every {unit} can be inspected every {need_.shortest_cycle} year{'s' if need_.shortest_cycle > 1 else ''}"
            " at the shortest."
        )
    return lines
