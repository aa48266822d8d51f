"""Bulk import of case answers: CSV and JSON, all or nothing, every fault named by line or index, and
repeatable."""

from __future__ import annotations

import json

import pytest

from tests.conftest import TEST_ADMIN
from tests.gateway.factories import make_inspection, make_sampled_cases
from tests.gateway.test_assessments import (
    SUPERVISION_QUESTIONS,
    case_url,
    crc_inspection,
    list_url,
    problem,
    set_status,
)

HEADER = "case_ref,sample_type,key_question,answer"


def csv_file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def import_url(inspection) -> str:
    return f"{list_url(inspection)}/import"


async def post_csv(gateway, inspection, content: bytes):
    headers = {"Content-Type": "text/csv; charset=utf-8"}
    return await gateway.post(import_url(inspection), content=content, headers=headers)


async def held(gateway, inspection) -> dict[tuple[str, str], dict]:
    body = (await gateway.get(list_url(inspection), params={"limit": 500})).json()
    return {(a["sample_type"], a["case_ref"]): a for a in body["items"]}


def counts(response) -> tuple[int, int, int, int, int]:
    assert response.status_code == 200, response.text
    report = response.json()
    return report["cases"], report["answers"], report["created"], report["updated"], report["unchanged"]


def faults(body: dict) -> list[tuple]:
    return [(e.get("line", e.get("index")), e["field"], e["message"]) for e in body["errors"]]


@pytest.fixture
async def inspection(db_session):
    return await crc_inspection(db_session)


SAMPLE_FILE = csv_file(
    f"{HEADER},unpaid_work_requirement,evidence_note",
    "X000001,case_supervision,2.1.1,yes,,Assessment of 3 March",
    "X000001,case_supervision,2.1.2,No,,",
    "X000001,case_supervision,2.1.3,not_applicable,,Assessment of 3 March",
    "X000002,case_supervision,2.1.1,no,,",
    "",
    "U000001,unpaid_work,3.1.1,yes,true,",
    "U000001,unpaid_work,3.1.2,yes,,",
    "U000003,unpaid_work,,,false,Placement closed early",
)


async def test_a_csv_import_records_every_case(gateway, inspection):
    assert counts(await post_csv(gateway, inspection, SAMPLE_FILE)) == (4, 6, 4, 0, 0)

    cases = await held(gateway, inspection)
    assert sorted(cases) == [
        ("case_supervision", "X000001"),
        ("case_supervision", "X000002"),
        ("unpaid_work", "U000001"),
        ("unpaid_work", "U000003"),
    ]
    first = cases[("case_supervision", "X000001")]
    assert first["answers"] == {"2.1.1": "yes", "2.1.2": "no", "2.1.3": "not_applicable"}
    assert (first["evidence_note"], first["attributes"], first["version"]) == ("Assessment of 3 March", {}, 1)
    assert first["created_by"] == TEST_ADMIN
    unpaid = cases[("unpaid_work", "U000001")]
    assert unpaid["answers"] == {"3.1.1": "yes", "3.1.2": "yes"}
    assert unpaid["attributes"] == {"unpaid_work_requirement": True}
    reserve = cases[("unpaid_work", "U000003")]
    assert (reserve["answers"], reserve["attributes"]) == ({}, {"unpaid_work_requirement": False})
    assert (reserve["evidence_note"], reserve["case_status"]) == ("Placement closed early", "reserve_used")

    read = await gateway.get(case_url(inspection, "X000001"))
    assert read.headers["etag"] == '"1"'


async def test_importing_the_same_file_again_changes_nothing(gateway, inspection):
    await post_csv(gateway, inspection, SAMPLE_FILE)
    before = await held(gateway, inspection)
    assert counts(await post_csv(gateway, inspection, SAMPLE_FILE)) == (4, 6, 0, 0, 4)
    assert await held(gateway, inspection) == before


