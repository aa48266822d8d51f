"""The voice of people under supervision: survey counts and interview themes recorded whole by the
inspection's team while judgements are, refused field by field when they do not fit the survey or the
framework or would identify someone, read beside the judgements of the standards they inform, and in the
report with the same figures in JSON, CSV, XLSX and HTML."""

from __future__ import annotations

import copy
import io

import openpyxl
import pytest

from gateway.permissions import Role
from tests.conftest import TEST_ADMIN, bearer
from tests.gateway.factories import (
    make_account,
    make_inspection,
    make_judgement,
    make_sampled_cases,
    make_team,
    make_unit,
)
from tests.gateway.test_assessments import problem, set_status
from tests.gateway.test_report_formats import Tables, csv_rows

API = "/api/v1"
CASE = "X123456"
SURVEY = {
    "key": "probation_survey",
    "title": "Survey of people on probation",
    "population": "people_on_probation",
    "respondents": 54,
    "questions": [
        {
            "key": "helped_change",
            "text": "Has your probation practitioner helped you make positive changes?",
            "options": [{"key": "yes", "text": "Yes"}, {"key": "no", "text": "No"}, {"key": "not_sure", "text": "Not sure"}],
            "standards": ["1.3"],
        },
        {
            "key": "seen_enough",
            "text": "Do you see your practitioner often enough?",
            "options": [{"key": "yes", "text": "Yes"}, {"key": "no", "text": "No"}],
            "standards": ["1.2", "1.3"],
        },
    ],
    "counts": {"helped_change": {"yes": 38, "no": 9, "not_sure": 5}, "seen_enough": {"no": 20}},
}
INTERVIEWS = {
    "key": "telephone_interviews",
    "title": "Telephone interviews with people on probation",
    "population": "people_on_probation",
    "interviewed": 12,
    "themes": [
        {"text": "Frequent changes of practitioner made trust hard to build", "raised_by": 7, "standards": ["1.2"]},
        {"text": "Help finding accommodation came quickly", "raised_by": 3, "standards": []},
    ],
}
VOICE = {"surveys": [SURVEY], "interviews": [INTERVIEWS]}


def voice_url(inspection) -> str:
    return f"{API}/inspections/{inspection.id}/voice"


def with_change(change) -> dict:
    body = copy.deepcopy(VOICE)
    change(body)
    return body


@pytest.fixture
async def inspection(db_session):
    return await make_inspection(db_session, status="fieldwork")


# --- recording and reading ----------------------------------------------------------------------------


async def test_the_whole_evidence_is_recorded_and_read_back_with_every_option_counted(gateway, inspection):
    url = voice_url(inspection)
    problem(await gateway.get(url), 404)
    created = await gateway.put(url, json=VOICE)
    assert created.status_code == 201, created.text
    assert (created.headers["etag"], created.headers["location"]) == ('"1"', url)
    body = created.json()
    assert body["surveys"][0]["counts"] == {
        "helped_change": {"yes": 38, "no": 9, "not_sure": 5}, "seen_enough": {"yes": 0, "no": 20}}
    assert body["interviews"] == [INTERVIEWS]
    assert (body["inspection_id"], body["version"], body["created_by"]) == (str(inspection.id), 1, TEST_ADMIN)

    read = await gateway.get(url)
    assert (read.status_code, read.headers["etag"], read.json()) == (200, '"1"', body)


async def test_a_change_needs_the_etag_of_the_last_read(gateway, inspection):
    url = voice_url(inspection)
    await gateway.put(url, json=VOICE)
    fewer = {"surveys": [], "interviews": [INTERVIEWS]}
    problem(await gateway.put(url, json=fewer), 428)
    problem(await gateway.put(url, json=fewer, headers={"If-Match": '"9"'}), 412)
    changed = await gateway.put(url, json=fewer, headers={"If-Match": '"1"'})
    assert (changed.status_code, changed.headers["etag"], changed.json()["surveys"]) == (200, '"2"', [])
    same = await gateway.put(url, json=fewer, headers={"If-Match": '"2"'})
    assert (same.status_code, same.json()["version"]) == (200, 2)

    entries = (await gateway.get(f"{API}/audit", params={
        "inspection": str(inspection.id), "entity": "voice_evidence"})).json()["items"]
    assert sorted((e["action"], e["actor_id"]) for e in entries) == [("insert", TEST_ADMIN), ("update", TEST_ADMIN)]


