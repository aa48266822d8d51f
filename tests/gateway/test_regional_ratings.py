"""Regional ratings: the case answers of a region's PDU inspections pooled through the rating engine."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from tests.gateway.factories import make_assessed_sample, make_inspection, make_unit

API = "/api/v1"
PROBLEM = "application/problem+json"
FRAMEWORK = "probation-pdu-2021"
SUPERVISION_KQS = [f"2.{s}.{k}" for s in range(2, 6) for k in range(1, 4)]


def supervision(prefix: str, yes_on_221: int, n: int = 5, answer: str = "yes") -> list[dict]:
    """n assessed cases: 2.2.1 answered yes in the first `yes_on_221`, every other key question `answer`."""
    return [
        {
            "case_ref": f"{prefix}{i:06d}",
            "answers": {kq: ("yes" if i < yes_on_221 else "no") if kq == "2.2.1" else answer for kq in SUPERVISION_KQS},
        }
        for i in range(n)
    ]


async def inspection(db_session, unit, status: str, year: int, cases: list[dict] | None, **fields):
    held = await make_inspection(
        db_session,
        unit=unit,
        framework_id=fields.pop("framework_id", FRAMEWORK),
        status=status,
        fieldwork_start=date(year, 3, 2),
        fieldwork_end=date(year, 3, 20),
        published_at=datetime(year, 6, 1, tzinfo=UTC) if status == "published" else None,
        **fields,
    )
    if cases is not None:
        await make_assessed_sample(db_session, held, "case_supervision", cases)
    return held


@pytest.fixture
async def region(db_session):
    """A region of four PDUs.

    A: published 2025 (2.2.1 4/5) and an older published 2023 inspection (all no) that must not count.
    B: published 2024 (2.2.1 2/5), and a 2026 inspection in fieldwork (all yes) that counts only as current.
    C: never inspected. D: a withdrawn inspection only.
    """
    tag = uuid.uuid4().hex[:6].upper()
    region = await make_unit(db_session, type="region", code=f"R{tag}")
    a, b, c, d = [await make_unit(db_session, type="pdu", parent=region, code=f"{x}{tag}") for x in "ABCD"]
    inspections = {
        "a2025": await inspection(db_session, a, "published", 2025, supervision("A", 4)),
        "a2023": await inspection(db_session, a, "published", 2023, supervision("E", 0, answer="no")),
        "b2024": await inspection(db_session, b, "published", 2024, supervision("B", 2)),
        "b2026": await inspection(db_session, b, "fieldwork", 2026, supervision("F", 5)),
        "d2025": await inspection(db_session, d, "withdrawn", 2025, supervision("D", 0, answer="no")),
    }
    court = [
        {"case_ref": f"G{i:06d}", "answers": {"2.1.1": "yes" if i < 3 else "no", "2.1.2": "yes", "2.1.3": "yes"}}
        for i in range(4)
    ]
    await make_assessed_sample(db_session, inspections["a2025"], "court_reports", court)
    return {"region": region, "units": {"A": a, "B": b, "C": c, "D": d}, "inspections": inspections, "tag": tag}


def url(region_id) -> str:
    return f"{API}/units/{region_id}/regional-rating"


def pooled_standard(body: dict, standard_id: str) -> dict:
    return next(s for s in body["pooled"]["standards"] if s["standard"] == standard_id)


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields)
    return body


async def test_published_basis_pools_each_pdus_latest_published_inspection(gateway, region):
    tag, inspections = region["tag"], region["inspections"]

    response = await gateway.get(url(region["region"].id), params={"framework_id": FRAMEWORK})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["region_code"], body["framework_id"], body["basis"]) == (f"R{tag}", FRAMEWORK, "published")
    assert [
        (c["unit_code"], c["inspection_id"], c["inspection_status"], c["cases"], c["pooled"])
        for c in body["contributions"]
    ] == [
        (f"A{tag}", str(inspections["a2025"].id), "published", 9, True),
        (f"B{tag}", str(inspections["b2024"].id), "published", 5, True),
    ]
    assert body["contributions"][0]["published_at"].startswith("2025-06-01")
    assert body["units_without_inspection"] == [f"C{tag}", f"D{tag}"]
    assert body["pooled"]["units"] == [f"A{tag}", f"B{tag}"]
    assert body["pooled"]["framework_id"] == FRAMEWORK

    # 4 of 5 and 2 of 5 pool to 6 of 10: 60%, Requires improvement, though A alone is Outstanding.
    s22 = pooled_standard(body, "2.2")
    figures = {k["key_question"]: (k["yes"], k["applicable"]) for k in s22["key_questions"]}
    assert figures == {"2.2.1": (6, 10), "2.2.2": (10, 10), "2.2.3": (10, 10)}
    assert (s22["rating"], s22["driver"], s22["cases"]) == ("requires_improvement", "2.2.1", 10)
    assert [(u["unit"], u["computed_rating"], u["key_questions"][0]["yes"]) for u in s22["units"]] == [
        (f"A{tag}", "outstanding", 4),
        (f"B{tag}", "inadequate", 2),
    ]
    # Court work was assessed in one PDU only: pooled from it alone, 3 of 4.
    s21 = pooled_standard(body, "2.1")
    assert (s21["rating"], [u["unit"] for u in s21["units"]]) == ("good", [f"A{tag}"])
    assert [s["standard"] for s in body["pooled"]["standards"]] == ["2.1", "2.2", "2.3", "2.4", "2.5"]


async def test_current_basis_pools_each_pdus_latest_inspection_that_is_not_withdrawn(gateway, region):
    tag, inspections = region["tag"], region["inspections"]

    body = (await gateway.get(url(region["region"].id), params={"framework_id": FRAMEWORK, "basis": "current"})).json()

    assert [(c["unit_code"], c["inspection_id"], c["inspection_status"]) for c in body["contributions"]] == [
        (f"A{tag}", str(inspections["a2025"].id), "published"),
        (f"B{tag}", str(inspections["b2026"].id), "fieldwork"),
    ]
    assert body["units_without_inspection"] == [f"C{tag}", f"D{tag}"]
    s22 = pooled_standard(body, "2.2")
    driver = s22["key_questions"][0]
    assert (driver["yes"], driver["applicable"], s22["rating"]) == (9, 10, "outstanding")


async def test_an_inspection_without_case_answers_is_listed_but_not_pooled(gateway, db_session, region):
    tag = region["tag"]
    await inspection(db_session, region["units"]["C"], "planned", 2027, None)

    body = (await gateway.get(url(region["region"].id), params={"framework_id": FRAMEWORK, "basis": "current"})).json()

    assert [(c["unit_code"], c["cases"], c["pooled"]) for c in body["contributions"]] == [
        (f"A{tag}", 9, True), (f"B{tag}", 5, True), (f"C{tag}", 0, False),
    ]
    assert body["pooled"]["units"] == [f"A{tag}", f"B{tag}"]


async def test_unknown_region_is_404(gateway):
    assert_problem(await gateway.get(url(uuid.uuid4()), params={"framework_id": FRAMEWORK}), 404)


async def test_a_unit_that_is_not_a_region_is_refused(gateway, region):
    pdu = region["units"]["A"]
    body = assert_problem(await gateway.get(url(pdu.id), params={"framework_id": FRAMEWORK}), 422, "path.region_id")
    assert body["errors"][0]["message"] == f"unit {pdu.code} is a pdu, not a region"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"framework_id": "no-such-framework"}, "query.framework_id"),
        ({}, "query.framework_id"),
        ({"framework_id": FRAMEWORK, "basis": "latest"}, "query.basis"),
        ({"framework_id": FRAMEWORK, "extra": "x"}, "query.extra"),
    ],
    ids=["unknown-framework", "no-framework", "unknown-basis", "unknown-parameter"],
)
async def test_bad_query_is_refused_naming_the_parameter(gateway, region, params, field):
    assert_problem(await gateway.get(url(region["region"].id), params=params), 422, field)


async def test_a_region_with_nothing_to_pool_is_refused(gateway, db_session, region):
    # Inspections exist, but none under this framework.
    body = assert_problem(
        await gateway.get(url(region["region"].id), params={"framework_id": "probation-crc-2018"}), 422, "query.basis"
    )
    assert "to pool" in body["detail"]

    empty = await make_unit(db_session, type="region")
    assert_problem(await gateway.get(url(empty.id), params={"framework_id": FRAMEWORK}), 422, "query.basis")

    # Published, but without a single case answer.
    quiet = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, type="pdu", parent=quiet)
    await inspection(db_session, pdu, "published", 2025, None)
    body = assert_problem(await gateway.get(url(quiet.id), params={"framework_id": FRAMEWORK}), 422, "query.basis")
    assert "has case answers to pool" in body["detail"]
