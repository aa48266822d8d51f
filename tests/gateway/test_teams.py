"""Inspection teams: setting and reading one, every fault of a team as sent, the team frozen by
publication, and only the team recording case answers and judgements (administrators apart, API keys
never), each change of the team in the audit log. People act through their own access tokens."""

from __future__ import annotations

import uuid

import pytest

from gateway.permissions import Role
from tests.conftest import TEST_ADMIN, bearer
from tests.gateway.factories import make_account, make_inspection, make_sampled_cases, make_team, make_unit

API = "/api/v1"
CASES = ["X000001", "X000002"]
ANSWERS = {"answers": {"2.2.1": "yes", "2.2.2": "no", "2.2.3": "not_applicable"}}
JUDGEMENT = {"rating": "good", "evidence_summary": "Interviews with staff and managers."}
NEEDS_A_PLACE = "this needs a place on this inspection's team"


def team_url(inspection) -> str:
    return f"{API}/inspections/{inspection.id}/team"


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


@pytest.fixture
async def estate(db_session):
    """A region with a PDU whose inspection is in fieldwork with a case supervision sample, a PDU elsewhere,
    and people: a lead inspector and two inspectors of the region, an inspector elsewhere, a reader of
    the PDU, and an inspector whose account is deactivated."""
    region = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, parent=region)
    elsewhere = await make_unit(db_session)
    inspection = await make_inspection(db_session, unit=pdu, status="fieldwork")
    await make_sampled_cases(db_session, inspection, "case_supervision", CASES)
    return {
        "pdu": pdu, "inspection": inspection,
        "lead": await make_account(db_session, Role.LEAD_INSPECTOR, region),
        "inspector": await make_account(db_session, Role.INSPECTOR, region),
        "other_inspector": await make_account(db_session, Role.INSPECTOR, pdu),
        "inspector_elsewhere": await make_account(db_session, Role.INSPECTOR, elsewhere),
        "reader": await make_account(db_session, Role.READER, pdu),
        "deactivated": await make_account(db_session, Role.INSPECTOR, pdu, active=False),
    }


def members(*pairs) -> dict:
    return {"members": [{"user_id": str(user.id), "role": role} for user, role in pairs]}


# --- setting and reading ------------------------------------------------------------------------------


async def test_a_team_is_set_whole_and_read_back_lead_first(gateway, estate):
    lead, inspector = estate["lead"], estate["inspector"]
    url = team_url(estate["inspection"])
    empty = await gateway.get(url)
    assert (empty.status_code, empty.json(), "etag" in empty.headers) == (
        200, {"inspection_id": str(estate["inspection"].id), "members": []}, False)

    made = await gateway.put(url, json=members((inspector, "inspector"), (lead, "lead_inspector")))
    assert made.status_code == 200, made.text
    expected = [
        {"user_id": str(lead.id), "name": lead.name, "email": lead.email, "role": "lead_inspector"},
        {"user_id": str(inspector.id), "name": inspector.name, "email": inspector.email, "role": "inspector"},
    ]
    assert made.json()["members"] == expected
    read = await gateway.get(url)
    assert (read.json()["members"], read.headers["etag"]) == (expected, made.headers["etag"])

    # Changing a team that has members takes the ETag of its last read.
    swapped = members((inspector, "lead_inspector"), (lead, "inspector"))
    for if_match, status in ((None, 428), ('"stale"', 412)):
        refused = await gateway.put(url, json=swapped, headers={"If-Match": if_match} if if_match else {})
        problem(refused, status)
        assert refused.headers["etag"] == made.headers["etag"]
    changed = await gateway.put(url, json=swapped, headers={"If-Match": made.headers["etag"]})
    assert changed.status_code == 200, changed.text
    assert [(m["user_id"], m["role"]) for m in changed.json()["members"]] == [
        (str(inspector.id), "lead_inspector"), (str(lead.id), "inspector")]
    assert changed.headers["etag"] != made.headers["etag"]

    cleared = await gateway.put(url, json={"members": []}, headers={"If-Match": changed.headers["etag"]})
    assert (cleared.status_code, cleared.json()["members"], "etag" in cleared.headers) == (200, [], False)
    assert (await gateway.get(url)).json()["members"] == []


async def test_a_lead_inspector_of_the_unit_sets_the_team_and_an_inspector_may_only_read_it(
    gateway_app, anonymous, estate
):
    url = team_url(estate["inspection"])
    as_lead = bearer(gateway_app, estate["lead"])
    set_by_lead = await anonymous.put(url, json=members((estate["lead"], "lead_inspector")), headers=as_lead)
    assert set_by_lead.status_code == 200, set_by_lead.text
    as_inspector = bearer(gateway_app, estate["inspector"])
    refused = problem(await anonymous.put(url, json={"members": []}, headers=as_inspector), 403)
    assert refused["permission"] == "teams:write"
    read = await anonymous.get(url, headers=as_inspector)
    assert [m["email"] for m in read.json()["members"]] == [estate["lead"].email]
    # A draft's team is as hidden as the draft.
    hidden = problem(await anonymous.get(url, headers=bearer(gateway_app, estate["reader"])), 404)
    assert hidden["detail"] == f"No inspection {estate['inspection'].id}"
    assert problem(await anonymous.get(url), 401)["title"] == "Not signed in"


