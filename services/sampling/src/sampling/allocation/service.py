"""Sharing a sample out over strata (or units): proportional, Neyman or equal, with bounds.

Each stratum h has a weight w_h (its population N_h for proportional allocation, N_h S_h for Neyman,
1 for equal), a lower bound lo_h = min(minimum, N_h) and an upper bound hi_h = N_h. The unrounded
quota of every stratum is

    q_h = clip(lambda * w_h, lo_h, hi_h)

with the one lambda that makes the quotas sum to the total. Strata pushed up to their minimum are
paid for by all the others in proportion to their weight, so the largest strata give the most; no
stratum ever gets more than it holds. Quotas are exact fractions, and are rounded by the largest
remainder (Hamilton) method, so sizes sum exactly to the total and stay within the bounds. Ties in the
remainder go to the larger stratum, then to the stratum whose name sorts first, so the result never
depends on the order the strata were given in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from inspection_shared.wording import counted
from sampling.errors import Fault, SamplingInputError

Method = Literal["proportional", "neyman", "equal"]


@dataclass(frozen=True)
class StratumShare:
    stratum: str
    population: int
    sample: int
    bound: Literal["minimum", "population"] | None
    quota_numerator: int
    quota_denominator: int

    @property
    def quota(self) -> Fraction:
        """The unrounded share, exactly."""
        return Fraction(self.quota_numerator, self.quota_denominator)


@dataclass(frozen=True)
class Allocation:
    """Sizes per stratum, in the order the strata were given, with their unrounded quotas."""

    strata: list[StratumShare]

    @property
    def sizes(self) -> dict[str, int]:
        return {s.stratum: s.sample for s in self.strata}


def _solve(
    total: int, weights: Mapping[str, int], lower: Mapping[str, int], upper: Mapping[str, int], *, exact: bool
) -> Fraction | None:
    """lambda such that the quotas clip(lambda w_h, lo_h, hi_h) sum to `total`; None if no lambda can.

    f(lambda) = sum of the clipped quotas is piecewise linear and non-decreasing, so one sweep over the
    points where a stratum leaves its lower bound or reaches its upper one finds lambda. The points are
    ordered by their float value unless `exact`; the caller checks the answer and asks again exactly in
    the rare case two points too close for floats put it in the wrong piece.
    """
    constant = sum(lower.values())  # strata at a bound contribute the bound
    slope = 0  # strata between their bounds contribute lambda * w_h
    if constant == total:
        return Fraction(0)
    events: list[tuple[float | Fraction, int, str]] = []
    for h, w in weights.items():
        if w > 0 and upper[h] > lower[h]:
            events.append((Fraction(lower[h], w) if exact else lower[h] / w, 0, h))  # leaves its lower bound
            events.append((Fraction(upper[h], w) if exact else upper[h] / w, 1, h))  # reaches its upper bound
    events.sort()
    for point, kind, h in events:
        if slope > 0 and constant + point * slope >= total:
            return Fraction(total - constant, slope)
        if kind == 0:
            constant -= lower[h]
            slope += weights[h]
        else:
            slope -= weights[h]
            constant += upper[h]
        if slope == 0 and constant == total:
            return Fraction(point)
    return None


def _quotas(
    total: int, weights: Mapping[str, int], lower: Mapping[str, int], upper: Mapping[str, int]
) -> tuple[dict[str, int], int] | None:
    """The quotas as numerators over one common denominator, exactly; None if the weighted strata fill up."""
    for exact in (False, True):
        try:
            lam = _solve(total, weights, lower, upper, exact=exact)
        except OverflowError:  # weights too large for floats: only the exact sweep will do
            continue
        if lam is None:
            return None
        p, q = lam.numerator, lam.denominator
        numerators = {h: min(max(p * w, lower[h] * q), upper[h] * q) for h, w in weights.items()}
        if sum(numerators.values()) == total * q:
            return numerators, q
    raise AssertionError("no exact allocation found")  # unreachable: the exact sweep is always right


def _integer_weights(weights: Mapping[str, Fraction]) -> dict[str, int]:
    scale = math.lcm(*(w.denominator for w in weights.values()))
    return {h: int(w * scale) for h, w in weights.items()}


def largest_remainder(
    numerators: Mapping[str, int], denominator: int, total: int, populations: Mapping[str, int]
) -> dict[str, int]:
    """Round quotas numerator / denominator to sizes summing to `total` (Hamilton; ties as documented above)."""
    sizes = {h: n // denominator for h, n in numerators.items()}
    left = total - sum(sizes.values())
    if left:
        order = sorted(numerators, key=lambda h: (-(numerators[h] % denominator), -populations[h], h))
        for h in order[:left]:
            sizes[h] += 1
    return sizes


def allocate(
    total: int,
    populations: Mapping[str, int],
    *,
    method: Method = "proportional",
    minimum: int = 0,
    std_devs: Mapping[str, float] | None = None,
) -> Allocation:
    """Share `total` cases over the strata in `populations` (see the module docstring).

    Raises SamplingInputError when the total is above the population, when the minimums need more
    than the total (saying by how much), or when Neyman allocation lacks a standard deviation.
    """
    if total < 0:
        raise SamplingInputError("The total cannot be negative.", [Fault("total", "must be 0 or more")])
    if minimum < 0:
        raise SamplingInputError("The minimum cannot be negative.", [Fault("minimum", "must be 0 or more")])
    if not populations:
        raise SamplingInputError("There are no strata to allocate to.", [Fault("populations", "is empty")])
    negative = [h for h, n in populations.items() if n < 0]
    if negative:
        raise SamplingInputError(
            f"Populations cannot be negative: {', '.join(negative)}.",
            [Fault(f"populations.{h}", "must be 0 or more") for h in negative],
        )
    available = sum(populations.values())
    if total > available:
        raise SamplingInputError(
            f"The total {total} is above the population {available} by {total - available}.",
            [Fault("total", f"is {total - available} more than the {counted(available, 'case')} in the strata")],
            shortfall=total - available,
        )
    lower = {h: min(minimum, n) for h, n in populations.items()}
    upper = dict(populations)
    needed = sum(lower.values())
    if needed > total:
        raise SamplingInputError(
            f"The minimums need {counted(needed, 'case')}, {needed - total} more than the total {total}.",
            [Fault("minimum", f"needs {counted(needed, 'case')}; the total is {total}, short by {needed - total}")],
            shortfall=needed - total,
        )
    if method == "proportional":
        whole = dict(populations)
    elif method == "equal":
        whole = {h: 1 if n > 0 else 0 for h, n in populations.items()}
    elif method == "neyman":
        sds = std_devs or {}
        missing = [h for h, n in populations.items() if n > 0 and h not in sds]
        if missing:
            raise SamplingInputError(
                f"Neyman allocation needs a standard deviation for every stratum; missing: {', '.join(missing)}.",
                [Fault(f"std_devs.{h}", "is missing") for h in missing],
            )
        bad = [h for h, s in sds.items() if not (math.isfinite(s) and s >= 0)]
        if bad:
            raise SamplingInputError(
                f"Standard deviations must be finite and 0 or more: {', '.join(bad)}.",
                [Fault(f"std_devs.{h}", "must be finite and 0 or more") for h in bad],
            )
        unknown = [h for h in sds if h not in populations]
        if unknown:
            raise SamplingInputError(
                f"Standard deviations given for strata with no population: {', '.join(unknown)}.",
                [Fault(f"std_devs.{h}", "names no stratum in populations") for h in unknown],
            )
        whole = _integer_weights({h: n * Fraction(sds.get(h, 0.0)) for h, n in populations.items()})
    else:
        raise SamplingInputError(f"Unknown method {method!r}.", [Fault("method", "is not a known method")])

    if method == "proportional" and minimum == 0:
        # No bound can bind: total * N_h / N never exceeds N_h when total <= N.
        solved: tuple[dict[str, int], int] | None = (
            {h: total * n for h, n in populations.items()}, available
        ) if available else ({h: 0 for h in populations}, 1)
    else:
        solved = _quotas(total, whole, lower, upper)
    if solved is None:
        # Neyman with strata of zero spread, once the others are full: the strata with spread take all
        # they hold, and the rest is shared in proportion to population among the strata without.
        base = {h: upper[h] if whole[h] > 0 else lower[h] for h in populations}
        rest = total - sum(base.values())
        extra = _quotas(
            rest,
            {h: populations[h] if whole[h] == 0 else 0 for h in populations},
            {h: 0 for h in populations},
            {h: upper[h] - base[h] for h in populations},
        )
        assert extra is not None  # the strata without spread have room for the rest: total <= population
        numerators, denominator = {h: base[h] * extra[1] + extra[0][h] for h in populations}, extra[1]
    else:
        numerators, denominator = solved
    sizes = largest_remainder(numerators, denominator, total, populations)

    strata = []
    for h, n in populations.items():
        if n == 0:
            bound: Literal["minimum", "population"] | None = None
        elif sizes[h] >= n:
            bound = "population"
        elif minimum and numerators[h] == lower[h] * denominator:
            bound = "minimum"
        else:
            bound = None
        strata.append(StratumShare(h, n, sizes[h], bound, numerators[h], denominator))
    return Allocation(strata)
