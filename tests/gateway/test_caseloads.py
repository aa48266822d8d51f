"""Caseload frames: uploads as CSV or a form, the columns a sample may take, canonical storage, and every refusal."""

from __future__ import annotations

import gzip
import hashlib

import pytest
from sqlalchemy import func, select

from gateway.caseloads import frames
from gateway.caseloads.models import CaseloadFrame
from inspection_shared.problems import Problem
from tests.conftest import TEST_ADMIN
from tests.gateway.factories import (
    frame_units,
    make_inspection,
    make_region_inspection,
    make_sample,
    make_unit,
    synthetic_frame,
)

PROBLEM = "application/problem+json"
CSV = {"Content-Type": "text/csv"}
SUPERVISION_COLUMNS = ["case_ref", "unit", "gender", "sentence_type", "rosh_level", "start_date"]
FRAME_KEYS = {
    "id", "inspection_id", "sample_type", "columns", "case_count", "fingerprint", "uploaded_at", "uploaded_by",
    "sample_id",
}


def frame_url(inspection, sample_type: str = "case_supervision") -> str:
    return f"/api/v1/inspections/{inspection.id}/frames/{sample_type}"


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields), body
    return body


async def frame_count(db_session, inspection) -> int:
    return await db_session.scalar(
        select(func.count()).select_from(CaseloadFrame).where(CaseloadFrame.inspection_id == inspection.id)
    )


# --- uploads -----------------------------------------------------------------------------------------


async def test_a_csv_frame_is_stored_in_canonical_form_with_its_fingerprint(gateway, db_session):
    inspection = await make_region_inspection(db_session, ("N01", "N02", 'N01, "North"'))
    upload = (
        "\ufeffunit, case_ref ,gender,rosh_level\r\n"
        "N02,X100003,M,high\r\n"
        " n01 ,X100001, F ,\r\n"
        "\r\n"
        '"N01, ""North""",X100002,Male,Very-High\r\n'
    )
    response = await gateway.put(frame_url(inspection), content=upload.encode(), headers=CSV)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == frame_url(inspection)
    canonical = (  # values stored as their codes, units as the tree spells them
        "case_ref,gender,rosh_level,unit\n"
        "X100001,female,,N01\n"
        'X100002,male,very_high,"N01, ""North"""\n'
        "X100003,male,high,N02\n"
    ).encode()
    assert set(body) == FRAME_KEYS
    assert body["inspection_id"] == str(inspection.id)
    assert body["sample_type"] == "case_supervision"
    assert body["columns"] == ["case_ref", "gender", "rosh_level", "unit"]
    assert body["case_count"] == 3
    assert body["fingerprint"] == hashlib.sha256(canonical).hexdigest()
    assert (body["uploaded_by"], body["sample_id"]) == (TEST_ADMIN, None)

    stored = await db_session.scalar(select(CaseloadFrame).where(CaseloadFrame.inspection_id == inspection.id))
    assert gzip.decompress(stored.content) == canonical

    assert (await gateway.get(frame_url(inspection))).json() == body
    listed = await gateway.get(f"/api/v1/inspections/{inspection.id}/frames")
    assert listed.status_code == 200
    assert listed.json() == {"items": [body], "next_cursor": None}


async def test_a_frame_may_be_uploaded_as_a_form(gateway, db_session):
    unit = await make_unit(db_session)
    inspection = await make_inspection(db_session, unit=unit)
    text = synthetic_frame(SUPERVISION_COLUMNS, 25, units=[unit.code])
    response = await gateway.put(frame_url(inspection), files={"frame": ("caseload.csv", text.encode(), "text/csv")})
    assert response.status_code == 201, response.text
    as_body = await make_inspection(db_session, unit=unit)
    same = await gateway.put(frame_url(as_body), content=text.encode(), headers=CSV)
    assert response.json()["fingerprint"] == same.json()["fingerprint"]
    assert response.json()["case_count"] == 25
    assert response.json()["columns"] == sorted(SUPERVISION_COLUMNS)

    named_file = await gateway.put(
        frame_url(inspection, "court_reports"),
        files={"file": ("reports.csv", f"case_ref,unit\nX1,{unit.code}\n".encode(), "text/csv")},
    )
    assert named_file.status_code == 201, named_file.text
    assert named_file.json()["case_count"] == 1


