"""Rating runs, the ratings panel and the ratings history: what is stored, what is refused.

The evidence is written straight into the database (tests/gateway/factories.py); the rating engine is the
real one, in process. The main example is a published youth result: standards rated G,G,O,O / G,I,O,O /
RI,RI,O,G with resettlement RI score 25/36, Good. The judged standards come from judgements and the
case-based ones from case answers whose shares land in the bands wanted.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
import stamina
from sqlalchemy import func, select

from gateway.assessments.models import CaseAssessment, Judgement
from gateway.frameworks.service import get_framework, import_frameworks
from gateway.inspections.models import Inspection
from gateway.ratings.models import RatingSnapshot
from inspection_shared.clients import RatingEngineClient
from inspection_shared.rating import RatingRequest
from tests.conftest import TEST_ADMIN
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit

API = "/api/v1"
PROBLEM = "application/problem+json"

YOUTH_TABLE = {
    "1.1": "good", "1.2": "good", "1.3": "outstanding", "1.4": "outstanding",
    "2.1": "good", "2.2": "inadequate", "2.3": "outstanding", "2.4": "outstanding",
    "3.1": "requires_improvement", "3.2": "requires_improvement", "3.3": "outstanding", "3.4": "good",
    "4.1": "requires_improvement",
}
JUDGED = ("1.1", "1.2", "1.3", "1.4", "3.4", "4.1")

# Yes answers out of ten cases for the key question that drives each case-based standard (the others are
# all yes): 70% Good, 40% Inadequate, exactly 80% Outstanding, 60% and exactly 50% Requires improvement.
DRIVING_YES = {"2.1.1": 7, "2.2.1": 4, "2.3.1": 8, "3.1.1": 6, "3.2.1": 5, "3.3.1": 9}
COURT_KQS = [f"2.{s}.{k}" for s in range(1, 5) for k in range(1, 4)]
OUT_OF_COURT_KQS = [f"3.{s}.{k}" for s in range(1, 4) for k in range(1, 4)]


def _answer(kq: str, i: int) -> str:
    if kq == "2.1.2":  # 7 yes, 1 no, 2 not applicable: 87.5% of the applicable cases, Outstanding
        return "yes" if i < 7 else "no" if i == 7 else "not_applicable"
    return "yes" if i < DRIVING_YES.get(kq, 10) else "no"


def court_cases() -> list[dict]:
    cases = [
        {"case_ref": f"C{i:06d}", "answers": {kq: _answer(kq, i) for kq in COURT_KQS}} for i in range(10)
    ]
    cases[9]["status"] = "reserve_used"
    # Taken out of the sample by a substitution: all "no", which would change every figure if counted.
    cases.append({"case_ref": "C900000", "status": "replaced", "answers": {kq: "no" for kq in COURT_KQS}})
    # In the sample but not assessed yet: not sent.
    cases.append({"case_ref": "C900001"})
    return cases


def out_of_court_cases() -> list[dict]:
    cases = [
        {
            "case_ref": f"D{i:06d}",
            "answers": {kq: _answer(kq, i) for kq in OUT_OF_COURT_KQS},
            # gender is read by no case filter: it must never reach the engine.
            "attributes": {"disposal_type": "youth_caution", "gender": "female"},
        }
        for i in range(10)
    ]
    # Outside the out-of-court standards' case filter: its "no" answers must not count.
    cases.append(
        {
            "case_ref": "D900000",
            "answers": {kq: "no" for kq in OUT_OF_COURT_KQS},
            "attributes": {"disposal_type": "referral_order"},
        }
    )
    return cases


async def youth_inspection(db_session, *, status: str = "rating", judged: tuple[str, ...] = JUDGED, cases: bool = True):
    unit = await make_unit(db_session, type="yos")
    inspection = await make_inspection(db_session, unit=unit, framework_id="youth-2021", status=status)
    if cases:
        await make_assessed_sample(db_session, inspection, "court_disposals", court_cases())
        await make_assessed_sample(db_session, inspection, "out_of_court_disposals", out_of_court_cases())
    for standard in judged:
        await make_judgement(db_session, inspection, standard, YOUTH_TABLE[standard], f"Evidence for {standard}.")
    return inspection


async def run(gateway, inspection_id, **headers) -> httpx.Response:
    return await gateway.post(f"{API}/inspections/{inspection_id}/rating-runs", headers=headers)


async def decide(gateway, inspection_id, overrides, **headers) -> httpx.Response:
    return await gateway.post(
        f"{API}/inspections/{inspection_id}/panel-decisions", json={"overrides": overrides}, headers=headers
    )


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields)
    return body


def ratings(result: dict) -> dict[str, str]:
    return {s["standard"]: s["rating"] for s in result["standards"]}


def standard(result: dict, standard_id: str) -> dict:
    return next(s for s in result["standards"] if s["standard"] == standard_id)


async def snapshot_count(db_session, inspection_id) -> int:
    return await db_session.scalar(
        select(func.count()).select_from(RatingSnapshot).where(RatingSnapshot.inspection_id == inspection_id)
    )


@pytest.fixture
def no_backoff():
    with stamina.set_testing(True, attempts=2):
        yield


# --- a rating run -----------------------------------------------------------------------------------


async def test_a_run_reproduces_the_published_youth_table_and_keeps_the_engines_whole_answer(
    gateway, gateway_app, db_session
):
    inspection = await youth_inspection(db_session)

    response = await run(gateway, inspection.id)

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{API}/rating-runs/{body['id']}"
    assert {k: body[k] for k in ("sequence", "kind", "based_on_id", "framework_id", "framework_version")} == {
        "sequence": 1, "kind": "run", "based_on_id": None, "framework_id": "youth-2021", "framework_version": "2021.1",
    }
    assert (body["overall_rating"], body["overall_score"], body["max_score"]) == ("good", 25, 36)
    assert (body["rules_version"], body["created_by"], body["reason"]) == ("1.0.0", TEST_ADMIN, None)
    assert body["panel_decisions"] == body["carried_overrides"] == []
    result = body["result"]
    assert ratings(result) == YOUTH_TABLE
    assert result["overall"]["explanation"] == "Good: score 25/36, in the band 19-30."
    assert body["input_fingerprint"] == result["input_fingerprint"]

    # The case-based figures are those of the current sampled cases only.
    s21 = standard(result, "2.1")
    assert (s21["driver"], s21["cases"], s21["evidence"]) == ("2.1.1", 10, "cases")
    figures = {k["key_question"]: (k["yes"], k["applicable"], k["not_applicable"]) for k in s21["key_questions"]}
    assert figures == {"2.1.1": (7, 10, 0), "2.1.2": (7, 8, 2), "2.1.3": (10, 10, 0)}
    assert standard(result, "2.3")["key_questions"][0]["percent"] == 80.0
    s32 = standard(result, "3.2")
    assert (s32["cases"], s32["cases_selected"], s32["key_questions"][0]["yes"]) == (11, 10, 5)
    assert standard(result, "4.1")["points"] is None
    assert standard(result, "1.1")["evidence"] == "rating"

    # The snapshot holds exactly what the engine was sent: only what rating needs.
    record = (await gateway.get(response.headers["location"])).json()
    sent = {s["standard"]: s for s in record["request"]["standards"]}
    assert record["request"]["framework"] == "youth-2021"
    assert list(sent) == list(YOUTH_TABLE)
    assert [c["case_ref"] for c in sent["2.1"]["cases"]] == [f"C{i:06d}" for i in range(10)]
    assert sent["2.1"]["cases"][0] == {
        "case_ref": "C000000", "answers": {"2.1.1": "yes", "2.1.2": "yes", "2.1.3": "yes"},
    }
    sent_attributes = {tuple(c.get("attributes", {})) for s in ("3.1", "3.2", "3.3") for c in sent[s]["cases"]}
    assert sent_attributes == {("disposal_type",)}
    assert sent["1.3"] == {"standard": "1.3", "rating": "outstanding", "evidence_summary": "Evidence for 1.3."}
    assert record["result"] == result

    # Anyone can reproduce it: the engine gives the same answer to the stored request.
    again = await gateway_app.state.rating_engine.rate(RatingRequest.model_validate(record["request"]))
    assert again.model_dump(mode="json") == result

    stored = await db_session.get(RatingSnapshot, uuid.UUID(body["id"]))
    assert (stored.overall_rating, stored.overall_score, stored.created_by) == ("good", 25, TEST_ADMIN)
    await db_session.refresh(inspection)
    assert inspection.current_rating == "good"
    assert inspection.version == 2


async def test_a_scored_standard_without_evidence_leaves_the_overall_not_rated_with_the_reason(gateway, db_session):
    inspection = await youth_inspection(db_session, judged=("1.2", "1.3", "1.4", "3.4", "4.1"))

    body = (await run(gateway, inspection.id)).json()

    assert (body["overall_rating"], body["overall_score"]) == ("not_rated", None)
    overall = body["result"]["overall"]
    assert overall["reasons"] == ["scored standard 1.1 (Governance and leadership) has no evidence"]
    assert standard(body["result"], "1.1")["status"] == "no_evidence"
    assert standard(body["result"], "2.1")["rating"] == "good"
    await db_session.refresh(inspection)
    assert inspection.current_rating == "not_rated"


async def test_without_any_evidence_every_scored_standard_is_named(gateway, db_session):
    inspection = await youth_inspection(db_session, judged=(), cases=False)

    body = (await run(gateway, inspection.id)).json()

    assert body["overall_rating"] == "not_rated"
    assert len(body["result"]["overall"]["reasons"]) == 12
    assert (await gateway.get(f"{API}/rating-runs/{body['id']}")).json()["request"]["standards"] == []


async def test_a_framework_the_engine_does_not_hold_is_sent_whole(gateway, db_session):
    youth = await get_framework(db_session, "youth-2021")
    draft_id = f"youth-draft-{uuid.uuid4().hex[:6]}"
    await import_frameworks(db_session, [youth.model_copy(update={"id": draft_id, "status": "draft"})])
    unit = await make_unit(db_session, type="yos")
    inspection = await make_inspection(db_session, unit=unit, framework_id=draft_id, status="rating")
    for judged in JUDGED:
        await make_judgement(db_session, inspection, judged, YOUTH_TABLE[judged])

    response = await run(gateway, inspection.id)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["framework_id"], body["result"]["framework_source"]) == (draft_id, "inline")
    record = (await gateway.get(f"{API}/rating-runs/{body['id']}")).json()
    assert record["request"]["framework"]["id"] == draft_id


async def test_recorded_evidence_the_engine_cannot_take_is_refused_naming_the_record(gateway, db_session):
    unit = await make_unit(db_session, type="yos")
    inspection = await make_inspection(db_session, unit=unit, framework_id="youth-2021", status="rating")
    await make_assessed_sample(
        db_session, inspection, "court_disposals",
        [{"case_ref": "C1", "answers": {"2.1.1": "perhaps", "2.1.2": "yes"}}],
    )
    await make_judgement(db_session, inspection, "1.1", "good", "x" * 20001)

    response = await run(gateway, inspection.id)

    body = assert_problem(response, 422, "case_assessments.C1.answers.2.1.1", "judgements.1.1.evidence_summary")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["case_assessments.C1.answers.2.1.1"].startswith("standard 2.1: Input should be 'yes'")
    assert messages["judgements.1.1.evidence_summary"].startswith("standard 1.1: String should have at most")
    assert await snapshot_count(db_session, inspection.id) == 0


# --- idempotency -------------------------------------------------------------------------------------


async def test_a_repeated_run_with_the_same_key_answers_the_first_snapshot_and_stores_no_second(gateway, db_session):
    inspection = await youth_inspection(db_session)

    first = await run(gateway, inspection.id, **{"Idempotency-Key": "run-1"})
    repeat = await run(gateway, inspection.id, **{"Idempotency-Key": "run-1"})

    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json() == first.json()
    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.headers["location"] == first.headers["location"]
    assert await snapshot_count(db_session, inspection.id) == 1

    other = await run(gateway, inspection.id, **{"Idempotency-Key": "run-2"})
    assert other.json()["sequence"] == 2
    assert await snapshot_count(db_session, inspection.id) == 2


async def test_a_panel_decision_repeated_with_its_key_is_made_once_and_a_changed_body_is_refused(gateway, db_session):
    inspection = await youth_inspection(db_session)
    await run(gateway, inspection.id)
    decision = [{"standard": "2.2", "rating": "requires_improvement", "reason": "Panel weighed the oversight."}]

    first = await decide(gateway, inspection.id, decision, **{"Idempotency-Key": "panel-1"})
    repeat = await decide(gateway, inspection.id, decision, **{"Idempotency-Key": "panel-1"})
    changed = await decide(
        gateway, inspection.id, [{**decision[0], "rating": "good"}], **{"Idempotency-Key": "panel-1"}
    )

    assert first.status_code == 201 and repeat.json() == first.json()
    assert assert_problem(changed, 422)["type"] == "/problems/idempotency-key-reused"
    assert await snapshot_count(db_session, inspection.id) == 2


# --- the ratings panel -------------------------------------------------------------------------------


async def test_a_panel_override_keeps_the_computed_rating_the_panels_rating_and_the_reason(gateway, db_session):
    inspection = await youth_inspection(db_session)
    first = (await run(gateway, inspection.id)).json()
    reason = "The panel weighed the quality of the management oversight seen in interviews."

    response = await decide(
        gateway, inspection.id, [{"standard": "2.2", "rating": "requires_improvement", "reason": reason}]
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{API}/rating-runs/{body['id']}"
    assert (body["sequence"], body["kind"], body["based_on_id"]) == (2, "override", first["id"])
    assert body["panel_decisions"] == [{"standard": "2.2", "rating": "requires_improvement", "reason": reason}]
    assert body["reason"] == f"2.2: {reason}"
    s22 = standard(body["result"], "2.2")
    assert (s22["computed_rating"], s22["rating"], s22["overridden"], s22["override_reason"]) == (
        "inadequate", "requires_improvement", True, reason,
    )
    assert s22["key_questions"][0]["yes"] == 4  # the evidence is the first snapshot's, re-rated
    overall = body["result"]["overall"]
    assert (overall["score"], overall["computed_score"], overall["rating"]) == (26, 25, "good")
    assert body["overall_score"] == 26
    assert body["input_fingerprint"] != first["input_fingerprint"]  # the decision is part of the input

    # The history keeps both; the first snapshot is untouched.
    history = (await gateway.get(f"{API}/inspections/{inspection.id}/rating-runs")).json()
    assert [(i["sequence"], i["kind"], i["overall_score"]) for i in history["items"]] == [
        (2, "override", 26), (1, "run", 25),
    ]
    assert history["items"][0]["panel_decisions"][0]["reason"] == reason
    unchanged = (await gateway.get(f"{API}/rating-runs/{first['id']}")).json()
    assert standard(unchanged["result"], "2.2")["overridden"] is False
    assert unchanged["request"].get("overrides", []) == []


async def test_a_second_decision_keeps_the_first_in_force_and_a_new_one_on_the_same_standard_replaces_it(
    gateway, db_session
):
    inspection = await youth_inspection(db_session)
    await run(gateway, inspection.id)
    await decide(gateway, inspection.id, [{"standard": "2.2", "rating": "requires_improvement", "reason": "First."}])

    second = (
        await decide(gateway, inspection.id, [{"standard": "1.1", "rating": "outstanding", "reason": "Second."}])
    ).json()
    assert second["panel_decisions"] == [{"standard": "1.1", "rating": "outstanding", "reason": "Second."}]
    assert {s["standard"]: s["override_reason"] for s in second["result"]["standards"] if s["overridden"]} == {
        "1.1": "Second.", "2.2": "First.",
    }
    assert second["overall_score"] == 27

    third = (await decide(gateway, inspection.id, [{"standard": "2.2", "rating": "good", "reason": "Third."}])).json()
    assert {s["standard"]: s["rating"] for s in third["result"]["standards"] if s["overridden"]} == {
        "1.1": "outstanding", "2.2": "good",
    }
    assert third["sequence"] == 4 and third["overall_score"] == 28


async def test_a_re_run_rates_afresh_and_carries_the_panels_decisions_forward(gateway, db_session):
    inspection = await youth_inspection(db_session)
    await run(gateway, inspection.id)
    decision = [{"standard": "2.2", "rating": "requires_improvement", "reason": "Panel."}]
    decided = (await decide(gateway, inspection.id, decision)).json()

    rerun = (await run(gateway, inspection.id)).json()

    assert (rerun["sequence"], rerun["kind"], rerun["based_on_id"]) == (3, "run", decided["id"])
    assert rerun["carried_overrides"] == [{"standard": "2.2", "rating": "requires_improvement", "reason": "Panel."}]
    assert rerun["panel_decisions"] == []
    assert rerun["reason"] == "Panel decisions carried forward from snapshot 2: 2.2 (requires_improvement)."
    s22 = standard(rerun["result"], "2.2")
    assert (s22["computed_rating"], s22["rating"], s22["override_reason"]) == (
        "inadequate", "requires_improvement", "Panel.",
    )


async def test_a_decision_whose_standard_lost_its_evidence_is_not_carried_and_the_run_says_so(gateway, db_session):
    inspection = await youth_inspection(db_session)
    await run(gateway, inspection.id)
    await decide(gateway, inspection.id, [{"standard": "1.1", "rating": "outstanding", "reason": "Panel."}])
    judgement = next(j for j in await _judgements(db_session, inspection.id) if j.standard_id == "1.1")
    await db_session.delete(judgement)
    await db_session.flush()

    rerun = (await run(gateway, inspection.id)).json()

    assert rerun["carried_overrides"] == []
    assert rerun["reason"] == (
        "Panel decisions of snapshot 2 not carried forward, as their standards have no evidence to rate in "
        "this run: 1.1."
    )
    assert rerun["overall_rating"] == "not_rated"


async def test_a_decision_on_a_standard_left_without_applicable_answers_is_not_carried(gateway, db_session):
    inspection = await youth_inspection(db_session)
    await run(gateway, inspection.id)
    await decide(gateway, inspection.id, [{"standard": "2.2", "rating": "good", "reason": "Panel."}])
    for assessment in (
        await db_session.scalars(select(CaseAssessment).where(CaseAssessment.inspection_id == inspection.id))
    ).all():
        if assessment.sample_type == "court_disposals":
            assessment.answers = {**assessment.answers, "2.2.1": "not_applicable", "2.2.2": "not_applicable",
                                  "2.2.3": "not_applicable"}
    await db_session.flush()

    rerun = await run(gateway, inspection.id)

    assert rerun.status_code == 201, rerun.text
    body = rerun.json()
    assert body["carried_overrides"] == []
    assert body["reason"].endswith("have no evidence to rate in this run: 2.2.")
    assert standard(body["result"], "2.2")["status"] == "no_applicable_cases"


async def _judgements(db_session, inspection_id):
    return (await db_session.scalars(select(Judgement).where(Judgement.inspection_id == inspection_id))).all()


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ([{"standard": "1.2", "rating": "good"}], ["body.overrides.0.reason"]),
        ([{"standard": "1.2", "rating": "good", "reason": "   "}], ["body.overrides.0.reason"]),
        ([{"standard": "1.2", "rating": "fine", "reason": "x"}], ["body.overrides.0.rating"]),
        ([], ["body.overrides"]),
        ([{"standard": "9.9", "rating": "good", "reason": "x"}], ["body.overrides.0.standard"]),
        (
            [
                {"standard": "1.2", "rating": "good", "reason": "x"},
                {"standard": "1.2", "rating": "good", "reason": "y"},
            ],
            ["body.overrides.1.standard"],
        ),
        ([{"standard": "1.1", "rating": "good", "reason": "x"}], ["body.overrides.0.standard"]),
    ],
    ids=["no-reason", "blank-reason", "unknown-rating", "none", "unknown-standard", "twice", "no-evidence"],
)
async def test_a_bad_panel_decision_is_refused_naming_the_field(gateway, db_session, overrides, fields):
    inspection = await youth_inspection(db_session, judged=("1.2", "1.3", "1.4", "3.4", "4.1"), cases=False)
    await run(gateway, inspection.id)

    response = await decide(gateway, inspection.id, overrides)

    body = assert_problem(response, 422, *fields)
    assert body["errors"][0]["message"]
    assert await snapshot_count(db_session, inspection.id) == 1


async def test_a_decision_already_in_force_is_refused(gateway, db_session):
    inspection = await youth_inspection(db_session)
    await run(gateway, inspection.id)
    decision = [{"standard": "2.2", "rating": "requires_improvement", "reason": "Panel."}]
    await decide(gateway, inspection.id, decision)

    body = assert_problem(await decide(gateway, inspection.id, decision), 409)

    assert body["standards"] == ["2.2"]
    assert await snapshot_count(db_session, inspection.id) == 2


async def test_panel_decisions_without_a_snapshot_are_refused(gateway, db_session):
    inspection = await youth_inspection(db_session)

    response = await decide(gateway, inspection.id, [{"standard": "2.2", "rating": "good", "reason": "x"}])

    assert "start a rating run first" in assert_problem(response, 409)["detail"]


# --- refusals by status ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["published", "withdrawn"])
async def test_a_frozen_inspection_takes_no_run_and_no_decision(gateway, db_session, status):
    inspection = await youth_inspection(db_session, cases=False)
    await run(gateway, inspection.id)
    await db_session.refresh(inspection)
    inspection.status = status
    await db_session.flush()

    refused_run = assert_problem(await run(gateway, inspection.id), 409)
    refused_decision = assert_problem(
        await decide(gateway, inspection.id, [{"standard": "2.2", "rating": "good", "reason": "x"}]), 409
    )

    assert refused_run["status_of_inspection"] == refused_decision["status_of_inspection"] == status
    assert await snapshot_count(db_session, inspection.id) == 1


@pytest.mark.parametrize("status", ["planned", "pre_fieldwork", "fieldwork"])
async def test_rating_waits_for_the_rating_phase(gateway, db_session, status):
    inspection = await youth_inspection(db_session, status=status, cases=False)

    body = assert_problem(await run(gateway, inspection.id), 409)

    assert (body["status_of_inspection"], body["allowed_statuses"]) == (status, ["rating"])
    assert await snapshot_count(db_session, inspection.id) == 0


async def test_an_unknown_inspection_is_404_everywhere(gateway):
    missing = uuid.uuid4()
    assert_problem(await run(gateway, missing), 404)
    assert_problem(await decide(gateway, missing, [{"standard": "2.2", "rating": "good", "reason": "x"}]), 404)
    assert_problem(await gateway.get(f"{API}/inspections/{missing}/rating-runs"), 404)
    assert_problem(await gateway.get(f"{API}/inspections/{missing}/rating-runs/latest"), 404)
    assert_problem(await gateway.get(f"{API}/rating-runs/{missing}"), 404)
    assert_problem(await gateway.get(f"{API}/rating-runs/not-a-uuid"), 422, "path.snapshot_id")


# --- history -----------------------------------------------------------------------------------------


async def test_the_history_is_newest_first_in_pages_and_latest_is_the_newest(gateway, db_session):
    inspection = await youth_inspection(db_session)
    assert_problem(await gateway.get(f"{API}/inspections/{inspection.id}/rating-runs/latest"), 404)
    ids = [(await run(gateway, inspection.id)).json()["id"] for _ in range(2)]
    decided = await decide(gateway, inspection.id, [{"standard": "2.2", "rating": "good", "reason": "x"}])
    ids.append(decided.json()["id"])
    url = f"{API}/inspections/{inspection.id}/rating-runs"

    first = (await gateway.get(url, params={"limit": 2})).json()
    second = (await gateway.get(url, params={"limit": 2, "cursor": first["next_cursor"]})).json()

    assert [i["id"] for i in first["items"]] == [ids[2], ids[1]]
    assert [i["sequence"] for i in first["items"]] == [3, 2]
    assert [i["id"] for i in second["items"]] == [ids[0]] and second["next_cursor"] is None
    assert "result" not in first["items"][0] and "request" not in first["items"][0]
    latest = (await gateway.get(f"{url}/latest")).json()
    assert (latest["id"], latest["kind"], latest["overall_score"]) == (ids[2], "override", 27)
    assert "request" not in latest
    assert_problem(await gateway.get(url, params={"cursor": "nonsense"}), 422, "query.cursor")
    assert_problem(await gateway.get(url, params={"limit": 0}), 422, "query.limit")


# --- engine failures ---------------------------------------------------------------------------------


class _Failing(httpx.AsyncBaseTransport):
    def __init__(self, failure: str):
        self.failure = failure
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.failure == "down":
            raise httpx.ConnectError("refused", request=request)
        if self.failure == "slow":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(500, json={"title": "Internal error", "status": 500})


@pytest.mark.parametrize(
    ("failure", "status", "retried"), [("down", 503, True), ("slow", 504, True), ("broken", 502, False)]
)
async def test_an_engine_failure_is_a_problem_and_writes_nothing(
    gateway, gateway_app, db_session, no_backoff, failure, status, retried
):
    inspection = await youth_inspection(db_session)
    transport = _Failing(failure)
    real = gateway_app.state.rating_engine
    gateway_app.state.rating_engine = RatingEngineClient("http://rating-engine", transport=transport)
    try:
        response = await run(gateway, inspection.id, **{"Idempotency-Key": f"fail-{failure}"})
    finally:
        await gateway_app.state.rating_engine.aclose()
        gateway_app.state.rating_engine = real

    body = assert_problem(response, status)
    assert body["engine"] == "rating-engine"
    assert "nothing was saved" in body["detail"]
    assert ("retry-after" in response.headers) is retried
    assert transport.calls == (2 if retried else 1)
    assert await snapshot_count(db_session, inspection.id) == 0
    held = await db_session.get(Inspection, inspection.id)
    await db_session.refresh(held)
    assert (held.current_rating, held.version) == (None, 1)

    # The key was not spent on the failure: the same request succeeds once the engine is back.
    again = await run(gateway, inspection.id, **{"Idempotency-Key": f"fail-{failure}"})
    assert again.status_code == 201 and again.json()["overall_score"] == 25
