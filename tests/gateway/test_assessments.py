"""Case assessments: recording the answers for one sampled case, reading them back, listing them, and every
refusal."""

from __future__ import annotations

import httpx
import pytest
import structlog.testing
from sqlalchemy import update

from gateway.inspections.models import Inspection
from inspection_shared.clients import RatingEngineClient, SamplingClient
from tests.conftest import TEST_ADMIN
from tests.gateway.factories import make_inspection, make_sampled_cases

PROBLEM = "application/problem+json"
CASE_SUPERVISION = [f"X{n:06d}" for n in range(1, 6)]
UNPAID_WORK = ["U000001", "U000002", "U000003"]
SUPERVISION_QUESTIONS = [f"2.{s}.{k}" for s in range(1, 5) for k in range(1, 4)]


async def crc_inspection(session, *, status: str = "fieldwork") -> Inspection:
    """A CRC inspection with a case supervision sample (X000001-5) and an unpaid work sample, in which
    U000002 was replaced by the reserve U000003."""
    inspection = await make_inspection(session, framework_id="probation-crc-2018", status=status)
    await make_sampled_cases(session, inspection, "case_supervision", CASE_SUPERVISION)
    await make_sampled_cases(
        session, inspection, "unpaid_work", UNPAID_WORK, statuses={"U000002": "replaced", "U000003": "reserve_used"}
    )
    return inspection


async def set_status(session, inspection: Inspection, status: str) -> None:
    await session.execute(update(Inspection).where(Inspection.id == inspection.id).values(status=status))


def case_url(inspection, case_ref: str, sample_type: str = "case_supervision") -> str:
    return f"/api/v1/inspections/{inspection.id}/samples/{sample_type}/cases/{case_ref}/assessment"


def list_url(inspection) -> str:
    return f"/api/v1/inspections/{inspection.id}/assessments"


def problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if fields:
        assert sorted(e["field"] for e in body["errors"]) == sorted(fields)
    return body


@pytest.fixture
async def inspection(db_session) -> Inspection:
    return await crc_inspection(db_session)


# --- recording and reading ---------------------------------------------------------------------------


