"""The margin of error a sample achieved: the sample-size formula solved for the margin, checked against
hand-computed values, an independent reference, and the sampling service's own sizing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from inspection_shared.precision import margin_achieved
from sampling.size.service import required_sample_size


def test_hand_computed_margins():
    z = 1.2815515655446004
    # 12 cases of 60: z sqrt(0.25 x 48 / (12 x 59))
    assert margin_achieved(12, 60) == pytest.approx(z * math.sqrt(0.25 * 48 / (12 * 59)), rel=1e-12)
    assert margin_achieved(12, 60) == pytest.approx(0.16684, abs=5e-6)
    # 165 cases of an infinite population: the seed's 5 points, just under
    assert margin_achieved(165, None) == pytest.approx(z * math.sqrt(0.25 / 165), rel=1e-12)
    assert margin_achieved(165, None) < 0.05 < margin_achieved(164, None)


def test_a_census_has_no_margin_and_no_case_has_none_to_give():
    assert margin_achieved(60, 60) == margin_achieved(1, 1) == 0.0
    with pytest.raises(ValueError):
        margin_achieved(0, 60)


@pytest.mark.parametrize("population", [None, 50, 1_000, 25_000])
@pytest.mark.parametrize("confidence", [0.8, 0.95])
def test_agrees_with_an_independent_reference(population, confidence):
    n = 40
    z = norm.ppf(1 - (1 - confidence) / 2)
    fpc = 1 if population is None else (population - n) / (population - 1)
    assert margin_achieved(n, population, confidence) == pytest.approx(z * math.sqrt(0.25 / n * fpc), rel=1e-12)


@given(st.integers(min_value=2, max_value=100_000), st.sampled_from([0.03, 0.05, 0.1]))
def test_the_sample_the_sampling_service_sizes_achieves_the_margin_it_was_sized_for(population, margin):
    sized = required_sample_size(population, margin=margin)
    # The unrounded size gives exactly the margin; the whole cases drawn give at least that precision.
    if sized.after_finite_population_correction >= 1:
        exact = sized.after_finite_population_correction
        z = sized.z
        assert z * math.sqrt(0.25 * (population - exact) / (exact * (population - 1))) == pytest.approx(margin, rel=1e-9)
    assert margin_achieved(sized.sample_size, population) <= margin * (1 + 1e-9)
