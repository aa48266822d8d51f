"""Domain-one judgements: the inspectors' rating and evidence summary for each judged standard."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_ADMIN
from tests.gateway.factories import make_inspection
from tests.gateway.test_assessments import problem, set_status

CASE_BASED = "is case-based: it is rated from case answers, not judged by inspectors"
NO_VOICE = {"survey_questions": [], "interview_themes": []}
GOOD = {"rating": "good", "evidence_summary": "Leaders have a clear vision, shared by staff in interviews."}


def judgement_url(inspection, standard_id: str) -> str:
    return f"/api/v1/inspections/{inspection.id}/judgements/{standard_id}"


def list_url(inspection) -> str:
    return f"/api/v1/inspections/{inspection.id}/judgements"


@pytest.fixture
async def inspection(db_session):
    return await make_inspection(db_session, framework_id="probation-crc-2018", status="fieldwork")


async def test_the_first_put_records_the_judgement_and_answers_201(gateway, inspection):
    url = judgement_url(inspection, "1.1")
    response = await gateway.put(url, json={"rating": "good", "evidence_summary": "  Interviews and the survey.  "})
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == url
    body = response.json()
    assert {k: body[k] for k in ("inspection_id", "standard_id", "standard_name", "rating", "evidence_summary")} == {
        "inspection_id": str(inspection.id),
        "standard_id": "1.1",
        "standard_name": "Leadership",
        "rating": "good",
        "evidence_summary": "Interviews and the survey.",
    }
    assert (body["version"], body["created_by"], body["updated_by"]) == (1, TEST_ADMIN, TEST_ADMIN)

    read = await gateway.get(url)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body


async def test_a_judgement_changes_only_with_the_etag_of_the_last_read(gateway, inspection):
    url = judgement_url(inspection, "1.2")
    await gateway.put(url, json=GOOD)

    problem(await gateway.put(url, json={**GOOD, "rating": "outstanding"}), 428)
    stale = await gateway.put(url, json={**GOOD, "rating": "outstanding"}, headers={"If-Match": '"7"'})
    problem(stale, 412)
    assert stale.headers["etag"] == '"1"'
    assert (await gateway.get(url)).json()["rating"] == "good"

    changed = await gateway.put(
        url, json={"rating": "requires_improvement", "evidence_summary": "Staff survey."}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert (changed.json()["rating"], changed.json()["evidence_summary"], changed.json()["version"]) == (
        "requires_improvement",
        "Staff survey.",
        2,
    )
    unchanged = await gateway.put(
        url, json={"rating": "requires_improvement", "evidence_summary": "Staff survey."}, headers={"If-Match": '"2"'}
    )
    assert (unchanged.status_code, unchanged.json()["version"]) == (200, 2)


async def test_if_match_on_a_standard_not_yet_judged_is_412(gateway, inspection):
    problem(await gateway.put(judgement_url(inspection, "1.3"), json=GOOD, headers={"If-Match": '"1"'}), 412)
    problem(await gateway.get(judgement_url(inspection, "1.3")), 404)


async def test_the_list_gives_judgements_in_framework_order_and_the_standards_still_missing(gateway, inspection):
    empty = await gateway.get(list_url(inspection))
    assert empty.status_code == 200
    assert empty.json() == {
        "items": [],
        "next_cursor": None,
        "missing": [
            {"standard_id": "1.1", "name": "Leadership", "scored": True, "voice": NO_VOICE},
            {"standard_id": "1.2", "name": "Staff", "scored": True, "voice": NO_VOICE},
            {"standard_id": "1.3", "name": "Services", "scored": True, "voice": NO_VOICE},
            {"standard_id": "1.4", "name": "Information and facilities", "scored": True, "voice": NO_VOICE},
        ],
    }
    await gateway.put(judgement_url(inspection, "1.3"), json={**GOOD, "rating": "inadequate"})
    await gateway.put(judgement_url(inspection, "1.1"), json=GOOD)

    body = (await gateway.get(list_url(inspection))).json()
    assert [(j["standard_id"], j["rating"]) for j in body["items"]] == [("1.1", "good"), ("1.3", "inadequate")]
    assert [m["standard_id"] for m in body["missing"]] == ["1.2", "1.4"]


async def test_youth_policy_and_provision_standards_are_judged_and_the_unscored_one_is_marked(gateway, db_session):
    inspection = await make_inspection(db_session, framework_id="youth-2021", status="rating")
    response = await gateway.put(judgement_url(inspection, "3.4"), json=GOOD)
    assert response.status_code == 201, response.text
    assert response.json()["standard_name"]
    missing = {m["standard_id"]: m["scored"] for m in (await gateway.get(list_url(inspection))).json()["missing"]}
    assert missing == {"1.1": True, "1.2": True, "1.3": True, "1.4": True, "4.1": False}


@pytest.mark.parametrize(
    ("standard_id", "message"),
    [
        ("2.1", f"standard 2.1 (Assessment) {CASE_BASED}"),
        ("3.2", f"standard 3.2 (Through the Gate) {CASE_BASED}"),
        ("9.9", "no standard 9.9 in framework probation-crc-2018"),
    ],
)
async def test_only_judged_standards_of_the_pinned_framework_take_a_judgement(
    gateway, inspection, standard_id, message
):
    body = problem(await gateway.put(judgement_url(inspection, standard_id), json=GOOD), 422, "path.standard_id")
    assert body["errors"][0]["message"] == message
    assert "1.1, 1.2, 1.3, 1.4" in body["detail"]
    problem(await gateway.get(judgement_url(inspection, standard_id)), 422, "path.standard_id")
    assert (await gateway.get(list_url(inspection))).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": "fine", "evidence_summary": "x"}, "body.rating"),
        ({"rating": "Good", "evidence_summary": "x"}, "body.rating"),
        ({"rating": "good", "evidence_summary": "   "}, "body.evidence_summary"),
        ({"rating": "good", "evidence_summary": "x" * 20001}, "body.evidence_summary"),
        ({"rating": "good", "evidence_summary": "nul \x00"}, "body.evidence_summary"),
        ({"rating": "good"}, "body.evidence_summary"),
        ({"evidence_summary": "x"}, "body.rating"),
        ({**GOOD, "inspector": "A Person"}, "body.inspector"),
    ],
)
async def test_a_bad_judgement_is_refused_naming_the_field(gateway, inspection, body, field):
    problem(await gateway.put(judgement_url(inspection, "1.1"), json=body), 422, field)
    problem(await gateway.get(judgement_url(inspection, "1.1")), 404)


async def test_a_malformed_standard_id_is_refused(gateway, inspection):
    problem(await gateway.put(judgement_url(inspection, "leadership"), json=GOOD), 422, "path.standard_id")


async def test_an_unknown_inspection_is_404(gateway):
    missing = "00000000-0000-4000-8000-000000000000"
    problem(await gateway.put(f"/api/v1/inspections/{missing}/judgements/1.1", json=GOOD), 404)
    problem(await gateway.get(f"/api/v1/inspections/{missing}/judgements/1.1"), 404)
    problem(await gateway.get(f"/api/v1/inspections/{missing}/judgements"), 404)


@pytest.mark.parametrize("status", ["planned", "pre_fieldwork"])
async def test_judgements_are_not_recorded_before_fieldwork(gateway, db_session, status):
    inspection = await make_inspection(db_session, framework_id="probation-crc-2018", status=status)
    body = problem(await gateway.put(judgement_url(inspection, "1.1"), json=GOOD), 409)
    assert body["status_of_inspection"] == status


@pytest.mark.parametrize("status", ["published", "withdrawn"])
async def test_a_frozen_inspection_keeps_its_judgements_and_takes_no_more(gateway, db_session, inspection, status):
    await gateway.put(judgement_url(inspection, "1.1"), json=GOOD)
    await set_status(db_session, inspection, status)

    changed = {**GOOD, "rating": "inadequate"}
    body = problem(await gateway.put(judgement_url(inspection, "1.1"), json=changed, headers={"If-Match": '"1"'}), 409)
    assert body["status_of_inspection"] == status
    problem(await gateway.put(judgement_url(inspection, "1.2"), json=GOOD), 409)
    assert (await gateway.get(judgement_url(inspection, "1.1"))).json()["rating"] == "good"
    assert [j["standard_id"] for j in (await gateway.get(list_url(inspection))).json()["items"]] == ["1.1"]
