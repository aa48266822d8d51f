"""Sample size: the golden values, an independent cross-check, the working, and the refusals."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from sampling.errors import SamplingInputError
from sampling.size.service import MOST_CASES, ceil_clean, per_stratum_sample_sizes, required_sample_size

GOLDEN = [(None, 165), (50, 39), (100, 63), (250, 100), (500, 124), (1_000, 142), (2_000, 152), (10_000, 162)]


@pytest.mark.parametrize(("population", "expected"), GOLDEN)
def test_golden_values_with_the_defaults(population, expected):
    assert required_sample_size(population).sample_size == expected


def test_95_percent_infinite_population_is_385():
    assert required_sample_size(None, confidence=0.95).sample_size == 385


def _reference(population, confidence, margin, proportion, deff, rate):
    """The textbook formula computed independently: scipy's quantile, one expression, one ceiling."""
    z = norm.ppf(1 - (1 - confidence) / 2)
    n = z**2 * proportion * (1 - proportion) / margin**2 * deff
    if population is not None:
        n = n * population / (n + population - 1)
    return n / rate


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("margin", [0.03, 0.05, 0.1])
@pytest.mark.parametrize("population", [None, 1, 7, 50, 333, 1_000, 25_000])
def test_agrees_with_an_independent_reference(confidence, margin, population):
    ours = required_sample_size(population, confidence=confidence, margin=margin, proportion=0.3,
                                design_effect=1.5, response_rate=0.85)
    exact = _reference(population, confidence, margin, 0.3, 1.5, 0.85)
    assert ours.z == pytest.approx(norm.ppf(1 - (1 - confidence) / 2), rel=1e-12)
    assert ours.after_response_rate == pytest.approx(exact, rel=1e-12)
    expected = math.ceil(exact - 1e-9)
    if population is not None:
        expected = min(expected, population)
    assert ours.sample_size == expected


def test_working_is_in_the_documented_order():
    size = required_sample_size(500, confidence=0.8, margin=0.05, design_effect=1.2, response_rate=0.9)
    assert size.z == pytest.approx(1.2815515655446004)
    assert size.n0 == pytest.approx(size.z**2 * 0.25 / 0.0025)
    assert size.after_design_effect == pytest.approx(size.n0 * 1.2)
    d = size.after_design_effect
    assert size.after_finite_population_correction == pytest.approx(d * 500 / (d + 499))
    assert size.after_response_rate == pytest.approx(size.after_finite_population_correction / 0.9)
    assert size.sample_size == math.ceil(size.after_response_rate) == 158
    assert size.capped_at_population is False


def test_response_rate_never_asks_for_more_than_the_population():
    size = required_sample_size(20, response_rate=0.5)
    assert size.after_response_rate > 20
    assert size.sample_size == 20 and size.capped_at_population is True


def test_a_population_of_one_needs_one_case():
    assert required_sample_size(1).sample_size == 1


def test_float_noise_does_not_round_up():
    assert ceil_clean(165.00000000000003) == 165
    assert ceil_clean(164.99999999999997) == 165
    assert ceil_clean(164.2374) == 165
    assert ceil_clean(3.0) == 3
    # margin 0.1 at 95% with p 0.5 is exactly 96.04 in exact arithmetic: noise must not matter either way
    assert required_sample_size(None, confidence=0.95, margin=0.1).sample_size == 97


def test_per_stratum_sizes_each_stratum_on_its_own():
    sizes = per_stratum_sample_sizes({"A": 100, "B": 1_000})
    assert {k: v.sample_size for k, v in sizes.items()} == {"A": 63, "B": 142}


@pytest.mark.parametrize(("population", "expected"), GOLDEN)
async def test_http_golden_values(client, population, expected):
    body = {} if population is None else {"population": population}
    response = await client.post("/v1/sample-size", json=body)
    assert response.status_code == 200
    result = response.json()
    assert result["sample_size"] == expected
    working = result["working"]
    assert set(working) >= {"z", "n0", "after_design_effect", "after_finite_population_correction",
                            "after_response_rate"}
    assert math.ceil(working["after_response_rate"]) == expected


async def test_http_95_percent_and_working(client):
    response = await client.post("/v1/sample-size", json={"confidence": 0.95})
    result = response.json()
    assert result["sample_size"] == 385
    assert result["working"]["z"] == pytest.approx(1.959963984540054)
    assert result["working"]["n0"] == pytest.approx(384.14588206941244)
    assert result["population"] is None and result["confidence"] == 0.95


async def test_http_design_effect_and_response_rate(client):
    response = await client.post(
        "/v1/sample-size", json={"population": 1000, "design_effect": 2, "response_rate": 0.8}
    )
    working = response.json()["working"]
    assert working["after_design_effect"] == pytest.approx(2 * working["n0"])
    n = working["after_design_effect"]
    assert working["after_finite_population_correction"] == pytest.approx(n * 1000 / (n + 999))
    assert working["after_response_rate"] == pytest.approx(working["after_finite_population_correction"] / 0.8)
    assert response.json()["sample_size"] == math.ceil(working["after_response_rate"]) == 310


