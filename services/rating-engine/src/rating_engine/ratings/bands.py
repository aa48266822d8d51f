"""Banding a key question's share of 'yes' answers, its interval, and how far it is from the next band.

Everything here is exact where the rules need it to be: a share is banded as the fraction yes/applicable
against thresholds read as decimals (80 means exactly 4/5), so 80% is Outstanding and 79.99% is Good
(domain.md section 3). Intervals are Wilson score intervals (`inspection_shared.normal`, shared with the
sampling service for its quantile and with the gateway's statistics for pooled figures), which behave at
0% and 100% and in small samples where the normal approximation does not; the engine needs nothing beyond
Python for its maths.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from inspection_shared.framework import KeyQuestionThresholds, OutcomeThresholds, Rating

BEST_FIRST: tuple[Rating, ...] = ("outstanding", "good", "requires_improvement", "inadequate")


def rank(rating: Rating) -> int:
    """0 for Inadequate up to 3 for Outstanding, so ratings compare as numbers."""
    return 3 - BEST_FIRST.index(rating)


@dataclass(frozen=True)
class Thresholds:
    """Lowest percentage for Outstanding, Good and Requires improvement, as exact fractions.

    Banding compares integers only: yes/applicable reaches p/q percent when 100 * yes * q >= p * applicable.
    """

    outstanding: Fraction
    good: Fraction
    requires_improvement: Fraction

    @classmethod
    def of(cls, rules: KeyQuestionThresholds | OutcomeThresholds) -> Thresholds:
        """Read the framework's thresholds as the decimals they were written as (66.7 is 667/10)."""
        return _thresholds(rules.outstanding, rules.good, rules.requires_improvement)

    def __post_init__(self) -> None:
        edges = [
            (r, e.numerator, e.denominator)
            for r, e in (
                ("outstanding", self.outstanding),
                ("good", self.good),
                ("requires_improvement", self.requires_improvement),
            )
        ]
        object.__setattr__(self, "_edges", edges)
        object.__setattr__(
            self, "_float_edges", [(r, float(e)) for r, e in zip(BEST_FIRST, self.edges(), strict=False)]
        )

    def edges(self) -> tuple[Fraction, Fraction, Fraction]:
        return self.outstanding, self.good, self.requires_improvement

    def lower_edge(self, rating: Rating) -> Fraction | None:
        """The percentage a share must reach for `rating`; None for Inadequate (no lower edge)."""
        return {
            "outstanding": self.outstanding,
            "good": self.good,
            "requires_improvement": self.requires_improvement,
            "inadequate": None,
        }[rating]

    def band(self, yes: int, applicable: int) -> Rating:
        """The band of yes/applicable, compared exactly in integers."""
        if applicable <= 0:
            raise ValueError("a share needs at least one applicable case")
        hundred_yes = 100 * yes
        for rating, p, q in self._edges:  # type: ignore[attr-defined]
            if hundred_yes * q >= p * applicable:
                return rating
        return "inadequate"

    def band_of_percent(self, percent: Fraction) -> Rating:
        """The band of an exact percentage."""
        for rating, edge in zip(BEST_FIRST, self.edges(), strict=False):
            if percent >= edge:
                return rating
        return "inadequate"

    def band_of_float(self, percent: float) -> Rating:
        """The band of a percentage that is a float already (an interval end)."""
        for rating, edge in self._float_edges:  # type: ignore[attr-defined]
            if percent >= edge:
                return rating
        return "inadequate"


@lru_cache(maxsize=64)
def _thresholds(outstanding: float, good: float, requires_improvement: float) -> Thresholds:
    return Thresholds(
        outstanding=Fraction(repr(outstanding)),
        good=Fraction(repr(good)),
        requires_improvement=Fraction(repr(requires_improvement)),
    )


def compare_shares(yes_a: int, applicable_a: int, yes_b: int, applicable_b: int) -> int:
    """-1, 0 or 1 as yes_a/applicable_a is below, equal to or above yes_b/applicable_b (exact)."""
    left, right = yes_a * applicable_b, yes_b * applicable_a
    return (left > right) - (left < right)


def percent_rounded(yes: int, applicable: int) -> int:
    """The whole percentage a report prints, rounding halves up (exact, in integers)."""
    return (200 * yes + applicable) // (2 * applicable)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def answers_to_reach(yes: int, applicable: int, edge: Fraction) -> int:
    """Fewest 'no' answers that must become 'yes' for yes/applicable to reach `edge` percent."""
    # Smallest k with 100 * k >= edge * applicable.
    needed = _ceil_div(edge.numerator * applicable, 100 * edge.denominator)
    return max(0, needed - yes)


def answers_to_fall_below(yes: int, applicable: int, edge: Fraction) -> int:
    """Fewest 'yes' answers that must become 'no' for yes/applicable to fall under `edge` percent."""
    # Largest k still under the edge (100 * k < edge * applicable) is one less than the smallest reaching it.
    under = _ceil_div(edge.numerator * applicable, 100 * edge.denominator) - 1
    return max(0, yes - under)
