"""The reads for dashboards and report generators: the filtered list of inspections in pages, an
inspection's summary with its ratings table and progress, and a unit's ratings history."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import event

from gateway.ratings.models import RatingSnapshot
from inspection_shared.rating import KeyQuestionCount, Override, RatingRequest, RatingResult, StandardEvidence
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit

INSPECTIONS = "/api/v1/inspections"
PROBLEM = "application/problem+json"
PDU_STANDARDS = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5"]


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields), body
    return body


def counts(*figures: tuple[int, int], standard: str) -> StandardEvidence:
    """Counts evidence for a case-based standard: (yes, applicable) for each of its key questions."""
    return StandardEvidence(
        standard=standard,
        counts={f"{standard}.{n}": KeyQuestionCount(yes=yes, applicable=applicable) for n, (yes, applicable) in enumerate(figures, 1)},
    )


async def rate(gateway_app, standards: list[StandardEvidence], overrides: list[Override] = ()) -> tuple[RatingRequest, RatingResult]:
    """The real rating engine's answer, as a rating run would get it."""
    request = RatingRequest(framework="probation-pdu-2021", standards=standards, overrides=list(overrides))
    return request, await gateway_app.state.rating_engine.rate(request)


async def all_rated(gateway_app, rating: str, overrides: list[Override] = ()) -> tuple[RatingRequest, RatingResult]:
    return await rate(gateway_app, [StandardEvidence(standard=s, rating=rating) for s in PDU_STANDARDS], overrides)


async def add_snapshot(
    db_session, inspection, rated: tuple[RatingRequest, RatingResult], *, sequence: int = 1, kind: str = "run",
    reason: str | None = None,
) -> RatingSnapshot:
    request, result = rated
    snapshot = RatingSnapshot(
        inspection_id=inspection.id,
        sequence=sequence,
        kind=kind,
        framework_id=result.framework_id,
        framework_version=result.framework_version,
        rules_version=result.rules_version,
        input_fingerprint=result.input_fingerprint,
        request=request.model_dump(mode="json", exclude_none=True),
        result=result.model_dump(mode="json"),
        overall_rating=result.overall.rating,
        overall_score=result.overall.score,
        reason=reason,
        created_by="test",
    )
    db_session.add(snapshot)
    await db_session.flush()
    return snapshot


# --- the list ----------------------------------------------------------------------------------------


@pytest.fixture
async def estate(db_session) -> dict:
    """Two regions with their units, and inspections of them over several years."""
    north, south = await make_unit(db_session, type="region"), await make_unit(db_session, type="region")
    pdu1 = await make_unit(db_session, parent=north)
    pdu2 = await make_unit(db_session, parent=north)
    pdu3 = await make_unit(db_session, parent=south)
    youth = await make_unit(db_session, type="yos", parent=north)

    async def inspection(unit, start: date | None, **fields):
        end = date(start.year, start.month, start.day + 11) if start else None
        return await make_inspection(db_session, unit=unit, fieldwork_start=start, fieldwork_end=end, **fields)

    found = {
        "pdu1_2024": await inspection(pdu1, date(2024, 3, 4), status="published", current_rating="good"),
        "pdu2_2025": await inspection(
            pdu2, date(2025, 5, 5), status="rating", type="joint", current_rating="requires_improvement",
            partner_inspectorates=["HMICFRS"],
        ),
        "north_2025": await inspection(north, date(2025, 5, 5)),
        "pdu3_2024": await inspection(pdu3, date(2024, 9, 9), status="published", current_rating="inadequate"),
        "youth_2023": await inspection(youth, date(2023, 1, 9), framework_id="youth-2021", status="fieldwork"),
        "pdu1_undated": await inspection(pdu1, None),
    }
    return {"units": {"north": north, "south": south, "pdu1": pdu1, "pdu2": pdu2, "pdu3": pdu3, "youth": youth},
            "inspections": found}


def newest_first(inspections) -> list[str]:
    """The list's order: first day of fieldwork, newest first, undated last; then id, highest first."""
    ordered = sorted(inspections, key=lambda i: (i.fieldwork_start is not None, i.fieldwork_start or date.min, i.id), reverse=True)
    return [str(i.id) for i in ordered]


