"""The standard normal quantile both engines use (for sample sizes and for rating intervals), and the
Wilson score interval of a share: the rating engine's for each key question, the gateway's for pooled
national figures."""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist


@lru_cache(maxsize=64)
def z_for(confidence: float) -> float:
    """The two-sided standard normal quantile for a confidence level in (0, 1): 1.2816 for 80%."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1")
    upper = 1 - (1 - confidence) / 2
    if upper < 1:
        return NormalDist().inv_cdf(upper)
    # Within about 1e-16 of 1 the upper tail rounds to 1, where the quantile is infinite; the lower is exact.
    return -NormalDist().inv_cdf((1 - confidence) / 2)


def wilson_interval(yes: int, applicable: int, confidence: float = 0.80) -> tuple[float, float]:
    """Wilson score interval for yes/applicable, as proportions in [0, 1].

    centre = (p + z^2/2n) / (1 + z^2/n), half-width = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2).
    """
    if applicable <= 0:
        raise ValueError("an interval needs at least one applicable case")
    if not 0 <= yes <= applicable:
        raise ValueError("yes must lie between 0 and applicable")
    z = z_for(confidence)
    n = applicable
    p = yes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low = 0.0 if yes == 0 else max(0.0, centre - half)
    high = 1.0 if yes == applicable else min(1.0, centre + half)
    return low, high


def wilson_percent(yes: int, applicable: int, confidence: float = 0.80) -> tuple[float, float]:
    """The Wilson interval in percent, to six decimal places: as ratings and statistics report it."""
    low, high = wilson_interval(yes, applicable, confidence)
    return round(low * 100, 6), round(high * 100, 6)
