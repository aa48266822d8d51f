"""Allocation: the contract example, the three methods, minimums, capacity, infeasibility, properties."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling.allocation.service import allocate
from sampling.errors import SamplingInputError


def test_contract_example():
    assert allocate(142, {"A": 333, "B": 333, "C": 334}).sizes == {"A": 47, "B": 47, "C": 48}


def test_ties_in_the_remainder_are_broken_by_size_then_name_whatever_the_order_given():
    assert allocate(1, {"B": 4, "A": 4, "C": 4}).sizes == {"B": 0, "A": 1, "C": 0}
    assert allocate(2, {"C": 5, "B": 5, "A": 5}).sizes == {"C": 0, "B": 1, "A": 1}
    # equal remainders: the larger stratum first
    assert allocate(1, {"A": 2, "B": 4}, method="equal").sizes == {"A": 0, "B": 1}


def test_proportional_quotas_are_exact():
    result = allocate(142, {"A": 333, "B": 333, "C": 334})
    assert [s.quota for s in result.strata] == [Fraction(142 * 333, 1000)] * 2 + [Fraction(142 * 334, 1000)]


def test_minimum_borrows_from_the_largest_strata():
    result = allocate(100, {"small": 10, "large": 1000, "middle": 500}, minimum=5)
    assert result.sizes == {"small": 5, "large": 63, "middle": 32}
    bounds = {s.stratum: s.bound for s in result.strata}
    assert bounds == {"small": "minimum", "large": None, "middle": None}
    # without the minimum the small stratum would have had 1 (0.66 rounded up); the 4 extra came
    # mostly from the largest stratum (66 -> 63) and less from the middle one (33 -> 32)
    assert allocate(100, {"small": 10, "large": 1000, "middle": 500}).sizes == {"small": 1, "large": 66, "middle": 33}


def test_a_stratum_smaller_than_the_minimum_gives_all_it_has():
    result = allocate(20, {"tiny": 2, "big": 100}, minimum=5)
    assert result.sizes == {"tiny": 2, "big": 18}
    assert result.strata[0].bound == "population"


def test_neyman_follows_population_times_spread():
    result = allocate(100, {"A": 400, "B": 100}, method="neyman", std_devs={"A": 0.3, "B": 0.5})
    # weights 120 and 50: 70.59 and 29.41
    assert result.sizes == {"A": 71, "B": 29}
    assert float(result.strata[0].quota) == pytest.approx(100 * 120 / 170)


def test_neyman_never_gives_more_than_a_stratum_holds():
    result = allocate(60, {"A": 400, "B": 20}, method="neyman", std_devs={"A": 0.1, "B": 5})
    assert result.sizes == {"A": 40, "B": 20}
    assert [s.bound for s in result.strata] == [None, "population"]


def test_neyman_with_no_spread_left_shares_the_rest_by_population():
    result = allocate(300, {"A": 100, "B": 100, "C": 300}, method="neyman", std_devs={"A": 1, "B": 0, "C": 0})
    assert result.sizes == {"A": 100, "B": 50, "C": 150}


def test_equal_allocation_caps_small_strata():
    assert allocate(30, {"A": 4, "B": 100, "C": 100}, method="equal").sizes == {"A": 4, "B": 13, "C": 13}


def test_empty_strata_get_nothing():
    assert allocate(10, {"A": 0, "B": 20}, minimum=3).sizes == {"A": 0, "B": 10}


def test_total_above_the_population_says_by_how_much():
    with pytest.raises(SamplingInputError) as caught:
        allocate(1200, {"A": 500, "B": 500})
    assert "by 200" in caught.value.detail
    assert caught.value.faults[0].field == "total"


def test_minimums_that_cannot_be_met_say_by_how_much():
    with pytest.raises(SamplingInputError) as caught:
        allocate(20, {f"S{i}": 100 for i in range(5)}, minimum=5)
    assert "need 25 cases, 5 more than the total 20" in caught.value.detail
    assert caught.value.facts["shortfall"] == 5


def test_neyman_needs_every_standard_deviation():
    with pytest.raises(SamplingInputError) as caught:
        allocate(10, {"A": 50, "B": 50}, method="neyman", std_devs={"A": 1})
    assert caught.value.faults[0].field == "std_devs.B"


populations = st.dictionaries(
    st.text(alphabet="ABCDEFGHIJ", min_size=1, max_size=3), st.integers(0, 400), min_size=1, max_size=12
)


@st.composite
def requests(draw):
    pops = draw(populations)
    available = sum(pops.values())
    total = draw(st.integers(0, available))
    minimum = draw(st.integers(0, 30))
    method = draw(st.sampled_from(["proportional", "neyman", "equal"]))
    sds = {h: draw(st.floats(0, 10, allow_nan=False)) for h in pops} if method == "neyman" else None
    return total, pops, minimum, method, sds


@settings(max_examples=300, deadline=None)
@given(requests())
def test_allocation_properties(request):
    total, pops, minimum, method, sds = request
    try:
        result = allocate(total, pops, method=method, minimum=minimum, std_devs=sds)
    except SamplingInputError as error:
        # only ever because the minimums need more than the total
        assert sum(min(minimum, n) for n in pops.values()) > total
        assert error.facts["shortfall"] == sum(min(minimum, n) for n in pops.values()) - total
        return
    sizes = result.sizes
    assert sum(sizes.values()) == total  # sums exactly to the total
    for h, n in pops.items():
        assert 0 <= sizes[h] <= n  # never more than a stratum holds
        assert sizes[h] >= min(minimum, n)  # minimums hold
    for share in result.strata:  # rounding moves each stratum by less than one case
        assert abs(share.sample - share.quota) < 1


@settings(max_examples=100, deadline=None)
@given(requests(), st.randoms(use_true_random=False))
def test_allocation_ignores_the_order_strata_are_given_in(request, rnd):
    total, pops, minimum, method, sds = request
    items = list(pops.items())
    rnd.shuffle(items)
    try:
        first = allocate(total, pops, method=method, minimum=minimum, std_devs=sds).sizes
    except SamplingInputError:
        return
    again = allocate(total, dict(items), method=method, minimum=minimum, std_devs=sds).sizes
    assert first == again


@settings(max_examples=150, deadline=None)
@given(populations.filter(lambda p: sum(p.values()) > 0), st.data())
def test_proportional_without_bounds_is_within_one_of_the_exact_share(pops, data):
    total = data.draw(st.integers(0, sum(pops.values())))
    sizes = allocate(total, pops).sizes
    population = sum(pops.values())
    for h, n in pops.items():
        assert abs(sizes[h] - Fraction(total * n, population)) < 1


async def test_http_contract_example(client):
    response = await client.post(
        "/v1/allocations",
        json={"total": 142, "populations": {"A": 333, "B": 333, "C": 334}, "method": "proportional", "minimum": 0},
    )
    assert response.status_code == 200
    result = response.json()
    assert result["allocation"] == {"A": 47, "B": 47, "C": 48}
    assert result["total"] == 142 and result["method"] == "proportional"
    assert [s["quota"] for s in result["strata"]] == pytest.approx([47.286, 47.286, 47.428])


async def test_http_neyman(client):
    response = await client.post(
        "/v1/allocations",
        json={"total": 100, "populations": {"A": 400, "B": 100}, "method": "neyman", "std_devs": {"A": 0.3, "B": 0.5}},
    )
    assert response.json()["allocation"] == {"A": 71, "B": 29}


async def test_http_minimum(client):
    response = await client.post(
        "/v1/allocations", json={"total": 100, "populations": {"s": 10, "l": 1000, "m": 500}, "minimum": 5}
    )
    result = response.json()
    assert result["allocation"] == {"s": 5, "l": 63, "m": 32}
    assert result["strata"][0]["bound"] == "minimum"


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"total": 1200, "populations": {"A": 500, "B": 500}}, "total", "by 200"),
        ({"total": 20, "populations": {"A": 100, "B": 100, "C": 100}, "minimum": 10}, "minimum", "10 more"),
        ({"total": 20, "populations": {"A": 100}, "method": "neyman"}, "std_devs.A", "missing: A"),
        ({"total": 20, "populations": {"A": 100}, "method": "neyman", "std_devs": {"A": 1, "Z": 1}}, "std_devs.Z",
         "no population"),
        ({"total": -1, "populations": {"A": 100}}, "body.total", None),
        ({"total": 5, "populations": {}}, "body.populations", None),
        ({"total": 5, "populations": {"A": -3}}, "body.populations.A", None),
        ({"total": 5, "populations": {"A": 10}, "method": "random"}, "body.method", None),
    ],
)
async def test_http_infeasible_or_invalid_is_422(client, body, field, says):
    response = await client.post("/v1/allocations", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert field in {e["field"] for e in problem["errors"]}
    if says:
        assert says in problem["detail"]