async def listed(gateway, **params) -> list[str]:
    response = await gateway.get(INSPECTIONS, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [item["id"] for item in response.json()["items"]]


async def test_the_list_filters(gateway, estate):
    units, found = estate["units"], estate["inspections"]
    ids = {name: str(i.id) for name, i in found.items()}
    north = str(units["north"].id)
    in_north = [found[n] for n in ("pdu1_2024", "pdu2_2025", "north_2025", "youth_2023", "pdu1_undated")]
    assert await listed(gateway, region_id=north) == newest_first(in_north)
    assert await listed(gateway, region_id=str(units["south"].id)) == [ids["pdu3_2024"]]
    assert await listed(gateway, unit_id=str(units["pdu1"].id)) == [ids["pdu1_2024"], ids["pdu1_undated"]]
    assert await listed(gateway, region_id=north, framework_id="youth-2021") == [ids["youth_2023"]]
    assert await listed(gateway, region_id=north, year=2025) == newest_first([found["pdu2_2025"], found["north_2025"]])
    assert await listed(gateway, region_id=north, status=["published", "rating"]) == [ids["pdu2_2025"], ids["pdu1_2024"]]
    assert await listed(gateway, region_id=north, type="joint") == [ids["pdu2_2025"]]
    assert await listed(gateway, region_id=north, rating="good") == [ids["pdu1_2024"]]
    assert await listed(gateway, rating=["inadequate", "good"], year=2024) == [ids["pdu3_2024"], ids["pdu1_2024"]]
    assert await listed(gateway, region_id=north, year=2024, status="planned") == []
    assert await listed(gateway, unit_id=str(units["pdu1"].id), region_id=str(units["south"].id)) == []


async def test_list_items_carry_the_inspection_and_its_unit(gateway, estate):
    joint = estate["inspections"]["pdu2_2025"]
    pdu2 = estate["units"]["pdu2"]
    (item,) = (await gateway.get(INSPECTIONS, params={"unit_id": str(pdu2.id)})).json()["items"]
    assert item == (await gateway.get(f"{INSPECTIONS}/{joint.id}")).json()
    assert (item["unit_code"], item["unit_name"], item["type"], item["status"], item["current_rating"]) == (
        pdu2.code, pdu2.name, "joint", "rating", "requires_improvement",
    )
    assert item["allowed_transitions"] == ["published", "fieldwork", "withdrawn"]


@pytest.mark.parametrize("limit", [1, 2])
async def test_the_list_pages_through_ties_and_undated_inspections(gateway, estate, limit):
    north = str(estate["units"]["north"].id)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"region_id": north, "limit": limit, **({"cursor": cursor} if cursor else {})}
        page = (await gateway.get(INSPECTIONS, params=params)).json()
        assert 0 < len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    in_north = [i for n, i in estate["inspections"].items() if n != "pdu3_2024"]
    assert seen == newest_first(in_north)
    assert pages == -(-5 // limit)


BAD_PARAMETERS = [  # (query parameters, parameter at fault, its message)
    ({"region_id": "pdu1"}, "query.region_id", "{pdu1} is a unit of type pdu, not a region"),
    ({"region_id": "missing"}, "query.region_id", "no unit {missing}"),
    ({"unit_id": "missing"}, "query.unit_id", "no unit {missing}"),
    ({"framework_id": "probation-none-2030"}, "query.framework_id", "no framework 'probation-none-2030'"),
    ({"year": 1800}, "query.year", "Input should be greater than or equal to 1990"),
    ({"status": "finished"}, "query.status.0", "Input should be 'planned'"),
    ({"rating": "great"}, "query.rating.0", "Input should be 'outstanding'"),
    ({"limit": 500}, "query.limit", "Input should be less than or equal to 200"),
    ({"cursor": "not a cursor"}, "query.cursor", "not a cursor from this list"),
    ({"cursor": "WyIyMDI1LTEzLTAxIiwgIngiXQ"}, "query.cursor", "not a cursor from this list"),
    ({"colour": "red"}, "query.colour", "Extra inputs are not permitted"),
]


async def test_bad_list_parameters_are_422s_naming_the_parameter(gateway, db_session):
    pdu1 = await make_unit(db_session)
    missing = uuid.uuid4()
    for params, field, message in BAD_PARAMETERS:
        params = {k: {"pdu1": str(pdu1.id), "missing": str(missing)}.get(v, v) for k, v in params.items()}
        body = assert_problem(await gateway.get(INSPECTIONS, params=params), 422, field)
        assert body["errors"][0]["message"].startswith(message.format(pdu1=pdu1.code, missing=missing)), (params, body)


# --- the summary -------------------------------------------------------------------------------------


async def test_the_summary_before_any_evidence(gateway, db_session):
    region = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, parent=region)
    inspection = await make_inspection(db_session, unit=pdu, title="Derby City")
    response = await gateway.get(f"{INSPECTIONS}/{inspection.id}/summary")
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["inspection"] == (await gateway.get(f"{INSPECTIONS}/{inspection.id}")).json()
    assert summary["unit"] == {
        "id": str(pdu.id), "code": pdu.code, "name": pdu.name, "type": "pdu", "nation": "England",
        "region": {"id": str(region.id), "code": region.code, "name": region.name},
    }
    assert summary["framework"] == {
        "id": "probation-pdu-2021", "version": "2021.1",
        "name": "Adult probation inspection standards 2021 (Probation Delivery Units)",
    }
    assert (summary["ratings"], summary["samples"]) == (None, [])
    assert summary["assessments"] == {"recorded": 0, "cases_sampled": 0}
    assert summary["judgements"] == {"recorded": 0, "judged_standards": 4, "missing": ["1.1", "1.2", "1.3", "1.4"]}


