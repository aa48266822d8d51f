"""Inspections: planning, changing the plan, moving through the phases, the history, and every refusal."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.frameworks.models import FrameworkVersion
from gateway.inspections.models import Inspection, InspectionStatusChange
from inspection_shared.library import library
from tests.conftest import TEST_ADMIN
from tests.gateway.factories import make_inspection, make_publishable, make_unit

INSPECTIONS = "/api/v1/inspections"
PROBLEM = "application/problem+json"


def today() -> date:
    return datetime.now(UTC).date()


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields), body
    return body


def plan(unit, **fields) -> dict:
    return {
        "unit_id": str(unit),
        "framework_id": "probation-pdu-2021",
        "type": "core",
        "title": "Inspection of probation services",
        "lead": "A. Inspector",
        "fieldwork_start": "2027-03-01",
        "fieldwork_end": "2027-03-19",
        **fields,
    }


async def create(gateway, unit, **fields) -> tuple[dict, str]:
    response = await gateway.post(INSPECTIONS, json=plan(unit, **fields))
    assert response.status_code == 201, response.text
    return response.json(), response.headers["etag"]


async def move(gateway, inspection_id, to: str, note: str | None = None, **headers):
    body = {"to": to} if note is None else {"to": to, "note": note}
    return await gateway.post(f"{INSPECTIONS}/{inspection_id}/transitions", json=body, headers=headers)


# --- planning ----------------------------------------------------------------------------------------


async def test_plan_answers_201_with_location_etag_and_the_inspection(gateway, db_session):
    unit = await make_unit(db_session)
    response = await gateway.post(
        INSPECTIONS, json=plan(unit.id, title="  Derby City  ", lead="Lead Inspector", partner_inspectorates=[])
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{INSPECTIONS}/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at")} == {
        "unit_id": str(unit.id),
        "unit_code": unit.code,
        "unit_name": unit.name,
        "framework_id": "probation-pdu-2021",
        "type": "core",
        "status": "planned",
        "allowed_transitions": ["pre_fieldwork", "withdrawn"],
        "title": "Derby City",
        "lead": "Lead Inspector",
        "partner_inspectorates": [],
        "fieldwork_start": "2027-03-01",
        "fieldwork_end": "2027-03-19",
        "published_at": None,
        "current_rating": None,
        "created_by": TEST_ADMIN,
        "updated_by": TEST_ADMIN,
    }
    assert body["created_at"] == body["updated_at"]

    read = await gateway.get(response.headers["location"])
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == '"1"'

    history = (await gateway.get(f"{INSPECTIONS}/{body['id']}/history")).json()
    assert [(c["from_status"], c["to_status"], c["changed_by"]) for c in history["items"]] == [(None, "planned", TEST_ADMIN)]
    assert history["next_cursor"] is None


async def test_a_joint_inspection_names_its_partners_and_dates_are_optional_while_planned(gateway, db_session):
    unit = await make_unit(db_session)
    partners = ["HM Inspectorate of Constabulary and Fire & Rescue Services", "Ofsted"]
    body, _ = await create(
        gateway, unit.id, type="joint", partner_inspectorates=partners, fieldwork_start=None, fieldwork_end=None
    )
    assert (body["type"], body["partner_inspectorates"]) == ("joint", partners)
    assert (body["fieldwork_start"], body["fieldwork_end"]) == (None, None)


async def test_youth_frameworks_are_for_youth_services_and_other_units_take_any(gateway, db_session):
    youth = await make_unit(db_session, type="yos")
    body, _ = await create(gateway, youth.id, framework_id="youth-2021")
    assert (body["framework_id"], body["unit_code"]) == ("youth-2021", youth.code)
    # A body inspected on commission (type other) is inspected under whichever framework is named.
    guernsey = await make_unit(db_session, type="other", nation="Guernsey")
    for year, framework_id in ((2027, "probation-pdu-2021"), (2028, "youth-2021")):
        body, _ = await create(
            gateway, guernsey.id, framework_id=framework_id,
            fieldwork_start=f"{year}-03-01", fieldwork_end=f"{year}-03-19",
        )
        assert body["framework_id"] == framework_id
    # A framework of the past is used for fieldwork in its time.
    crc = await make_unit(db_session, type="crc")
    body, _ = await create(
        gateway, crc.id, framework_id="probation-crc-2018", fieldwork_start="2019-05-06", fieldwork_end="2019-05-24"
    )
    assert body["fieldwork_start"] == "2019-05-06"


BAD_PLANS = [  # (fields changed, field at fault, its message)
    (
        {"framework_id": "youth-2021"},
        "body.framework_id",
        "framework youth-2021 applies to units of type yos, not to {code} (pdu)",
    ),
    ({"type": "joint"}, "body.partner_inspectorates", "a joint inspection names at least one partner inspectorate"),
    (
        {"partner_inspectorates": ["Ofsted"]},
        "body.partner_inspectorates",
        "a core inspection has no partner inspectorates; with partners it is a joint inspection",
    ),
    (
        {"type": "joint", "partner_inspectorates": ["Ofsted", "ofsted"]},
        "body.partner_inspectorates",
        "Value error, 'ofsted' is named twice",
    ),
    ({"fieldwork_end": "2027-02-28"}, "body.fieldwork_end", "fieldwork ends (2027-02-28) before it starts (2027-03-01)"),
    (
        {"fieldwork_end": "2027-03-22"},
        "body.fieldwork_end",
        "fieldwork lasts at most 21 days (three weeks); 2027-03-01 to 2027-03-22 is 22",
    ),
    ({"fieldwork_end": None}, "body.fieldwork_end", "give both fieldwork dates or neither"),
    ({"fieldwork_start": None}, "body.fieldwork_start", "give both fieldwork dates or neither"),
    (
        {"fieldwork_start": "2021-06-01", "fieldwork_end": "2021-06-18"},
        "body.fieldwork_start",
        "framework probation-pdu-2021 takes effect on 2021-06-26, after fieldwork starts (2021-06-01)",
    ),
    ({"fieldwork_start": "2027-13-01"}, "body.fieldwork_start", "Input should be a valid date or datetime, month value is outside expected range of 1-12"),
    ({"type": "annual"}, "body.type", "Input should be 'core', 'joint', 're_inspection', 'pilot' or 'thematic'"),
    ({"framework_id": "Not An Id"}, "body.framework_id", "String should match pattern '^[a-z][a-z0-9-]*$'"),
    ({"title": "   "}, "body.title", "String should have at least 1 character"),
    ({"status": "published"}, "body.status", "Extra inputs are not permitted"),
    ({"unit_id": "not-a-unit"}, "body.unit_id", "Input should be a valid UUID"),
]


async def test_a_bad_plan_is_a_422_naming_the_field(gateway, db_session):
    unit = await make_unit(db_session)
    for fields, field, message in BAD_PLANS:
        body = assert_problem(await gateway.post(INSPECTIONS, json=plan(unit.id, **fields)), 422, field)
        assert body["errors"][0]["message"].startswith(message.format(code=unit.code)), (fields, body)
    assert (await gateway.get(INSPECTIONS, params={"unit_id": str(unit.id)})).json()["items"] == []


async def test_unknown_unit_and_framework_are_422s_naming_both(gateway):
    missing = uuid.uuid4()
    body = assert_problem(
        await gateway.post(INSPECTIONS, json=plan(missing, framework_id="probation-none-2030")),
        422,
        "body.unit_id",
        "body.framework_id",
    )
    assert {e["field"]: e["message"] for e in body["errors"]} == {
        "body.unit_id": f"no unit {missing}",
        "body.framework_id": f"no framework 'probation-none-2030' (the frameworks held: {', '.join(sorted(library()))})",
    }


async def test_a_retired_unit_cannot_be_inspected(gateway, db_session):
    retired = await make_unit(db_session, valid_from=date(2021, 6, 26), valid_to=today() - timedelta(days=1))
    body = assert_problem(await gateway.post(INSPECTIONS, json=plan(retired.id)), 422, "body.unit_id")
    assert body["errors"][0]["message"] == f"{retired.code} was retired on {(today() - timedelta(days=1)).isoformat()}"
    # Still in service today, but not by the time fieldwork starts.
    closing = await make_unit(db_session, valid_to=today() + timedelta(days=30))
    start = today() + timedelta(days=60)
    body = assert_problem(
        await gateway.post(
            INSPECTIONS,
            json=plan(closing.id, fieldwork_start=start.isoformat(), fieldwork_end=(start + timedelta(days=4)).isoformat()),
        ),
        422,
        "body.fieldwork_start",
    )
    assert body["errors"][0]["message"] == (
        f"{closing.code} is in service only until {(today() + timedelta(days=30)).isoformat()}, before fieldwork starts"
    )


async def test_a_framework_out_of_effect_is_refused(gateway, db_session):
    youth = await make_unit(db_session, type="yos")
    body = assert_problem(
        await gateway.post(
            INSPECTIONS, json=plan(youth.id, framework_id="youth-2018", fieldwork_start="2022-01-10", fieldwork_end="2022-01-28")
        ),
        422,
        "body.fieldwork_start",
    )
    assert body["errors"][0]["message"] == (
        "framework youth-2018 was in effect until 2021-05-31, before fieldwork starts (2022-01-10)"
    )


@pytest.fixture
async def draft_framework(db_session) -> str:
    """A draft framework version: a copy of the PDU framework under a new id."""
    held = await db_session.get(FrameworkVersion, "probation-pdu-2021")
    definition = copy.deepcopy(held.definition)
    framework_id = f"probation-draft-{uuid.uuid4().hex[:6]}"
    definition.update(id=framework_id, status="draft", effective_from="2030-01-01")
    db_session.add(
        FrameworkVersion(
            id=framework_id, version="0.1", name="Draft", status="draft", content_hash="0" * 64,
            definition=definition, imported_by="test",
        )
    )
    await db_session.flush()
    return framework_id


async def test_only_a_pilot_may_use_a_draft_or_early_framework(gateway, db_session, draft_framework):
    unit = await make_unit(db_session)
    body = assert_problem(
        await gateway.post(INSPECTIONS, json=plan(unit.id, framework_id=draft_framework)),
        422,
        "body.framework_id",
        "body.fieldwork_start",
    )
    assert [e["message"] for e in body["errors"]] == [
        f"framework {draft_framework} is a draft; only a pilot inspection may use it",
        f"framework {draft_framework} takes effect on 2030-01-01, after fieldwork starts (2027-03-01)",
    ]
    pilot, etag = await create(gateway, unit.id, framework_id=draft_framework, type="pilot")
    assert (pilot["type"], pilot["framework_id"]) == ("pilot", draft_framework)
    # The pilot cannot then become a core inspection on the draft.
    response = await gateway.patch(f"{INSPECTIONS}/{pilot['id']}", json={"type": "core"}, headers={"If-Match": etag})
    body = assert_problem(response, 422, "body.type", "body.fieldwork_start")


# --- changing the plan -------------------------------------------------------------------------------


async def test_patch_changes_the_fields_sent_and_bumps_the_etag(gateway, db_session):
    unit = await make_unit(db_session)
    created, etag = await create(gateway, unit.id)
    path = f"{INSPECTIONS}/{created['id']}"
    response = await gateway.patch(
        path,
        json={"lead": "Another Inspector", "title": None, "fieldwork_start": "2027-03-08", "fieldwork_end": "2027-03-26"},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    body = response.json()
    assert (body["lead"], body["title"], body["fieldwork_start"], body["fieldwork_end"]) == (
        "Another Inspector", None, "2027-03-08", "2027-03-26",
    )
    assert body["updated_by"] == TEST_ADMIN and body["updated_at"] > created["updated_at"]
    assert body["created_at"] == created["created_at"]
    assert (await gateway.get(path)).json() == body
    # Sending what is already held changes nothing, not even the ETag.
    same = await gateway.patch(path, json={"lead": "Another Inspector", "framework_id": "probation-pdu-2021"},
                               headers={"If-Match": '"2"'})
    assert (same.status_code, same.headers["etag"], same.json()) == (200, '"2"', body)
    # A change of type with the partners it needs.
    joint = await gateway.patch(path, json={"type": "joint", "partner_inspectorates": ["HMICFRS"]}, headers={"If-Match": '"2"'})
    assert (joint.status_code, joint.json()["type"], joint.json()["partner_inspectorates"]) == (200, "joint", ["HMICFRS"])


async def test_patch_needs_a_current_if_match(gateway, db_session):
    unit = await make_unit(db_session)
    created, _ = await create(gateway, unit.id)
    path = f"{INSPECTIONS}/{created['id']}"
    body = assert_problem(await gateway.patch(path, json={"lead": "X"}), 428)
    assert body["title"] == "Precondition required"
    stale = await gateway.patch(path, json={"lead": "X"}, headers={"If-Match": '"7"'})
    body = assert_problem(stale, 412)
    assert stale.headers["etag"] == '"1"'
    assert "If-Match \"7\", now \"1\"" in body["detail"]
    weak = await gateway.patch(path, json={"lead": "X"}, headers={"If-Match": 'W/"1"'})
    assert_problem(weak, 412)
    assert (await gateway.get(path)).json()["lead"] == "A. Inspector"
    star = await gateway.patch(path, json={"lead": "X"}, headers={"If-Match": "*"})
    assert (star.status_code, star.json()["lead"]) == (200, "X")


BAD_CHANGES = [  # (changes, status, field at fault, its message)
    ({"framework_id": "probation-crc-2018"}, 409, "body.framework_id", "is probation-pdu-2021 and cannot change"),
    ({"fieldwork_start": "2027-03-20"}, 422, "body.fieldwork_start", "fieldwork ends (2027-03-19) before it starts (2027-03-20)"),
    ({"fieldwork_end": "2027-04-30"}, 422, "body.fieldwork_end", "fieldwork lasts at most 21 days (three weeks); 2027-03-01 to 2027-04-30 is 61"),
    ({"fieldwork_end": None}, 422, "body.fieldwork_end", "give both fieldwork dates or neither"),
    ({"type": "joint"}, 422, "body.type", "a joint inspection names at least one partner inspectorate"),
    ({"type": None}, 422, "body.type", "Value error, may not be null"),
    ({"status": "fieldwork"}, 422, "body.status", "Extra inputs are not permitted"),
    ({"fieldwork_start": "2020-01-06", "fieldwork_end": "2020-01-10"}, 422, "body.fieldwork_start",
     "framework probation-pdu-2021 takes effect on 2021-06-26, after fieldwork starts (2020-01-06)"),
]


async def test_a_bad_change_is_refused_naming_the_field(gateway, db_session):
    unit = await make_unit(db_session)
    created, etag = await create(gateway, unit.id)
    path = f"{INSPECTIONS}/{created['id']}"
    for changes, status, field, message in BAD_CHANGES:
        body = assert_problem(await gateway.patch(path, json=changes, headers={"If-Match": etag}), status, field)
        assert body["errors"][0]["message"] == message, (changes, body)
    after = await gateway.get(path)
    assert (after.json(), after.headers["etag"]) == (created, '"1"')


async def test_the_unit_cannot_change(gateway, db_session):
    unit, other = await make_unit(db_session), await make_unit(db_session)
    created, etag = await create(gateway, unit.id)
    response = await gateway.patch(f"{INSPECTIONS}/{created['id']}", json={"unit_id": str(other.id)}, headers={"If-Match": etag})
    body = assert_problem(response, 409, "body.unit_id")
    assert body["detail"].startswith("The unit of an inspection is fixed when it is planned")


async def test_announced_dates_can_move_but_not_be_cleared(gateway, db_session):
    inspection = await make_inspection(db_session, status="pre_fieldwork")
    path = f"{INSPECTIONS}/{inspection.id}"
    body = assert_problem(
        await gateway.patch(path, json={"fieldwork_start": None, "fieldwork_end": None}, headers={"If-Match": '"1"'}),
        422,
        "body.fieldwork_start",
    )
    assert body["errors"][0]["message"] == "the fieldwork dates were announced (pre_fieldwork) and can be moved but not cleared"
    moved = await gateway.patch(path, json={"fieldwork_start": "2026-03-09", "fieldwork_end": "2026-03-27"}, headers={"If-Match": '"1"'})
    assert (moved.status_code, moved.json()["fieldwork_start"]) == (200, "2026-03-09")


@pytest.mark.parametrize("status", ["published", "withdrawn"])
async def test_a_frozen_inspection_refuses_every_edit(gateway, db_session, status):
    inspection = await make_inspection(db_session, status=status, lead="Kept")
    path = f"{INSPECTIONS}/{inspection.id}"
    body = assert_problem(await gateway.patch(path, json={"lead": "Changed"}, headers={"If-Match": '"1"'}), 409)
    assert body["detail"] == f"Inspection {inspection.id} is {status} and can no longer be changed."
    assert body["status_of_inspection"] == status
    after = await gateway.get(path)
    assert (after.json()["lead"], after.headers["etag"]) == ("Kept", '"1"')


# --- moving through the phases -----------------------------------------------------------------------


async def test_an_inspection_moves_from_planned_to_published(gateway, db_session):
    unit = await make_unit(db_session)
    start = today() + timedelta(days=21)
    created, _ = await create(
        gateway, unit.id, fieldwork_start=start.isoformat(), fieldwork_end=(start + timedelta(days=11)).isoformat()
    )
    inspection_id = created["id"]

    steps = [
        ("pre_fieldwork", "Announced to the head of service.", ["fieldwork", "planned", "withdrawn"]),
        ("fieldwork", None, ["rating", "withdrawn"]),
        ("rating", None, ["published", "fieldwork", "withdrawn"]),
    ]
    for number, (to, note, allowed) in enumerate(steps, start=2):
        response = await move(gateway, inspection_id, to, note, **{"If-Match": f'"{number - 1}"'})
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == f'"{number}"'
        assert (response.json()["status"], response.json()["allowed_transitions"]) == (to, allowed)

    # Fieldwork over (its dates moved into the past: no clock to wait on), the evidence recorded and rated.
    ended = {"fieldwork_start": (today() - timedelta(days=14)).isoformat(), "fieldwork_end": (today() - timedelta(days=3)).isoformat()}
    assert (await gateway.patch(f"{INSPECTIONS}/{inspection_id}", json=ended, headers={"If-Match": '"4"'})).status_code == 200
    await make_publishable(db_session, await db_session.get(Inspection, uuid.UUID(inspection_id)))
    run = await gateway.post(f"{INSPECTIONS}/{inspection_id}/rating-runs")
    assert run.status_code == 201, run.text
    published = await move(gateway, inspection_id, "published", "Report published.")
    assert published.status_code == 200, published.text
    body = published.json()
    assert (body["status"], body["allowed_transitions"]) == ("published", [])
    published_at = datetime.fromisoformat(body["published_at"])
    assert abs((datetime.now(UTC) - published_at).total_seconds()) < 60
    assert published.headers["etag"] == '"7"'  # moved on by the new dates and the rating too

    history = (await gateway.get(f"{INSPECTIONS}/{inspection_id}/history")).json()["items"]
    assert [(c["from_status"], c["to_status"], c["note"], c["changed_by"]) for c in history] == [
        (None, "planned", None, TEST_ADMIN),
        ("planned", "pre_fieldwork", "Announced to the head of service.", TEST_ADMIN),
        ("pre_fieldwork", "fieldwork", None, TEST_ADMIN),
        ("fieldwork", "rating", None, TEST_ADMIN),
        ("rating", "published", "Report published.", TEST_ADMIN),
    ]
    assert [c["details"] for c in history] == [
        None,
        {"notice_days": 21},
        {"notice_days": 21},
        None,
        {"snapshot_id": run.json()["id"], "snapshot_sequence": 1, "overall_rating": "outstanding"},
    ]
    assert [c["changed_at"] for c in history] == sorted(c["changed_at"] for c in history)


async def test_an_illegal_move_is_a_409_listing_the_allowed_ones(gateway, db_session):
    inspection = await make_inspection(db_session)
    for to in ("rating", "published", "fieldwork", "planned"):
        body = assert_problem(await move(gateway, inspection.id, to), 409)
        assert body["allowed"] == ["pre_fieldwork", "withdrawn"]
        assert body["status_of_inspection"] == "planned"
        assert body["detail"] == (
            f"Inspection {inspection.id} is planned and cannot move to {to}; it may move to pre_fieldwork or withdrawn."
        )
    published = await make_inspection(db_session, status="published")
    body = assert_problem(await move(gateway, published.id, "withdrawn", "Too late."), 409)
    assert body["allowed"] == []
    assert body["detail"].endswith("it may move to nothing: it is final.")
    assert (await gateway.get(f"{INSPECTIONS}/{inspection.id}")).json()["status"] == "planned"


async def test_publication_needs_a_rating_snapshot(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    await make_publishable(db_session, inspection)
    body = assert_problem(await move(gateway, inspection.id, "published"), 409)
    assert body["detail"].startswith(
        f"Inspection {inspection.id} cannot be published yet: Not rated yet: an inspection is published with its "
        "ratings, so start a rating run first. (and "
    )
    assert body["conditions"][0] == {
        "condition": "rating_snapshot", "standard": None, "met": False, "snapshot_sequence": None,
        "message": "Not rated yet: an inspection is published with its ratings, so start a rating run first.",
    }
    read = (await gateway.get(f"{INSPECTIONS}/{inspection.id}")).json()
    assert (read["status"], read["published_at"]) == ("rating", None)


async def test_the_announcement_needs_fieldwork_dates(gateway, db_session):
    inspection = await make_inspection(db_session, fieldwork_start=None, fieldwork_end=None)
    body = assert_problem(await move(gateway, inspection.id, "pre_fieldwork"), 409, "fieldwork_start", "fieldwork_end")
    assert body["detail"].startswith("Set the fieldwork dates before moving to pre_fieldwork")


async def test_fieldwork_needs_two_weeks_notice_from_the_announcement(gateway, db_session):
    unit = await make_unit(db_session)
    start = today() + timedelta(days=13)
    created, _ = await create(
        gateway, unit.id, fieldwork_start=start.isoformat(), fieldwork_end=(start + timedelta(days=4)).isoformat()
    )
    path = f"{INSPECTIONS}/{created['id']}"
    announced = await move(gateway, created["id"], "pre_fieldwork")
    assert announced.status_code == 200
    body = assert_problem(await move(gateway, created["id"], "fieldwork"), 409, "fieldwork_start")
    assert (body["notice_days"], body["required_notice_days"]) == (13, 14)
    assert body["errors"][0]["message"] == "13 days after the announcement; at least 14 are needed"
    assert (await gateway.get(path)).json()["status"] == "pre_fieldwork"

    later = start + timedelta(days=1)
    moved = await gateway.patch(
        path,
        json={"fieldwork_start": later.isoformat(), "fieldwork_end": (later + timedelta(days=4)).isoformat()},
        headers={"If-Match": announced.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    response = await move(gateway, created["id"], "fieldwork")
    assert (response.status_code, response.json()["status"]) == (200, "fieldwork")
    history = (await gateway.get(f"{path}/history")).json()["items"]
    assert [c["details"] for c in history[1:]] == [{"notice_days": 13}, {"notice_days": 14}]


async def test_moves_back_are_allowed_where_the_lifecycle_says(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    back = await move(gateway, inspection.id, "fieldwork", "More cases to read.")
    assert (back.status_code, back.json()["status"]) == (200, "fieldwork")
    announced = await make_inspection(db_session, status="pre_fieldwork")
    back = await move(gateway, announced.id, "planned", "Dates postponed.")
    assert (back.status_code, back.json()["status"]) == (200, "planned")


async def test_withdrawal_needs_a_note_and_freezes_the_inspection(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    assert_problem(await move(gateway, inspection.id, "withdrawn"), 422, "body.note")
    assert_problem(await move(gateway, inspection.id, "withdrawn", "   "), 422, "body.note")
    withdrawn = await move(gateway, inspection.id, "withdrawn", "The unit merged with its neighbour.")
    assert (withdrawn.status_code, withdrawn.json()["status"], withdrawn.json()["published_at"]) == (200, "withdrawn", None)
    body = assert_problem(await move(gateway, inspection.id, "fieldwork"), 409)
    assert body["allowed"] == []
    assert_problem(await gateway.patch(f"{INSPECTIONS}/{inspection.id}", json={"lead": "X"}, headers={"If-Match": '"2"'}), 409)


async def test_a_move_honours_if_match_when_sent(gateway, db_session):
    inspection = await make_inspection(db_session)
    stale = await move(gateway, inspection.id, "pre_fieldwork", **{"If-Match": '"9"'})
    assert_problem(stale, 412)
    assert stale.headers["etag"] == '"1"'
    assert (await gateway.get(f"{INSPECTIONS}/{inspection.id}")).json()["status"] == "planned"
    current = await move(gateway, inspection.id, "pre_fieldwork", **{"If-Match": '"1"'})
    assert (current.status_code, current.headers["etag"]) == (200, '"2"')


async def test_a_bad_move_request_is_a_422_naming_the_field(gateway, db_session):
    inspection = await make_inspection(db_session)
    path = f"{INSPECTIONS}/{inspection.id}/transitions"
    body = assert_problem(await gateway.post(path, json={"to": "finished"}), 422, "body.to")
    assert body["errors"][0]["message"].startswith("Input should be 'planned', 'pre_fieldwork'")
    assert_problem(await gateway.post(path, json={}), 422, "body.to")
    assert_problem(await gateway.post(path, json={"to": "pre_fieldwork", "by": "me"}), 422, "body.by")
    assert_problem(await gateway.post(path, json={"to": "withdrawn", "note": "x" * 2001}), 422, "body.note")


async def test_every_move_is_recorded_with_the_actor(gateway, db_session):
    inspection = await make_inspection(db_session)
    await move(gateway, inspection.id, "pre_fieldwork")
    rows = (
        await db_session.scalars(
            select(InspectionStatusChange).where(InspectionStatusChange.inspection_id == inspection.id)
        )
    ).all()
    assert [(r.from_status, r.to_status, r.changed_by) for r in rows] == [("planned", "pre_fieldwork", TEST_ADMIN)]
    held = await db_session.get(Inspection, inspection.id, populate_existing=True)
    assert (held.status, held.updated_by, held.version) == ("pre_fieldwork", TEST_ADMIN, 2)


# --- the history, and unknown inspections ------------------------------------------------------------


async def test_the_history_pages_oldest_first(gateway, db_session):
    inspection = await make_inspection(db_session)
    for to in ("pre_fieldwork", "planned", "pre_fieldwork", "planned", "withdrawn"):
        assert (await move(gateway, inspection.id, to, f"to {to}")).status_code == 200
    path = f"{INSPECTIONS}/{inspection.id}/history"
    seen, cursor = [], None
    while True:
        page = (await gateway.get(path, params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        assert len(page["items"]) <= 2
        seen += [c["to_status"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["pre_fieldwork", "planned", "pre_fieldwork", "planned", "withdrawn"]
    assert_problem(await gateway.get(path, params={"cursor": "bm90LWEtY3Vyc29y"}), 422, "query.cursor")
    assert_problem(await gateway.get(path, params={"limit": 0}), 422, "query.limit")


async def test_an_unknown_inspection_is_a_404_problem(gateway):
    missing = uuid.uuid4()
    for response in (
        await gateway.get(f"{INSPECTIONS}/{missing}"),
        await gateway.get(f"{INSPECTIONS}/{missing}/history"),
        await gateway.get(f"{INSPECTIONS}/{missing}/summary"),
        await gateway.patch(f"{INSPECTIONS}/{missing}", json={"lead": "X"}, headers={"If-Match": '"1"'}),
        await move(gateway, missing, "pre_fieldwork"),
    ):
        body = assert_problem(response, 404)
        assert body["detail"] == f"No inspection {missing}"
    assert_problem(await gateway.get(f"{INSPECTIONS}/not-a-uuid"), 422, "path.inspection_id")


# --- the contract ------------------------------------------------------------------------------------


async def test_openapi_declares_operations_problems_and_examples(gateway):
    spec = (await gateway.get("/openapi.json")).json()
    operations = {
        (method, path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "inspections" in op.get("tags", [])
    }
    one = f"{INSPECTIONS}/{{inspection_id}}"
    expected = {
        ("get", INSPECTIONS): ("list_inspections", {"422"}),
        ("post", INSPECTIONS): ("create_inspection", {"409", "422"}),
        ("get", one): ("get_inspection", {"404", "422"}),
        ("patch", one): ("update_inspection", {"404", "409", "412", "422", "428"}),
        ("post", f"{one}/transitions"): ("move_inspection", {"404", "409", "412", "422"}),
        ("get", f"{one}/history"): ("list_inspection_history", {"404", "422"}),
        ("get", f"{one}/team"): ("get_inspection_team", {"404", "422"}),
        ("put", f"{one}/team"): ("set_inspection_team", {"404", "409", "412", "422", "428"}),
        ("get", f"{one}/summary"): ("get_inspection_summary", {"404", "422"}),
        ("get", f"{one}/readiness"): ("get_publication_readiness", {"404", "422"}),
        ("get", "/api/v1/units/{unit_id}/ratings-history"): ("get_unit_ratings_history", {"404", "422"}),
    }
    assert set(operations) == set(expected)
    for key, (operation_id, problems) in expected.items():
        assert operations[key]["operationId"] == operation_id
        assert problems <= set(operations[key]["responses"])
        assert operations[key]["summary"]
    assert set(operations[("post", INSPECTIONS)]["responses"]["201"]["headers"]) == {"ETag", "Location"}
    for schema in ("InspectionCreate", "InspectionRead", "TransitionRequest", "TeamWrite"):
        assert spec["components"]["schemas"][schema]["examples"], schema