async def test_the_first_put_records_the_assessment_and_answers_201(gateway, inspection):
    url = case_url(inspection, "X000001")
    response = await gateway.put(
        url,
        json={
            "answers": {"2.1.1": "yes", "2.1.2": "no", "2.1.3": "not_applicable"},
            "evidence_note": "  Assessment of 3 March; OASys review.  ",
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == url
    body = response.json()
    assert body["inspection_id"] == str(inspection.id)
    assert (body["sample_type"], body["case_ref"], body["case_status"]) == ("case_supervision", "X000001", "selected")
    assert body["answers"] == {"2.1.1": "yes", "2.1.2": "no", "2.1.3": "not_applicable"}
    assert body["attributes"] == {}
    assert body["evidence_note"] == "Assessment of 3 March; OASys review."
    assert body["unanswered"] == SUPERVISION_QUESTIONS[3:]
    assert body["version"] == 1
    assert body["created_by"] == body["updated_by"] == TEST_ADMIN

    read = await gateway.get(url)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json() == body


async def test_an_update_with_if_match_replaces_the_assessment_and_bumps_the_version(gateway, inspection):
    url = case_url(inspection, "X000002")
    await gateway.put(url, json={"answers": {"2.1.1": "yes", "2.1.2": "yes"}, "evidence_note": "first"})

    response = await gateway.put(
        url, json={"answers": {"2.1.1": "no", "2.2.1": "yes"}}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    body = response.json()
    # The body is the whole assessment: 2.1.2 left out is unanswered again, the note left out is cleared.
    assert body["answers"] == {"2.1.1": "no", "2.2.1": "yes"}
    assert body["evidence_note"] is None
    assert body["version"] == 2
    assert "2.1.2" in body["unanswered"] and "2.2.1" not in body["unanswered"]
    assert (await gateway.get(url)).json()["answers"] == {"2.1.1": "no", "2.2.1": "yes"}


async def test_sending_the_same_assessment_again_changes_nothing(gateway, inspection):
    url = case_url(inspection, "X000003")
    first = (await gateway.put(url, json={"answers": {"2.1.1": "yes"}})).json()
    again = await gateway.put(url, json={"answers": {"2.1.1": "yes"}}, headers={"If-Match": "*"})
    assert again.status_code == 200
    assert again.headers["etag"] == '"1"'
    assert again.json() == first


async def test_a_complete_assessment_has_nothing_unanswered(gateway, inspection):
    answers = dict.fromkeys(SUPERVISION_QUESTIONS, "yes")
    body = (await gateway.put(case_url(inspection, "X000001"), json={"answers": answers})).json()
    assert body["unanswered"] == []
    assert body["answers"] == answers


async def test_case_filter_attributes_are_recorded_for_the_sample_that_uses_them(gateway, inspection):
    response = await gateway.put(
        case_url(inspection, "U000001", "unpaid_work"),
        json={"answers": {"3.1.1": "yes", "3.1.2": "no"}, "attributes": {"unpaid_work_requirement": True}},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["attributes"] == {"unpaid_work_requirement": True}
    assert body["unanswered"] == ["3.1.3"]


async def test_a_reserve_brought_in_by_a_substitution_is_assessed(gateway, inspection):
    response = await gateway.put(case_url(inspection, "U000003", "unpaid_work"), json={"answers": {"3.1.1": "no"}})
    assert response.status_code == 201, response.text
    assert response.json()["case_status"] == "reserve_used"


async def test_answers_may_be_recorded_while_the_inspection_is_in_rating(gateway, db_session):
    inspection = await crc_inspection(db_session, status="rating")
    response = await gateway.put(case_url(inspection, "X000001"), json={"answers": {"2.1.1": "yes"}})
    assert response.status_code == 201, response.text


async def test_youth_out_of_court_cases_record_their_disposal_type(gateway, db_session):
    inspection = await make_inspection(db_session, framework_id="youth-2021", status="fieldwork")
    await make_sampled_cases(db_session, inspection, "out_of_court_disposals", ["Y000001"])
    url = case_url(inspection, "Y000001", "out_of_court_disposals")
    response = await gateway.put(
        url, json={"answers": {"3.1.1": "yes"}, "attributes": {"disposal_type": "youth_caution"}}
    )
    assert response.status_code == 201, response.text
    assert response.json()["attributes"] == {"disposal_type": "youth_caution"}

    refused = await gateway.put(
        url, json={"attributes": {"disposal_type": "Youth Caution!"}}, headers={"If-Match": '"1"'}
    )
    body = problem(refused, 422, "body.attributes.disposal_type")
    assert "code of lower-case letters" in body["errors"][0]["message"]


# --- refusals ----------------------------------------------------------------------------------------


async def test_an_unknown_key_question_is_refused_by_name(gateway, inspection):
    response = await gateway.put(case_url(inspection, "X000001"), json={"answers": {"2.1.1": "yes", "2.9.1": "no"}})
    body = problem(response, 422, "body.answers.2.9.1")
    assert body["errors"][0]["message"] == "no case-based key question 2.9.1 in framework probation-crc-2018"
    assert (await gateway.get(case_url(inspection, "X000001"))).status_code == 404


async def test_a_key_question_of_a_standard_on_another_sample_is_refused(gateway, inspection):
    response = await gateway.put(case_url(inspection, "X000001"), json={"answers": {"3.1.1": "yes", "3.2.2": "no"}})
    body = problem(response, 422, "body.answers.3.1.1", "body.answers.3.2.2")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["body.answers.3.1.1"] == (
        "3.1.1 belongs to standard 3.1 (Unpaid work), assessed on the unpaid_work sample, not the "
        "case_supervision sample"
    )
    assert "through_the_gate sample" in messages["body.answers.3.2.2"]


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"2.1.1": "maybe"}, "body.answers.2.1.1"),
        ({"2.1.1": "YES"}, "body.answers.2.1.1"),
        ({"2.1.1": None}, "body.answers.2.1.1"),
        ({"2.1": "yes"}, "body.answers.2.1.[key]"),
    ],
)
async def test_a_bad_answer_is_refused_naming_the_key_question(gateway, inspection, answers, field):
    response = await gateway.put(case_url(inspection, "X000001"), json={"answers": answers})
    problem(response, 422, field)


async def test_attributes_no_case_filter_reads_are_refused_by_name(gateway, inspection):
    response = await gateway.put(
        case_url(inspection, "X000001"),
        json={"answers": {"2.1.1": "yes"}, "attributes": {"gender": "female", "unpaid_work_requirement": True}},
    )
    body = problem(response, 422, "body.attributes.gender", "body.attributes.unpaid_work_requirement")
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["body.attributes.gender"].startswith(
        "gender is not a case attribute the case filters of the case_supervision standards read (they read: none)"
    )