async def test_the_fingerprint_is_the_one_the_sampling_service_gives_the_sample(gateway, db_session):
    inspection = await make_region_inspection(db_session, ('N00, "old" office', 'N01, "old" office'))
    rows = [f'X{n:06d},"N0{n % 2}, ""old"" office",{"MF"[n % 3 == 0]}' for n in range(100001, 100041)]
    upload = "case_ref,unit,gender\n" + "\n".join(reversed(rows)) + "\n"
    frame = (await gateway.put(frame_url(inspection), content=upload.encode(), headers=CSV)).json()
    drawn = await gateway.post(
        f"/api/v1/inspections/{inspection.id}/samples", json={"sample_type": "case_supervision", "size": 8, "seed": 3}
    )
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["frame_fingerprint"] == frame["fingerprint"]
    assert {c["unit"] for c in drawn.json()["selected"]} <= {'N00, "old" office', 'N01, "old" office'}


async def test_columns_the_sample_does_not_need_are_refused_and_named(gateway, db_session):
    inspection = await make_inspection(db_session)
    upload = "case_ref,name,unit,gender,date_of_birth\nX1,Jo Bloggs,N01,M,1990-01-01\n"
    response = await gateway.put(frame_url(inspection), content=upload.encode(), headers=CSV)
    body = assert_problem(response, 422, "name", "date_of_birth")
    assert all(e["line"] == 1 for e in body["errors"])
    assert body["refused_columns"] == ["name", "date_of_birth"]
    assert body["allowed_columns"] == [
        "case_ref", "gender", "rosh_level", "sentence_type", "start_date", "unit",
    ]
    assert "name, date_of_birth" in body["detail"]
    assert "Jo Bloggs" not in response.text
    assert await frame_count(db_session, inspection) == 0


@pytest.mark.parametrize(
    ("framework_id", "sample_type", "allowed"),
    [
        ("probation-crc-2018", "unpaid_work",
         ["case_ref", "gender", "rosh_level", "start_date", "unit", "unpaid_work_requirement"]),
        ("probation-crc-2018", "through_the_gate",
         ["case_ref", "gender", "released_from_custody", "rosh_level", "start_date", "unit"]),
        ("youth-2018", "out_of_court_disposals",
         ["case_ref", "disposal_type", "gender", "looked_after", "start_date", "unit"]),
        ("probation-nps-2018", "victims", ["case_ref", "start_date", "unit"]),
    ],
)
async def test_a_sample_type_takes_its_strata_and_the_attributes_its_case_filters_read(
    gateway, db_session, framework_id, sample_type, allowed
):
    unit_type = {"probation-crc-2018": "crc", "probation-nps-2018": "nps_division", "youth-2018": "yos"}[framework_id]
    inspection = await make_inspection(db_session, unit=await make_unit(db_session, type=unit_type),
                                       framework_id=framework_id)
    refused = await gateway.put(frame_url(inspection, sample_type), content=b"case_ref,postcode\nX1,AB1\n", headers=CSV)
    assert assert_problem(refused, 422, "postcode")["allowed_columns"] == allowed
    accepted = await gateway.put(
        frame_url(inspection, sample_type),
        content=synthetic_frame(allowed, 10, units=await frame_units(db_session, inspection)).encode(),
        headers=CSV,
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["columns"] == allowed


async def test_a_frame_without_case_ref_is_refused(gateway, db_session):
    inspection = await make_inspection(db_session)
    response = await gateway.put(frame_url(inspection), content=b"unit,gender\nN01,M\n", headers=CSV)
    body = assert_problem(response, 422, "case_ref")
    assert body["errors"][0]["message"] == "the frame has no case_ref column"
    assert await frame_count(db_session, inspection) == 0


async def test_a_sample_type_the_framework_does_not_name_is_refused_with_the_valid_ones(gateway, db_session):
    inspection = await make_inspection(db_session)  # probation-pdu-2021
    response = await gateway.put(frame_url(inspection, "victims"), content=b"case_ref\nX1\n", headers=CSV)
    body = assert_problem(response, 422, "path.sample_type")
    assert body["valid_sample_types"] == ["case_supervision", "court_reports"]
    assert "case_supervision, court_reports" in body["detail"]
    malformed = await gateway.put(frame_url(inspection, "Case-Supervision"), content=b"case_ref\nX1\n", headers=CSV)
    assert_problem(malformed, 422, "path.sample_type")
    assert await frame_count(db_session, inspection) == 0


async def test_every_bad_row_is_named_by_line_and_nothing_is_stored(gateway, db_session):
    inspection = await make_region_inspection(db_session, ("N01", "N02"))
    upload = (
        "case_ref,unit,start_date\n"      # 1
        "X1,N01,2025-07-01\n"             # 2
        ",N01,2025-07-02\n"               # 3 missing case_ref
        "X1,N02,2025-07-03\n"             # 4 repeated
        "X2,N01\n"                        # 5 ragged
        "X3,N01,01/07/2025\n"             # 6 not a date
        "X4,N01,2025-02-30\n"             # 7 no such day
        f"X5,{'N' * 65},2025-07-01\n"     # 8 too long
        'X6,"N0\n1",2025-07-01\n'         # 9 line break in a value
        "X7,N\x0101,2025-07-01\n"         # 11 control character
    )
    response = await gateway.put(frame_url(inspection), content=upload.encode(), headers=CSV)
    body = assert_problem(response, 422)
    faults = [(e["line"], e["field"], e["message"]) for e in body["errors"]]
    assert faults == [
        (3, "case_ref", "case_ref is missing"),
        (4, "case_ref", "X1 appears again (first on line 2)"),
        (5, "frame", "has 2 fields; the header has 3"),
        (6, "start_date", "'01/07/2025' is not a date in the form YYYY-MM-DD"),
        (7, "start_date", "'2025-02-30' is not a date in the form YYYY-MM-DD"),
        (8, "unit", "is 65 characters long; at most 64 are accepted"),
        (9, "unit", "holds a line break or a control character"),
        (11, "unit", "holds a line break or a control character"),
    ]
    assert body["detail"].startswith("The frame has 8 faults, the first on line 3")
    assert await frame_count(db_session, inspection) == 0


async def test_only_the_first_faults_are_listed_with_the_count_of_all(gateway, db_session):
    inspection = await make_inspection(db_session)
    [code] = await frame_units(db_session, inspection)
    upload = "case_ref,unit\n" + "".join(f",{code}\n" for _ in range(30))
    body = assert_problem(await gateway.put(frame_url(inspection), content=upload.encode(), headers=CSV), 422)
    assert len(body["errors"]) == frames.MAX_FAULTS
    assert "30 faults" in body["detail"]


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        (b"", "frame", "is empty"),
        (b"case_ref,unit\n", "frame", "has no cases"),
        (b"case_ref,unit\nX1,N\xff01\n", "frame", "not UTF-8 text"),
        (b'case_ref,unit\nX1,"N01\n', "frame", None),
        (b"case_ref,,unit\nX1,,N01\n", "frame", "column 2 of the header has no name"),
        (b"case_ref,unit,unit\nX1,N01,N01\n", "unit", "appears more than once in the header"),
    ],
)
async def test_unreadable_frames_are_refused(gateway, db_session, content, field, message):
    inspection = await make_inspection(db_session)
    body = assert_problem(await gateway.put(frame_url(inspection), content=content, headers=CSV), 422, field)
    if message:
        assert body["errors"][0]["message"] == message
    assert await frame_count(db_session, inspection) == 0


