"""Consultations on the programme: a consultation with its recipients by group and questions by section,
responses recorded with late ones flagged at the deadline, topics a response names linked to it, and the
summary as JSON and CSV, the same figures both ways. Contact details are personal data: shown to staff,
never in a summary, its CSV, the audit log or the logs; readers reach nothing."""

from __future__ import annotations

import csv
import io
import logging
import uuid

import pytest
from structlog.testing import capture_logs

from gateway.permissions import Role
from tests.conftest import TEST_ADMIN_ID
from tests.gateway.test_scoping import holding

CONSULTATIONS = "/api/v1/consultations"
MINISTER_EMAIL = "Minister.Private@Justice.example"
RESPONDENT_PHONE = "+44 161 000 0000 ext. 12"
RESPONDENT_ADDRESS = "1 Respondent Row, Manchester"
CONTACTS = (MINISTER_EMAIL, RESPONDENT_PHONE, RESPONDENT_ADDRESS)

QUESTIONS = [
    {"key": "core-1", "section": "core_inspections", "text": "Should each PDU be inspected with its own sample?"},
    {"key": "thematic-1", "section": "thematic_inspections", "text": "Which thematic inspections should we do?"},
    {"key": "research-1", "section": "research", "text": "Which research should we take on?"},
]
LETTER = {
    "title": "Our programme of inspections 2021-22",
    "programme_years": ["2021-22"],
    "opens": "2020-12-01", "closes": "2021-02-28", "deadline": "2021-01-31",
    "recipients": [
        {"name": "Minister of State", "organisation": "Ministry of Justice", "group": "ministers",
         "contact_details": {"email": MINISTER_EMAIL}},
        {"name": "HM Chief Inspector of Prisons", "group": "chief_inspectors"},
        {"name": "Chief Officer", "organisation": "A youth offending service", "group": "inspected"},
        {"name": "Director", "organisation": "A reform charity", "group": "interested_parties",
         "contact_details": {"telephone": "020 0000 0000", "address": "2 Charity Lane"}},
    ],
    "questions": QUESTIONS,
}


async def _open(gateway, **changes) -> dict:
    made = await gateway.post(CONSULTATIONS, json={**LETTER, **changes})
    assert made.status_code == 201, made.text
    return made.json()


async def _respond(gateway, consultation: dict, **fields) -> dict:
    body = {"respondent_name": "A respondent", "group": "inspected", "question": "core-1", "text": "Yes.",
            "received_on": "2021-01-15", **fields}
    made = await gateway.post(f"{CONSULTATIONS}/{consultation['id']}/responses", json=body)
    assert made.status_code == 201, made.text
    return made.json()


async def _topics(gateway, n: int) -> list[dict]:
    """Topics of the letter's 2021-22 candidates, as seeded, by name."""
    listed = (await gateway.get("/api/v1/programme/topics", params={"programme_year": "2021-22", "limit": 200}))
    return sorted(listed.json()["items"], key=lambda t: t["name"])[:n]


async def test_a_consultation_is_opened_with_recipients_by_group_and_questions_by_section(gateway):
    made = await gateway.post(CONSULTATIONS, json=LETTER)
    assert made.status_code == 201, made.text
    body = made.json()
    assert made.headers["location"] == f"{CONSULTATIONS}/{body['id']}"
    assert made.headers["etag"] == f'"{body["version"]}"'
    assert (body["title"], body["programme_years"], body["opens"], body["closes"], body["deadline"]) == (
        LETTER["title"], ["2021-22"], "2020-12-01", "2021-02-28", "2021-01-31")
    assert [(r["name"], r["organisation"], r["group"], r["audience"]) for r in body["recipients"]] == [
        ("Minister of State", "Ministry of Justice", "ministers", "statutory"),
        ("HM Chief Inspector of Prisons", None, "chief_inspectors", "statutory"),
        ("Chief Officer", "A youth offending service", "inspected", "extended"),
        ("Director", "A reform charity", "interested_parties", "extended"),
    ]
    # Stored only as given: the fields sent, unchanged (not lower-cased), none added.
    assert [r["contact_details"] for r in body["recipients"]] == [
        {"email": MINISTER_EMAIL, "telephone": None, "address": None}, None, None,
        {"email": None, "telephone": "020 0000 0000", "address": "2 Charity Lane"},
    ]
    assert body["questions"] == QUESTIONS
    assert (body["created_by"], body["updated_by"]) == (str(TEST_ADMIN_ID), str(TEST_ADMIN_ID))
    held = await gateway.get(made.headers["location"])
    assert held.json() == body
    listed = (await gateway.get(CONSULTATIONS)).json()
    assert [c["id"] for c in listed["items"]] == [body["id"]]
    audit = (await gateway.get("/api/v1/audit", params={"entity": "consultation_recipients"})).json()["items"]
    assert sorted(e["after"]["contact_details"] or "" for e in audit) == ["", "", "[masked]", "[masked]"]