# --- faults of a team as sent -------------------------------------------------------------------------


FAULTS = {
    "unknown": ("body.members.1.user_id", "no account {id}"),
    "deactivated": ("body.members.1.user_id", "{email} is deactivated"),
    "inspector_elsewhere": ("body.members.1.user_id",
                            "{email} holds no grant on {unit} or a unit above it, so could not see this inspection"),
    "reader": ("body.members.1.user_id", "{email} holds only reader on {unit}, which does not record case answers"),
}


@pytest.mark.parametrize("who", list(FAULTS))
async def test_a_member_who_cannot_be_on_the_team_is_named_and_nothing_is_written(gateway, estate, who):
    person = estate.get(who)
    user_id = str(person.id) if person else str(uuid.uuid4())
    sent = {"members": [{"user_id": str(estate["lead"].id), "role": "lead_inspector"},
                        {"user_id": user_id, "role": "inspector"}]}
    refused = problem(await gateway.put(team_url(estate["inspection"]), json=sent), 422)
    field, message = FAULTS[who]
    message = message.format(id=user_id, email=person.email if person else "", unit=estate["pdu"].code)
    assert [(e["field"], e["message"]) for e in refused["errors"]] == [(field, message)]
    assert refused["detail"] == f"The team cannot be set that way: members.1.user_id {message}."
    assert (await gateway.get(team_url(estate["inspection"]))).json()["members"] == []


async def test_a_person_named_twice_is_named_at_the_second_place(gateway, estate):
    lead, inspector = estate["lead"], estate["inspector"]
    sent = members((lead, "lead_inspector"), (inspector, "inspector"), (inspector, "inspector"))
    refused = problem(await gateway.put(team_url(estate["inspection"]), json=sent), 422)
    assert [(e["field"], e["message"]) for e in refused["errors"]] == [
        ("body.members.2.user_id", "is already members.1: name each person once")]


async def test_a_team_with_members_has_exactly_one_lead_inspector(gateway, estate):
    url = team_url(estate["inspection"])
    lead, inspector, other = estate["lead"], estate["inspector"], estate["other_inspector"]
    none = problem(await gateway.put(url, json=members((inspector, "inspector"), (other, "inspector"))), 422)
    assert [(e["field"], e["message"]) for e in none["errors"]] == [
        ("body.members", "names no lead_inspector: a team has exactly one")]
    two = problem(await gateway.put(url, json=members(
        (lead, "lead_inspector"), (inspector, "inspector"), (other, "lead_inspector"))), 422)
    assert [(e["field"], e["message"]) for e in two["errors"]] == [
        ("body.members.2.role", "is a second lead_inspector (members.0 is the lead): a team has exactly one")]
    bad_role = problem(await gateway.put(url, json={"members": [{"user_id": str(lead.id), "role": "panel"}]}), 422)
    assert [e["field"] for e in bad_role["errors"]] == ["body.members.0.role"]
    # An administrator is held everywhere, so may lead any team.
    admin_led = await gateway.put(url, json={"members": [{"user_id": TEST_ADMIN, "role": "lead_inspector"}]})
    assert admin_led.status_code == 200, admin_led.text


@pytest.mark.parametrize("status", ["published", "withdrawn"])
async def test_the_team_is_frozen_once_the_inspection_is_published_or_withdrawn(gateway, db_session, estate, status):
    inspection = await make_inspection(db_session, unit=estate["pdu"], status=status)
    await make_team(db_session, inspection, {estate["lead"]: "lead_inspector"})
    read = await gateway.get(team_url(inspection))
    refused = problem(await gateway.put(team_url(inspection), json={"members": []},
                                        headers={"If-Match": read.headers["etag"]}), 409)
    assert refused["detail"] == f"Inspection {inspection.id} is {status} and can no longer be changed."
    assert [m["email"] for m in (await gateway.get(team_url(inspection))).json()["members"]] == [estate["lead"].email]


# --- only the team records ----------------------------------------------------------------------------


def recordings(inspection) -> list[tuple[str, str, dict]]:
    """Each way of recording in the inspection: a case's answers, an import, and a judgement."""
    base = f"{API}/inspections/{inspection.id}"
    return [
        ("PUT", f"{base}/samples/case_supervision/cases/{CASES[0]}/assessment", {"json": ANSWERS}),
        ("POST", f"{base}/assessments/import", {"content": f"case_ref,sample_type,key_question,answer\n"
                                                            f"{CASES[1]},case_supervision,2.2.1,yes\n",
                                                 "headers": {"Content-Type": "text/csv"}}),
        ("PUT", f"{base}/judgements/1.1", {"json": JUDGEMENT}),
    ]