async def test_an_attribute_of_the_wrong_kind_is_refused(gateway, inspection):
    response = await gateway.put(
        case_url(inspection, "U000001", "unpaid_work"), json={"attributes": {"unpaid_work_requirement": "yes"}}
    )
    body = problem(response, 422, "body.attributes.unpaid_work_requirement")
    assert body["errors"][0]["message"] == "expected true or false"


async def test_fields_other_than_answers_attributes_and_note_are_refused(gateway, inspection):
    response = await gateway.put(
        case_url(inspection, "X000001"), json={"answers": {}, "name": "A Person", "date_of_birth": "1990-01-01"}
    )
    problem(response, 422, "body.date_of_birth", "body.name")


@pytest.mark.parametrize("note", ["x" * 1001, "bell \x07 here"])
async def test_an_overlong_or_garbled_evidence_note_is_refused(gateway, inspection, note):
    response = await gateway.put(case_url(inspection, "X000001"), json={"evidence_note": note})
    problem(response, 422, "body.evidence_note")


async def test_a_replaced_case_cannot_be_assessed(gateway, inspection):
    response = await gateway.put(case_url(inspection, "U000002", "unpaid_work"), json={"answers": {"3.1.1": "yes"}})
    body = problem(response, 409)
    assert body["case_status"] == "replaced"
    assert "U000002 was replaced" in body["detail"]
    assert (await gateway.get(case_url(inspection, "U000002", "unpaid_work"))).status_code == 404


@pytest.mark.parametrize(
    ("case_ref", "sample_type", "detail"),
    [
        ("Z999999", "case_supervision", "Case Z999999 is not in the case_supervision sample"),
        ("U000001", "case_supervision", "Case U000001 is not in the case_supervision sample"),
        ("X000001", "through_the_gate", "No through_the_gate sample has been drawn"),
        ("X000001", "court_reports", "no sample type court_reports in framework probation-crc-2018"),
    ],
)
async def test_a_case_outside_the_inspection_samples_is_404(gateway, inspection, case_ref, sample_type, detail):
    for response in (
        await gateway.put(case_url(inspection, case_ref, sample_type), json={"answers": {}}),
        await gateway.get(case_url(inspection, case_ref, sample_type)),
    ):
        assert detail in problem(response, 404)["detail"]


async def test_an_unknown_inspection_is_404(gateway):
    url = "/api/v1/inspections/00000000-0000-4000-8000-000000000000/samples/case_supervision/cases/X1/assessment"
    problem(await gateway.put(url, json={"answers": {}}), 404)
    problem(await gateway.get(url), 404)
    problem(await gateway.get("/api/v1/inspections/00000000-0000-4000-8000-000000000000/assessments"), 404)


async def test_a_case_not_yet_assessed_reads_as_404(gateway, inspection):
    body = problem(await gateway.get(case_url(inspection, "X000004")), 404)
    assert body["detail"] == "Case X000004 of the case_supervision sample has not been assessed yet."


async def test_changing_an_assessment_needs_if_match_and_refuses_a_stale_one(gateway, inspection):
    url = case_url(inspection, "X000001")
    await gateway.put(url, json={"answers": {"2.1.1": "yes"}})
    await gateway.put(url, json={"answers": {"2.1.1": "no"}}, headers={"If-Match": '"1"'})

    missing = problem(await gateway.put(url, json={"answers": {"2.1.1": "yes"}}), 428)
    assert missing["type"] == "/problems/precondition-required"
    stale = await gateway.put(url, json={"answers": {"2.1.1": "yes"}}, headers={"If-Match": '"1"'})
    assert "If-Match \"1\", now \"2\"" in problem(stale, 412)["detail"]
    assert stale.headers["etag"] == '"2"'
    weak = await gateway.put(url, json={"answers": {"2.1.1": "yes"}}, headers={"If-Match": 'W/"2"'})
    problem(weak, 412)

    held = await gateway.get(url)
    assert held.json()["answers"] == {"2.1.1": "no"}
    assert held.json()["version"] == 2


async def test_if_match_on_a_case_not_yet_assessed_is_412(gateway, inspection):
    url = case_url(inspection, "X000005")
    problem(await gateway.put(url, json={"answers": {"2.1.1": "yes"}}, headers={"If-Match": '"1"'}), 412)
    problem(await gateway.get(url), 404)