async def test_a_changed_import_updates_what_it_gives_and_keeps_the_rest(gateway, inspection):
    await post_csv(gateway, inspection, SAMPLE_FILE)
    changed = csv_file(
        f"{HEADER},evidence_note",
        "X000001,case_supervision,2.1.2,yes,",  # changed
        "X000001,case_supervision,2.2.1,no,",  # added
        "X000002,case_supervision,2.1.1,no,",  # as held
        "X000002,case_supervision,2.1.1,no,",
    )
    body = problem(await post_csv(gateway, inspection, changed), 422)
    assert faults(body) == [(5, "key_question", "2.1.1 is also answered for this case on line 4")]

    changed = changed.rsplit(b"\n", 2)[0] + b"\n"
    assert counts(await post_csv(gateway, inspection, changed)) == (2, 3, 0, 1, 1)
    cases = await held(gateway, inspection)
    first = cases[("case_supervision", "X000001")]
    assert first["answers"] == {"2.1.1": "yes", "2.1.2": "yes", "2.1.3": "not_applicable", "2.2.1": "no"}
    assert (first["evidence_note"], first["version"]) == ("Assessment of 3 March", 2)
    assert cases[("case_supervision", "X000002")]["version"] == 1
    assert (await gateway.get(case_url(inspection, "X000001"))).headers["etag"] == '"2"'


async def test_an_import_updates_assessments_recorded_one_by_one(gateway, inspection):
    await gateway.put(case_url(inspection, "X000003"), json={"answers": {"2.4.1": "yes"}, "evidence_note": "kept"})
    assert counts(await post_csv(gateway, inspection, csv_file(HEADER, "X000003,case_supervision,2.4.2,no"))) == (
        1,
        1,
        0,
        1,
        0,
    )
    read = (await gateway.get(case_url(inspection, "X000003"))).json()
    assert (read["answers"], read["evidence_note"], read["version"]) == ({"2.4.1": "yes", "2.4.2": "no"}, "kept", 2)


async def test_a_json_import_records_case_assessments(gateway, inspection):
    items = [
        {"case_ref": "X000004", "sample_type": "case_supervision", "answers": {"2.3.1": "yes", "2.3.2": "no"}},
        {
            "case_ref": "U000001",
            "sample_type": "unpaid_work",
            "answers": {"3.1.3": "not_applicable"},
            "attributes": {"unpaid_work_requirement": True},
            "evidence_note": "Site visit",
        },
    ]
    assert counts(await gateway.post(import_url(inspection), json=items)) == (2, 3, 2, 0, 0)
    cases = await held(gateway, inspection)
    assert cases[("case_supervision", "X000004")]["answers"] == {"2.3.1": "yes", "2.3.2": "no"}
    assert cases[("unpaid_work", "U000001")]["evidence_note"] == "Site visit"

    # A note left out is kept; null clears it.
    assert counts(await gateway.post(import_url(inspection), json=[{**items[1], "evidence_note": None}])) == (
        1,
        1,
        0,
        1,
        0,
    )
    assert (await held(gateway, inspection))[("unpaid_work", "U000001")]["evidence_note"] is None
    items[1].pop("evidence_note")
    assert counts(await gateway.post(import_url(inspection), json=items)) == (2, 3, 0, 0, 2)


async def test_a_file_may_be_uploaded_as_a_form(gateway, inspection):
    response = await gateway.post(import_url(inspection), files={"file": ("answers.csv", SAMPLE_FILE, "text/csv")})
    assert counts(response) == (4, 6, 4, 0, 0)
    items = [{"case_ref": "X000005", "sample_type": "case_supervision", "answers": {"2.1.1": "yes"}}]
    response = await gateway.post(
        import_url(inspection), files={"file": ("answers.json", json.dumps(items).encode(), "application/octet-stream")}
    )
    assert counts(response) == (1, 1, 1, 0, 0)


async def test_one_bad_row_among_many_and_nothing_is_written(gateway, inspection):
    await gateway.put(case_url(inspection, "X000001"), json={"answers": {"2.1.1": "no"}})
    lines = [HEADER] + [
        f"{ref},case_supervision,{kq},yes" for ref in ("X000001", "X000002", "X000003") for kq in SUPERVISION_QUESTIONS
    ]
    lines.insert(30, "X000004,case_supervision,2.1.1,perhaps")
    body = problem(await post_csv(gateway, inspection, csv_file(*lines)), 422)
    assert faults(body) == [(31, "answer", "'perhaps' is not one of yes, no, not_applicable")]
    assert body["error_count"] == 1
    assert body["detail"] == "Nothing was imported: 1 fault in the import."

    cases = await held(gateway, inspection)
    assert list(cases) == [("case_supervision", "X000001")]
    assert (cases[("case_supervision", "X000001")]["answers"], cases[("case_supervision", "X000001")]["version"]) == (
        {"2.1.1": "no"},
        1,
    )


