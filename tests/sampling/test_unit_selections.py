"""Unit selections: SRS and systematic PPS, must-include units, reproducibility, fairness, refusals."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from scipy.stats import chisquare

from sampling.errors import SamplingInputError
from sampling.units.service import Unit, select_units

UNITS = [Unit(f"YOS{i:02d}", float(100 + 37 * i)) for i in range(1, 21)]


def ids(selection) -> list[str]:
    return [u.id for u in selection.selected]


@pytest.mark.parametrize("method", ["srs", "pps"])
def test_seeded_and_independent_of_the_listing_order(method):
    shuffled = UNITS[:]
    random.Random(5).shuffle(shuffled)
    a = select_units(UNITS, 6, method=method, include=["YOS03"], seed=3)
    b = select_units(shuffled, 6, method=method, include=["YOS03"], seed=3)
    assert a == b
    assert len(a.selected) == 6 and len(set(ids(a))) == 6
    assert a.selected[0].id == "YOS03" and a.selected[0].basis == "included"
    assert select_units(UNITS, 6, method=method, include=["YOS03"], seed=4) != a


def test_srs_probabilities():
    result = select_units(UNITS, 5, method="srs", include=["YOS01", "YOS02"], seed=1)
    assert [u.inclusion_probability for u in result.selected] == [1.0, 1.0] + [3 / 18] * 3


def test_pps_probabilities_are_proportional_to_size():
    result = select_units(UNITS, 4, method="pps", seed=9)
    total = sum(u.size for u in UNITS)
    for unit in result.selected:
        assert unit.basis == "random"
        assert unit.inclusion_probability == pytest.approx(4 * unit.size / total)


def test_pps_takes_very_large_units_with_certainty():
    units = [Unit("giant", 10_000.0)] + [Unit(f"u{i}", 10.0) for i in range(10)]
    result = select_units(units, 3, method="pps", seed=2)
    assert result.selected[0].id == "giant" and result.selected[0].basis == "certainty"
    assert [u.inclusion_probability for u in result.selected[1:]] == pytest.approx([0.2, 0.2])


def test_k_equal_to_the_includes_draws_nothing_more():
    result = select_units(UNITS, 2, method="pps", include=["YOS05", "YOS01"], seed=1)
    assert ids(result) == ["YOS01", "YOS05"]


def test_srs_is_fair_across_seeds():
    counts = Counter(uid for seed in range(1_500) for uid in ids(select_units(UNITS, 4, method="srs", seed=seed)))
    assert chisquare([counts[u.id] for u in UNITS]).pvalue > 0.001


def test_pps_hits_each_unit_in_proportion_to_its_size_across_seeds():
    draws = 1_500
    counts = Counter(uid for seed in range(draws) for uid in ids(select_units(UNITS, 4, method="pps", seed=seed)))
    total = sum(u.size for u in UNITS)
    expected = [draws * 4 * u.size / total for u in UNITS]
    assert chisquare([counts[u.id] for u in UNITS], expected).pvalue > 0.001


@pytest.mark.parametrize(
    ("units", "k", "method", "include", "field", "says"),
    [
        (UNITS, 25, "srs", [], "k", "above the 20 units by 5"),
        (UNITS, 2, "srs", ["YOS01", "YOS02", "YOS03"], "include", "1 more than k"),
        (UNITS, 2, "srs", ["NOPE"], "include", "NOPE"),
        (UNITS + [Unit("YOS01", 5.0)], 2, "srs", [], "units", "repeated: YOS01"),
        ([Unit("a"), Unit("b", 3.0)], 1, "pps", [], "units", "a"),
        ([Unit("a", 0.0), Unit("b", 3.0), Unit("c", 0.0)], 2, "pps", [], "units", "1 short"),
    ],
)
def test_refusals(units, k, method, include, field, says):
    with pytest.raises(SamplingInputError) as caught:
        select_units(units, k, method=method, include=include, seed=1)
    assert caught.value.faults[0].field == field and says in caught.value.detail


async def test_http_contract(client):
    body = {"units": [{"id": u.id, "size": u.size} for u in UNITS], "k": 6, "method": "pps", "include": ["YOS03"],
            "seed": 3}
    response = await client.post("/v1/unit-selections", json=body)
    assert response.status_code == 200
    result = response.json()
    assert result["seed"] == 3 and result["k"] == 6 and len(result["selected"]) == 6
    assert result["selected"][0] == {"id": "YOS03", "size": 211.0, "inclusion_probability": 1.0, "weight": 1.0,
                                     "basis": "included"}
    for unit in result["selected"]:
        assert unit["weight"] == pytest.approx(1 / unit["inclusion_probability"])
    again = (await client.post("/v1/unit-selections", json={**body, "units": body["units"][::-1]})).json()
    assert again["selected"] == result["selected"]


async def test_http_picks_a_seed_when_none_is_given(client):
    body = {"units": [{"id": f"U{i}"} for i in range(10)], "k": 3}
    result = (await client.post("/v1/unit-selections", json=body)).json()
    assert result["method"] == "srs" and isinstance(result["seed"], int)
    again = (await client.post("/v1/unit-selections", json={**body, "seed": result["seed"]})).json()
    assert again["selected"] == result["selected"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"units": [{"id": "a"}], "k": 2}, "k"),
        ({"units": [], "k": 1}, "body.units"),
        ({"units": [{"id": "a", "size": -1}], "k": 1}, "body.units.0.size"),
        ({"units": [{"id": "a"}], "k": 0}, "body.k"),
        ({"units": [{"id": "a"}, {"id": "b"}], "k": 1, "method": "pps"}, "units"),
    ],
)
async def test_http_refusals(client, body, field):
    response = await client.post("/v1/unit-selections", json=body)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}
