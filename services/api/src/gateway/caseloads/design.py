"""The sample design: what a framework says of each sample type (which columns its frame may hold, its
strata), and the design sent to the sampling service, built from a draw request and the frame.

The gateway never draws: it says what to draw, with its defaults filled in, and checks the answer fits
what it stores.
"""

from __future__ import annotations

import secrets
from collections.abc import Set
from typing import Any

from pydantic import ValidationError

from gateway.caseloads import frames
from gateway.caseloads.schemas import MAX_SEED, SampleDrawRequest
from inspection_shared.framework import Framework
from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.sampling import EligibilityWindow, Precision, SampleDesign, SampleResult
from inspection_shared.vocabulary import UNIT_COLUMN
from inspection_shared.wording import counted

DEFAULT_RESERVES_PER_STRATUM = 2
STRATUM_WIDTH = 200
"""The widest stratum name stored."""


def case_sample_types(framework: Framework) -> list[str]:
    """The sample types the framework's case-based standards are assessed on, in the framework's order."""
    named = {s.sample_type for s in framework.standards() if s.kind == "case" and s.sample_type}
    listed = [t.id for t in framework.sample_types if t.id in named]
    return listed + sorted(named - set(listed))


def check_sample_type(framework: Framework, sample_type: str, field: str) -> None:
    valid = case_sample_types(framework)
    if sample_type not in valid:
        raise InvalidInput(
            f"{sample_type!r} is not a sample type of framework {framework.id}; its case-based standards are "
            f"assessed on: {', '.join(valid) or 'none'}.",
            [FieldError(field=field, message=f"not one of {', '.join(valid)}")],
            valid_sample_types=valid,
        )


def strata_of(framework: Framework, sample_type: str) -> list[str]:
    found = next((t for t in framework.sample_types if t.id == sample_type), None)
    return list(found.strata) if found else []


def allowed_columns(framework: Framework, sample_type: str) -> list[str]:
    """case_ref, the unit, the sample type's strata, the eligibility date, and the attributes its case filters read."""
    columns = {frames.CASE_REF, UNIT_COLUMN, frames.DATE_COLUMN, *strata_of(framework, sample_type)}
    for standard in framework.standards():
        if standard.kind == "case" and standard.sample_type == sample_type and standard.case_filter:
            columns.update(c.attribute for c in standard.case_filter.conditions)
    return sorted(columns)


def _validation_faults(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(["body", *(str(p) for p in e["loc"])]),
            message=e["msg"].removeprefix("Value error, "),
        )
        for e in error.errors()
    ]


def build_design(
    request: SampleDrawRequest, columns: list[str], sample_type_strata: list[str], used_seeds: Set[int] = frozenset(),
    of_region: bool = False,
) -> SampleDesign:
    """The design sent to the sampling service: the request with its defaults filled in from the frame,
    and a seed chosen if none is given (never one of `used_seeds`, those of samples discarded from it).
    `of_region`: the inspection is of a region, so each PDU is sampled to its own precision unless asked
    otherwise.

    Columns of the frame the design does not use are sent as carried, so the sampling service reads the
    stored frame whole and its fingerprint is the frame's.
    """
    present = [c for c in columns if c != frames.CASE_REF]
    faults: list[FieldError] = []
    if "unit" in request.model_fields_set:
        unit = request.unit
    else:
        unit = UNIT_COLUMN if UNIT_COLUMN in present else None
    if unit is not None and unit not in columns:
        faults.append(FieldError(field="body.unit", message=f"the frame has no column {unit}"))
    if request.strata is None:
        strata = [c for c in sample_type_strata if c in present and c != unit]
    else:
        strata = list(request.strata)
        faults += [
            FieldError(field=f"body.strata.{i}", message=f"the frame has no column {name}")
            for i, name in enumerate(strata)
            if name not in columns
        ]
    eligibility = None
    if request.eligibility is not None:
        if frames.DATE_COLUMN not in present:
            faults.append(
                FieldError(field="body.eligibility", message=f"the frame has no {frames.DATE_COLUMN} column")
            )
        eligibility = EligibilityWindow(
            column=frames.DATE_COLUMN, start=request.eligibility.start, end=request.eligibility.end
        )
    faults += [
        FieldError(field=f"body.exclude.{i}.column", message=f"the frame has no column {rule.column}")
        for i, rule in enumerate(request.exclude)
        if rule.column not in columns
    ]
    if faults:
        raise InvalidInput(
            "The design does not fit the frame: " + "; ".join(f.message for f in faults)
            + f". The frame's columns: {', '.join(columns)}.",
            faults,
        )
    reserves = request.reserves_per_stratum
    if reserves is None and request.reserve_ratio is None:
        reserves = DEFAULT_RESERVES_PER_STRATUM
    fields: dict[str, Any] = {
        "size": request.size,
        "precision": None if request.size is not None else (request.precision or Precision()),
        "strata": strata,
        "unit": unit,
        "unit_mode": request.unit_mode or (
            "per_unit" if of_region and unit is not None and request.size is None else "overall"
        ),
        "min_per_unit": request.min_per_unit,
        "capacity": request.capacity,
        "min_per_stratum": request.min_per_stratum,
        "eligibility": eligibility,
        "exclude": request.exclude,
        "reserves_per_stratum": reserves,
        "reserve_ratio": request.reserve_ratio,
        "seed": request.seed if request.seed is not None else _fresh_seed(used_seeds),
    }
    try:
        used = SampleDesign(**fields).used_columns()
        return SampleDesign(**fields, carried=[c for c in present if c not in used])
    except ValidationError as error:
        faults = _validation_faults(error)
        raise InvalidInput(f"The design cannot be drawn: {faults[0].message}.", faults) from None


def _fresh_seed(used: Set[int]) -> int:
    """A seed chosen here rather than by the sampling service, so that it fits the stored column, and new:
    a redraw after a discard is a new draw."""
    while (seed := secrets.randbelow(MAX_SEED)) in used:
        pass
    return seed


def check_widths(result: SampleResult) -> None:
    wide = sorted({c.stratum for c in [*result.selected, *result.reserves] if len(c.stratum) > STRATUM_WIDTH})
    if wide:
        raise InvalidInput(
            f"The strata are named by their values joined with '|', and {counted(len(wide), 'name is', 'names are')} longer than "
            f"{STRATUM_WIDTH} characters; stratify on fewer variables.",
            [FieldError(field="body.strata", message=f"stratum names longer than {STRATUM_WIDTH} characters")],
        )