async def test_every_fault_is_named_by_line_and_column(gateway, inspection):
    content = csv_file(
        f"{HEADER},unpaid_work_requirement,evidence_note",
        "X000001,case_supervision,2.1.1,yes,,",  # 2: fine
        "X000001,case_supervision,2.9.1,yes,,",  # 3: unknown key question
        "X000001,case_supervision,3.1.1,yes,,",  # 4: key question of another sample
        "X000001,case_supervision,2.1.2,maybe,,",  # 5: bad answer
        "X000001,case_supervision,2.1.3,yes,true,",  # 6: attribute no case supervision filter reads
        "U000001,unpaid_work,3.1.1,yes,perhaps,",  # 7: attribute of the wrong kind
        "U000002,unpaid_work,3.1.1,yes,,",  # 8: replaced case
        "Z999999,case_supervision,2.1.1,yes,,",  # 9: not in the sample
        "X000001,through_the_gate,3.2.1,yes,,",  # 10: no such sample drawn
        "X000001,court_reports,2.1.1,yes,,",  # 11: no such sample type in the framework
        ",case_supervision,2.1.1,yes,,",  # 12: no case reference
        "X000002,case_supervision,2.1.1,,,",  # 13: key question without an answer
        "X000002,case_supervision,,yes,,",  # 14: answer without a key question
        "X000003,case_supervision,2.1.1,yes,,first note",  # 15: fine
        "X000003,case_supervision,2.1.2,yes,,second note",  # 16: disagrees with line 15
        "X000004,case_supervision,2.1.1,yes,,x" + "x" * 1000,  # 17: note too long
        "X000005,case_supervision,2.1.1,yes,,,extra",  # 18: more cells than columns
    )
    body = problem(await post_csv(gateway, inspection, content), 422)
    assert faults(body) == [
        (3, "key_question", "no case-based key question 2.9.1 in framework probation-crc-2018"),
        (
            4,
            "key_question",
            "3.1.1 belongs to standard 3.1 (Unpaid work), assessed on the unpaid_work sample, not the "
            "case_supervision sample",
        ),
        (5, "answer", "'maybe' is not one of yes, no, not_applicable"),
        (
            6,
            "unpaid_work_requirement",
            "unpaid_work_requirement is not a case attribute the case filters of the case_supervision standards "
            "read (they read: none); no other case data is recorded",
        ),
        (7, "unpaid_work_requirement", "'perhaps': expected true or false"),
        (8, "case_ref", "case U000002 was replaced in the unpaid_work sample and can no longer be assessed"),
        (9, "case_ref", "case Z999999 is not in the case_supervision sample"),
        (10, "case_ref", "no through_the_gate sample has been drawn for this inspection"),
        (
            11,
            "sample_type",
            "no sample type court_reports in framework probation-crc-2018; it names case_supervision, "
            "through_the_gate, unpaid_work",
        ),
        (12, "case_ref", "required"),
        (13, "answer", "required with a key question: yes, no, not_applicable"),
        (14, "key_question", "required with an answer"),
        (16, "evidence_note", "differs from the note given on line 15"),
        (17, "evidence_note", "at most 1000 characters (1001 given)"),
        (18, "row", "7 cells, but the header names 6 columns"),
    ]
    assert body["error_count"] == 15
    assert {e.get("case_ref") for e in body["errors"] if e["line"] in (3, 8, 9)} == {"X000001", "U000002", "Z999999"}
    assert await held(gateway, inspection) == {}


