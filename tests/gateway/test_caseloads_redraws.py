"""Replacing a frame and redrawing a sample: a frame is replaced until a sample is drawn from it; a sample is
discarded until its first case answer, kept for the record and never used again; then drawn again."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, update

from gateway.caseloads.models import CaseloadFrame, Sample, SampleDiscard
from tests.conftest import TEST_ADMIN
from tests.gateway.factories import (
    frame_units,
    make_assessed_sample,
    make_inspection,
    make_judgement,
    make_sample,
    make_unit,
    synthetic_frame,
)

API = "/api/v1"
PROBLEM = "application/problem+json"
CSV = {"Content-Type": "text/csv"}
COLUMNS = ["case_ref", "unit", "gender", "sentence_type", "rosh_level", "start_date"]
REASON = "The frame held last year's licences."


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


def frame_url(inspection, sample_type: str = "case_supervision") -> str:
    return f"{API}/inspections/{inspection.id}/frames/{sample_type}"


async def upload(gateway, db_session, inspection, cases: int = 60, seed: int = 1):
    text = synthetic_frame(COLUMNS, cases, seed=seed, units=await frame_units(db_session, inspection))
    return await gateway.put(frame_url(inspection), content=text.encode(), headers=CSV)


def draw(gateway, inspection, **design):
    return gateway.post(f"{API}/inspections/{inspection.id}/samples",
                        json={"sample_type": "case_supervision", "size": 10, **design})


def discard(gateway, sample_id: str, reason: str = REASON):
    return gateway.post(f"{API}/samples/{sample_id}/discard", json={"reason": reason})


async def test_a_frame_is_replaced_until_a_sample_is_drawn_and_again_once_its_samples_are_discarded(
    gateway, db_session
):
    inspection = await make_inspection(db_session, status="fieldwork")
    assert (await upload(gateway, db_session, inspection)).status_code == 201
    assert (await upload(gateway, db_session, inspection, seed=2)).status_code == 200
    first = (await draw(gateway, inspection, seed=7)).json()

    refused = assert_problem(await upload(gateway, db_session, inspection, seed=3), 409)
    assert refused["sample_id"] == first["id"]
    assert f"POST /api/v1/samples/{first['id']}/discard" in refused["detail"]

    assert (await discard(gateway, first["id"])).status_code == 200
    second = (await draw(gateway, inspection)).json()
    assert_problem(await upload(gateway, db_session, inspection, seed=3), 409)
    assert (await discard(gateway, second["id"])).status_code == 200

    replaced = await upload(gateway, db_session, inspection, cases=80, seed=3)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["case_count"], replaced.json()["sample_id"]) == (80, None)
    third = (await draw(gateway, inspection)).json()
    assert third["frame_fingerprint"] == replaced.json()["fingerprint"] != first["frame_fingerprint"]
    # The discarded samples keep the fingerprint of the frame they were drawn from.
    kept = (await gateway.get(f"{API}/samples/{first['id']}")).json()
    assert kept["frame_fingerprint"] == first["frame_fingerprint"]


async def test_a_discarded_sample_is_kept_marked_with_its_reason_and_read_as_discarded(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    sample = await make_sample(gateway, inspection)
    assert (sample["discarded"], sample["discard"]) == (False, None)

    response = await discard(gateway, sample["id"], f"  {REASON}  ")
    assert response.status_code == 200, response.text
    discarded = response.json()
    assert discarded["discarded"] is True
    assert discarded["discard"]["reason"] == REASON
    assert discarded["discard"]["discarded_by"] == TEST_ADMIN
    assert {k: v for k, v in discarded.items() if k not in ("discarded", "discard")} == {
        k: v for k, v in sample.items() if k not in ("discarded", "discard")
    }
    assert (await gateway.get(f"{API}/samples/{sample['id']}")).json() == discarded
    cases = (await gateway.get(f"{API}/samples/{sample['id']}/cases")).json()["items"]
    assert len(cases) == 12

    listed = (await gateway.get(f"{API}/inspections/{inspection.id}/samples")).json()
    assert listed == {"items": [], "next_cursor": None}
    frame = (await gateway.get(frame_url(inspection))).json()
    assert frame["sample_id"] is None

    again = (await draw(gateway, inspection)).json()
    listed = (await gateway.get(f"{API}/inspections/{inspection.id}/samples")).json()["items"]
    assert [s["id"] for s in listed] == [again["id"]]
    every = (await gateway.get(f"{API}/inspections/{inspection.id}/samples",
                               params={"include_discarded": "true"})).json()["items"]
    assert [(s["id"], s["discarded"]) for s in every] == [(sample["id"], True), (again["id"], False)]
    assert (await gateway.get(frame_url(inspection))).json()["sample_id"] == again["id"]

    row = await db_session.get(SampleDiscard, uuid.UUID(sample["id"]))
    assert (row.reason, row.discarded_by) == (REASON, TEST_ADMIN)


async def test_a_redraw_takes_a_new_seed_unless_one_is_given(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    await upload(gateway, db_session, inspection, cases=200)
    first = (await draw(gateway, inspection, seed=7)).json()
    assert first["seed"] == 7

    await discard(gateway, first["id"])
    fresh = (await draw(gateway, inspection)).json()
    assert fresh["seed"] != 7 and fresh["id"] != first["id"]
    assert fresh["frame_id"] == first["frame_id"]

    await discard(gateway, fresh["id"])
    given = (await draw(gateway, inspection, seed=7)).json()
    assert given["seed"] == 7 and given["id"] != first["id"]
    assert given["selected"] == first["selected"]  # the same frame and seed draw the same sample
    assert (await gateway.get(f"{API}/samples/{first['id']}")).json()["discarded"] is True


async def test_a_fresh_seed_is_never_one_of_a_discarded_sample(monkeypatch):
    from gateway.caseloads import design

    chosen = iter([5, 9, 5, 11])
    monkeypatch.setattr(design.secrets, "randbelow", lambda _: next(chosen))
    assert design._fresh_seed({5, 9}) == 11


async def test_a_sample_with_a_case_answer_can_no_longer_be_discarded(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    sample = await make_sample(gateway, inspection)
    case_ref = sample["selected"][0]["case_ref"]
    answered = await gateway.put(
        f"{API}/inspections/{inspection.id}/samples/case_supervision/cases/{case_ref}/assessment",
        json={"answers": {"2.2.1": "yes"}},
    )
    assert answered.status_code == 201, answered.text

    body = assert_problem(await discard(gateway, sample["id"]), 409)
    assert body["assessed_cases"] == 1
    assert "Case answers have been recorded against 1 case of this case_supervision sample" in body["detail"]
    assert (await gateway.get(f"{API}/samples/{sample['id']}")).json()["discarded"] is False
    assert await db_session.scalar(select(func.count()).select_from(SampleDiscard)) == 0
    assert_problem(await draw(gateway, inspection), 409)


async def test_a_discarded_sample_takes_no_answers_substitutions_or_second_discard(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    sample = await make_sample(gateway, inspection)
    case_ref = sample["selected"][0]["case_ref"]
    await discard(gateway, sample["id"])

    again = assert_problem(await discard(gateway, sample["id"], "Twice."), 409)
    assert "was discarded on" in again["detail"] and REASON in again["detail"]
    substitution = await gateway.post(f"{API}/samples/{sample['id']}/substitutions",
                                      json={"case_ref": case_ref, "reason": "Moved away"})
    assert "never used again" in assert_problem(substitution, 409)["detail"]
    answer = await gateway.put(
        f"{API}/inspections/{inspection.id}/samples/case_supervision/cases/{case_ref}/assessment",
        json={"answers": {"2.2.1": "yes"}},
    )
    assert_problem(answer, 404)
    summary = (await gateway.get(f"{API}/inspections/{inspection.id}/summary")).json()
    assert summary["samples"] == []


@pytest.mark.parametrize("status", ["rating", "published"])
async def test_a_sample_is_discarded_only_until_fieldwork_ends(gateway, db_session, status):
    inspection = await make_inspection(db_session, status="fieldwork")
    sample = await make_sample(gateway, inspection)
    await db_session.execute(update(type(inspection)).where(type(inspection).id == inspection.id).values(status=status))
    body = assert_problem(await discard(gateway, sample["id"]), 409)
    assert body["status_of_inspection"] == status


async def test_a_discard_needs_a_reason_and_a_sample(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    sample = await make_sample(gateway, inspection)
    assert_problem(await discard(gateway, sample["id"], "   "), 422)
    assert_problem(await gateway.post(f"{API}/samples/{sample['id']}/discard", json={}), 422)
    assert_problem(await discard(gateway, str(uuid.uuid4())), 404)
    assert (await gateway.get(f"{API}/samples/{sample['id']}")).json()["discarded"] is False


async def test_ratings_and_the_summary_leave_a_discarded_sample_out(gateway, db_session):
    inspection = await make_inspection(
        db_session, unit=await make_unit(db_session, type="yos"), framework_id="youth-2021", status="rating"
    )
    answered = {f"2.{s}.{k}": "yes" for s in range(1, 5) for k in range(1, 4)}
    # A sample set aside (as if discarded before these answers) and the one in use, drawn after it.
    set_aside = await make_assessed_sample(
        db_session, inspection, "court_disposals",
        [{"case_ref": f"A{n:06d}", "answers": {kq: "no" for kq in answered}} for n in range(8)],
    )
    await db_session.execute(update(Sample).where(Sample.id == set_aside.id).values(discarded=True))
    await make_assessed_sample(
        db_session, inspection, "court_disposals",
        [{"case_ref": f"B{n:06d}", "answers": answered} for n in range(5)],
        frame=await db_session.get(CaseloadFrame, set_aside.frame_id),
    )
    for standard in ("1.1", "1.2", "1.3", "1.4", "3.4", "4.1"):
        await make_judgement(db_session, inspection, standard, "good")

    run = await gateway.post(f"{API}/inspections/{inspection.id}/rating-runs")
    assert run.status_code == 201, run.text
    court = next(s for s in run.json()["result"]["standards"] if s["standard"] == "2.1")
    assert (court["rating"], court["key_questions"][0]["yes"]) == ("outstanding", 5)
    summary = (await gateway.get(f"{API}/inspections/{inspection.id}/summary")).json()
    assert [(s["sample_type"], s["in_sample"], s["assessments_recorded"]) for s in summary["samples"]] == [
        ("court_disposals", 5, 5)
    ]
