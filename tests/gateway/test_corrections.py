"""Corrections of a published inspection: each a new published version, rated through the engine, with
who, when, why and what changed; every version readable, the latest by default; a withdrawal kept on the
record, marked withdrawn.

The inspection is the youth example of test_ratings (published Good, 25/36), rated and published through
the API. Its correction sets judgement 1.1 to Outstanding, the panel's decision on 2.2 to Requires
improvement, and case C000007's answer to 2.1.1 to yes (8 of 10: 2.1 Outstanding): 28/36, still Good.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from gateway.assessments.models import CaseAssessment, Judgement
from gateway.audit.models import AuditEntry
from gateway.permissions import Role
from gateway.ratings.models import PublishedVersion, RatingSnapshot
from gateway.units.models import Unit
from inspection_shared.clients import RatingEngineClient
from tests.conftest import TEST_ADMIN
from tests.gateway.test_ratings import _Failing, assert_problem, ratings, run, youth_inspection
from tests.gateway.test_scoping import holding, person_id

API = "/api/v1"
REASON = "The factual accuracy check found errors in the judgement of 1.1 and in one case's answers."
CORRECTION = {
    "reason": REASON,
    "judgements": {"1.1": {"rating": "outstanding", "evidence_summary": "Leaders' plan, seen again in full."}},
    "overrides": [{"standard": "2.2", "rating": "requires_improvement", "reason": "The panel met again."}],
    "case_answers": [{"case_ref": "C000007", "sample_type": "court_disposals", "answers": {"2.1.1": "yes"}}],
}
WITHDRAWAL = {"reason": "The report was withdrawn on legal advice.", "withdraw": True}


@pytest.fixture
async def published(gateway, db_session):
    """The youth example, rated and published through the API."""
    inspection = await youth_inspection(db_session)
    assert (await run(gateway, inspection.id)).status_code == 201
    moved = await gateway.post(f"{API}/inspections/{inspection.id}/transitions", json={"to": "published"})
    assert moved.status_code == 200, moved.text
    return inspection


def correct(gateway, inspection_id, body=CORRECTION, **headers):
    return gateway.post(f"{API}/inspections/{inspection_id}/corrections", json=body, headers=headers)


async def count(db_session, model, inspection_id) -> int:
    return await db_session.scalar(select(func.count()).select_from(model).where(model.inspection_id == inspection_id))


# --- a correction ----------------------------------------------------------------------------------


async def test_a_correction_publishes_version_2_with_the_new_ratings_and_what_changed(gateway, db_session, published):
    first = (await gateway.get(f"{API}/inspections/{published.id}/published-versions/1")).json()

    response = await correct(gateway, published.id)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{API}/inspections/{published.id}/published-versions/2"
    assert {k: body[k] for k in ("version", "kind", "reason", "overall_rating", "overall_score", "created_by")} == {
        "version": 2, "kind": "correction", "reason": REASON, "overall_rating": "good", "overall_score": 28,
        "created_by": TEST_ADMIN,
    }
    assert body["changes"] == {
        "ratings": [
            {"standard": "1.1", "before": "good", "after": "outstanding"},
            {"standard": "2.1", "before": "good", "after": "outstanding"},
            {"standard": "2.2", "before": "inadequate", "after": "requires_improvement"},
        ],
        "overall": {"rating_before": "good", "rating_after": "good", "score_before": 25, "score_after": 28},
        "overrides": [{"standard": "2.2", "before": None, "after": CORRECTION["overrides"][0]}],
        "judgements": [{
            "standard": "1.1",
            "before": {"rating": "good", "evidence_summary": "Evidence for 1.1."},
            "after": {"rating": "outstanding", "evidence_summary": "Leaders' plan, seen again in full."},
        }],
        "case_answers": {"cases": 1, "answers": 1, "created": 0, "updated": 1, "unchanged": 0},
        "withdrawn": False,
    }

    # A new snapshot through the engine, on top of the one published, with the correction's evidence.
    latest = (await gateway.get(f"{API}/inspections/{published.id}/rating-runs/latest")).json()
    assert (latest["id"], latest["sequence"], latest["kind"]) == (body["snapshot_id"], 2, "correction")
    assert (latest["based_on_id"], latest["reason"]) == (first["snapshot_id"], REASON)
    assert latest["panel_decisions"] == CORRECTION["overrides"]
    assert ratings(latest["result"])["2.1"] == "outstanding"
    record = (await gateway.get(f"{API}/rating-runs/{body['snapshot_id']}")).json()
    sent = {s["standard"]: s for s in record["request"]["standards"]}
    assert sent["1.1"] == {"standard": "1.1", "rating": "outstanding", "evidence_summary": "Leaders' plan, seen again in full."}
    case = next(c for c in sent["2.1"]["cases"] if c["case_ref"] == "C000007")
    assert case["answers"] == {"2.1.1": "yes", "2.1.2": "no", "2.1.3": "yes"}
    assert [c["case_ref"] for c in sent["2.1"]["cases"]] == [f"C{i:06d}" for i in range(10)]

    # What inspectors recorded is as corrected.
    judgement = await db_session.scalar(
        select(Judgement).where(Judgement.inspection_id == published.id, Judgement.standard_id == "1.1")
    )
    await db_session.refresh(judgement)
    assert (judgement.rating, judgement.version) == ("outstanding", 2)
    assessments = (await gateway.get(f"{API}/inspections/{published.id}/assessments", params={"limit": 100})).json()
    corrected = next(a for a in assessments["items"] if a["case_ref"] == "C000007")
    assert corrected["answers"]["2.1.1"] == "yes" and corrected["answers"]["2.2.1"] == "no"

    # Version 1 is as it was; the inspection stays published, with the corrected rating.
    assert (await gateway.get(f"{API}/inspections/{published.id}/published-versions/1")).json() == first
    assert (first["kind"], first["reason"], first["changes"], first["overall_score"]) == ("publication", None, None, 25)
    listed = (await gateway.get(f"{API}/inspections/{published.id}/published-versions")).json()
    assert [(v["version"], v["kind"]) for v in listed["items"]] == [(1, "publication"), (2, "correction")]
    inspection = (await gateway.get(f"{API}/inspections/{published.id}")).json()
    assert (inspection["status"], inspection["current_rating"]) == ("published", "good")


async def test_every_version_stays_readable_and_the_latest_is_the_default(gateway, published):
    url = f"{API}/inspections/{published.id}"
    before = await gateway.get(f"{url}/summary")
    original = before.json()
    assert original["publication"] == {
        "version": 1, "latest_version": 1, "published_at": original["inspection"]["published_at"],
        "corrected": False, "withdrawn": False, "corrections": [],
    }
    assert (original["ratings"]["version"], original["ratings"]["overall"]["score"]) == (1, 25)

    corrected = (await correct(gateway, published.id)).json()

    # The held summary is built again: its ETag moves on, and it shows version 2 and the correction.
    latest = await gateway.get(f"{url}/summary")
    assert latest.headers["etag"] != before.headers["etag"]
    summary = latest.json()
    line = {"version": 2, "kind": "correction", "reason": REASON, "overall_rating": "good",
            "created_at": corrected["created_at"], "created_by": TEST_ADMIN}
    assert summary["publication"] == {**original["publication"], "version": 2, "latest_version": 2,
                                      "corrected": True, "corrections": [line]}
    assert (summary["ratings"]["version"], summary["ratings"]["kind"], summary["ratings"]["overall"]["score"]) == (
        2, "correction", 28)
    assert (await gateway.get(f"{url}/summary", params={"version": 2})).json() == summary

    # Version 1 reads show the original ratings, and say a correction followed.
    first = await gateway.get(f"{url}/summary", params={"version": 1})
    assert first.headers["etag"] not in (before.headers["etag"], latest.headers["etag"])
    assert first.json()["ratings"] == original["ratings"]
    assert first.json()["publication"] == {**summary["publication"], "version": 1}
    again = await gateway.get(f"{url}/summary", params={"version": 1}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304

    in_force = (await gateway.get(f"{url}/rating-runs/latest")).json()
    by_version = {v: (await gateway.get(f"{url}/rating-runs/latest", params={"version": v})).json() for v in (1, 2)}
    assert by_version[2] == in_force
    assert (by_version[1]["sequence"], by_version[1]["overall_score"]) == (1, 25)
    assert by_version[1]["id"] == original["ratings"]["snapshot_id"]


async def test_a_version_that_does_not_exist_is_not_found_and_a_version_below_1_is_refused(
    gateway, db_session, published
):
    await correct(gateway, published.id)
    url = f"{API}/inspections/{published.id}"
    for path in ("summary", "rating-runs/latest"):
        body = assert_problem(await gateway.get(f"{url}/{path}", params={"version": 3}), 404)
        assert body["detail"] == f"Inspection {published.id} has no published version 3; it has versions 1 to 2."
        assert_problem(await gateway.get(f"{url}/{path}", params={"version": 0}), 422, "query.version")
    assert_problem(await gateway.get(f"{url}/published-versions/3"), 404)
    assert_problem(await gateway.get(f"{url}/published-versions/0"), 422, "path.version")

    draft = await youth_inspection(db_session)
    assert (await run(gateway, draft.id)).status_code == 201
    body = assert_problem(await gateway.get(f"{API}/inspections/{draft.id}/summary", params={"version": 1}), 404)
    assert body["detail"] == f"Inspection {draft.id} has not been published, so it has no published version 1."
    summary = (await gateway.get(f"{API}/inspections/{draft.id}/summary")).json()
    assert (summary["publication"], summary["ratings"]["published"], summary["ratings"]["version"]) == (None, False, None)
    assert (await gateway.get(f"{API}/inspections/{draft.id}/published-versions")).json()["items"] == []


async def test_a_correction_says_why_and_changes_something(gateway, db_session, published):
    without = {k: v for k, v in CORRECTION.items() if k != "reason"}
    body = assert_problem(await correct(gateway, published.id, without), 422, "body.reason")
    assert body["errors"][0]["message"] == "Field required"
    assert_problem(await correct(gateway, published.id, {**CORRECTION, "reason": "   "}), 422, "body.reason")
    assert_problem(await correct(gateway, published.id, {"reason": REASON}), 422, "body")
    assert_problem(await correct(gateway, published.id, {**WITHDRAWAL, "overrides": CORRECTION["overrides"]}), 422,
                   "body.overrides")

    same = {"reason": REASON, "judgements": {"1.1": {"rating": "good", "evidence_summary": "Evidence for 1.1."}}}
    body = assert_problem(await correct(gateway, published.id, same), 409)
    assert "changes nothing" in body["detail"]
    assert await count(db_session, PublishedVersion, published.id) == 1
    assert await count(db_session, RatingSnapshot, published.id) == 1


@pytest.mark.parametrize(
    ("part", "value", "field"),
    [
        ("judgements", {"2.1": {"rating": "good", "evidence_summary": "Cases."}}, "body.judgements.2.1"),
        ("judgements", {"9.9": {"rating": "good", "evidence_summary": "Cases."}}, "body.judgements.9.9"),
        ("overrides", [{"standard": "9.9", "rating": "good", "reason": "No such."}], "body.overrides.0.standard"),
        ("case_answers", [{"case_ref": "C999999", "sample_type": "court_disposals", "answers": {"2.1.1": "yes"}}],
         "body.case_answers.0.case_ref"),
        ("case_answers", [{"case_ref": "C000001", "sample_type": "court_disposals", "answers": {"3.1.1": "yes"}}],
         "body.case_answers.0.answers.3.1.1"),
    ],
)
async def test_a_bad_part_is_refused_naming_it_and_nothing_is_written(gateway, db_session, published, part, value, field):
    response = await correct(gateway, published.id, {"reason": REASON, part: value})
    assert_problem(response, 422, field)
    assert await count(db_session, PublishedVersion, published.id) == 1
    assert await count(db_session, RatingSnapshot, published.id) == 1


async def test_only_a_lead_inspector_of_the_unit_or_an_administrator_corrects(gateway, acting_as, db_session, published):
    here = await db_session.get(Unit, published.unit_id)
    for role in (Role.INSPECTOR, Role.PANEL, Role.READER):
        with acting_as(holding(role, here)):
            refused = await correct(gateway, published.id)
        assert (refused.status_code, refused.json()["permission"]) == (403, "inspections:publish"), role
    with acting_as(holding(Role.LEAD_INSPECTOR, here)):
        made = await correct(gateway, published.id)
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == str(person_id(Role.LEAD_INSPECTOR))
    assert await count(db_session, PublishedVersion, published.id) == 2


async def test_an_inspection_not_published_is_not_corrected(gateway, db_session):
    draft = await youth_inspection(db_session)
    assert (await run(gateway, draft.id)).status_code == 201
    body = assert_problem(await correct(gateway, draft.id), 409)
    assert body["status_of_inspection"] == "rating"
    assert body["detail"] == (
        f"Inspection {draft.id} is in rating: a correction is issued only while it is published."
    )
    assert await count(db_session, RatingSnapshot, draft.id) == 1
    assert_problem(await correct(gateway, uuid.uuid4()), 404)


async def test_a_correction_is_made_once_per_idempotency_key_and_audited(gateway, db_session, published):
    mark = await db_session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))
    first = await correct(gateway, published.id, **{"Idempotency-Key": "correct-once"})
    again = await correct(gateway, published.id, **{"Idempotency-Key": "correct-once"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert await count(db_session, PublishedVersion, published.id) == 2

    entries = (await db_session.scalars(select(AuditEntry).where(AuditEntry.id > mark))).all()
    written = {(e.action, e.entity) for e in entries if e.inspection_id == published.id}
    assert {("insert", "published_versions"), ("insert", "rating_snapshots"), ("update", "judgements"),
            ("update", "case_assessments")} <= written
    version = next(e for e in entries if e.entity == "published_versions")
    assert version.actor_id == TEST_ADMIN and version.after["reason"] == REASON
    assert version.after["changes"]["overall"]["score_after"] == 28  # recorded in clear: no case reference in it


async def test_an_engine_failure_writes_nothing(gateway, gateway_app, db_session, published):
    real = gateway_app.state.rating_engine
    gateway_app.state.rating_engine = RatingEngineClient("http://rating-engine", transport=_Failing("broken"))
    try:
        response = await correct(gateway, published.id)
    finally:
        await gateway_app.state.rating_engine.aclose()
        gateway_app.state.rating_engine = real
    assert_problem(response, 502)
    assert await count(db_session, PublishedVersion, published.id) == 1
    held = await db_session.scalar(select(CaseAssessment).where(CaseAssessment.inspection_id == published.id,
                                                               CaseAssessment.sample_type == "court_disposals")
                                   .order_by(CaseAssessment.version.desc()).limit(1))
    assert held.version == 1


# --- a withdrawal ----------------------------------------------------------------------------------


async def test_a_withdrawal_keeps_the_publication_readable_and_marked_withdrawn(gateway, acting_as, db_session, published):
    corrected = (await correct(gateway, published.id)).json()

    response = await correct(gateway, published.id, WITHDRAWAL)

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("version", "kind", "reason", "snapshot_id", "overall_score")} == {
        "version": 3, "kind": "withdrawal", "reason": WITHDRAWAL["reason"], "snapshot_id": corrected["snapshot_id"],
        "overall_score": 28,
    }
    assert body["changes"]["withdrawn"] is True and body["changes"]["ratings"] == []
    url = f"{API}/inspections/{published.id}"
    inspection = (await gateway.get(url)).json()
    assert (inspection["status"], inspection["allowed_transitions"]) == ("withdrawn", [])
    history = (await gateway.get(f"{url}/history")).json()["items"]
    assert (history[-1]["from_status"], history[-1]["to_status"], history[-1]["note"]) == (
        "published", "withdrawn", WITHDRAWAL["reason"])

    # Readers still read it, marked withdrawn, with every version.
    here = await db_session.get(Unit, published.unit_id)
    with acting_as(holding(Role.READER, here)):
        summary = (await gateway.get(f"{url}/summary")).json()
        first = (await gateway.get(f"{url}/summary", params={"version": 1})).json()
        unit_history = (await gateway.get(f"{API}/units/{here.id}/ratings-history")).json()["items"]
        listed = (await gateway.get(f"{API}/inspections", params={"status": "published", "unit_id": str(here.id)})).json()
    assert summary["inspection"]["status"] == "withdrawn"
    assert {k: summary["publication"][k] for k in ("version", "latest_version", "corrected", "withdrawn")} == {
        "version": 3, "latest_version": 3, "corrected": True, "withdrawn": True}
    assert [(c["version"], c["kind"]) for c in summary["publication"]["corrections"]] == [
        (2, "correction"), (3, "withdrawal")]
    assert first["ratings"]["overall"]["score"] == 25

    # Out of the published ratings: no rating in the unit's history, which shows it withdrawn and why.
    [entry] = unit_history
    assert (entry["status"], entry["rating_basis"], entry["overall_rating"], entry["published_version"]) == (
        "withdrawn", "none", None, 3)
    assert entry["corrections"][-1]["reason"] == WITHDRAWAL["reason"]
    assert listed["items"] == []

    # Withdrawn is final.
    assert_problem(await correct(gateway, published.id, WITHDRAWAL), 409)
    assert_problem(await correct(gateway, published.id), 409)


# --- the unit's ratings history --------------------------------------------------------------------


async def test_the_ratings_history_shows_the_corrected_rating_and_the_correction(gateway, published):
    unit_id = (await gateway.get(f"{API}/inspections/{published.id}")).json()["unit_id"]
    url = f"{API}/units/{unit_id}/ratings-history"
    [before] = (await gateway.get(url)).json()["items"]
    assert (before["overall_score"], before["published_version"], before["corrected"], before["corrections"]) == (
        25, 1, False, [])

    corrected = (await correct(gateway, published.id)).json()

    [entry] = (await gateway.get(url)).json()["items"]
    assert (entry["rating_basis"], entry["overall_score"], entry["snapshot_id"]) == (
        "published", 28, corrected["snapshot_id"])
    assert (entry["published_version"], entry["corrected"]) == (2, True)
    assert entry["corrections"] == [{"version": 2, "kind": "correction", "reason": REASON, "overall_rating": "good",
                                     "created_at": corrected["created_at"], "created_by": TEST_ADMIN}]