async def test_consultations_are_listed_latest_to_open_first_a_page_at_a_time(gateway):
    for opens in ("2019-12-01", "2021-12-01", "2020-12-01"):
        await _open(gateway, title=f"Opens {opens}", opens=opens, deadline=opens, closes=opens)
    first = (await gateway.get(CONSULTATIONS, params={"limit": 2})).json()
    rest = (await gateway.get(CONSULTATIONS, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [c["opens"] for c in first["items"] + rest["items"]] == ["2021-12-01", "2020-12-01", "2019-12-01"]
    assert rest["next_cursor"] is None


async def test_bad_consultations_are_refused_naming_the_field_and_nothing_is_written(gateway):
    recipient = LETTER["recipients"][0]
    cases = [
        ({"deadline": "2020-11-30"}, "body.deadline", "2020-11-30 is before the consultation opens on 2020-12-01"),
        ({"closes": "2021-01-30"}, "body.closes", "2021-01-30 is before the deadline, 2021-01-31"),
        ({"recipients": [{**recipient, "group": "press"}]}, "body.recipients.0.group", None),
        ({"recipients": [{**recipient, "contact_details": {}}]}, "body.recipients.0.contact_details", None),
        ({"recipients": [{**recipient, "contact_details": {"fax": "1"}}]},
         "body.recipients.0.contact_details.fax", None),
        ({"questions": [{**QUESTIONS[0], "section": "custody"}]}, "body.questions.0.section", None),
        ({"questions": [QUESTIONS[0], {**QUESTIONS[1], "key": "core-1"}]}, "body.questions[1].key",
         "core-1 names two questions"),
        ({"questions": []}, "body.questions", None),
        ({"programme_years": ["2021-23"]}, "body.programme_years.0", None),
        ({"programme_years": ["2021-22", "2021-22"]}, "body.programme_years", None),
        ({"opens": "1 December 2020"}, "body.opens", None),
        ({"status": "open"}, "body.status", None),
    ]
    for change, field, message in cases:
        refused = await gateway.post(CONSULTATIONS, json={**LETTER, **change})
        assert refused.status_code == 422, change
        error = refused.json()["errors"][0]
        assert error["field"] == field, (change, error)
        assert message is None or error["message"] == message
    assert (await gateway.get(CONSULTATIONS)).json()["items"] == []


async def test_responses_on_the_deadline_are_on_time_and_after_it_late(gateway):
    consultation = await _open(gateway)
    on_time = await _respond(gateway, consultation, received_on="2021-01-31")
    late = await _respond(gateway, consultation, received_on="2021-02-01", respondent_name="Late")
    first_day = await _respond(gateway, consultation, received_on="2020-12-01")
    assert (on_time["late"], late["late"], first_day["late"]) == (False, True, False)
    path = f"{CONSULTATIONS}/{consultation['id']}/responses"
    listed = (await gateway.get(path)).json()["items"]
    assert [(r["received_on"], r["late"]) for r in listed] == [
        ("2020-12-01", False), ("2021-01-31", False), ("2021-02-01", True)]
    assert [r["id"] for r in (await gateway.get(path, params={"late": "true"})).json()["items"]] == [late["id"]]
    assert len((await gateway.get(path, params={"late": "false"})).json()["items"]) == 2
    held = await gateway.get(f"{path}/{late['id']}")
    assert held.json() == late
    # Moving the deadline moves the flags: the day after the old deadline is now on time.
    current = await gateway.get(f"{CONSULTATIONS}/{consultation['id']}")
    moved = await gateway.patch(f"{CONSULTATIONS}/{consultation['id']}", json={"deadline": "2021-02-01"},
                                headers={"If-Match": current.headers["etag"]})
    assert moved.status_code == 200, moved.text
    assert (await gateway.get(f"{path}/{late['id']}")).json()["late"] is False


async def test_a_response_is_recorded_with_its_topics_and_contact_details_for_staff(gateway):
    consultation = await _open(gateway)
    topics = await _topics(gateway, 2)
    made = await gateway.post(f"{CONSULTATIONS}/{consultation['id']}/responses", json={
        "respondent_name": "R. Esponder", "respondent_organisation": "A probation service", "group": "inspected",
        "question": "thematic-1", "text": "Please inspect services for women.", "received_on": "2021-01-20",
        "topic_ids": [topics[1]["id"], topics[0]["id"]], "contact_details": {"telephone": RESPONDENT_PHONE},
    })
    assert made.status_code == 201, made.text
    body = made.json()
    assert made.headers["location"] == f"{CONSULTATIONS}/{consultation['id']}/responses/{body['id']}"
    assert {k: body[k] for k in ("respondent_name", "respondent_organisation", "group", "audience", "question",
                                 "section", "text", "received_on", "late", "created_by")} == {
        "respondent_name": "R. Esponder", "respondent_organisation": "A probation service", "group": "inspected",
        "audience": "extended", "question": "thematic-1", "section": "thematic_inspections",
        "text": "Please inspect services for women.", "received_on": "2021-01-20", "late": False,
        "created_by": str(TEST_ADMIN_ID),
    }
    assert body["topics"] == [{"id": t["id"], "name": t["name"]} for t in topics]
    assert body["contact_details"] == {"email": None, "telephone": RESPONDENT_PHONE, "address": None}
    by_question = await gateway.get(f"{CONSULTATIONS}/{consultation['id']}/responses",
                                    params={"question": "thematic-1", "group": "inspected"})
    assert [r["id"] for r in by_question.json()["items"]] == [body["id"]]
    other = await gateway.get(f"{CONSULTATIONS}/{consultation['id']}/responses", params={"group": "ministers"})
    assert other.json()["items"] == []


async def test_bad_responses_are_refused_naming_the_field_and_nothing_is_written(gateway):
    consultation = await _open(gateway)
    topic = (await _topics(gateway, 1))[0]
    nonesuch = uuid.uuid4()
    base = {"respondent_name": "A", "group": "inspected", "question": "core-1", "text": "Yes.",
            "received_on": "2021-01-15"}
    cases = [
        ({"question": "core-9"}, "body.question", "the consultation puts no question core-9"),
        ({"topic_ids": [topic["id"], str(nonesuch)]}, "body.topic_ids[1]", f"no programme topic {nonesuch}"),
        ({"received_on": "2020-11-30"}, "body.received_on",
         "2020-11-30 is before the consultation opened on 2020-12-01"),
        ({"received_on": "2099-01-04"}, "body.received_on",
         "2099-01-04 is in the future: a response is recorded once received"),
        ({"group": "public"}, "body.group", None),
        ({"topic_ids": [topic["id"], topic["id"]]}, "body.topic_ids", None),
        ({"text": " "}, "body.text", None),
        ({"email": "x@example.org"}, "body.email", None),
    ]
    path = f"{CONSULTATIONS}/{consultation['id']}/responses"
    for change, field, message in cases:
        refused = await gateway.post(path, json={**base, **change})
        assert refused.status_code == 422, change
        error = refused.json()["errors"][0]
        assert error["field"] == field, (change, error)
        assert message is None or error["message"] == message
    assert (await gateway.get(path)).json()["items"] == []
    missing = await gateway.post(f"{CONSULTATIONS}/{nonesuch}/responses", json=base)
    assert (missing.status_code, missing.json()["detail"]) == (404, f"No consultation {nonesuch}")
    response = await _respond(gateway, consultation)
    elsewhere = await _open(gateway, title="Another")
    wrong = await gateway.get(f"{CONSULTATIONS}/{elsewhere['id']}/responses/{response['id']}")
    assert wrong.status_code == 404


async def test_a_consultation_changes_with_if_match_and_keeps_its_period_in_order(gateway):
    consultation = await _open(gateway)
    path = f"{CONSULTATIONS}/{consultation['id']}"
    held = await gateway.get(path)
    assert (await gateway.patch(path, json={"title": "Renamed"})).status_code == 428
    backwards = await gateway.patch(path, json={"deadline": "2020-11-01"}, headers={"If-Match": held.headers["etag"]})
    assert (backwards.status_code, backwards.json()["errors"][0]["field"]) == (422, "body.deadline")
    changed = await gateway.patch(path, json={"title": "Renamed", "recipients": [LETTER["recipients"][1]]},
                                  headers={"If-Match": held.headers["etag"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["title"], body["version"]) == ("Renamed", consultation["version"] + 1)
    assert [r["name"] for r in body["recipients"]] == ["HM Chief Inspector of Prisons"]
    assert body["questions"] == QUESTIONS
    stale = await gateway.patch(path, json={"title": "Again"}, headers={"If-Match": held.headers["etag"]})
    assert stale.status_code == 412
    # Once a response is recorded, the consultation cannot open after the day it was received.
    await _respond(gateway, consultation, received_on="2020-12-10")
    later = await gateway.patch(path, json={"opens": "2020-12-11"}, headers={"If-Match": changed.headers["etag"]})
    assert (later.status_code, later.json()["errors"][0]["field"]) == (422, "body.opens")
    assert "2020-12-10" in later.json()["errors"][0]["message"]
    assert (await gateway.patch(path, json={"title": None}, headers={"If-Match": '"*"'})).status_code == 422


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="consultation-')
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.parametrize("ask", ["format", "accept"])
async def test_the_summary_counts_responses_and_ranks_topics_the_same_as_json_and_csv(gateway, ask):
    consultation = await _open(gateway)
    a, b, c = await _topics(gateway, 3)
    answers = [  # group, question, received on, topics
        ("ministers", "core-1", "2021-01-10", [a]),
        ("inspected", "core-1", "2021-01-31", [a, b]),
        ("inspected", "core-1", "2021-02-01", []),
        ("inspected", "thematic-1", "2021-02-10", [b, c]),
        ("interested_parties", "thematic-1", "2021-01-05", [a, c]),
        ("interested_parties", "research-1", "2021-01-06", [b]),
    ]
    for group, question, received_on, topics in answers:
        await _respond(gateway, consultation, group=group, question=question, received_on=received_on,
                       topic_ids=[t["id"] for t in topics], respondent_name="Named Respondent",
                       text="A private view.", contact_details={"address": RESPONDENT_ADDRESS})
    path = f"{CONSULTATIONS}/{consultation['id']}/summary"
    summary = (await gateway.get(path)).json()
    assert (summary["responses"], summary["late"], summary["deadline"]) == (6, 2, "2021-01-31")
    assert [(g["group"], g["audience"], g["responses"]) for g in summary["by_group"]] == [
        ("ministers", "statutory", 1), ("chief_inspectors", "statutory", 0), ("inspected", "extended", 3),
        ("interested_parties", "extended", 2)]
    assert [(q["question"], q["section"], q["responses"]) for q in summary["by_question"]] == [
        ("core-1", "core_inspections", 3), ("thematic-1", "thematic_inspections", 2), ("research-1", "research", 1)]
    both = {(x["group"], x["question"]): x["responses"] for x in summary["by_group_and_question"]}
    assert len(both) == 12
    assert {k: n for k, n in both.items() if n} == {
        ("ministers", "core-1"): 1, ("inspected", "core-1"): 2, ("inspected", "thematic-1"): 1,
        ("interested_parties", "thematic-1"): 1, ("interested_parties", "research-1"): 1}
    # a: 3 responses, b: 3, c: 2 -- a and b share the first rank, by name; c is third.
    assert [(t["rank"], t["topic_id"], t["name"], t["responses"]) for t in summary["topics"]] == [
        (1, a["id"], a["name"], 3), (1, b["id"], b["name"], 3), (3, c["id"], c["name"], 2)]

    if ask == "format":
        rows = _csv_rows(await gateway.get(path, params={"format": "csv"}))
    else:
        rows = _csv_rows(await gateway.get(path, headers={"Accept": "text/csv;q=0.9, application/json;q=0.5"}))
    measures = {}
    for row in rows:
        measures.setdefault(row["measure"], []).append(row)
    assert [int(r["responses"]) for r in measures["responses"] + measures["late"]] == [6, 2]
    assert [(r["group"], r["audience"], int(r["responses"])) for r in measures["by_group"]] == [
        (g["group"], g["audience"], g["responses"]) for g in summary["by_group"]]
    assert [(r["question"], r["section"], int(r["responses"])) for r in measures["by_question"]] == [
        (q["question"], q["section"], q["responses"]) for q in summary["by_question"]]
    assert {(r["group"], r["question"]): int(r["responses"]) for r in measures["by_group_and_question"]} == both
    assert [(int(r["rank"]), r["topic_id"], r["topic"], int(r["responses"])) for r in measures["topic"]] == [
        (t["rank"], t["topic_id"], t["name"], t["responses"]) for t in summary["topics"]]
    # Counts only: nobody's name, contact details or words, in either format.
    for written in (str(summary), str(rows)):
        for private in ("Named Respondent", RESPONDENT_ADDRESS, "A private view.", MINISTER_EMAIL):
            assert private not in written


async def test_a_summary_is_refused_in_a_format_it_is_not_answered_in(gateway):
    consultation = await _open(gateway)
    path = f"{CONSULTATIONS}/{consultation['id']}/summary"
    refused = await gateway.get(path, headers={"Accept": "application/pdf"})
    assert (refused.status_code, [a["format"] for a in refused.json()["available"]]) == (406, ["json", "csv"])
    empty = (await gateway.get(path)).json()
    assert (empty["responses"], empty["late"], empty["topics"]) == (0, 0, [])
    assert (await gateway.get(f"{CONSULTATIONS}/{uuid.uuid4()}/summary")).status_code == 404


async def test_contact_details_never_reach_the_logs(gateway, caplog):
    # At the level the services log at (a driver's DEBUG lines echo every statement's parameters).
    caplog.set_level(logging.INFO)
    with capture_logs() as events:
        consultation = await _open(gateway)
        await _respond(gateway, consultation, contact_details={"telephone": RESPONDENT_PHONE,
                                                              "address": RESPONDENT_ADDRESS})
        refused = await gateway.post(f"{CONSULTATIONS}/{consultation['id']}/responses", json={
            "respondent_name": "A", "group": "inspected", "question": "core-9", "text": "Yes.",
            "received_on": "2021-01-15", "contact_details": {"telephone": RESPONDENT_PHONE}})
        assert refused.status_code == 422
        await gateway.get(f"{CONSULTATIONS}/{consultation['id']}/responses")
        await gateway.get(f"{CONSULTATIONS}/{consultation['id']}/summary", params={"format": "csv"})
    logged = caplog.text + repr(events)
    # The requests were logged, without what they carried.
    assert [e["status"] for e in events if e["event"] == "request"] == [201, 201, 422, 200, 200]
    for private in CONTACTS:
        assert private not in logged
    audit = (await gateway.get("/api/v1/audit", params={"entity": "consultation_responses"})).json()["items"]
    assert [e["after"]["contact_details"] for e in audit] == ["[masked]"]
    for private in CONTACTS:
        assert private not in str(audit)


@pytest.mark.parametrize("role", [Role.READER, Role.INSPECTOR])
async def test_readers_reach_nothing_and_staff_read_but_only_planners_write(gateway, acting_as, role):
    consultation = await _open(gateway)
    response = await _respond(gateway, consultation, contact_details={"telephone": RESPONDENT_PHONE})
    base = f"{CONSULTATIONS}/{consultation['id']}"
    reads = [CONSULTATIONS, base, f"{base}/responses", f"{base}/responses/{response['id']}", f"{base}/summary"]
    with acting_as(holding(role)):
        answers = [await gateway.get(path) for path in reads]
        written = await gateway.post(CONSULTATIONS, json=LETTER)
        responded = await gateway.post(f"{base}/responses", json={
            "respondent_name": "A", "group": "inspected", "question": "core-1", "text": "Yes.",
            "received_on": "2021-01-15"})
    assert (written.status_code, written.json()["permission"]) == (403, "programme:write")
    assert (responded.status_code, responded.json()["permission"]) == (403, "programme:write")
    if role is Role.READER:
        assert [(a.status_code, a.json()["permission"]) for a in answers] == [(403, "programme:read")] * len(reads)
        return
    assert [a.status_code for a in answers] == [200] * len(reads)
    assert answers[3].json()["contact_details"]["telephone"] == RESPONDENT_PHONE
    assert answers[1].json()["recipients"][0]["contact_details"]["email"] == MINISTER_EMAIL
