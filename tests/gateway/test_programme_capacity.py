"""Capacity and frequency: how often every PDU can be inspected, a sample per PDU beside a sample per
region, the sizes from the sampling service checked against the formula by hand (domain.md section 4)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import case, update

from gateway.units.demo import load_demo_units
from gateway.units.models import Unit
from tests.gateway.factories import make_inspection, make_sample, make_unit

CAPACITY = "/api/v1/programme/capacity"
Z_80 = 1.2815515655446004
"""The standard normal quantile for 80% two-sided confidence."""


def by_hand(caseload: int, margin: float = 0.05) -> int:
    """n0 = z^2 p (1 - p) / e^2 with p = 0.5, the finite population correction n = n0 / (1 + (n0 - 1) / N),
    rounded up."""
    n0 = Z_80**2 * 0.5 * 0.5 / margin**2
    return math.ceil(n0 / (1 + (n0 - 1) / caseload))


def test_the_hand_formula_gives_the_published_sizes():
    assert [by_hand(n) for n in (100, 500, 600, 1000)] == [63, 124, 130, 142]


@pytest.fixture
async def estate(db_session):
    """Two regions: North with PDUs of 100 and 500 cases, South with one of 1,000."""
    north, south = await make_unit(db_session, type="region", code="RN"), await make_unit(db_session, type="region",
                                                                                          code="RS")
    return {
        "north": north, "south": south,
        "small": await make_unit(db_session, parent=north, code="RN1"),
        "middle": await make_unit(db_session, parent=north, code="RN2"),
        "large": await make_unit(db_session, parent=south, code="RS1"),
    }


def _asked(estate: dict, **hours) -> dict:
    caseloads = {"small": 100, "middle": 500, "large": 1000}
    return {"units": [{"unit_id": str(estate[k].id), "caseload": n} for k, n in caseloads.items()],
            "confidence": 0.8, "margin": 0.05, "cycles": [1, 2, 3],
            **({"hours_per_case": 3.5, "hours_per_inspection": 120, "annual_hours": 600} | hours)}


async def test_both_designs_are_sized_side_by_side_with_their_cases_hours_and_cycles(gateway, estate):
    answer = await gateway.post(CAPACITY, json=_asked(estate))
    assert answer.status_code == 200, answer.text
    per_pdu, per_region = answer.json()["designs"]

    # A sample per PDU: 63 + 124 + 142 = 329 cases; 329 x 3.5 + 3 x 120 = 1,511.5 hours a cycle.
    assert per_pdu["design"] == "per_pdu"
    assert [(u["code"], u["caseload"], u["pdus"], u["cases"], u["hours"]) for u in per_pdu["units"]] == [
        ("RN1", 100, 1, 63, 63 * 3.5 + 120), ("RN2", 500, 1, 124, 124 * 3.5 + 120), ("RS1", 1000, 1, 142, 142 * 3.5 + 120),
    ]
    assert (per_pdu["inspections"], per_pdu["cases"], per_pdu["hours"]) == (3, 329, 1511.5)
    assert per_pdu["cycles"] == [
        {"years": 1, "hours_per_year": 1511.5, "feasible": False},
        {"years": 2, "hours_per_year": 755.75, "feasible": False},
        {"years": 3, "hours_per_year": pytest.approx(1511.5 / 3), "feasible": True},
    ]
    assert per_pdu["shortest_cycle"] == 3  # 1,511.5 / 600 = 2.52 years

    # A sample per region: North's 600 cases need 130, South's 1,000 need 142; 272 x 3.5 + 2 x 120 = 1,192.
    assert [(u["code"], u["unit_id"], u["caseload"], u["pdus"], u["cases"]) for u in per_region["units"]] == [
        ("RN", str(estate["north"].id), 600, 2, 130), ("RS", str(estate["south"].id), 1000, 1, 142),
    ]
    assert (per_region["inspections"], per_region["cases"], per_region["hours"]) == (2, 272, 1192.0)
    assert [c["feasible"] for c in per_region["cycles"]] == [False, True, True]
    assert per_region["shortest_cycle"] == 2

    working = answer.json()["working"]
    assert working[0] == "Caseloads: as sent."
    assert "z = 1.2816" in working[1] and "n0 = z² × 0.5 × (1 − 0.5) / 0.05² = 164.24" in working[1]
    assert working[3].startswith("per_pdu: 3 inspections, one per PDU") and "329 × 3.5 + 3 × 120 = 1,511.5 hours" \
        in working[3] and working[3].endswith("every PDU can be inspected every 3 years at the shortest.")
    assert "272 × 3.5 + 2 × 120 = 1,192 hours" in working[4]


async def test_a_cycle_that_exactly_fits_the_capacity_is_feasible(gateway, estate):
    # 329 x 0.1 is 32.9 exactly, though not in binary floating point.
    answer = (await gateway.post(CAPACITY, json=_asked(estate, hours_per_case=0.1, hours_per_inspection=0,
                                                       annual_hours=32.9))).json()
    per_pdu = answer["designs"][0]
    assert (per_pdu["hours"], per_pdu["cycles"][0]["feasible"], per_pdu["shortest_cycle"]) == (32.9, True, 1)


async def test_a_wider_margin_or_lower_confidence_asks_for_fewer_cases(gateway, estate):
    answer = (await gateway.post(CAPACITY, json=_asked(estate, margin=0.1))).json()
    assert [u["cases"] for u in answer["designs"][0]["units"]] == [by_hand(100, 0.1), by_hand(500, 0.1),
                                                                  by_hand(1000, 0.1)]


async def test_the_letters_question_for_the_109_real_pdus(gateway, db_session):
    """Once the sample each PDU needs is known, how often can every PDU be inspected? With caseloads
    between 1,200 and 3,599 (about 260,000 cases, a national caseload), 3.5 hours per case, 150 hours of
    domain one per inspection and 30,000 inspector hours a year: a sample per PDU needs a three-year cycle,
    a sample per region fits in one year."""
    await load_demo_units(db_session)
    pdus = (await gateway.get("/api/v1/units", params={"type": "pdu", "limit": 200})).json()["items"]
    assert len(pdus) == 109
    caseloads = {pdu["code"]: 1200 + (i * 389) % 2400 for i, pdu in enumerate(pdus)}
    answer = await gateway.post(CAPACITY, json={
        "units": [{"unit_id": pdu["id"], "caseload": caseloads[pdu["code"]]} for pdu in pdus],
        "hours_per_case": 3.5, "hours_per_inspection": 150, "annual_hours": 30000,
    })
    assert answer.status_code == 200, answer.text
    per_pdu, per_region = answer.json()["designs"]

    assert {u["code"]: u["cases"] for u in per_pdu["units"]} == {code: by_hand(n) for code, n in caseloads.items()}
    cases = sum(by_hand(n) for n in caseloads.values())
    assert (per_pdu["inspections"], per_pdu["cases"]) == (109, cases)
    assert per_pdu["hours"] == pytest.approx(cases * 3.5 + 109 * 150)
    assert per_pdu["shortest_cycle"] == math.ceil((cases * 3.5 + 109 * 150) / 30000) == 3
    assert [c["feasible"] for c in per_pdu["cycles"]] == [False, False, True]

    regions: dict[str, int] = defaultdict(int)
    for pdu in pdus:
        regions[pdu["parent_code"]] += caseloads[pdu["code"]]
    assert len(regions) == 12
    assert {u["code"]: (u["caseload"], u["cases"]) for u in per_region["units"]} == {
        code: (n, by_hand(n)) for code, n in regions.items()
    }
    region_cases = sum(by_hand(n) for n in regions.values())
    assert per_region["hours"] == pytest.approx(region_cases * 3.5 + 12 * 150)
    assert per_region["shortest_cycle"] == 1


@pytest.fixture
async def no_other_pdu(db_session):
    """Every PDU already held (the demo units an end-to-end test's set-up loaded, say) out of service, in the
    test's transaction only: the test's own are then every PDU in service."""
    yesterday = date.today() - timedelta(days=1)
    await db_session.execute(update(Unit).where(Unit.type == "pdu").values(
        valid_to=yesterday, valid_from=case((Unit.valid_from > yesterday, yesterday), else_=Unit.valid_from)))


async def test_units_omitted_are_every_pdu_in_service_with_the_caseload_of_its_latest_frame(
    gateway, db_session, no_other_pdu
):
    region = await make_unit(db_session, type="region", code="RW")
    framed = await make_unit(db_session, parent=region, code="RW1", caseload_size=5000)
    await make_unit(db_session, parent=region, code="RW2", caseload_size=500)
    await make_unit(db_session, parent=region, code="RW3", caseload_size=900, valid_to=date(2020, 1, 1))
    await make_sample(gateway, await make_inspection(db_session, unit=framed), sample_type="case_supervision", cases=100)
    answer = await gateway.post(CAPACITY, json={"hours_per_case": 2, "hours_per_inspection": 10, "annual_hours": 1000})
    assert answer.status_code == 200, answer.text
    per_pdu = answer.json()["designs"][0]
    # The frame's 100 cases, not the 5,000 recorded on the unit; the PDU closed in 2020 is left out.
    assert [(u["code"], u["caseload"], u["cases"]) for u in per_pdu["units"]] == [("RW1", 100, 63), ("RW2", 500, 124)]
    assert answer.json()["working"][0] == ("Caseloads: 1 PDU from its latest case_supervision frame, 1 from the "
                                           "caseload recorded on the unit.")


async def test_pdus_without_a_caseload_are_named_and_nothing_is_guessed(gateway, db_session, no_other_pdu):
    region = await make_unit(db_session, type="region")
    await make_unit(db_session, parent=region, code="RX1", caseload_size=400)
    await make_unit(db_session, parent=region, code="RX2")
    refused = await gateway.post(CAPACITY, json={"hours_per_case": 2, "hours_per_inspection": 10, "annual_hours": 1000})
    assert refused.status_code == 422
    assert refused.json()["detail"] == ("1 PDU in service has no case_supervision frame and no caseload recorded "
                                        "(RX2): send units with their caseloads.")
    assert refused.json()["errors"] == [{"field": "body.units", "message": "omitted, but RX2 has no caseload"}]


async def test_bad_units_are_refused_naming_each(gateway, estate, db_session):
    closed = await make_unit(db_session, parent=estate["north"], code="RN9", valid_to=date(2020, 3, 31))
    asked = _asked(estate)
    asked["units"] = [asked["units"][0], asked["units"][0], {"unit_id": str(estate["north"].id), "caseload": 10},
                      {"unit_id": "00000000-0000-0000-0000-000000000000", "caseload": 10},
                      {"unit_id": str(closed.id), "caseload": 10}]
    refused = await gateway.post(CAPACITY, json=asked)
    assert refused.status_code == 422
    today = date.today()
    assert [(e["field"], e["message"]) for e in refused.json()["errors"]] == [
        ("body.units[1].unit_id", f"{estate['small'].id} is named twice"),
        ("body.units[2].unit_id", "RN is a region, not a PDU"),
        ("body.units[3].unit_id", "no unit 00000000-0000-0000-0000-000000000000"),
        ("body.units[4].unit_id", f"RN9 is not in service on {today}"),
    ]


@pytest.mark.parametrize(("field", "value"), [("annual_hours", 0), ("hours_per_case", -1), ("cycles", [0]),
                                              ("margin", 0), ("confidence", 1), ("annual_hours", "1000")])
async def test_out_of_range_numbers_are_refused(gateway, estate, field, value):
    refused = await gateway.post(CAPACITY, json={**_asked(estate), field: value})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"].startswith(f"body.{field}")