@pytest.mark.parametrize("status", ["planned", "pre_fieldwork", "published", "withdrawn"])
async def test_it_is_recorded_only_while_judgements_are(gateway, db_session, status):
    inspection = await make_inspection(db_session, status=status)
    refused = problem(await gateway.put(voice_url(inspection), json=VOICE), 409)
    assert refused["status_of_inspection"] == status
    if status in ("planned", "pre_fieldwork"):
        assert refused["recording_statuses"] == ["fieldwork", "rating"]
        assert "the voice of people under supervision is recorded only while it is in fieldwork or in rating" in (
            refused["detail"])
    problem(await gateway.get(voice_url(inspection)), 404)


async def test_only_the_inspections_team_records_it(gateway, gateway_app, anonymous, db_session):
    region = await make_unit(db_session, type="region")
    inspection = await make_inspection(db_session, unit=await make_unit(db_session, parent=region), status="rating")
    member = await make_account(db_session, Role.INSPECTOR, region)
    outsider = await make_account(db_session, Role.INSPECTOR, region)
    panel = await make_account(db_session, Role.PANEL, region)
    await make_team(db_session, inspection, {member: "lead_inspector"})
    url = voice_url(inspection)

    refused = problem(await anonymous.put(url, json=VOICE, headers=bearer(gateway_app, outsider)), 403)
    assert refused["type"] == "/problems/not-on-team"
    assert "the voice of people under supervision is recorded by its team only" in refused["detail"]
    assert problem(await anonymous.put(url, json=VOICE, headers=bearer(gateway_app, panel)), 403)["permission"] == (
        "assessments:write")
    problem(await gateway.get(url), 404)

    recorded = await anonymous.put(url, json=VOICE, headers=bearer(gateway_app, member))
    assert (recorded.status_code, recorded.json()["created_by"]) == (201, str(member.id))
    # Read as the judgements are: by those with assessments:read on the unit, drafts included.
    assert (await anonymous.get(url, headers=bearer(gateway_app, panel))).json()["version"] == 1
    reader = await make_account(db_session, Role.READER, region)
    assert problem(await anonymous.get(url, headers=bearer(gateway_app, reader)), 403)["permission"] == (
        "assessments:read")
    elsewhere = await make_account(db_session, Role.INSPECTOR, await make_unit(db_session))
    problem(await anonymous.get(url, headers=bearer(gateway_app, elsewhere)), 404)


async def test_a_caller_who_sees_only_what_is_published_reads_it_once_published(
    gateway, anonymous, db_session, inspection
):
    await gateway.put(voice_url(inspection), json=VOICE)
    made = await gateway.post(f"{API}/api-keys", json={"name": "Reports", "scopes": [
        "inspections:read", "assessments:read"]})
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    problem(await anonymous.get(voice_url(inspection), headers=key), 404)
    await set_status(db_session, inspection, "published")
    read = await anonymous.get(voice_url(inspection), headers=key)
    assert (read.status_code, read.json()["interviews"]) == (200, [INTERVIEWS])


# --- what is refused ----------------------------------------------------------------------------------


def _survey(body) -> dict:
    return body["surveys"][0]