async def test_a_case_not_in_the_sample_is_named_on_each_of_its_lines(gateway, inspection):
    content = csv_file(
        HEADER, "Z1,case_supervision,2.1.1,yes", "X000001,case_supervision,2.1.1,yes", "Z1,case_supervision,2.1.2,no"
    )
    body = problem(await post_csv(gateway, inspection, content), 422)
    assert [(line, field) for line, field, _ in faults(body)] == [(2, "case_ref"), (4, "case_ref")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            f"{HEADER},gender",
            [
                (
                    1,
                    "gender",
                    "not an assessment column nor a case attribute the framework's case filters read; expected "
                    "case_ref, sample_type, key_question, answer, evidence_note, released_from_custody, "
                    "unpaid_work_requirement",
                )
            ],
        ),
        ("case_ref,sample_type,answer", [(1, "key_question", "required column is missing")]),
        (f"{HEADER},answer", [(1, "answer", "column appears more than once")]),
    ],
)
async def test_a_header_naming_other_columns_is_refused(gateway, inspection, header, expected):
    body = problem(await post_csv(gateway, inspection, csv_file(header, "X000001,case_supervision,2.1.1,yes")), 422)
    assert faults(body) == expected
    assert await held(gateway, inspection) == {}


async def test_json_faults_are_named_by_index_and_path(gateway, inspection):
    items = [
        {"case_ref": "X000001", "sample_type": "case_supervision", "answers": {"2.1.1": "yes"}},
        {"case_ref": "X000002", "sample_type": "case_supervision", "answers": {"2.1.1": "maybe"}},
        {"case_ref": "X000003", "sample_type": "case_supervision", "answers": {"3.1.1": "yes"}, "name": "A Person"},
        {"case_ref": "X000004", "sample_type": "case_supervision", "attributes": {"gender": "male"}},
        {"case_ref": "X000001", "sample_type": "case_supervision", "answers": {"2.1.2": "yes"}},
        {"case_ref": "Z999999", "sample_type": "case_supervision", "answers": {"2.1.2": "yes"}},
        {"case_ref": "X000005", "sample_type": "court_reports"},
        "X000005",
        {"case_ref": "X000005", "sample_type": "case_supervision", "answers": {"3.1.1": "yes"}},
    ]
    body = problem(await gateway.post(import_url(inspection), json=items), 422)
    listed = [(e["index"], e["field"]) for e in body["errors"]]
    assert listed == [
        (1, "body.1.answers.2.1.1"),
        (2, "body.2.name"),
        (3, "body.3.attributes.gender"),
        (4, "body.4.case_ref"),
        (5, "body.5.case_ref"),
        (6, "body.6.sample_type"),
        (7, "body.7"),
        (8, "body.8.answers.3.1.1"),
    ]
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["body.2.name"] == "not a field of a case assessment"
    assert messages["body.4.case_ref"] == "case X000001 is also on item 0"
    assert messages["body.5.case_ref"] == "case Z999999 is not in the case_supervision sample"
    assert await held(gateway, inspection) == {}


async def test_ten_thousand_answers_import_in_one_request(gateway, db_session):
    inspection = await make_inspection(db_session, framework_id="probation-crc-2018", status="fieldwork")
    refs = [f"B{n:06d}" for n in range(1000)]
    await make_sampled_cases(db_session, inspection, "case_supervision", refs)
    questions = SUPERVISION_QUESTIONS[:10]
    answers = ("yes", "no", "not_applicable")
    lines = [
        f"{ref},case_supervision,{kq},{answers[(i + j) % 3]}"
        for i, ref in enumerate(refs)
        for j, kq in enumerate(questions)
    ]
    content = csv_file(HEADER, *lines)

    assert counts(await post_csv(gateway, inspection, content)) == (1000, 10_000, 1000, 0, 0)
    assert counts(await post_csv(gateway, inspection, content)) == (1000, 10_000, 0, 0, 1000)
    page = (await gateway.get(list_url(inspection), params={"limit": 2})).json()
    assert [a["case_ref"] for a in page["items"]] == ["B000000", "B000001"]
    assert page["items"][1]["answers"] == {kq: answers[(1 + j) % 3] for j, kq in enumerate(questions)}
    assert page["items"][1]["unanswered"] == ["2.4.2", "2.4.3"]
    params = {"standard": "2.3", "complete": "true", "limit": 500}
    complete = (await gateway.get(list_url(inspection), params=params)).json()
    assert len(complete["items"]) == 500 and complete["next_cursor"] is not None

    # The last answer of every case changed: every case updated, in the same few statements.
    changed = csv_file(
        HEADER, *[line.rsplit(",", 1)[0] + ",yes" if line.split(",")[2] == "2.4.1" else line for line in lines]
    )
    report = counts(await post_csv(gateway, inspection, changed))
    expected_updates = sum(1 for i in range(1000) if answers[(i + 9) % 3] != "yes")
    assert report == (1000, 10_000, 0, expected_updates, 1000 - expected_updates)


