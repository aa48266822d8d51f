"""Choosing units for a programme: k units at random, equally likely or in proportion to a measure.

Must-include units are taken first. The rest are drawn, seeded and reproducible whatever order the
units are listed in:

* `srs`: the units with the smallest permanent random numbers (sampling.selection.keys) on their ids,
  i.e. simple random sampling without replacement; each remaining unit has probability
  (k - m) / (N - m), with m the must-include units.
* `pps`: randomised systematic sampling with probability proportional to size (Hartley and Rao).
  Units so large that their probability would reach 1 are taken with certainty, repeatedly, until
  none is left; the others are put in random order (by their key), laid end to end by size, and k'
  points one interval X / k' apart are laid over them from a random start (from the seed); a unit is
  chosen when a point falls in it. Its probability is k' x_i / X.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from inspection_shared.wording import counted
from sampling.errors import Fault, SamplingInputError
from sampling.selection.keys import prn_key, uniform

ALGORITHMS = {
    "srs": "units-srswor-prn-splitmix64-v1",
    "pps": "units-randomised-systematic-pps-prn-splitmix64-v1",
}
_START = "\0systematic-start"  # the random start's key; no unit id holds a NUL


@dataclass(frozen=True)
class Unit:
    id: str
    size: float | None = None


@dataclass(frozen=True)
class ChosenUnit:
    id: str
    size: float | None
    inclusion_probability: float
    basis: Literal["included", "certainty", "random"]


@dataclass(frozen=True)
class UnitSelection:
    selected: list[ChosenUnit]
    algorithm: str


def _check(units: Sequence[Unit], k: int, include: Sequence[str], method: str) -> None:
    ids = [u.id for u in units]
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        raise SamplingInputError(
            f"Unit ids must be unique; repeated: {', '.join(repeated)}.",
            [Fault("units", f"{i} appears more than once") for i in repeated],
        )
    known = set(ids)
    unknown = [i for i in include if i not in known]
    if unknown:
        raise SamplingInputError(
            f"Must-include units are not in the list: {', '.join(unknown)}.",
            [Fault("include", f"{i} is not among the units") for i in unknown],
        )
    if len(set(include)) != len(include):
        raise SamplingInputError("A must-include unit is named twice.", [Fault("include", "names a unit twice")])
    if k > len(units):
        raise SamplingInputError(
            f"k = {k} is above the {counted(len(units), 'unit')} by {k - len(units)}.",
            [Fault("k", f"is {k - len(units)} more than the {counted(len(units), 'unit')}")],
        )
    if len(include) > k:
        raise SamplingInputError(
            f"{counted(len(include), 'unit')} must be included, {len(include) - k} more than k = {k}.",
            [Fault("include", f"names {counted(len(include), 'unit')}; k is {k}")],
        )
    if method == "pps":
        missing = [u.id for u in units if u.id not in set(include) and u.size is None]
        if missing:
            raise SamplingInputError(
                f"pps needs a size for every unit that is not must-include; missing: {', '.join(missing[:10])}.",
                [Fault("units", f"{i} has no size") for i in missing[:10]],
            )
        drawable = [u for u in units if u.id not in set(include) and (u.size or 0) > 0]
        wanted = k - len(include)
        if len(drawable) < wanted:
            raise SamplingInputError(
                f"pps can draw only units of positive size: {len(drawable)} "
                f"{'is' if len(drawable) == 1 else 'are'} available for the {wanted} to draw, "
                f"{wanted - len(drawable)} short.",
                [Fault("units", f"only {counted(len(drawable), 'unit')} of positive size for {counted(wanted, 'draw')}")],
            )


def select_units(
    units: Sequence[Unit], k: int, *, method: Literal["srs", "pps"], include: Sequence[str] = (), seed: int
) -> UnitSelection:
    """Choose k units (see the module docstring); raises SamplingInputError for an impossible request."""
    _check(units, k, include, method)
    must = set(include)
    chosen = [
        ChosenUnit(u.id, u.size, 1.0, "included") for u in sorted(units, key=lambda u: u.id) if u.id in must
    ]
    rest = [u for u in units if u.id not in must]
    wanted = k - len(chosen)
    keyed = sorted(rest, key=lambda u: (prn_key(u.id, seed), u.id))  # a random order, fixed by the seed
    if wanted == 0:
        return UnitSelection(chosen, ALGORITHMS[method])
    if method == "srs":
        probability = wanted / len(rest)
        drawn = sorted(keyed[:wanted], key=lambda u: u.id)
        chosen += [ChosenUnit(u.id, u.size, probability, "random") for u in drawn]
        return UnitSelection(chosen, ALGORITHMS[method])

    # pps: exact fractions so that a point on a boundary always falls the same way.
    pool = [u for u in keyed if (u.size or 0) > 0]
    sizes = {u.id: Fraction(u.size or 0) for u in pool}
    certain: list[Unit] = []
    while wanted > 0:
        total = sum(sizes[u.id] for u in pool)
        sure = [u for u in pool if wanted * sizes[u.id] >= total]
        if not sure:
            break
        for u in sorted(sure, key=lambda u: u.id)[:wanted]:
            certain.append(u)
            pool.remove(u)
            wanted -= 1
    chosen += [ChosenUnit(u.id, u.size, 1.0, "certainty") for u in sorted(certain, key=lambda u: u.id)]
    if wanted > 0:
        total = sum(sizes[u.id] for u in pool)
        interval = total / wanted
        point = Fraction(uniform(prn_key(_START, seed))) * interval
        drawn, cumulative = [], Fraction(0)
        for u in pool:
            low, cumulative = cumulative, cumulative + sizes[u.id]
            if low <= point < cumulative:
                drawn.append(u)
                point += interval
        chosen += [
            ChosenUnit(u.id, u.size, float(wanted * sizes[u.id] / total), "random")
            for u in sorted(drawn, key=lambda u: u.id)
        ]
    return UnitSelection(chosen, ALGORITHMS[method])
