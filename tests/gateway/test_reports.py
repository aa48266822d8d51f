"""The report of an inspection: its figures against hand-computed ones, drafts marked and kept to the
inspection's staff, published reports for readers and `reports:read` keys, and the report held until
the inspection changes."""

from __future__ import annotations

import math
import uuid

import pytest

from gateway.permissions import Role
from gateway.units.models import Unit
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit
from tests.gateway.rated_inspection import PANEL_REASON, SUBSTITUTION_REASON, rated_inspection
from tests.gateway.test_corrections import REASON, WITHDRAWAL, correct
from tests.gateway.test_ratings import run as rating_run
from tests.gateway.test_ratings import youth_inspection
from tests.gateway.test_scoping import holding

API = "/api/v1"
Z80 = 1.2815515655446004



def report_url(inspection_id) -> str:
    return f"{API}/inspections/{inspection_id}/report"


def wilson(yes: int, n: int) -> tuple[float, float]:
    """The 80% Wilson interval in percent, computed here from its textbook form."""
    p, z2 = yes / n, Z80 * Z80
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z80 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def margin(n: int, population: int) -> float:
    return Z80 * math.sqrt(0.25 * (population - n) / (n * (population - 1)))


@pytest.fixture
async def published(gateway, db_session):
    return await rated_inspection(gateway, db_session)


@pytest.fixture
async def draft(gateway, db_session):
    return await rated_inspection(gateway, db_session, publish=False)


# --- the figures ------------------------------------------------------------------------------------