async def test_http_per_stratum_precision(client):
    response = await client.post("/v1/sample-size", json={"populations": {"N01": 100, "N02": 1000, "N03": 50}})
    assert response.status_code == 200
    result = response.json()
    assert {k: v["sample_size"] for k, v in result["strata"].items()} == {"N01": 63, "N02": 142, "N03": 39}
    assert result["sample_size"] == 63 + 142 + 39
    assert result["strata"]["N02"]["population"] == 1000
    assert result["strata"]["N02"]["working"]["after_finite_population_correction"] == pytest.approx(141.18995, rel=1e-6)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"confidence": 1.5}, "body.confidence"),
        ({"confidence": 1}, "body.confidence"),
        ({"confidence": 0}, "body.confidence"),
        ({"confidence": -0.2}, "body.confidence"),
        ({"margin": 0}, "body.margin"),
        ({"margin": 0.51}, "body.margin"),

        ({"population": 0}, "body.population"),
        ({"population": -5}, "body.population"),
        ({"proportion": 1}, "body.proportion"),
        ({"response_rate": 0}, "body.response_rate"),
        ({"design_effect": 0}, "body.design_effect"),

        ({"populations": {"A": 0}}, "body.populations.A"),
        ({"population": 10, "populations": {"A": 5}}, "body"),
        ({"populaton": 10}, "body.populaton"),
    ],
)
async def test_http_impossible_inputs_are_422_naming_the_field(client, body, field):
    response = await client.post("/v1/sample-size", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert field in {e["field"] for e in problem["errors"]}


@pytest.mark.parametrize(
    "body",
    [
        {"margin": 5e-324},  # squared, it is 0
        {"margin": 1e-200, "population": 100},  # n0 overflows, so every step after it
        {"margin": 1e-9},  # 4e17 cases: more than any caseload
        {"response_rate": 5e-324},
        {"design_effect": 1e308, "populations": {"A": 10, "B": 20}},
    ],
)
async def test_a_precision_target_out_of_reach_is_422_not_a_500(client, body):
    response = await client.post("/v1/sample-size", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "more cases than any caseload holds" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["body"]


async def test_a_demanding_precision_within_reach_is_worked_out(client):
    body = {"confidence": 0.999999, "margin": 0.001, "proportion": 0.5, "design_effect": 100, "response_rate": 0.01}
    response = await client.post("/v1/sample-size", json=body)
    assert response.status_code == 200
    exact = norm.ppf(1 - 0.000001 / 2) ** 2 * 0.25 / 0.001**2 * 100 / 0.01  # about 6e10 cases
    assert abs(response.json()["sample_size"] - exact) <= 1
    small = await client.post("/v1/sample-size", json={"margin": 1e-9, "population": 1_000})
    assert small.json()["sample_size"] == 1_000  # the whole population, however tight the margin
    loose = await client.post("/v1/sample-size", json={"confidence": 1e-38, "populations": {"A": 1, "B": 5}})
    assert loose.status_code == 200 and loose.json()["sample_size"] == 0  # z underflows to 0: no case needed
    one = await client.post("/v1/sample-size", json={"design_effect": 5e-324, "population": 1})
    assert one.status_code == 200 and one.json()["sample_size"] == 1  # n is 8e-322: of one case, that case


async def test_margin_of_one_half_is_allowed(client):
    response = await client.post("/v1/sample-size", json={"margin": 0.5})
    assert response.status_code == 200
    assert response.json()["sample_size"] == 2  # 1.2816^2 * 0.25 / 0.25 = 1.64 -> 2


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.none(), st.integers(1, 2**63)),
    st.floats(0, 1, exclude_min=True, exclude_max=True),
    st.floats(0, 0.5, exclude_min=True),
    st.floats(0, 1, exclude_min=True, exclude_max=True),
    st.floats(0, exclude_min=True, allow_infinity=False),
    st.floats(0, 1, exclude_min=True),
)
def test_any_precision_the_schema_admits_is_worked_out_or_refused(population, confidence, margin, proportion,
                                                                  design_effect, response_rate):
    try:
        size = required_sample_size(population, confidence=confidence, margin=margin, proportion=proportion,
                                    design_effect=design_effect, response_rate=response_rate)
    except SamplingInputError as refused:
        assert refused.faults[0].field == "precision"
        return
    steps = (size.z, size.n0, size.after_design_effect, size.after_finite_population_correction,
             size.after_response_rate)
    assert all(math.isfinite(step) for step in steps)
    assert 0 <= size.sample_size <= (population if population is not None else MOST_CASES)