@pytest.mark.parametrize(
    ("content", "content_type", "status", "field", "message"),
    [
        (b"", "text/csv", 422, "header", "no header line"),
        (csv_file(HEADER), "text/csv", 422, "body", "no rows after the header"),
        (b"\xff\xfe,,", "text/csv", 422, "body", "not UTF-8: byte 0 cannot be decoded"),
        (b"[{", "application/json", 422, "body", None),
        (b"{}", "application/json", 422, "body", "expected an array of case assessments"),
        (b"[]", "application/json", 422, "body", "empty array"),
        (b"case_ref", "application/xml", 415, None, None),
        (b'case_ref,sample_type,key_question,answer\n"X1,case_supervision', "text/csv", 422, "row", None),
    ],
)
async def test_unreadable_uploads_are_refused(gateway, inspection, content, content_type, status, field, message):
    body = problem(
        await gateway.post(import_url(inspection), content=content, headers={"Content-Type": content_type}), status
    )
    if field is not None:
        assert body["errors"][0]["field"] == field
    if message is not None:
        assert body["errors"][0]["message"] == message


async def test_a_form_without_a_file_is_refused(gateway, inspection):
    response = await gateway.post(import_url(inspection), files={"answers": ("answers.csv", SAMPLE_FILE, "text/csv")})
    problem(response, 422, "body.file")
    assert await held(gateway, inspection) == {}


async def test_an_oversized_upload_is_413(gateway, inspection, body_limits):
    body_limits(max_upload_bytes=4096)
    big = b"x" * 4097
    body = problem(await gateway.post(import_url(inspection), content=big, headers={"Content-Type": "text/csv"}), 413)
    assert body["limit"] == 4096


@pytest.mark.parametrize("status", ["pre_fieldwork", "published", "withdrawn"])
async def test_imports_are_refused_outside_fieldwork_and_rating(gateway, db_session, inspection, status):
    await set_status(db_session, inspection, status)
    body = problem(await post_csv(gateway, inspection, SAMPLE_FILE), 409)
    assert body["status_of_inspection"] == status
    assert await held(gateway, inspection) == {}


async def test_an_import_into_an_unknown_inspection_is_404(gateway):
    url = "/api/v1/inspections/00000000-0000-4000-8000-000000000000/assessments/import"
    problem(await gateway.post(url, content=SAMPLE_FILE, headers={"Content-Type": "text/csv"}), 404)


async def test_youth_disposal_types_import_as_codes(gateway, db_session):
    inspection = await make_inspection(db_session, framework_id="youth-2021", status="fieldwork")
    await make_sampled_cases(db_session, inspection, "out_of_court_disposals", ["Y1", "Y2"])
    content = csv_file(
        f"{HEADER},disposal_type",
        "Y1,out_of_court_disposals,3.1.1,yes,youth_caution",
        "Y2,out_of_court_disposals,3.1.1,yes,Youth Caution",
    )
    body = problem(await post_csv(gateway, inspection, content), 422)
    assert faults(body) == [
        (
            3,
            "disposal_type",
            "'Youth Caution': expected a code of lower-case letters, digits and '_', at most 64 characters "
            "(such as youth_caution)",
        )
    ]
    assert counts(await post_csv(gateway, inspection, content.rsplit(b"\n", 2)[0] + b"\n")) == (1, 1, 1, 0, 0)
    assert (await held(gateway, inspection))[("out_of_court_disposals", "Y1")]["attributes"] == {
        "disposal_type": "youth_caution"
    }