@pytest.mark.parametrize("status", ["planned", "pre_fieldwork"])
async def test_answers_are_not_recorded_before_fieldwork(gateway, db_session, status):
    inspection = await crc_inspection(db_session, status=status)
    body = problem(await gateway.put(case_url(inspection, "X000001"), json={"answers": {"2.1.1": "yes"}}), 409)
    assert body["status_of_inspection"] == status
    assert body["recording_statuses"] == ["fieldwork", "rating"]


@pytest.mark.parametrize("status", ["published", "withdrawn"])
async def test_a_frozen_inspection_keeps_its_answers_and_takes_no_more(gateway, db_session, inspection, status):
    url = case_url(inspection, "X000001")
    await gateway.put(url, json={"answers": {"2.1.1": "yes"}})
    await set_status(db_session, inspection, status)

    body = problem(await gateway.put(url, json={"answers": {"2.1.1": "no"}}, headers={"If-Match": '"1"'}), 409)
    assert body["status_of_inspection"] == status
    problem(await gateway.put(case_url(inspection, "X000002"), json={"answers": {"2.1.1": "no"}}), 409)
    read = await gateway.get(url)
    assert read.status_code == 200
    assert read.json()["answers"] == {"2.1.1": "yes"}


async def test_recording_needs_no_engine(gateway_app, gateway, inspection):
    """Case answers never depend on the engines: with both unreachable, recording and reading go on."""

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    live = gateway_app.state.rating_engine, gateway_app.state.sampling
    down = httpx.MockTransport(unreachable)
    gateway_app.state.rating_engine = RatingEngineClient("http://rating-engine", transport=down)
    gateway_app.state.sampling = SamplingClient("http://sampling", transport=down)
    try:
        url = case_url(inspection, "X000001")
        assert (await gateway.put(url, json={"answers": {"2.1.1": "yes"}})).status_code == 201
        imported = await gateway.post(
            f"{list_url(inspection)}/import",
            content=b"case_ref,sample_type,key_question,answer\nX000002,case_supervision,2.1.1,no\n",
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        assert [a["case_ref"] for a in (await gateway.get(list_url(inspection))).json()["items"]] == [
            "X000001",
            "X000002",
        ]
    finally:
        for client in (gateway_app.state.rating_engine, gateway_app.state.sampling):
            await client.aclose()
        gateway_app.state.rating_engine, gateway_app.state.sampling = live


# --- listing -----------------------------------------------------------------------------------------


async def _record_some(gateway, inspection) -> None:
    complete = dict.fromkeys(SUPERVISION_QUESTIONS, "yes")
    for ref, answers in [
        ("X000003", complete),
        ("X000001", {**complete, "2.4.3": "no"}),
        ("X000002", {"2.1.1": "yes", "2.1.2": "no", "2.1.3": "yes"}),
    ]:
        assert (await gateway.put(case_url(inspection, ref), json={"answers": answers})).status_code == 201
    for ref, answers in [("U000001", {"3.1.1": "yes", "3.1.2": "yes", "3.1.3": "yes"}), ("U000003", {"3.1.1": "no"})]:
        response = await gateway.put(case_url(inspection, ref, "unpaid_work"), json={"answers": answers})
        assert response.status_code == 201


def refs(response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.text
    return [(a["sample_type"], a["case_ref"]) for a in response.json()["items"]]


async def test_the_list_is_in_sample_type_and_case_order_with_filters(gateway, inspection):
    await _record_some(gateway, inspection)
    url = list_url(inspection)
    listed = await gateway.get(url)
    assert refs(listed) == [
        ("case_supervision", "X000001"),
        ("case_supervision", "X000002"),
        ("case_supervision", "X000003"),
        ("unpaid_work", "U000001"),
        ("unpaid_work", "U000003"),
    ]
    assert listed.json()["next_cursor"] is None
    first = listed.json()["items"][0]
    assert first["answers"]["2.4.3"] == "no" and first["version"] == 1 and first["case_status"] == "selected"

    assert refs(await gateway.get(url, params={"sample_type": "unpaid_work"})) == [
        ("unpaid_work", "U000001"),
        ("unpaid_work", "U000003"),
    ]
    assert refs(await gateway.get(url, params={"complete": "true"})) == [
        ("case_supervision", "X000001"),
        ("case_supervision", "X000003"),
        ("unpaid_work", "U000001"),
    ]
    assert refs(await gateway.get(url, params={"complete": "false"})) == [
        ("case_supervision", "X000002"),
        ("unpaid_work", "U000003"),
    ]
    assert refs(await gateway.get(url, params={"standard": "2.1", "complete": "true"})) == [
        ("case_supervision", "X000001"),
        ("case_supervision", "X000002"),
        ("case_supervision", "X000003"),
    ]
    assert refs(await gateway.get(url, params={"standard": "2.2", "complete": "false"})) == [
        ("case_supervision", "X000002"),
    ]
    unpaid_incomplete = {"standard": "3.1", "complete": "false", "sample_type": "unpaid_work"}
    assert refs(await gateway.get(url, params=unpaid_incomplete)) == [("unpaid_work", "U000003")]


async def test_the_list_pages_with_a_cursor(gateway, inspection):
    await _record_some(gateway, inspection)
    seen: list[tuple[str, str]] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await gateway.get(list_url(inspection), params=params)
        seen += refs(response)
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == refs(await gateway.get(list_url(inspection)))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"cursor": "WyJhIiwiYiIsIm5vdC1hLXV1aWQiXQ"}, "query.cursor"),  # ["a","b","not-a-uuid"]
        ({"sample_type": "court_reports"}, "query.sample_type"),
        ({"standard": "1.1", "complete": "true"}, "query.standard"),
        ({"standard": "9.9", "complete": "true"}, "query.standard"),
        ({"standard": "2.1"}, "query.standard"),
        ({"complete": "perhaps"}, "query.complete"),
        ({"limit": 0}, "query.limit"),
        ({"colour": "red"}, "query.colour"),
    ],
)
async def test_bad_list_parameters_are_refused_by_name(gateway, inspection, params, field):
    problem(await gateway.get(list_url(inspection), params=params), 422, field)