@pytest.mark.parametrize(
    ("change", "faults"),
    [
        (lambda b: _survey(b)["counts"].update({"felt_safe": {"yes": 3}}),
         {"body.surveys.0.counts.felt_safe": "no question felt_safe in survey probation_survey (its questions: "
                                             "helped_change, seen_enough)"}),
        (lambda b: _survey(b)["counts"]["seen_enough"].update({"maybe": 1}),
         {"body.surveys.0.counts.seen_enough.maybe": "no answer option maybe to question seen_enough (its "
                                                     "options: yes, no)"}),
        (lambda b: _survey(b)["counts"]["helped_change"].update({"yes": 41}),
         {"body.surveys.0.counts.helped_change": "the counts of question helped_change add up to 55, more than "
                                                 "the survey's 54 respondents"}),
        (lambda b: b["interviews"][0]["themes"][0].update({"raised_by": 13}),
         {"body.interviews.0.themes.0.raised_by": "raised by 13, more than the 12 people interviewed"}),
        (lambda b: _survey(b)["questions"][0].update({"standards": ["2.2", "9.9"]}),
         {"body.surveys.0.questions.0.standards.0": "standard 2.2 (Assessment) is case-based: the voice of people "
                                                    "under supervision informs judged standards only",
          "body.surveys.0.questions.0.standards.1": "no standard 9.9 in framework probation-pdu-2021"}),
        (lambda b: b["surveys"].append(copy.deepcopy(b["surveys"][0])),
         {"body.surveys.1.key": "survey probation_survey is given twice"}),
        (lambda b: _survey(b)["questions"][1]["options"].append({"key": "no", "text": "Never"}),
         {"body.surveys.0.questions.1.options.2.key": "option no is given twice"}),
        (lambda b: b["interviews"][0]["themes"][1].update({"text": "Write to jo.bloggs@example.org about it"}),
         {"body.interviews.0.themes.1.text": "may not hold an email address: record what was said, never who "
                                             "said it"}),
        (lambda b: b["interviews"][0]["themes"][1].update({"text": f"Case {CASE}."}),
         {"body.interviews.0.themes.1.text": "may not name a case of the inspection's samples: record what was "
                                             "said, never who said it"}),
    ],
)
async def test_counts_that_do_not_fit_and_texts_that_identify_someone_are_refused_naming_the_field(
    gateway, db_session, inspection, change, faults
):
    await make_sampled_cases(db_session, inspection, "case_supervision", [CASE])
    refused = problem(await gateway.put(voice_url(inspection), json=with_change(change)), 422)
    assert {e["field"]: e["message"] for e in refused["errors"]} == faults
    problem(await gateway.get(voice_url(inspection)), 404)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: _survey(b).update({"respondent_names": ["A Person"]}), "body.surveys.0.respondent_names"),
        (lambda b: b["interviews"][0].update({"people": [{"name": "A Person", "case_ref": CASE}]}),
         "body.interviews.0.people"),
        (lambda b: b["interviews"][0]["themes"][0].update({"raised_by_names": "A Person"}),
         "body.interviews.0.themes.0.raised_by_names"),
        (lambda b: b.update({"names": ["A Person"]}), "body.names"),
        (lambda b: _survey(b)["counts"]["helped_change"].update({"no": -1}), "body.surveys.0.counts.helped_change.no"),
        (lambda b: _survey(b)["counts"]["helped_change"].update({"no": "9"}), "body.surveys.0.counts.helped_change.no"),
        (lambda b: _survey(b).update({"respondents": -5}), "body.surveys.0.respondents"),
        (lambda b: b["interviews"][0]["themes"][0].update({"text": "   "}), "body.interviews.0.themes.0.text"),
        (lambda b: b["interviews"][0].update({"themes": []}), "body.interviews.0.themes"),
        (lambda b: _survey(b)["questions"][0].update({"options": []}), "body.surveys.0.questions.0.options"),
        (lambda b: _survey(b).update({"population": "staff"}), "body.surveys.0.population"),
    ],
)
async def test_fields_of_a_person_negative_counts_and_empty_themes_are_refused(gateway, inspection, change, field):
    refused = problem(await gateway.put(voice_url(inspection), json=with_change(change)), 422)
    assert field in [e["field"] for e in refused["errors"]]
    problem(await gateway.get(voice_url(inspection)), 404)


# --- beside the judgements ----------------------------------------------------------------------------


async def test_each_judged_standard_is_read_with_the_voice_that_informs_it(gateway, inspection):
    await gateway.put(voice_url(inspection), json=VOICE)
    await gateway.put(f"{API}/inspections/{inspection.id}/judgements/1.3",
                      json={"rating": "good", "evidence_summary": "Services fit the caseload."})

    listed = (await gateway.get(f"{API}/inspections/{inspection.id}/judgements")).json()
    [services] = listed["items"]
    assert services["standard_id"] == "1.3"
    questions = services["voice"]["survey_questions"]
    assert [(q["survey"], q["respondents"], q["question"]["key"], q["question"]["answered"]) for q in questions] == [
        ("probation_survey", 54, "helped_change", 52), ("probation_survey", 54, "seen_enough", 20)]
    assert [(a["key"], a["count"], a["percent"]) for a in questions[0]["question"]["answers"]] == [
        ("yes", 38, 100 * 38 / 52), ("no", 9, 100 * 9 / 52), ("not_sure", 5, 100 * 5 / 52)]
    assert services["voice"]["interview_themes"] == []

    missing = {m["standard_id"]: m["voice"] for m in listed["missing"]}
    assert [q["question"]["key"] for q in missing["1.2"]["survey_questions"]] == ["seen_enough"]
    assert [(t["interviews"], t["interviewed"], t["theme"]["text"], t["theme"]["raised_by"], t["theme"]["percent"])
            for t in missing["1.2"]["interview_themes"]] == [
        ("telephone_interviews", 12, INTERVIEWS["themes"][0]["text"], 7, 100 * 7 / 12)]
    assert missing["1.1"] == missing["1.4"] == {"survey_questions": [], "interview_themes": []}

    one = (await gateway.get(f"{API}/inspections/{inspection.id}/judgements/1.3")).json()
    assert one["voice"] == services["voice"]


