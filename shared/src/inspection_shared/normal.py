"""The standard normal quantile both engines use: for sample sizes and for rating intervals."""

from __future__ import annotations

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
