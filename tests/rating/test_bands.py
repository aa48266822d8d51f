"""Banding on exact fractions, Wilson intervals against independent references, distances to the next band."""

import math
from fractions import Fraction

import pytest
from scipy.stats import binomtest, norm

from inspection_shared.framework import KeyQuestionThresholds
from inspection_shared.normal import wilson_interval, z_for
from rating_engine.ratings.bands import (
    Thresholds,
    answers_to_fall_below,
    answers_to_reach,
    compare_shares,
    percent_rounded,
)

STANDARD = Thresholds.of(KeyQuestionThresholds(outstanding=80, good=65, requires_improvement=50))


@pytest.mark.parametrize(
    ("yes", "applicable", "band"),
    [
        (80, 100, "outstanding"),  # 80% exactly
        (7999, 10000, "good"),  # 79.99%
        (4, 5, "outstanding"),
        (799_999_999, 1_000_000_000, "good"),  # a float would round this to 80.0
        (65, 100, "good"),
        (6499, 10000, "requires_improvement"),  # 64.99%
        (13, 20, "good"),
        (50, 100, "requires_improvement"),
        (4999, 10000, "inadequate"),  # 49.99%
        (1, 2, "requires_improvement"),
        (0, 7, "inadequate"),
        (7, 7, "outstanding"),
    ],
)
def test_bands_on_the_exact_fraction(yes, applicable, band):
    assert STANDARD.band(yes, applicable) == band


def test_thresholds_are_read_as_written_decimals():
    odd = Thresholds.of(KeyQuestionThresholds(outstanding=66.7, good=33.3, requires_improvement=10.1))
    assert odd.outstanding == Fraction(667, 10)
    assert odd.band(667, 1000) == "outstanding"
    assert odd.band(666, 1000) == "good"
    assert odd.band(333, 1000) == "good"
    assert odd.band(332, 1000) == "requires_improvement"
    assert odd.band(101, 1000) == "requires_improvement"
    assert odd.band(100, 1000) == "inadequate"


def test_a_share_needs_applicable_cases():
    with pytest.raises(ValueError):
        STANDARD.band(0, 0)
    with pytest.raises(ValueError):
        wilson_interval(0, 0)


def test_percentages_print_whole_rounding_halves_up():
    assert percent_rounded(1, 3) == 33
    assert percent_rounded(2, 3) == 67
    assert percent_rounded(1, 8) == 13  # 12.5 -> 13, not banker's 12
    assert percent_rounded(5, 8) == 63  # 62.5 -> 63
    assert percent_rounded(7999, 10000) == 80  # prints 80% but bands Good: the report rounds, the rule does not


def test_share_comparison_is_exact():
    assert compare_shares(1, 3, 2, 6) == 0
    assert compare_shares(333_333_333, 1_000_000_000, 1, 3) == -1
    assert compare_shares(2, 3, 1, 2) == 1


# Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (score
# interval without continuity correction), 95%.
NEWCOMBE_95 = [((81, 263), (0.2553, 0.3662)), ((15, 148), (0.0624, 0.1605)), ((0, 20), (0.0, 0.1611)), ((1, 29), (0.0061, 0.1718))]


@pytest.mark.parametrize(("case", "published"), NEWCOMBE_95)
def test_wilson_matches_published_values(case, published):
    low, high = wilson_interval(*case, confidence=0.95)
    assert (round(low, 4), round(high, 4)) == published


@pytest.mark.parametrize("confidence", [0.80, 0.90, 0.95])
@pytest.mark.parametrize(("yes", "n"), [(0, 1), (1, 1), (79, 100), (7, 10), (33, 60), (59, 60), (412, 517)])
def test_wilson_matches_scipy(yes, n, confidence):
    expected = binomtest(yes, n).proportion_ci(confidence_level=confidence, method="wilson")
    low, high = wilson_interval(yes, n, confidence)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_by_hand_at_80_percent():
    # 79 of 100 at 80%: z = norm.ppf(0.9); centre and half-width straight from the formula.
    z, n, p = norm.ppf(0.9), 100, 0.79
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    low, high = wilson_interval(79, 100)
    assert (low, high) == (pytest.approx(centre - half, abs=1e-12), pytest.approx(centre + half, abs=1e-12))
    assert (round(low * 100, 2), round(high * 100, 2)) == (73.33, 83.73)
    assert z_for(0.80) == pytest.approx(1.2815515655446004)


def test_wilson_ends_stay_inside_zero_and_one():
    assert wilson_interval(0, 5)[0] == 0.0
    assert wilson_interval(5, 5)[1] == 1.0
    with pytest.raises(ValueError):
        z_for(1.0)


@pytest.mark.parametrize("confidence", [0.9999999999999999, 0.9999999999999998, 1e-300, 0.5])
def test_the_quantile_is_finite_for_every_confidence_below_one(confidence):
    # 1 - (1 - c) / 2 rounds to 1 for the first, where the upper quantile is infinite; not for the second.
    z = z_for(confidence)
    assert math.isfinite(z) and z == pytest.approx(-norm.ppf((1 - confidence) / 2), rel=1e-9, abs=1e-300)
    low, high = wilson_interval(3, 4, confidence)
    assert 0 <= low <= 0.75 <= high <= 1


@pytest.mark.parametrize(
    ("yes", "applicable", "edge", "needed"),
    [(79, 100, 80, 1), (80, 100, 80, 0), (0, 3, 80, 3), (7, 10, 80, 1), (64, 100, 65, 1), (10, 21, 50, 1), (11, 21, 50, 0)],
)
def test_answers_to_reach_an_edge(yes, applicable, edge, needed):
    assert answers_to_reach(yes, applicable, Fraction(edge)) == needed
    assert Fraction(100 * (yes + needed), applicable) >= edge
    assert needed == 0 or Fraction(100 * (yes + needed - 1), applicable) < edge


@pytest.mark.parametrize(
    ("yes", "applicable", "edge", "drop"),
    [(80, 100, 80, 1), (85, 100, 80, 6), (100, 100, 80, 21), (65, 100, 65, 1), (4, 5, 80, 1), (1, 2, 50, 1)],
)
def test_answers_to_fall_below_an_edge(yes, applicable, edge, drop):
    assert answers_to_fall_below(yes, applicable, Fraction(edge)) == drop
    assert Fraction(100 * (yes - drop), applicable) < edge <= Fraction(100 * (yes - drop + 1), applicable)
