"""POST /v1/allocations: share a total over strata or units."""

from __future__ import annotations

from fastapi import APIRouter

from inspection_shared.problems import problem_responses
from inspection_shared.sampling import AllocatedStratum, AllocationRequest, AllocationResult
from sampling.allocation.service import allocate

router = APIRouter(tags=["allocation"])

DESCRIPTION = """\
Share `total` cases over the strata (or units) in `populations`.

* `proportional`: in proportion to each stratum's population;
* `neyman`: in proportion to population × standard deviation (`std_devs`, one per stratum);
* `equal`: the same number in each stratum.

A stratum holding fewer cases than `minimum` gets all of them. Strata raised to their minimum are paid
for by the others in proportion to their share, so the largest strata give the most, and no stratum ever
gets more than it holds. Unrounded quotas are rounded by the largest remainder, so the sizes always sum
exactly to the total; ties go to the larger stratum, then to the name that sorts first.

A total above the population, or minimums that need more than the total, is a 422 saying by how much.
"""


@router.post(
    "/allocations",
    operation_id="allocate_sample",
    summary="Allocate a sample over strata: proportional, Neyman or equal, with a minimum",
    description=DESCRIPTION,
    responses={
        **problem_responses(422),
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "allocation": {"A": 47, "B": 47, "C": 48},
                        "total": 142,
                        "method": "proportional",
                        "minimum": 0,
                        "strata": [
                            {"stratum": "A", "population": 333, "quota": 47.286, "sample": 47, "bound": None},
                            {"stratum": "B", "population": 333, "quota": 47.286, "sample": 47, "bound": None},
                            {"stratum": "C", "population": 334, "quota": 47.428, "sample": 48, "bound": None},
                        ],
                    }
                }
            }
        },
    },
)
async def allocate_sample(request: AllocationRequest) -> AllocationResult:
    result = allocate(
        request.total,
        request.populations,
        method=request.method,
        minimum=request.minimum,
        std_devs=request.std_devs,
    )
    return AllocationResult(
        allocation=result.sizes,
        total=request.total,
        method=request.method,
        minimum=request.minimum,
        strata=[
            AllocatedStratum(
                stratum=s.stratum, population=s.population, quota=float(s.quota), sample=s.sample, bound=s.bound
            )
            for s in result.strata
        ],
    )