async def test_the_summary_names_the_region_of_a_region_and_none_outside_one(gateway, db_session):
    region = await make_unit(db_session, type="region")
    of_region = await make_inspection(db_session, unit=region)
    youth = await make_unit(db_session, type="yos")
    of_youth = await make_inspection(db_session, unit=youth, framework_id="youth-2021")
    summary = (await gateway.get(f"{INSPECTIONS}/{of_region.id}/summary")).json()
    assert summary["unit"]["region"] == {"id": str(region.id), "code": region.code, "name": region.name}
    summary = (await gateway.get(f"{INSPECTIONS}/{of_youth.id}/summary")).json()
    assert (summary["unit"]["region"], summary["framework"]["id"]) == (None, "youth-2021")
    assert summary["judgements"] == {
        "recorded": 0, "judged_standards": 6, "missing": ["1.1", "1.2", "1.3", "1.4", "3.4", "4.1"],
    }


EVIDENCE = [
    StandardEvidence(standard="1.1", rating="good"),
    StandardEvidence(standard="1.2", rating="good"),
    StandardEvidence(standard="1.3", rating="outstanding"),
    StandardEvidence(standard="1.4", rating="requires_improvement"),
    counts((40, 50), (40, 50), (40, 50), standard="2.1"),
    counts((41, 50), (36, 50), (30, 48), standard="2.2"),
    counts((30, 50), (30, 50), (30, 50), standard="2.3"),
    counts((20, 50), (35, 50), (35, 50), standard="2.4"),
    counts((35, 50), (35, 50), (40, 50), standard="2.5"),
]
PANEL = Override(standard="2.2", rating="good", reason="The panel weighed the quality of the risk work seen.")


@pytest.fixture
async def rated_inspection(gateway_app, db_session):
    """An inspection in rating with samples, assessments, judgements, a run and a panel override."""
    region = await make_unit(db_session, type="region")
    inspection = await make_inspection(db_session, unit=await make_unit(db_session, parent=region), status="rating")
    answered = {"2.2.1": "yes", "2.2.2": "no", "2.2.3": "not_applicable"}
    await make_assessed_sample(
        db_session,
        inspection,
        "case_supervision",
        [
            {"case_ref": "X000001", "answers": answered},
            {"case_ref": "X000002", "answers": answered},
            {"case_ref": "X000003"},
            {"case_ref": "X000004", "status": "replaced", "answers": answered},
            {"case_ref": "X000005", "status": "reserve_used", "reserve_rank": 1, "answers": answered},
            {"case_ref": "X000006", "status": "reserve_used", "reserve_rank": 2},
        ],
    )
    await make_assessed_sample(
        db_session,
        inspection,
        "court_reports",
        [{"case_ref": "C000001", "answers": {"2.1.1": "yes"}}, {"case_ref": "C000002", "answers": {"2.1.1": "no"}}],
    )
    await make_judgement(db_session, inspection, "1.1", "good")
    await make_judgement(db_session, inspection, "1.3", "outstanding")
    run = await rate(gateway_app, EVIDENCE)
    first = await add_snapshot(db_session, inspection, run, sequence=1)
    overridden = await rate(gateway_app, EVIDENCE, [PANEL])
    latest = await add_snapshot(db_session, inspection, overridden, sequence=2, kind="override", reason=PANEL.reason)
    return {"inspection": inspection, "first": first, "latest": latest, "result": overridden[1]}


