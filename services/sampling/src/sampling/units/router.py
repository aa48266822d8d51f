"""POST /v1/unit-selections: choose units for a programme at random, equally or by size."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from inspection_shared.problems import problem_responses
from inspection_shared.sampling import SelectedUnit, UnitSelectionRequest, UnitSelectionResult
from sampling.units.service import Unit, select_units

router = APIRouter(tags=["unit selections"])

DESCRIPTION = """\
Choose `k` units (say, youth services for the year's programme) at random: `srs`, every unit equally
likely, or `pps`, randomised systematic sampling with probability proportional to `size` (a caseload or
a concern score). Units in `include` are always chosen and count towards `k`; under `pps` a unit so
large that its probability would reach 1 is taken with certainty. Seeded and reproducible whatever the
order of `units`; without a seed the service picks one and returns it. Each chosen unit carries its
inclusion probability, weight and basis (`included`, `certainty` or `random`).
"""


@router.post(
    "/unit-selections",
    operation_id="select_units",
    summary="Choose k units at random (SRS or systematic PPS), with must-include units",
    description=DESCRIPTION,
    responses={
        **problem_responses(422),
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "selected": [
                            {"id": "YOS03", "size": 211.0, "inclusion_probability": 1.0, "weight": 1.0,
                             "basis": "included"},
                            {"id": "YOS05", "size": 285.0, "inclusion_probability": 0.30276203966005666,
                             "weight": 3.302923976608187, "basis": "random"},
                            {"id": "YOS06", "size": 322.0, "inclusion_probability": 0.34206798866855526,
                             "weight": 2.9233954451345756, "basis": "random"},
                            {"id": "YOS07", "size": 359.0, "inclusion_probability": 0.3813739376770538,
                             "weight": 2.6220984215413186, "basis": "random"},
                        ],
                        "k": 4,
                        "method": "pps",
                        "seed": 3,
                        "algorithm": "units-randomised-systematic-pps-prn-splitmix64-v1",
                    }
                }
            }
        },
    },
)
async def choose_units(request: UnitSelectionRequest) -> UnitSelectionResult:
    seed = request.seed if request.seed is not None else secrets.randbelow(2**53)
    result = await run_in_threadpool(
        select_units,
        [Unit(u.id, u.size) for u in request.units],
        request.k,
        method=request.method,
        include=request.include,
        seed=seed,
    )
    return UnitSelectionResult(
        selected=[
            SelectedUnit(
                id=u.id,
                size=u.size,
                inclusion_probability=u.inclusion_probability,
                weight=1 / u.inclusion_probability,
                basis=u.basis,
            )
            for u in result.selected
        ],
        k=request.k,
        method=request.method,
        seed=seed,
        algorithm=result.algorithm,
    )