async def test_an_unclosed_quote_is_named_by_its_line(gateway, db_session):
    inspection = await make_inspection(db_session)
    body = assert_problem(
        await gateway.put(frame_url(inspection), content=b'case_ref,unit\nX1,N01\nX2,"N01\n', headers=CSV), 422
    )
    assert body["errors"][0]["line"] == 3
    assert "cannot be read" in body["errors"][0]["message"]


async def test_other_media_types_and_forms_without_a_file_are_refused(gateway, db_session):
    inspection = await make_inspection(db_session)
    as_json = await gateway.put(frame_url(inspection), json=[{"case_ref": "X1"}])
    assert assert_problem(as_json, 415)["detail"] == (
        "Send the frame as text/csv or multipart/form-data, not application/json."
    )
    form_only = await gateway.put(
        frame_url(inspection), content=b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--b--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_problem(form_only, 422, "body.frame")
    assert await frame_count(db_session, inspection) == 0


def test_the_limit_is_the_sampling_services_500_000_cases():
    over = "case_ref\n" + "".join(f"X{n}\n" for n in range(500_001))
    with pytest.raises(Problem) as refused:
        frames.read_frame(over.encode(), ["case_ref"], "case_supervision")
    assert (refused.value.status, refused.value.extensions["limit"]) == (413, 500_000)
    assert refused.value.detail == "The frame holds 500001 cases; at most 500000 are accepted."


async def test_a_frame_above_the_limit_is_413(gateway, db_session, monkeypatch):
    monkeypatch.setattr(frames, "MAX_CASES", 10)
    inspection = await make_inspection(db_session)
    upload = synthetic_frame(["case_ref", "unit"], 11, units=await frame_units(db_session, inspection))
    body = assert_problem(await gateway.put(frame_url(inspection), content=upload.encode(), headers=CSV), 413)
    assert body["detail"] == "The frame holds 11 cases; at most 10 are accepted."
    assert await frame_count(db_session, inspection) == 0
    assert (await gateway.put(frame_url(inspection), content=synthetic_frame(["case_ref"], 10).encode(),
                              headers=CSV)).status_code == 201


async def test_an_upload_above_the_byte_limit_is_413_before_it_is_read(gateway, db_session, body_limits):
    body_limits(max_upload_bytes=100)
    inspection = await make_inspection(db_session)
    upload = synthetic_frame(["case_ref", "unit"], 20, units=["N01"]).encode()
    assert_problem(await gateway.put(frame_url(inspection), content=upload, headers=CSV), 413)
    as_form = await gateway.put(frame_url(inspection), files={"frame": ("f.csv", upload, "text/csv")})
    assert_problem(as_form, 413)


# --- replacing ---------------------------------------------------------------------------------------


async def test_uploading_again_replaces_the_frame_until_a_sample_is_drawn(gateway, db_session):
    inspection = await make_inspection(db_session)
    units = await frame_units(db_session, inspection)
    first = await gateway.put(
        frame_url(inspection), content=synthetic_frame(SUPERVISION_COLUMNS, 30, units=units).encode(), headers=CSV
    )
    assert first.status_code == 201
    second = await gateway.put(
        frame_url(inspection), content=synthetic_frame(["case_ref", "unit", "gender"], 40, seed=2, units=units).encode(),
        headers=CSV,
    )
    assert second.status_code == 200, second.text
    assert "location" not in second.headers
    replaced = second.json()
    assert replaced["id"] == first.json()["id"]
    assert (replaced["case_count"], replaced["columns"]) == (40, ["case_ref", "gender", "unit"])
    assert replaced["fingerprint"] != first.json()["fingerprint"]
    assert await frame_count(db_session, inspection) == 1

    drawn = await gateway.post(
        f"/api/v1/inspections/{inspection.id}/samples", json={"sample_type": "case_supervision", "size": 5}
    )
    assert drawn.status_code == 201, drawn.text
    refused = await gateway.put(
        frame_url(inspection), content=synthetic_frame(SUPERVISION_COLUMNS, 30, units=units).encode(), headers=CSV
    )
    body = assert_problem(refused, 409)
    assert body["sample_id"] == drawn.json()["id"]
    held = (await gateway.get(frame_url(inspection))).json()
    assert held["fingerprint"] == replaced["fingerprint"]
    assert held["sample_id"] == drawn.json()["id"]


# --- phases and reads --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["rating", "published", "withdrawn"])
async def test_frames_are_taken_only_until_fieldwork_ends(gateway, db_session, status):
    inspection = await make_inspection(db_session, status=status)
    body = assert_problem(await gateway.put(frame_url(inspection), content=b"case_ref\nX1\n", headers=CSV), 409)
    assert body["status_of_inspection"] == status
    assert await frame_count(db_session, inspection) == 0


@pytest.mark.parametrize("status", ["planned", "pre_fieldwork", "fieldwork"])
async def test_frames_are_taken_before_and_during_fieldwork(gateway, db_session, status):
    inspection = await make_inspection(db_session, status=status)
    response = await gateway.put(frame_url(inspection), content=b"case_ref\nX1\n", headers=CSV)
    assert response.status_code == 201, response.text


async def test_unknown_inspections_and_frames_are_404(gateway, db_session):
    missing = "/api/v1/inspections/00000000-0000-0000-0000-000000000000"
    assert_problem(await gateway.put(f"{missing}/frames/case_supervision", content=b"case_ref\nX1\n", headers=CSV), 404)
    assert_problem(await gateway.get(f"{missing}/frames"), 404)
    inspection = await make_inspection(db_session)
    assert_problem(await gateway.get(frame_url(inspection)), 404)
    listed = await gateway.get(f"/api/v1/inspections/{inspection.id}/frames")
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_the_frame_list_shows_each_frame_and_its_sample_never_its_cases(gateway, db_session):
    inspection = await make_inspection(db_session)
    sample = await make_sample(gateway, inspection)
    [code] = await frame_units(db_session, inspection)
    await gateway.put(frame_url(inspection, "court_reports"), content=f"case_ref,unit\nX900001,{code}\n".encode(),
                      headers=CSV)
    listed = (await gateway.get(f"/api/v1/inspections/{inspection.id}/frames")).json()
    assert [(f["sample_type"], f["sample_id"]) for f in listed["items"]] == [
        ("case_supervision", sample["id"]),
        ("court_reports", None),
    ]
    assert all(set(f) == FRAME_KEYS for f in listed["items"])
    assert "X100001" not in str(listed) and "X900001" not in str(listed)