async def test_a_published_report_states_the_hand_computed_figures(gateway, published):
    response = await gateway.get(report_url(published.inspection_id))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    latest = (await gateway.get(f"{API}/inspections/{published.inspection_id}/rating-runs/latest")).json()

    assert (report["draft"], report["phase"], report["published_version"], report["corrections"]) == (
        False, "published", 1, [])
    assert (report["unit"]["code"], report["unit"]["type"], report["unit"]["region_name"]) == (
        published.unit_code, "pdu", published.region_name)
    assert (report["fieldwork_start"], report["fieldwork_end"]) == ("2026-03-02", "2026-03-20")
    assert report["framework"] == {"id": "probation-pdu-2021", "version": "2021.1",
                                   "name": "Adult probation inspection standards 2021 (Probation Delivery Units)"}
    assert {k: report["snapshot"][k] for k in ("id", "input_fingerprint", "rules_version", "kind")} == {
        "id": latest["id"], "input_fingerprint": latest["input_fingerprint"], "rules_version": latest["rules_version"],
        "kind": "override"}

    # The ratings table: 2 + 1 + 2 + 3 + 1 + 1 + 3 + 3 + 3 = 19 of 27, Good; 18 before the panel.
    table = {s["standard"]: s for s in report["ratings"]["standards"]}
    assert [(s["rating"], s["points"]) for s in table.values()] == [
        ("good", 2), ("requires_improvement", 1), ("good", 2), ("outstanding", 3), ("requires_improvement", 1),
        ("requires_improvement", 1), ("outstanding", 3), ("outstanding", 3), ("outstanding", 3)]
    assert (table["1.4"]["computed_rating"], table["1.4"]["overridden"], table["1.4"]["override_reason"]) == (
        "good", True, PANEL_REASON)
    overall = report["ratings"]["overall"]
    assert (overall["score"], overall["max_score"], overall["rating"], overall["computed_score"]) == (19, 27, "good", 18)
    assert overall["band"] == {"rating": "good", "min": 14, "max": 22}
    assert [(b["min"], b["max"]) for b in overall["bands"]] == [(0, 4), (5, 13), (14, 22), (23, 27)]
    assert report["ratings"]["key_question_thresholds"] == {"outstanding": 80, "good": 65, "requires_improvement": 50}

    # Standard 2.2: 11/12, 9/12 and 7/11; 2.2.3 drives it, and one more yes would make 8/11 = 72.7%, Good.
    standards = {s["standard"]: s for s in report["case_standards"]}
    assert list(standards) == ["2.1", "2.2", "2.3", "2.4", "2.5"]
    assessment = standards["2.2"]
    assert (assessment["rating"], assessment["driver"], assessment["yes_to_lift"], assessment["sample_type"]) == (
        "requires_improvement", "2.2.3", 1, "case_supervision")
    figures = [(kq["key_question"], kq["yes"], kq["applicable"], kq["percent_rounded"], kq["band"], kq["driver"],
                kq["yes_to_lift"]) for kq in assessment["key_questions"]]
    assert figures == [("2.2.1", 11, 12, 92, "outstanding", False, 0), ("2.2.2", 9, 12, 75, "good", False, 0),
                       ("2.2.3", 7, 11, 64, "requires_improvement", True, 1)]
    for kq, (yes, n) in zip(assessment["key_questions"], [(11, 12), (9, 12), (7, 11)], strict=True):
        assert kq["percent"] == pytest.approx(100 * yes / n)
        assert kq["interval"] == pytest.approx(wilson(yes, n), abs=1e-5)
    # 7/11 at 80%: 44.4% to 79.3%, reaching from Inadequate into Good: borderline.
    assert assessment["key_questions"][2]["interval"] == pytest.approx([44.436, 79.293], abs=1e-3)
    assert assessment["borderline"] is True
    assert assessment["key_questions"][2]["text"] == "Does assessment focus sufficiently on keeping other people safe?"
    court = standards["2.1"]
    assert (court["driver"], court["yes_to_lift"], court["key_questions"][0]["percent"]) == ("2.1.1", 1, 60.0)
    assert standards["2.3"]["yes_to_lift"] is None and standards["2.3"]["key_questions"][0]["yes_to_lift"] is None

    # The samples: 60 and 40 cases uploaded, those with a suspended sentence order excluded.
    samples = {s["sample_type"]: s for s in report["samples"]}
    supervision = samples["case_supervision"]
    eligible = published.eligible["case_supervision"]
    assert {k: supervision[k] for k in ("frame_cases", "eligible_cases", "sample_size", "in_sample", "substitutions",
                                        "assessed", "confidence")} == {
        "frame_cases": 60, "eligible_cases": eligible, "sample_size": 12, "in_sample": 12, "substitutions": 2,
        "assessed": 12, "confidence": 0.8}
    assert supervision["excluded"] == [{"column": "sentence_type", "reason": "not in scope", "excluded": 60 - eligible}]
    assert supervision["margin_of_error"] == pytest.approx(margin(12, eligible), rel=1e-12)
    court_sample = samples["court_reports"]
    assert court_sample["margin_of_error"] == pytest.approx(margin(10, published.eligible["court_reports"]), rel=1e-12)
    for variable in ("unit", "gender"):
        rows = [b for b in supervision["balance"] if b["variable"] == variable]
        assert sum(b["frame_count"] for b in rows) == eligible and sum(b["sample_count"] for b in rows) == 12
        assert all(b["deviation"] == pytest.approx(b["sample_share"] - b["frame_share"]) for b in rows)
    assert max(abs(b["deviation"]) for b in supervision["balance"]) == pytest.approx(abs(supervision["largest_deviation"]))

    # Substitutions with their reasons; a reason naming its case has the reference taken out.
    assert [(s["sample_type"], s["reason"]) for s in report["substitutions"]] == [
        ("case_supervision", SUBSTITUTION_REASON), ("case_supervision", "[case reference] died.")]
    assert [(j["standard"], j["name"], j["rating"], j["evidence_summary"]) for j in report["judgements"]] == [
        ("1.1", "Leadership", "good", "Interviews and the staff survey (1.1)."),
        ("1.2", "Staff", "requires_improvement", "Interviews and the staff survey (1.2)."),
        ("1.3", "Services", "good", "Interviews and the staff survey (1.3)."),
        ("1.4", "Information and facilities", "good", "Interviews and the staff survey (1.4).")]
    assert not any(ref in response.text for ref in published.case_refs)


async def test_a_draft_report_says_it_is_a_draft_and_has_no_published_version(gateway, draft):
    report = (await gateway.get(report_url(draft.inspection_id))).json()
    assert (report["draft"], report["phase"], report["published_version"], report["published_at"]) == (
        True, "rating", None, None)
    assert report["ratings"]["overall"]["score"] == 19


async def test_a_corrected_report_states_its_latest_version_and_every_correction(gateway, db_session, acting_as):
    inspection = await youth_inspection(db_session)
    assert (await rating_run(gateway, inspection.id)).status_code == 201
    moved = await gateway.post(f"{API}/inspections/{inspection.id}/transitions", json={"to": "published"})
    assert moved.status_code == 200, moved.text
    first = (await gateway.get(report_url(inspection.id))).json()
    assert (first["draft"], first["published_version"], first["corrections"]) == (False, 1, [])

    made = await correct(gateway, inspection.id)
    assert made.status_code == 201, made.text
    second = (await gateway.get(report_url(inspection.id))).json()
    [line] = second["corrections"]
    assert (second["published_version"], line["version"], line["kind"], line["reason"]) == (
        2, 2, "correction", REASON)
    assert line["changes"] == made.json()["changes"]
    assert second["snapshot"]["id"] == made.json()["snapshot_id"] != first["snapshot"]["id"]
    assert second["ratings"]["standards"] != first["ratings"]["standards"]

    assert (await correct(gateway, inspection.id, WITHDRAWAL)).status_code == 201
    unit = await db_session.get(Unit, inspection.unit_id)
    with acting_as(holding(Role.READER, unit)):
        read = await gateway.get(report_url(inspection.id))
    assert read.status_code == 200, read.text
    withdrawn = read.json()
    assert (withdrawn["phase"], withdrawn["published_version"], [c["kind"] for c in withdrawn["corrections"]]) == (
        "withdrawn", 3, ["correction", "withdrawal"])


