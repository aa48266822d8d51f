"""Samples: drawn through the sampling service and stored whole, read back, and substitutions from the reserves."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import func, select

from gateway.assessments.models import CaseAssessment
from gateway.caseloads.models import Sample, SampledCase, Substitution
from gateway.idempotency.models import IdempotentRequest
from gateway.inspections.models import Inspection
from inspection_shared.clients import SamplingClient
from inspection_shared.sampling import SampleDesign
from sampling.app import create_app as create_sampling
from tests.conftest import TEST_ADMIN
from tests.gateway.factories import frame_units, make_inspection, make_sample, synthetic_frame

PROBLEM = "application/problem+json"
CSV = {"Content-Type": "text/csv"}
COLUMNS = ["case_ref", "unit", "gender", "sentence_type", "rosh_level", "start_date"]


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields), body
    return body


async def upload(gateway, inspection, text: str, sample_type: str = "case_supervision") -> dict:
    response = await gateway.put(
        f"/api/v1/inspections/{inspection.id}/frames/{sample_type}", content=text.encode(), headers=CSV
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def draw(gateway, inspection, body: dict, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return gateway.post(f"/api/v1/inspections/{inspection.id}/samples", json=body, headers=headers)


async def rows(db_session, model, **where) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    return await db_session.scalar(statement)


async def all_cases(gateway, sample_id: str, **params) -> list[dict]:
    found, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await gateway.get(f"/api/v1/samples/{sample_id}/cases", params=query)
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found


async def set_status(db_session, inspection: Inspection, status: str) -> None:
    inspection.status = status
    await db_session.flush()


# --- drawing -----------------------------------------------------------------------------------------


async def test_a_draw_with_defaults_is_stored_whole_and_redraws_identically(gateway, db_session):
    inspection = await make_inspection(db_session)
    text = synthetic_frame(COLUMNS, 500, units=await frame_units(db_session, inspection))
    frame = await upload(gateway, inspection, text)

    response = await draw(gateway, inspection, {"sample_type": "case_supervision"})
    assert response.status_code == 201, response.text
    sample = response.json()
    assert response.headers["location"] == f"/api/v1/samples/{sample['id']}"
    design = sample["design"]
    assert design["strata"] == ["gender", "sentence_type", "rosh_level"]
    assert design["unit"] == "unit"
    assert design["precision"] == {"confidence": 0.8, "margin": 0.05, "proportion": 0.5, "design_effect": 1.0,
                                   "response_rate": 1.0}
    assert design["reserves_per_stratum"] == 2
    assert design["carried"] == ["start_date"]
    assert 0 <= sample["seed"] < 2**63 and design["seed"] == sample["seed"]
    assert sample["frame_fingerprint"] == frame["fingerprint"]
    assert sample["algorithm"] == "stratified-srswor-prn-splitmix64-v1"
    assert sample["sample_size"] == len(sample["selected"]) == 124  # 80% and 5 points on 500 cases (golden value)
    assert sample["frame"] == {"rows": 500, "outside_window": 0, "excluded": [], "eligible": 500}
    assert sum(a["sample"] for a in sample["allocation"]) == 124
    assert {b["variable"] for b in sample["balance"]} == {"unit", "gender", "sentence_type", "rosh_level"}
    assert sample["reserves"] and all(r["used"] is False and r["replaced_case_ref"] is None for r in sample["reserves"])
    assert (sample["sample_type"], sample["inspection_id"], sample["frame_id"]) == (
        "case_supervision", str(inspection.id), frame["id"]
    )
    assert (sample["substitutions"], sample["drawn_by"]) == (0, TEST_ADMIN)

    # Anyone holding the frame and the stored design redraws the same sample.
    async with SamplingClient("http://sampling", transport=httpx.ASGITransport(app=create_sampling())) as sampling:
        again = await sampling.draw_sample_csv(text.encode(), SampleDesign.model_validate(design))
    assert [c.model_dump() for c in again.selected] == sample["selected"]
    assert [(r.case_ref, r.stratum, r.rank) for r in again.reserves] == [
        (r["case_ref"], r["stratum"], r["rank"]) for r in sample["reserves"]
    ]
    assert again.frame_fingerprint == frame["fingerprint"]

    stored = await all_cases(gateway, sample["id"], limit=50)
    expected = sorted(
        (
            {k: c[k] for k in ("case_ref", "unit", "stratum", "inclusion_probability", "weight")}
            for c in sample["selected"]
        ),
        key=lambda c: c["case_ref"],
    )
    assert [{k: c[k] for k in expected[0]} for c in stored] == expected
    assert {(c["status"], c["reserve_rank"]) for c in stored} == {("selected", None)}
    assert await rows(db_session, SampledCase, sample_id=uuid.UUID(sample["id"])) == 124

    read = await gateway.get(f"/api/v1/samples/{sample['id']}")
    assert read.status_code == 200
    assert read.json() == sample


async def test_a_given_design_is_applied_as_asked(gateway, db_session):
    inspection = await make_inspection(db_session)
    await upload(gateway, inspection, synthetic_frame(COLUMNS, 300, units=await frame_units(db_session, inspection)))
    response = await draw(gateway, inspection, {
        "sample_type": "case_supervision",
        "size": 40,
        "strata": ["gender"],
        "unit": None,
        "eligibility": {"start": "2025-07-01", "end": "2025-10-31"},
        "exclude": [{"column": "sentence_type", "values": ["licence"], "reason": "licences sampled apart"}],
        "reserve_ratio": 0.5,
        "seed": 11,
    })
    assert response.status_code == 201, response.text
    sample = response.json()
    design = sample["design"]
    assert (design["size"], design["strata"], design["unit"]) == (40, ["gender"], None)
    assert design["seed"] == sample["seed"] == 11
    assert design["eligibility"]["column"] == "start_date"
    assert design["carried"] == ["rosh_level", "unit"]
    assert design["reserve_ratio"] == 0.5 and design.get("reserves_per_stratum") is None
    summary = sample["frame"]
    assert summary["rows"] == 300 and summary["outside_window"] > 0
    assert summary["excluded"][0]["column"] == "sentence_type" and summary["excluded"][0]["excluded"] > 0
    assert summary["eligible"] == 300 - summary["outside_window"] - summary["excluded"][0]["excluded"]
    assert len(sample["selected"]) == 40
    assert {c["stratum"] for c in sample["selected"]} <= {"male", "female"}
    assert all(c["unit"] is None for c in sample["selected"])
    assert all(c["carried"].keys() == {"rosh_level", "unit"} for c in sample["selected"])


async def test_an_idempotent_repeat_answers_the_first_sample_and_never_draws_again(gateway, db_session):
    inspection = await make_inspection(db_session)
    await upload(gateway, inspection, synthetic_frame(COLUMNS, 120, units=await frame_units(db_session, inspection)))
    body = {"sample_type": "case_supervision", "size": 20}
    first = await draw(gateway, inspection, body, key="draw-1")
    assert first.status_code == 201, first.text
    repeat = await draw(gateway, inspection, body, key="draw-1")
    assert repeat.status_code == 201
    assert repeat.json() == first.json()
    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.headers["location"] == first.headers["location"]
    assert await rows(db_session, Sample, inspection_id=inspection.id) == 1
    assert await rows(db_session, SampledCase, sample_id=uuid.UUID(first.json()["id"])) == 20
    assert await rows(db_session, IdempotentRequest, key="draw-1") == 1

    other_body = await draw(gateway, inspection, {**body, "size": 21}, key="draw-1")
    assert assert_problem(other_body, 422)["type"] == "/problems/idempotency-key-reused"
    second = assert_problem(await draw(gateway, inspection, body), 409)
    assert second["sample_id"] == first.json()["id"]
    assert_problem(await draw(gateway, inspection, body, key="draw-2"), 409)
    assert await rows(db_session, Sample, inspection_id=inspection.id) == 1


async def test_the_sampling_services_refusal_is_passed_on_and_nothing_is_stored(gateway, db_session):
    inspection = await make_inspection(db_session)
    await upload(gateway, inspection, synthetic_frame(COLUMNS, 50, units=await frame_units(db_session, inspection)))
    response = await draw(gateway, inspection, {"sample_type": "case_supervision", "size": 80}, key="too-big")
    body = assert_problem(response, 422, "body.size")
    assert body["engine"] == "sampling"
    assert body["errors"][0]["message"] == "is 30 more than the 50 eligible cases"
    nobody = await draw(gateway, inspection, {"sample_type": "case_supervision", "size": 10, "strata": [],
                                              "eligibility": {"end": "2020-01-01"}})
    assert "No case of the 50 in the frame is eligible" in assert_problem(nobody, 422)["detail"]
    assert await rows(db_session, Sample, inspection_id=inspection.id) == 0
    assert await rows(db_session, IdempotentRequest, key="too-big") == 0
    # The frame can still be replaced: no sample was drawn from it.
    await upload(gateway, inspection, synthetic_frame(COLUMNS, 90, units=await frame_units(db_session, inspection)))
    retried = await draw(gateway, inspection, {"sample_type": "case_supervision", "size": 80}, key="too-big")
    assert retried.status_code == 201


async def test_a_sampling_service_that_is_down_is_503_and_nothing_is_stored(gateway, gateway_app, db_session):
    inspection = await make_inspection(db_session)
    await upload(gateway, inspection, synthetic_frame(COLUMNS, 50, units=await frame_units(db_session, inspection)))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    working = gateway_app.state.sampling
    gateway_app.state.sampling = SamplingClient("http://sampling", transport=httpx.MockTransport(refuse))
    try:
        response = await draw(gateway, inspection, {"sample_type": "case_supervision", "size": 10}, key="down")
    finally:
        await gateway_app.state.sampling.aclose()
        gateway_app.state.sampling = working
    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "5"
    assert body["engine"] == "sampling"
    assert await rows(db_session, Sample, inspection_id=inspection.id) == 0
    assert await rows(db_session, IdempotentRequest, key="down") == 0
    retried = await draw(gateway, inspection, {"sample_type": "case_supervision", "size": 10}, key="down")
    assert retried.status_code == 201


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"sample_type": "victims"}, ["body.sample_type"]),
        ({"sample_type": "case_supervision", "size": 5, "precision": {"margin": 0.1}}, ["body"]),
        ({"sample_type": "case_supervision", "size": 0}, ["body.size"]),
        ({"sample_type": "case_supervision", "strata": ["gender", "ethnicity"]}, ["body.strata.1"]),
        ({"sample_type": "case_supervision", "unit": "pdu"}, ["body.unit"]),
        ({"sample_type": "case_supervision", "exclude": [{"column": "status", "values": ["x"]}]},
         ["body.exclude.0.column"]),
        ({"sample_type": "case_supervision", "unit": None, "min_per_unit": 2}, ["body"]),
        ({"sample_type": "case_supervision", "strata": ["unit"]}, ["body"]),
        ({"sample_type": "case_supervision", "strata": ["case_ref"]}, ["body"]),
        ({"sample_type": "case_supervision", "reserves_per_stratum": 1, "reserve_ratio": 1}, ["body"]),
        ({"sample_type": "case_supervision", "seed": 2**63}, ["body.seed"]),
        ({"sample_type": "case_supervision", "eligibility": {}}, ["body.eligibility"]),
        ({"sample_type": "case_supervision", "carried": ["gender"]}, ["body.carried"]),
        ({"size": 5}, ["body.sample_type"]),
    ],
)
async def test_a_design_that_cannot_be_drawn_is_refused_naming_the_field(gateway, db_session, body, fields):
    inspection = await make_inspection(db_session)
    await upload(gateway, inspection, synthetic_frame(["case_ref", "unit", "gender"], 30, units=await frame_units(db_session, inspection)))
    assert_problem(await draw(gateway, inspection, body), 422, *fields)
    assert await rows(db_session, Sample, inspection_id=inspection.id) == 0


async def test_an_eligibility_window_needs_a_start_date_column(gateway, db_session):
    inspection = await make_inspection(db_session)
    await upload(gateway, inspection, synthetic_frame(["case_ref", "unit", "gender"], 30, units=await frame_units(db_session, inspection)))
    body = {"sample_type": "case_supervision", "eligibility": {"start": "2025-01-01"}}
    response = await draw(gateway, inspection, body)
    body = assert_problem(response, 422, "body.eligibility")
    assert body["errors"][0]["message"] == "the frame has no start_date column"


async def test_a_sample_needs_its_frame_and_an_open_inspection(gateway, db_session):
    missing = await draw(gateway, SimpleNamespace(id=uuid.uuid4()), {"sample_type": "case_supervision"})
    assert_problem(missing, 404)
    inspection = await make_inspection(db_session, status="fieldwork")
    no_frame = assert_problem(await draw(gateway, inspection, {"sample_type": "court_reports"}), 409)
    assert "upload it first" in no_frame["detail"]
    await upload(gateway, inspection, synthetic_frame(COLUMNS, 40, units=await frame_units(db_session, inspection)))
    for status in ("rating", "published", "withdrawn"):
        await set_status(db_session, inspection, status)
        body = assert_problem(await draw(gateway, inspection, {"sample_type": "case_supervision", "size": 5}), 409)
        assert body["status_of_inspection"] == status
    assert await rows(db_session, Sample, inspection_id=inspection.id) == 0
    await set_status(db_session, inspection, "fieldwork")
    assert (await draw(gateway, inspection, {"sample_type": "case_supervision", "size": 5})).status_code == 201


# --- reading -----------------------------------------------------------------------------------------


async def test_an_inspection_lists_its_samples(gateway, db_session):
    inspection = await make_inspection(db_session)
    supervision = await make_sample(gateway, inspection)
    reports = await make_sample(gateway, inspection, sample_type="court_reports", size=5)
    listed = await gateway.get(f"/api/v1/inspections/{inspection.id}/samples")
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(s["id"], s["sample_type"], s["sample_size"]) for s in items] == [
        (supervision["id"], "case_supervision", 12),
        (reports["id"], "court_reports", 5),
    ]
    assert set(items[0]) == {
        "id", "inspection_id", "frame_id", "sample_type", "sample_size", "seed", "frame_fingerprint", "algorithm",
        "substitutions", "drawn_at", "drawn_by", "discarded", "discard",
    }
    assert listed.json()["next_cursor"] is None
    only = await gateway.get(f"/api/v1/inspections/{inspection.id}/samples", params={"sample_type": "court_reports"})
    assert [s["id"] for s in only.json()["items"]] == [reports["id"]]
    assert_problem(await gateway.get(f"/api/v1/inspections/{uuid.uuid4()}/samples"), 404)


async def test_unknown_samples_are_404(gateway):
    sample = f"/api/v1/samples/{uuid.uuid4()}"
    assert_problem(await gateway.get(sample), 404)
    assert_problem(await gateway.get(f"{sample}/cases"), 404)
    assert_problem(await gateway.get(f"{sample}/substitutions"), 404)
    assert_problem(await gateway.post(f"{sample}/substitutions", json={"case_ref": "X1", "reason": "r"}), 404)
    assert_problem(await gateway.get("/api/v1/samples/not-a-uuid"), 422, "path.sample_id")


async def test_sampled_cases_come_in_pages_and_filter(gateway, db_session):
    inspection = await make_inspection(db_session)
    sample = await make_sample(gateway, inspection, cases=80, size=23)
    first = (await gateway.get(f"/api/v1/samples/{sample['id']}/cases", params={"limit": 10})).json()
    assert len(first["items"]) == 10 and first["next_cursor"]
    every = await all_cases(gateway, sample["id"], limit=10)
    refs = [c["case_ref"] for c in every]
    assert refs == sorted(refs) == sorted(c["case_ref"] for c in sample["selected"])
    stratum = sample["selected"][0]["stratum"]
    narrowed = await all_cases(gateway, sample["id"], stratum=stratum)
    assert {c["case_ref"] for c in narrowed} == {c["case_ref"] for c in sample["selected"] if c["stratum"] == stratum}
    unit = sample["selected"][0]["unit"]
    by_unit = await all_cases(gateway, sample["id"], unit=unit)
    assert {c["case_ref"] for c in by_unit} == {c["case_ref"] for c in sample["selected"] if c["unit"] == unit}
    bad = await gateway.get(f"/api/v1/samples/{sample['id']}/cases", params={"cursor": "not-a-cursor"})
    assert_problem(bad, 422, "query.cursor")
    too_many = await gateway.get(f"/api/v1/samples/{sample['id']}/cases", params={"limit": 5000})
    assert_problem(too_many, 422, "query.limit")


# --- substitutions -----------------------------------------------------------------------------------


async def two_strata_sample(gateway, db_session, **design) -> tuple[Inspection, dict]:
    inspection = await make_inspection(db_session, status="fieldwork")
    sample = await make_sample(
        gateway, inspection, cases=60, columns=["case_ref", "gender"], size=20, strata=["gender"],
        reserves_per_stratum=2, **design,
    )
    return inspection, sample


def substitute(gateway, sample: dict, case_ref: str, reason: str | None = "Transferred out before fieldwork"):
    body = {"case_ref": case_ref} if reason is None else {"case_ref": case_ref, "reason": reason}
    return gateway.post(f"/api/v1/samples/{sample['id']}/substitutions", json=body)


async def test_a_case_is_replaced_by_the_next_reserve_of_its_stratum_by_rank(gateway, db_session):
    _, sample = await two_strata_sample(gateway, db_session)
    stratum = "male"
    chosen = [c["case_ref"] for c in sample["selected"] if c["stratum"] == stratum]
    reserves = sorted((r for r in sample["reserves"] if r["stratum"] == stratum), key=lambda r: r["rank"])
    assert [r["rank"] for r in reserves] == [1, 2]

    first = await substitute(gateway, sample, chosen[0], "  Transferred out before fieldwork  ")
    assert first.status_code == 201, first.text
    made = first.json()
    assert {k: made[k] for k in ("replaced_case_ref", "reserve_case_ref", "reserve_rank", "stratum", "reason",
                                 "substituted_by")} == {
        "replaced_case_ref": chosen[0], "reserve_case_ref": reserves[0]["case_ref"], "reserve_rank": 1,
        "stratum": stratum, "reason": "Transferred out before fieldwork", "substituted_by": TEST_ADMIN,
    }
    # A reserve brought in may itself be replaced, by the next reserve of the stratum.
    second = (await substitute(gateway, sample, reserves[0]["case_ref"], "Died")).json()
    assert (second["reserve_case_ref"], second["reserve_rank"]) == (reserves[1]["case_ref"], 2)

    current = await all_cases(gateway, sample["id"])
    refs = {c["case_ref"]: c for c in current}
    assert chosen[0] not in refs and reserves[0]["case_ref"] not in refs
    brought = refs[reserves[1]["case_ref"]]
    assert (brought["status"], brought["reserve_rank"], brought["stratum"]) == ("reserve_used", 2, stratum)
    original = next(c for c in sample["selected"] if c["case_ref"] == chosen[0])
    assert brought["inclusion_probability"] == original["inclusion_probability"]
    assert brought["weight"] == original["weight"]
    assert len(current) == 20
    everyone = await all_cases(gateway, sample["id"], include_replaced="true")
    with_replaced = {c["case_ref"]: c["status"] for c in everyone}
    assert (with_replaced[chosen[0]], with_replaced[reserves[0]["case_ref"]]) == ("replaced", "replaced")

    read = (await gateway.get(f"/api/v1/samples/{sample['id']}")).json()
    used = {r["case_ref"]: (r["used"], r["replaced_case_ref"]) for r in read["reserves"]}
    assert used[reserves[0]["case_ref"]] == (True, chosen[0])
    assert used[reserves[1]["case_ref"]] == (True, reserves[0]["case_ref"])
    assert all(not u for ref, (u, _) in used.items() if ref not in {r["case_ref"] for r in reserves})
    assert (read["substitutions"], read["sample_size"]) == (2, 20)

    listed = (await gateway.get(f"/api/v1/samples/{sample['id']}/substitutions")).json()
    assert [(s["replaced_case_ref"], s["reserve_case_ref"], s["reason"]) for s in listed["items"]] == [
        (chosen[0], reserves[0]["case_ref"], "Transferred out before fieldwork"),
        (reserves[0]["case_ref"], reserves[1]["case_ref"], "Died"),
    ]
    paged = (await gateway.get(f"/api/v1/samples/{sample['id']}/substitutions", params={"limit": 1})).json()
    assert [s["id"] for s in paged["items"]] == [listed["items"][0]["id"]]
    rest = await gateway.get(f"/api/v1/samples/{sample['id']}/substitutions", params={"cursor": paged["next_cursor"]})
    assert [s["id"] for s in rest.json()["items"]] == [listed["items"][1]["id"]]
    assert rest.json()["next_cursor"] is None

    # The other stratum's reserves are untouched; this one's are used up.
    exhausted = assert_problem(await substitute(gateway, sample, chosen[1]), 409)
    assert (exhausted["stratum"], exhausted["reserves"]) == (stratum, 2)
    other = next(c["case_ref"] for c in sample["selected"] if c["stratum"] == "female")
    other_reserve = next(r for r in sample["reserves"] if r["stratum"] == "female" and r["rank"] == 1)
    assert (await substitute(gateway, sample, other)).json()["reserve_case_ref"] == other_reserve["case_ref"]
    assert await rows(db_session, Substitution, sample_id=uuid.UUID(sample["id"])) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"case_ref": "X100001"}, "body.reason"),
        ({"case_ref": "X100001", "reason": "   "}, "body.reason"),
        ({"reason": "gone"}, "body.case_ref"),
        ({"case_ref": "X100001", "reason": "gone", "name": "Jo"}, "body.name"),
    ],
)
async def test_a_substitution_needs_a_case_and_a_reason(gateway, db_session, body, field):
    _, sample = await two_strata_sample(gateway, db_session)
    response = await gateway.post(f"/api/v1/samples/{sample['id']}/substitutions", json=body)
    assert_problem(response, 422, field)
    assert await rows(db_session, Substitution, sample_id=uuid.UUID(sample["id"])) == 0


async def test_only_a_case_in_the_sample_can_be_replaced(gateway, db_session):
    _, sample = await two_strata_sample(gateway, db_session)
    outside = assert_problem(await substitute(gateway, sample, "Z999999"), 422, "body.case_ref")
    assert outside["errors"][0]["message"] == "Z999999 is not a case of this sample"
    reserve = sample["reserves"][0]["case_ref"]
    unused = assert_problem(await substitute(gateway, sample, reserve), 422, "body.case_ref")
    assert unused["errors"][0]["message"] == f"{reserve} is a reserve of this sample, not in it"

    case = sample["selected"][0]["case_ref"]
    made = (await substitute(gateway, sample, case)).json()
    again = assert_problem(await substitute(gateway, sample, case), 409)
    assert again["replaced_by"] == made["reserve_case_ref"]
    assert await rows(db_session, Substitution, sample_id=uuid.UUID(sample["id"])) == 1


async def test_an_assessed_case_cannot_be_substituted(gateway, db_session):
    inspection, sample = await two_strata_sample(gateway, db_session)
    case_ref = sample["selected"][0]["case_ref"]
    sampled = await db_session.scalar(
        select(SampledCase).where(SampledCase.sample_id == uuid.UUID(sample["id"]), SampledCase.case_ref == case_ref)
    )
    db_session.add(CaseAssessment(
        inspection_id=inspection.id, sampled_case_id=sampled.id, case_ref=case_ref, sample_type=sample["sample_type"],
        answers={}, attributes={}, created_by="test", updated_by="test",
    ))
    sampled.assessed = True  # as recording the case's first answers marks it
    await db_session.flush()
    body = assert_problem(await substitute(gateway, sample, case_ref), 409)
    assert "has been assessed" in body["detail"]
    assert await rows(db_session, Substitution, sample_id=uuid.UUID(sample["id"])) == 0


@pytest.mark.parametrize("status", ["rating", "published", "withdrawn"])
async def test_no_substitution_after_fieldwork(gateway, db_session, status):
    inspection, sample = await two_strata_sample(gateway, db_session)
    await set_status(db_session, inspection, status)
    body = assert_problem(await substitute(gateway, sample, sample["selected"][0]["case_ref"]), 409)
    assert body["status_of_inspection"] == status
    assert await rows(db_session, Substitution, sample_id=uuid.UUID(sample["id"])) == 0
    assert (await gateway.get(f"/api/v1/samples/{sample['id']}")).status_code == 200


async def test_the_sample_factory_draws_for_a_youth_framework(gateway, db_session):
    from tests.gateway.factories import make_unit

    inspection = await make_inspection(db_session, unit=await make_unit(db_session, type="yos"),
                                       framework_id="youth-2021")
    sample = await make_sample(gateway, inspection, sample_type="out_of_court_disposals", size=8)
    assert sample["sample_type"] == "out_of_court_disposals"
    assert sample["design"]["strata"] == ["gender", "disposal_type", "looked_after"]
    assert len(sample["selected"]) == 8
