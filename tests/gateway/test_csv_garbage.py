"""The gateway's CSV uploads (caseload frames, case answers, units): whatever the bytes, an answer or a
problem naming the fault, never a 500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gateway.factories import make_inspection
from tests.gateway.test_assessments import crc_inspection

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
CSV = {"Content-Type": "text/csv; charset=utf-8"}


def near_csv(header: str) -> st.SearchStrategy[bytes]:
    """Bytes that are CSV, nearly CSV, or not at all: a real header over rows of awkward text, or anything."""
    rows = st.lists(st.text(alphabet='X0123N,"\r\n ;yesno_.-é\x00\ufeff', max_size=40), max_size=6)
    return (
        rows.map(lambda lines: "\n".join([header, *lines]).encode())
        | rows.map(lambda lines: "\r\n".join(lines).encode("utf-16"))
        | st.binary(max_size=160)
    )


def assert_answered(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


@SETTINGS
@given(near_csv("case_ref,unit,gender,sentence_type,rosh_level,start_date"))
async def test_a_caseload_frame_of_any_bytes_is_never_a_500(gateway, db_session, content):
    inspection = await make_inspection(db_session)
    assert_answered(
        await gateway.put(f"/api/v1/inspections/{inspection.id}/frames/case_supervision", content=content, headers=CSV)
    )


@SETTINGS
@given(near_csv("case_ref,sample_type,key_question,answer,unpaid_work_requirement,evidence_note"))
async def test_case_answers_of_any_bytes_are_never_a_500(gateway, db_session, content):
    inspection = await crc_inspection(db_session)
    assert_answered(
        await gateway.post(f"/api/v1/inspections/{inspection.id}/assessments/import", content=content, headers=CSV)
    )


@SETTINGS
@given(near_csv("code,name,type,nation,parent_code,valid_from,valid_to,caseload_size,synthetic"))
async def test_units_of_any_bytes_are_never_a_500(gateway, content):
    assert_answered(await gateway.post("/api/v1/units/import", content=content, headers=CSV))