async def test_an_inspection_not_yet_rated_has_a_report_without_ratings(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    cases = [{"case_ref": f"Q{i:06d}", "answers": {"2.2.1": "yes"}} for i in range(3)] + [{"case_ref": "Q000009"}]
    await make_assessed_sample(db_session, inspection, "case_supervision", cases)
    await make_judgement(db_session, inspection, "1.1", "good", "Leaders met Q000001.")
    report = (await gateway.get(report_url(inspection.id))).json()
    assert (report["snapshot"], report["ratings"], report["case_standards"], report["draft"]) == (None, None, [], True)
    [sample] = report["samples"]
    assert (sample["frame_cases"], sample["eligible_cases"], sample["sample_size"], sample["assessed"]) == (4, None, 4, 3)
    assert sample["margin_of_error"] == pytest.approx(margin(3, 4))
    assert report["judgements"][0]["evidence_summary"] == "Leaders met [case reference]."


# --- who reads it -----------------------------------------------------------------------------------


async def test_readers_read_a_published_report_and_never_a_draft(gateway, acting_as, published, draft, db_session):
    elsewhere = await make_unit(db_session)
    for role in (Role.READER, Role.INSPECTOR, Role.LEAD_INSPECTOR, Role.PANEL):
        for run in (published, draft):
            with acting_as(holding(role, run.unit)):
                response = await gateway.get(report_url(run.inspection_id))
            expected = 404 if role is Role.READER and run is draft else 200
            assert response.status_code == expected, (role, run is draft)
            if expected == 404:
                assert response.json()["detail"] == f"No inspection {run.inspection_id}"
            with acting_as(holding(role, elsewhere)):
                assert (await gateway.get(report_url(run.inspection_id))).status_code == 404, role
    with acting_as(None):
        assert (await gateway.get(report_url(published.inspection_id))).status_code == 401


async def test_a_reports_read_key_reads_a_published_report_of_its_units_only(gateway, anonymous, published, draft,
                                                                               db_session):
    async def key(scopes, unit_id=None) -> dict[str, str]:
        made = await gateway.post(f"{API}/api-keys", json={"name": "Report generator", "scopes": scopes,
                                                           "unit_id": unit_id})
        assert made.status_code == 201, made.text
        return {"Authorization": f"Bearer {made.json()['key']}"}

    reports = await key(["reports:read"])
    answered = await anonymous.get(report_url(published.inspection_id), headers=reports)
    assert answered.status_code == 200 and answered.json()["ratings"]["overall"]["score"] == 19
    assert (await anonymous.get(report_url(draft.inspection_id), headers=reports)).status_code == 404
    other = await make_unit(db_session)
    elsewhere = await key(["reports:read"], str(other.id))
    assert (await anonymous.get(report_url(published.inspection_id), headers=elsewhere)).status_code == 404
    refused = await anonymous.get(report_url(published.inspection_id), headers=await key(["inspections:read"]))
    assert (refused.status_code, refused.json()["permission"]) == (403, "reports:read")


async def test_an_unknown_inspection_is_not_found(gateway):
    missing = uuid.uuid4()
    response = await gateway.get(report_url(missing))
    assert (response.status_code, response.json()["detail"]) == (404, f"No inspection {missing}")


# --- held until the inspection changes ------------------------------------------------------------


async def test_the_report_is_held_until_the_inspection_changes(gateway, gateway_app, draft, db_session):
    url = report_url(draft.inspection_id)
    first = await gateway.get(url)
    etag = first.headers["etag"]
    assert etag.endswith('-json"') and first.headers["vary"] == "Accept"
    assert (await gateway.get(url, headers={"If-None-Match": etag})).status_code == 304
    html = await gateway.get(url, params={"format": "html"})
    assert html.headers["etag"] != etag and html.headers["etag"].endswith('-html"')
    held = gateway_app.state.reports._held[(uuid.UUID(draft.inspection_id), None)][1]
    assert (await gateway.get(url)).content == held.json == first.content

    decided = await gateway.post(f"{API}/inspections/{draft.inspection_id}/panel-decisions", json={"overrides": [
        {"standard": "2.2", "rating": "good", "reason": "The panel read the cases again."}]})
    assert decided.status_code == 201, decided.text
    changed = await gateway.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["ratings"]["overall"]["score"] == 20
