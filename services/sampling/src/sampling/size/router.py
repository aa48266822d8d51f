"""POST /v1/sample-size: cases needed for a precision target, with the working."""

from __future__ import annotations

from fastapi import APIRouter

from inspection_shared.problems import problem_responses
from inspection_shared.sampling import SampleSizeRequest, SampleSizeResult, SampleSizeWorking, StratumSampleSize
from sampling.size.service import SampleSize, per_stratum_sample_sizes, required_sample_size

router = APIRouter(tags=["sample size"])

DESCRIPTION = """\
Cases to draw to estimate a proportion to a precision target, with the working.

Applied in this order, unrounded until the end:

1. **z** = the standard normal quantile for the two-sided `confidence` (1.2816 for 0.80);
2. **n0** = z² p (1 − p) / e², with p = `proportion` and e = `margin`;
3. **after design effect** = n0 × `design_effect`;
4. **after finite population correction** = n N / (n + N − 1), with n the size after design effect and
   N = `population` (skipped, so equal to the previous step, when the population is infinite);
5. **after response rate** = the previous step ÷ `response_rate`, so that enough drawn cases are usable;
6. **sample_size** = that rounded up once, never more than the population.

With the defaults (80% confidence, 5 points, p 0.5) this is the Raosoft / Epi Info / samplics value:
165 for an infinite population, 142 for 1,000, 124 for 500, 63 for 100.

Per-stratum precision: give `populations` (one per stratum) instead of `population`; each stratum is
sized on its own and `sample_size` is their sum.
"""


def working(size: SampleSize) -> SampleSizeWorking:
    return SampleSizeWorking(
        z=size.z,
        n0=size.n0,
        after_design_effect=size.after_design_effect,
        after_finite_population_correction=size.after_finite_population_correction,
        after_response_rate=size.after_response_rate,
        capped_at_population=size.capped_at_population,
    )


@router.post(
    "/sample-size",
    operation_id="compute_sample_size",
    summary="Sample size for a precision target, with the working",
    description=DESCRIPTION,
    responses={
        **problem_responses(422),
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "sample_size": 142,
                        "population": 1000,
                        "confidence": 0.8,
                        "margin": 0.05,
                        "proportion": 0.5,
                        "design_effect": 1.0,
                        "response_rate": 1.0,
                        "strata": None,
                        "working": {
                            "z": 1.2815515655446008,
                            "n0": 164.2374415149817,
                            "after_design_effect": 164.2374415149817,
                            "after_finite_population_correction": 141.18995456429045,
                            "after_response_rate": 141.18995456429045,
                            "capped_at_population": False,
                        },
                    }
                }
            }
        },
    },
)
async def compute_sample_size(request: SampleSizeRequest) -> SampleSizeResult:
    precision = request.model_dump(include={"confidence", "margin", "proportion", "design_effect", "response_rate"})
    common = {**precision, "population": request.population}
    if request.populations is not None:
        sizes = per_stratum_sample_sizes(request.populations, at="body", **precision)
        strata = {
            name: StratumSampleSize(population=request.populations[name], sample_size=s.sample_size, working=working(s))
            for name, s in sizes.items()
        }
        return SampleSizeResult(**common, sample_size=sum(s.sample_size for s in sizes.values()), strata=strata)
    size = required_sample_size(request.population, **precision, at="body")
    return SampleSizeResult(**common, sample_size=size.sample_size, working=working(size))
