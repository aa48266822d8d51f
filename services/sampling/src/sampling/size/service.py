"""Sample size for estimating a proportion (domain.md section 4).

The standard form used by Raosoft, Epi Info and samplics, applied in this order:

1. z, the standard normal quantile for the two-sided confidence level: z = Phi^-1(1 - (1 - confidence) / 2);
2. n0 = z^2 p (1 - p) / e^2, the size for simple random sampling from an infinite population;
3. times the design effect;
4. the finite population correction, n N / (n + N - 1), when the population N is finite;
5. divided by the expected response (usable-case) rate;
6. rounded up once, at the end, and never more than the population.

The working is kept unrounded so a reader can follow each step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from inspection_shared.normal import z_for
from inspection_shared.precision import finite_population_corrected
from sampling.errors import Fault, SamplingInputError

# Floating-point noise below this (relative) is not a reason to round up: 165.00000000000003 is 165.
_CEIL_TOLERANCE = 1e-9
MOST_CASES = 2**53
"""More cases than any caseload holds, and the most a JSON number carries exactly: a precision target that
asks for more (a margin of 1e-9, a response rate of 1e-300) is refused."""


@dataclass(frozen=True)
class SampleSize:
    """A sample size and the working that reached it."""

    sample_size: int
    z: float
    n0: float
    after_design_effect: float
    after_finite_population_correction: float
    after_response_rate: float
    capped_at_population: bool


def ceil_clean(value: float) -> int:
    """Round up, treating a value within floating-point noise of a whole number as that number."""
    nearest = round(value)
    if abs(value - nearest) <= _CEIL_TOLERANCE * max(1.0, abs(value)):
        return int(nearest)
    return math.ceil(value)


def required_sample_size(
    population: int | None = None,
    *,
    confidence: float = 0.80,
    margin: float = 0.05,
    proportion: float = 0.5,
    design_effect: float = 1.0,
    response_rate: float = 1.0,
    at: str = "precision",
) -> SampleSize:
    """Cases to draw to estimate a proportion within `margin` at `confidence` (see the module docstring).

    `population` None means an infinite population. With the defaults: 165 for an infinite population,
    142 for 1,000, 124 for 500, 63 for 100. Raises SamplingInputError, naming the field `at`, for a
    target whose working leaves the numbers a float or a JSON integer holds.
    """
    if population is not None and population < 1:
        raise ValueError("population must be at least 1")
    if not 0 < margin <= 0.5:
        raise ValueError("margin must be in (0, 0.5]")
    if not 0 < proportion < 1:
        raise ValueError("proportion must be strictly between 0 and 1")
    if design_effect <= 0:
        raise ValueError("design effect must be positive")
    if not 0 < response_rate <= 1:
        raise ValueError("response rate must be in (0, 1]")
    z = z_for(confidence)
    squared = margin * margin  # 0 for a margin of 1e-200: then no sample is large enough
    n0 = z * z * proportion * (1 - proportion) / squared if squared > 0 else math.inf
    after_deff = n0 * design_effect
    if population is None:
        after_fpc = after_deff
    elif after_deff == 0:  # a confidence so low that z underflows: no case is needed (and 0 / 0 for one case)
        after_fpc = 0.0
    else:
        after_fpc = finite_population_corrected(after_deff, population)
    after_rr = after_fpc / response_rate
    if not all(math.isfinite(step) for step in (n0, after_deff, after_fpc, after_rr)):
        raise _out_of_reach(at)
    size = ceil_clean(after_rr)
    capped = population is not None and size > population
    if capped:
        size = population
    if size > MOST_CASES:
        raise _out_of_reach(at)
    return SampleSize(
        sample_size=size,
        z=z,
        n0=n0,
        after_design_effect=after_deff,
        after_finite_population_correction=after_fpc,
        after_response_rate=after_rr,
        capped_at_population=capped,
    )


def _out_of_reach(at: str) -> SamplingInputError:
    return SamplingInputError(
        f"This precision target asks for more cases than any caseload holds (over {MOST_CASES:,}): widen the "
        "margin, lower the confidence or the design effect, or raise the response rate.",
        [Fault(at, "asks for more cases than any caseload holds")],
    )


def per_stratum_sample_sizes(populations: dict[str, int], at: str = "precision", **precision: float
                             ) -> dict[str, SampleSize]:
    """Per-stratum precision: each stratum sized on its own to the same precision."""
    return {name: required_sample_size(n, **precision, at=at) for name, n in populations.items()}