# --- in the report -------------------------------------------------------------------------------------


async def test_the_report_gives_the_same_figures_in_json_csv_xlsx_and_html(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    for standard, rating in (("1.2", "requires_improvement"), ("1.3", "good")):
        await make_judgement(db_session, inspection, standard, rating)
    assert (await gateway.put(voice_url(inspection), json=VOICE)).status_code == 201
    url = f"{API}/inspections/{inspection.id}/report"

    voice = (await gateway.get(url)).json()["voice"]
    [survey], [interviews] = voice["surveys"], voice["interviews"]
    assert (survey["respondents"], [q["answered"] for q in survey["questions"]]) == (54, [52, 20])
    expected = [("survey", survey["key"], q["key"], a["key"], a["count"], q["answered"], a["percent"],
                 ";".join(q["standards"])) for q in survey["questions"] for a in q["answers"]]
    expected += [("interviews", interviews["key"], "", "", t["raised_by"], interviews["interviewed"], t["percent"],
                  ";".join(t["standards"])) for t in interviews["themes"]]
    assert [row[3:5] for row in expected] == [("yes", 38), ("no", 9), ("not_sure", 5), ("yes", 0), ("no", 20),
                                              ("", 7), ("", 3)]

    rows = csv_rows((await gateway.get(url, params={"format": "csv", "table": "voice"})).content, draft=True)
    assert [(r["evidence"], r["key"], r["question"], r["answer"], int(r["count"]), int(r["out_of"]),
             float(r["percent"]) if r["percent"] else None, r["standards"]) for r in rows] == [
        (e, k, q, a, c, o, p, s) for e, k, q, a, c, o, p, s in expected]

    book = openpyxl.load_workbook(io.BytesIO((await gateway.get(url, params={"format": "xlsx"})).content))
    sheet = book["Voice"]
    header = [cell.value for cell in sheet[2]]  # below the draft note
    cells = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=3)]
    assert [(c["count"], c["out_of"]) for c in cells] == [(e[4], e[5]) for e in expected]
    assert cells[0]["percent"] == pytest.approx(expected[0][6] / 100)

    page = Tables((await gateway.get(url, params={"format": "html"})).text)
    survey_rows = page.tables[f"voice-survey-{survey['key']}"][1:]
    assert [(r[1], int(r[2]), int(r[3]), r[4]) for r in survey_rows] == [
        (a["text"], a["count"], q["answered"], f"{a['percent']:.1f}%") for q in survey["questions"] for a in q["answers"]]
    theme_rows = page.tables[f"voice-interviews-{interviews['key']}"][1:]
    assert [(r[0], int(r[1]), int(r[2]), r[4]) for r in theme_rows] == [
        (t["text"], t["raised_by"], 12, ", ".join(t["standards"])) for t in interviews["themes"]]
    text = " ".join(" ".join(page.text).split())
    assert "Telephone interviews with people on probation: “Frequent changes of practitioner made trust hard to " \
           "build”, raised by 7 of 12 interviewed" in text


async def test_a_voice_recorded_moves_the_report_on(gateway, inspection):
    url = f"{API}/inspections/{inspection.id}/report"
    before = await gateway.get(url)
    assert before.json()["voice"] == {"surveys": [], "interviews": []}
    await gateway.put(voice_url(inspection), json=VOICE)
    after = await gateway.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert [s["key"] for s in after.json()["voice"]["surveys"]] == ["probation_survey"]


async def test_a_case_drawn_after_a_text_was_recorded_is_not_named_in_the_report(gateway, db_session, inspection):
    voice = with_change(lambda b: b["interviews"][0]["themes"][1].update({"text": f"Accommodation, as for {CASE}."}))
    assert (await gateway.put(voice_url(inspection), json=voice)).status_code == 201
    await make_sampled_cases(db_session, inspection, "case_supervision", [CASE])
    report = (await gateway.get(f"{API}/inspections/{inspection.id}/report")).json()
    assert report["voice"]["interviews"][0]["themes"][1]["text"] == "Accommodation, as for [case reference]."