async def test_the_summary_gives_the_latest_ratings_table_and_progress(gateway, rated_inspection):
    inspection, latest, result = rated_inspection["inspection"], rated_inspection["latest"], rated_inspection["result"]
    summary = (await gateway.get(f"{INSPECTIONS}/{inspection.id}/summary")).json()
    ratings = summary["ratings"]
    assert {k: ratings[k] for k in ("snapshot_id", "sequence", "kind", "published", "framework_version", "rules_version")} == {
        "snapshot_id": str(latest.id), "sequence": 2, "kind": "override", "published": False,
        "framework_version": "2021.1", "rules_version": result.rules_version,
    }
    assert ratings["input_fingerprint"] == result.input_fingerprint
    # The table a report prints: rating, points and driving key question of every standard.
    table = {s["standard"]: (s["rating"], s["computed_rating"], s["overridden"], s["points"], s["driver"]) for s in ratings["standards"]}
    assert table == {
        "1.1": ("good", "good", False, 2, None),
        "1.2": ("good", "good", False, 2, None),
        "1.3": ("outstanding", "outstanding", False, 3, None),
        "1.4": ("requires_improvement", "requires_improvement", False, 1, None),
        "2.1": ("outstanding", "outstanding", False, 3, "2.1.1"),
        "2.2": ("good", "requires_improvement", True, 2, "2.2.3"),
        "2.3": ("requires_improvement", "requires_improvement", False, 1, "2.3.1"),
        "2.4": ("inadequate", "inadequate", False, 0, "2.4.1"),
        "2.5": ("good", "good", False, 2, "2.5.1"),
    }
    standard = next(s for s in ratings["standards"] if s["standard"] == "2.2")
    assert (standard["name"], standard["kind"], standard["scored"], standard["override_reason"]) == (
        "Assessment", "case", True, PANEL.reason,
    )
    assert [(k["key_question"], k["yes"], k["applicable"], k["percent_rounded"], k["band"]) for k in standard["key_questions"]] == [
        ("2.2.1", 41, 50, 82, "outstanding"),
        ("2.2.2", 36, 50, 72, "good"),
        ("2.2.3", 30, 48, 63, "requires_improvement"),
    ]
    assert standard["key_questions"][2]["percent"] == pytest.approx(62.5)
    engine_view = next(s for s in result.standards if s.standard == "2.2")
    assert standard["key_questions"][2]["interval"] == list(engine_view.key_questions[2].interval)
    assert ratings["overall"] == {
        "status": "rated", "rating": "good", "rating_label": "Good", "score": 16, "max_score": 27,
        "computed_rating": "good", "computed_score": 15, "bands_provisional": True,
    }
    # Progress: the cases still in each sample, and their assessments (a replaced case's no longer counts).
    assert [
        {k: s[k] for k in ("sample_type", "in_sample", "drawn", "replaced", "reserves_used", "assessments_recorded")}
        for s in summary["samples"]
    ] == [
        {"sample_type": "case_supervision", "in_sample": 5, "drawn": 4, "replaced": 1, "reserves_used": 2, "assessments_recorded": 3},
        {"sample_type": "court_reports", "in_sample": 2, "drawn": 2, "replaced": 0, "reserves_used": 0, "assessments_recorded": 2},
    ]
    assert summary["assessments"] == {"recorded": 5, "cases_sampled": 7}
    assert summary["judgements"] == {"recorded": 2, "judged_standards": 4, "missing": ["1.2", "1.4"]}


async def test_the_summary_says_when_its_ratings_are_published(gateway, rated_inspection):
    inspection = rated_inspection["inspection"]
    moved = await gateway.post(f"{INSPECTIONS}/{inspection.id}/transitions", json={"to": "published"})
    assert moved.status_code == 200, moved.text
    summary = (await gateway.get(f"{INSPECTIONS}/{inspection.id}/summary")).json()
    assert (summary["inspection"]["status"], summary["ratings"]["published"]) == ("published", True)
    assert summary["ratings"]["snapshot_id"] == str(rated_inspection["latest"].id)


