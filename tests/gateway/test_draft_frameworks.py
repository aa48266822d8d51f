"""Draft frameworks, on both databases: the effectiveness draft (probation-pdu-2021-effectiveness) is listed
and read as a draft, a pilot inspection is planned under it, its outcome answers are recorded and the
effectiveness standard rated end to end through the engine; publication is refused naming the framework,
and nothing of it is counted in statistics, even were it published by another path."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from gateway.inspections.models import Inspection
from gateway.permissions import Role
from gateway.ratings.models import PublishedVersion, RatingSnapshot
from gateway.statistics.models import PublishedFigures
from tests.gateway.factories import make_assessed_sample, make_inspection, make_publishable, make_unit
from tests.gateway.test_scoping import holding

DRAFT = "probation-pdu-2021-effectiveness"
INSPECTIONS = "/api/v1/inspections"
PROBLEM = "application/problem+json"

def outcome_answers(n: int, key_question: str) -> str:
    """Of the 12 cases: cases 0-7 improved on accommodation (8 of 12 with progress: 66.7%, Good on the
    provisional thresholds), the rest worse; cases 0-9 unchanged on the other outcomes, which do not apply
    to the last two; yes on every other key question."""
    if not key_question.startswith("3.1."):
        return "yes"
    if key_question == "3.1.1":
        return "improved" if n < 8 else "worse"
    return "unchanged" if n < 10 else "not_applicable"

@pytest.fixture
async def pilot(db_session):
    region = await make_unit(db_session, type="region")
    unit = await make_unit(db_session, parent=region)
    inspection = await make_inspection(db_session, unit=unit, framework_id=DRAFT, type="pilot", status="rating")
    await make_publishable(db_session, inspection, answer=outcome_answers)
    return inspection

async def rate(gateway, inspection) -> dict:
    response = await gateway.post(f"{INSPECTIONS}/{inspection.id}/rating-runs")
    assert response.status_code == 201, response.text
    return response.json()

# --- the framework ------------------------------------------------------------------------------------

async def test_the_listing_shows_the_draft_and_its_get_says_it_is_one(gateway):
    listed = {f["id"]: f for f in (await gateway.get("/api/v1/frameworks")).json()["items"]}
    assert listed[DRAFT]["status"] == "draft"
    assert (listed[DRAFT]["standards"], listed[DRAFT]["scored_standards"]) == (10, 9)
    assert listed["probation-pdu-2021"]["status"] == "published"

    body = (await gateway.get(f"/api/v1/frameworks/{DRAFT}")).json()
    assert (body["status"], body["effective_from"]) == ("draft", None)
    effectiveness = body["domains"][2]["standards"][0]
    assert (effectiveness["id"], effectiveness["answer_scale"], effectiveness["scored"]) == ("3.1", "outcome", False)
    assert body["rules"]["outcome_thresholds"]["provisional"] is True

async def test_only_a_pilot_is_planned_under_the_draft(gateway, db_session):
    unit = await make_unit(db_session)
    plan = {"unit_id": str(unit.id), "framework_id": DRAFT, "title": "Effectiveness pilot", "lead": "A. Inspector",
            "fieldwork_start": "2027-03-01", "fieldwork_end": "2027-03-19"}
    core = await gateway.post(INSPECTIONS, json={**plan, "type": "core"})
    assert core.status_code == 422, core.text
    assert [(e["field"], e["message"]) for e in core.json()["errors"]] == [
        ("body.framework_id", f"framework {DRAFT} is a draft; only a pilot inspection may use it"),
    ]
    pilot = await gateway.post(INSPECTIONS, json={**plan, "type": "pilot"})
    assert pilot.status_code == 201, pilot.text
    assert (pilot.json()["type"], pilot.json()["framework_id"], pilot.json()["status"]) == ("pilot", DRAFT, "planned")

# --- recording outcome answers --------------------------------------------------------------------------

async def test_outcome_answers_are_recorded_for_the_effectiveness_questions_only(gateway, db_session):
    inspection = await make_inspection(db_session, framework_id=DRAFT, type="pilot", status="fieldwork")
    await make_assessed_sample(db_session, inspection, "case_supervision", [{"case_ref": "X000001"}])
    url = f"{INSPECTIONS}/{inspection.id}/samples/case_supervision/cases/X000001/assessment"

    answers = {"2.2.1": "yes", "3.1.1": "improved", "3.1.2": "worse", "3.1.3": "not_applicable"}
    recorded = await gateway.put(url, json={"answers": answers})
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["answers"] == answers
    assert "3.1.1" not in recorded.json()["unanswered"] and "2.2.2" in recorded.json()["unanswered"]

    refused = await gateway.put(url, json={"answers": {"3.1.1": "yes", "2.2.1": "improved"}}, headers={"If-Match": '"1"'})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert sorted((e["field"], e["message"]) for e in refused.json()["errors"]) == [
        ("body.answers.2.2.1", "2.2.1 is answered yes, no, not_applicable"),
        ("body.answers.3.1.1", "3.1.1 records the person's progress on an outcome since the start of supervision "
                               "(standard 3.1, Effectiveness): answer improved, unchanged, worse, not_applicable"),
    ]
    held = await gateway.get(url)
    assert held.json()["answers"] == answers  # nothing of the refused change was kept

async def test_outcome_answers_import_as_csv(gateway, db_session):
    inspection = await make_inspection(db_session, framework_id=DRAFT, type="pilot", status="fieldwork")
    await make_assessed_sample(db_session, inspection, "case_supervision", [{"case_ref": "X000001"}])
    url = f"{INSPECTIONS}/{inspection.id}/assessments/import"
    rows = "case_ref,sample_type,key_question,answer\nX000001,case_supervision,3.1.1,Improved\n"
    imported = await gateway.post(url, content=rows, headers={"content-type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert (imported.json()["answers"], imported.json()["created"]) == (1, 1)

    wrong = rows.replace("Improved", "yes")
    refused = await gateway.post(url, content=wrong, headers={"content-type": "text/csv"})
    assert refused.status_code == 422, refused.text
    assert [e["message"] for e in refused.json()["errors"]] == [
        "'yes' is not one of improved, unchanged, worse, not_applicable"
    ]

# --- a pilot rated, refused at publication, and never counted --------------------------------------------

async def test_a_pilot_is_rated_end_to_end_through_the_engine(gateway, pilot):
    body = await rate(gateway, pilot)
    result = body["result"]
    assert (result["framework_id"], result["framework_source"]) == (DRAFT, "library")
    effectiveness = next(s for s in result["standards"] if s["standard"] == "3.1")
    assert (effectiveness["rating"], effectiveness["evidence"], effectiveness["cases"]) == ("good", "cases", 12)
    assert effectiveness["progress"] == {
        "applicable": 12, "with_progress": 8, "percent": pytest.approx(200 / 3), "percent_rounded": 67,
        "band": "good", "interval": effectiveness["progress"]["interval"], "crosses_band_edge": True,
        "thresholds_provisional": True,
    }
    accommodation = effectiveness["key_questions"][0]
    assert (accommodation["yes"], accommodation["unchanged"], accommodation["worse"]) == (8, 0, 4)
    employment = effectiveness["key_questions"][1]
    assert (employment["yes"], employment["applicable"], employment["not_applicable"]) == (0, 10, 2)
    # Four judged good (8 points) and five case-based standards all yes (15): 23 of 27, 3.1 not scored.
    assert (body["overall_rating"], result["overall"]["score"], result["overall"]["max_score"]) == ("outstanding", 23, 27)

async def test_publication_is_refused_naming_the_draft_framework(gateway, pilot):
    await rate(gateway, pilot)
    readiness = (await gateway.get(f"{INSPECTIONS}/{pilot.id}/readiness")).json()
    assert (readiness["ready"], readiness["unmet"]) == (False, 1)
    message = (f"Framework {DRAFT} is a draft, for pilot inspections: ratings under a draft framework are never "
               "published.")
    assert readiness["conditions"][0] == {
        "condition": "framework_published", "standard": None, "met": False, "framework_id": DRAFT,
        "framework_status": "draft", "message": message,
    }

    response = await gateway.post(f"{INSPECTIONS}/{pilot.id}/transitions", json={"to": "published"})
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["detail"] == f"Inspection {pilot.id} cannot be published: {message}"
    assert [c["condition"] for c in problem["conditions"]] == ["framework_published"]
    read = (await gateway.get(f"{INSPECTIONS}/{pilot.id}")).json()
    assert (read["status"], read["published_at"]) == ("rating", None)

async def _counted(gateway, acting_as, pilot, db_session) -> int:
    from gateway.units.models import Unit

    unit = await db_session.get(Unit, pilot.unit_id)
    with acting_as(holding(Role.READER, unit)):
        response = await gateway.get("/api/v1/statistics/ratings", params={"framework_id": DRAFT})
    assert response.status_code == 200, response.text
    return response.json()["inspections"]

async def test_a_pilot_is_absent_from_statistics(gateway, acting_as, pilot, db_session):
    await rate(gateway, pilot)
    await gateway.post(f"{INSPECTIONS}/{pilot.id}/transitions", json={"to": "published"})
    assert await _counted(gateway, acting_as, pilot, db_session) == 0

async def test_a_pilot_published_by_another_path_is_still_not_counted(gateway, acting_as, pilot, db_session):
    # As if an older path had published it: the inspection moved and its version recorded directly. The
    # write path records no figures for it, as its framework is a draft, so the statistics have none to count.
    await rate(gateway, pilot)
    snapshot = (await db_session.scalars(select(RatingSnapshot.id).where(RatingSnapshot.inspection_id == pilot.id))).one()
    await db_session.execute(update(Inspection).where(Inspection.id == pilot.id).values(status="published"))
    db_session.add(PublishedVersion(inspection_id=pilot.id, version=1, kind="publication", snapshot_id=snapshot))
    await db_session.flush()
    assert await db_session.get(PublishedFigures, pilot.id) is None
    assert await _counted(gateway, acting_as, pilot, db_session) == 0