async def test_openapi_declares_the_recording_operations_and_their_problems(gateway):
    spec = (await gateway.get("/openapi.json")).json()
    base = "/api/v1/inspections/{inspection_id}"
    case = f"{base}/samples/{{sample_type}}/cases/{{case_ref}}/assessment"
    expected = {
        ("get", case): ("get_case_assessment", {"404", "422"}),
        ("put", case): ("put_case_assessment", {"201", "404", "409", "412", "422", "428"}),
        ("get", f"{base}/assessments"): ("list_case_assessments", {"404", "422"}),
        ("post", f"{base}/assessments/import"): ("import_case_assessments", {"404", "409", "413", "415", "422"}),
        ("get", f"{base}/judgements"): ("list_judgements", {"404"}),
        ("get", f"{base}/judgements/{{standard_id}}"): ("get_judgement", {"404", "422"}),
        ("put", f"{base}/judgements/{{standard_id}}"): ("put_judgement", {"201", "404", "409", "412", "422", "428"}),
    }
    for (method, path), (operation_id, statuses) in expected.items():
        operation = spec["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["summary"]
        assert statuses <= set(operation["responses"])
    body = spec["paths"][f"{base}/assessments/import"]["post"]["requestBody"]
    assert set(body["content"]) == {"text/csv", "application/json", "multipart/form-data"}
    assert "One row per answer" in body["description"]
    assert spec["components"]["schemas"]["CaseAssessmentWrite"]["examples"]


async def test_a_case_reference_in_the_path_is_never_logged(gateway, inspection):
    with structlog.testing.capture_logs() as logged:
        await gateway.put(case_url(inspection, "X000001"), json={"answers": {"2.1.1": "yes"}})
        await gateway.get(case_url(inspection, "X%20404"))
    lines = [entry for entry in logged if entry["event"] == "request"]
    assert [line["path"] for line in lines] == [
        f"/api/v1/inspections/{inspection.id}/samples/case_supervision/cases/{{case_ref}}/assessment"
    ] * 2
    assert [line["status"] for line in lines] == [201, 404]
    assert "X000001" not in repr(logged) and "X 404" not in repr(logged)


async def test_metrics_count_requests_by_their_path_with_placeholders(gateway, inspection):
    await gateway.get(case_url(inspection, "X000002"))
    metrics = (await gateway.get("/metrics")).text
    template = "/api/v1/inspections/{inspection_id}/samples/{sample_type}/cases/{case_ref}/assessment"
    assert f'http_requests_total{{handler="{template}",method="GET",status="404"}}' in metrics
    assert "X000002" not in metrics and str(inspection.id) not in metrics