async def test_the_summary_takes_a_fixed_handful_of_queries_and_one_while_it_is_held(
    gateway, db_engine, rated_inspection
):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    url = f"{INSPECTIONS}/{rated_inspection['inspection'].id}/summary"
    assert (await gateway.get("/api/v1/me")).status_code == 200  # the caller's identity is held from now on
    event.listen(db_engine.sync_engine, "before_cursor_execute", record)
    try:
        assert (await gateway.get(url)).status_code == 200
        built = len(statements)
        assert (await gateway.get(url)).status_code == 200
        held = len(statements) - built
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", record)
    # Its state, then five queries to build it (head, published versions, ratings, samples, judgements);
    # then the state.
    assert (built, held) == (6, 1), statements


# --- a unit's ratings history ------------------------------------------------------------------------


async def test_a_units_ratings_history_newest_first(gateway, gateway_app, db_session):
    pdu = await make_unit(db_session)
    published = await make_inspection(
        db_session, unit=pdu, status="published", fieldwork_start=date(2022, 3, 7), fieldwork_end=date(2022, 3, 25)
    )
    await add_snapshot(db_session, published, await all_rated(gateway_app, "requires_improvement"), sequence=1)
    panel = Override(standard="2.1", rating="good", reason="Panel decision.")
    decided = await add_snapshot(
        db_session, published, await all_rated(gateway_app, "requires_improvement", [panel]), sequence=2,
        kind="override", reason=panel.reason,
    )
    in_rating = await make_inspection(
        db_session, unit=pdu, status="rating", fieldwork_start=date(2024, 6, 3), fieldwork_end=date(2024, 6, 21)
    )
    running = await add_snapshot(db_session, in_rating, await all_rated(gateway_app, "good"))
    withdrawn = await make_inspection(
        db_session, unit=pdu, status="withdrawn", fieldwork_start=date(2025, 6, 2), fieldwork_end=date(2025, 6, 20)
    )
    await add_snapshot(db_session, withdrawn, await all_rated(gateway_app, "outstanding"))
    planned = await make_inspection(
        db_session, unit=pdu, fieldwork_start=date(2026, 9, 7), fieldwork_end=date(2026, 9, 25), title="Next"
    )
    await make_inspection(db_session)  # another unit's

    response = await gateway.get(f"/api/v1/units/{pdu.id}/ratings-history")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    rows = [
        (e["inspection_id"], e["status"], e["rating_basis"], e["overall_rating"], e["overall_score"], e["max_score"], e["snapshot_id"])
        for e in body["items"]
    ]
    assert rows == [
        (str(planned.id), "planned", "none", None, None, None, None),
        (str(withdrawn.id), "withdrawn", "none", None, None, None, None),
        (str(in_rating.id), "rating", "latest", "good", 18, 27, str(running.id)),
        (str(published.id), "published", "published", "requires_improvement", 10, 27, str(decided.id)),
    ]
    assert (body["items"][0]["title"], body["items"][0]["fieldwork_start"], body["items"][0]["framework_id"]) == (
        "Next", "2026-09-07", "probation-pdu-2021",
    )

    first = (await gateway.get(f"/api/v1/units/{pdu.id}/ratings-history", params={"limit": 3})).json()
    assert [e["inspection_id"] for e in first["items"]] == [r[0] for r in rows[:3]]
    rest = (
        await gateway.get(f"/api/v1/units/{pdu.id}/ratings-history", params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()
    assert ([e["inspection_id"] for e in rest["items"]], rest["next_cursor"]) == ([str(published.id)], None)


async def test_ratings_history_refusals(gateway, db_session):
    missing = uuid.uuid4()
    body = assert_problem(await gateway.get(f"/api/v1/units/{missing}/ratings-history"), 404)
    assert body["detail"] == f"No unit {missing}"
    pdu = await make_unit(db_session)
    assert (await gateway.get(f"/api/v1/units/{pdu.id}/ratings-history")).json() == {"items": [], "next_cursor": None}
    assert_problem(await gateway.get(f"/api/v1/units/{pdu.id}/ratings-history", params={"cursor": "x"}), 422, "query.cursor")
    assert_problem(await gateway.get(f"/api/v1/units/{pdu.id}/ratings-history", params={"limit": 0}), 422, "query.limit")