async def test_an_inspector_off_the_team_is_refused_every_recording_and_a_member_records(
    gateway, gateway_app, anonymous, estate
):
    inspection = estate["inspection"]
    await gateway.put(team_url(inspection), json=members((estate["lead"], "lead_inspector")))
    outsider = bearer(gateway_app, estate["inspector"])
    for method, url, sent in recordings(inspection):
        refused = problem(await anonymous.request(method, url, **{**sent, "headers": {
            **sent.get("headers", {}), **outsider}}), 403)
        assert refused["type"] == "/problems/not-on-team"
        assert refused["detail"] == (
            f"In inspection {inspection.id}, case answers and judgements are recorded by its team only: "
            f"{NEEDS_A_PLACE}. Its lead inspector or an administrator sets the team "
            f"(PUT {API}/inspections/{inspection.id}/team).")
    assert (await gateway.get(f"{API}/inspections/{inspection.id}/assessments")).json()["items"] == []

    read = await gateway.get(team_url(inspection))
    placed = await gateway.put(team_url(inspection), headers={"If-Match": read.headers["etag"]},
                               json=members((estate["lead"], "lead_inspector"), (estate["inspector"], "inspector")))
    assert placed.status_code == 200, placed.text
    for (method, url, sent), status in zip(recordings(inspection), (201, 200, 201), strict=True):
        recorded = await anonymous.request(method, url, **{**sent, "headers": {**sent.get("headers", {}), **outsider}})
        assert recorded.status_code == status, recorded.text
    assessments = (await gateway.get(f"{API}/inspections/{inspection.id}/assessments")).json()["items"]
    assert [(a["case_ref"], a["updated_by"]) for a in assessments] == [
        (CASES[0], str(estate["inspector"].id)), (CASES[1], str(estate["inspector"].id))]


async def test_an_administrator_records_without_a_place_on_the_team(gateway, estate):
    inspection = estate["inspection"]
    await gateway.put(team_url(inspection), json=members((estate["lead"], "lead_inspector")))
    for (method, url, sent), status in zip(recordings(inspection), (201, 200, 201), strict=True):
        recorded = await gateway.request(method, url, **sent)
        assert recorded.status_code == status, recorded.text
    judgement = (await gateway.get(f"{API}/inspections/{inspection.id}/judgements/1.1")).json()
    assert (judgement["rating"], judgement["updated_by"]) == ("good", TEST_ADMIN)


async def test_an_api_key_never_records_answers_whatever_its_scopes(gateway, anonymous, estate):
    inspection = estate["inspection"]
    made = await gateway.post(f"{API}/api-keys", json={
        "name": "Case system", "scopes": ["inspections:read", "drafts:read", "assessments:write"]})
    assert made.status_code == 201, made.text
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    for method, url, sent in recordings(inspection):
        refused = problem(await anonymous.request(method, url, **{**sent, "headers": {
            **sent.get("headers", {}), **key}}), 403)
        assert (refused["type"], refused["detail"]) == ("/problems/not-on-team", (
            "An API key cannot do this: case answers and judgements are recorded by the people on an inspection's "
            "team, each signed in as themselves."))


# --- the audit log ------------------------------------------------------------------------------------


async def test_each_change_of_the_team_is_in_the_audit_log_with_who_made_it(gateway, gateway_app, anonymous, estate):
    inspection, lead, inspector = estate["inspection"], estate["lead"], estate["inspector"]
    as_lead = bearer(gateway_app, lead)
    url = team_url(inspection)
    first = await anonymous.put(url, json=members((lead, "lead_inspector"), (inspector, "inspector")), headers=as_lead)
    assert first.status_code == 200, first.text
    second = await anonymous.put(url, json=members((inspector, "lead_inspector")),
                                 headers={**as_lead, "If-Match": first.headers["etag"]})
    assert second.status_code == 200, second.text

    entries = (await gateway.get(f"{API}/audit", params={
        "inspection": str(inspection.id), "entity": "inspection_team_members", "limit": 50})).json()["items"]
    seen = sorted(
        (e["action"], e["actor_id"], (e["after"] or e["before"] or {}).get("user_id"), (e["after"] or {}).get("role"))
        for e in entries
    )
    assert seen == sorted([
        ("insert", str(lead.id), str(lead.id), "lead_inspector"),
        ("insert", str(lead.id), str(inspector.id), "inspector"),
        ("update", str(lead.id), None, "lead_inspector"),
        ("delete", str(lead.id), str(lead.id), None),
    ])
    assert {e["inspection_id"] for e in entries} == {str(inspection.id)}
