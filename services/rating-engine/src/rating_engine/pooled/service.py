"""Pooled ratings: the case answers of several units' inspections rated as one sample.

The inspectorate rates a region from the pooled case answers of all its PDU inspections, and draws
delivery-partner judgements from the cases, across a region, where the person did unpaid work, a
rehabilitation activity requirement or an accredited programme (domain.md section 3). Pooling adds the
key-question tallies of every unit and applies the same rules as for one inspection; each unit's own
figures are kept beside the pooled ones.
"""

from __future__ import annotations

from typing import Any

from inspection_shared.rating import PooledRatingRequest
from rating_engine.errors import RatingInputError
from rating_engine.frameworks.service import ResolvedFramework
from rating_engine.ratings.evidence import Faults, StandardTally
from rating_engine.ratings.fingerprint import pooled_fingerprint
from rating_engine.ratings.service import (
    Rules,
    case_columns,
    collect_evidence,
    fault_summary,
    result_header,
    standard_rating,
)


def rate_pooled(resolved: ResolvedFramework, request: PooledRatingRequest) -> dict[str, Any]:
    """Pool the units' case answers (or counts) per standard and rate each pooled standard
    (a `PooledRatingResult`).

    Only case-based evidence pools: a rating sent for a unit is refused, as is a unit named twice. A
    standard appears in the result when at least one unit sent evidence for it; units are listed sorted,
    so their order in the request changes nothing.
    """
    framework = resolved.framework
    faults = Faults()
    per_unit: dict[str, dict[str, StandardTally]] = {}
    columns: dict[str, dict[str, Any]] = {}
    for i, unit in enumerate(request.units):
        at = f"body.units.{i}"
        if unit.unit in per_unit:
            faults.add(f"{at}.unit", f"unit {unit.unit} is given more than once")
            continue
        found = collect_evidence(
            framework,
            unit.standards,
            f"{at}.standards",
            faults,
            allow_ratings=False,
            extra_filter=request.case_filter,
        )
        for j, entry in enumerate(unit.standards):
            if entry.confidence is not None:
                faults.add(f"{at}.standards.{j}.confidence", "set the confidence of a pooled rating on the request")
        per_unit[unit.unit] = {sid: tally for sid, (_, tally) in found.items() if tally is not None}
        columns[unit.unit] = case_columns(found)
    if faults:
        raise RatingInputError(fault_summary(faults), faults)

    rules = Rules.of(framework)
    units = sorted(per_unit)
    standards: list[dict[str, Any]] = []
    for standard in framework.standards():
        contributions = [(u, per_unit[u][standard.id]) for u in units if standard.id in per_unit[u]]
        if not contributions:
            continue
        pooled = contributions[0][1]
        for _, tally in contributions[1:]:
            pooled = pooled + tally
        rating = standard_rating(rules, standard, tally=pooled, confidence=request.confidence)
        breakdown = []
        for unit, tally in contributions:
            working = rules.working(standard, tally, request.confidence)
            breakdown.append(
                {
                    "unit": unit,
                    "computed_rating": working.rating,
                    "driver": working.driver["key_question"] if working.driver else None,
                    "cases": tally.cases,
                    "cases_selected": tally.cases_selected,
                    "key_questions": working.figures,
                    "progress": working.progress,
                }
            )
        rating["units"] = breakdown
        standards.append(rating)
    fingerprint = pooled_fingerprint(request, resolved.hash, columns)
    return {
        **result_header(resolved, fingerprint, request.confidence),
        "units": units,
        "standards": standards,
    }
