"""The precision of a simple random sample estimating a proportion (domain.md section 4), both ways.

The sampling service sizes a sample for a margin of error: n0 = z^2 p (1 - p) / e^2, then the finite
population correction n = n0 N / (n0 + N - 1). A report states the margin a sample achieved: the same
formula solved for e, e = z sqrt(p (1 - p) (N - n) / (n (N - 1))). One module holds both, so the margin
a report prints is exactly the one the sample would have been sized for.
"""

from __future__ import annotations

import math

from inspection_shared.normal import z_for


def finite_population_corrected(n: float, population: int) -> float:
    """n N / (n + N - 1): the size from a population of N as precise as `n` from an infinite one."""
    # N - 1 first: a tiny n plus 1, less 1, would be 0.
    return n * population / (n + (population - 1))


def margin_achieved(sample: int, population: int | None, confidence: float = 0.80, proportion: float = 0.5) -> float:
    """The margin of error, as a proportion (0.05 for 5 points), at `confidence` of a proportion estimated
    from `sample` cases drawn at random from `population` (None: an infinite population): the sample-size
    formula above solved for the margin. A census (every case of the population) has a margin of 0."""
    if sample < 1:
        raise ValueError("a margin of error needs at least one case")
    if population is not None and sample >= population:
        return 0.0
    z = z_for(confidence)
    spread = proportion * (1 - proportion) / sample
    if population is not None:
        spread *= (population - sample) / (population - 1)
    return z * math.sqrt(spread)
