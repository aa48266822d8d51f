"""Who reaches what: every role (and no credentials) against every route, generated from the routes'
own declarations; then the rules that depend on the record reached — units outside a caller's grants
are not found, readers see what is published and nothing at case level, publication takes a lead
inspector of the unit, and recording takes a place on the inspection's team.

The actors here are built from grants directly (the app's authenticator is swapped for one that
answers them), so these tests are about authorisation alone; signing in is tested on its own. The
lead inspector and the inspector are on the team of the draft the matrix records in.
"""

from __future__ import annotations

import re
import uuid

import pytest

from gateway.actors import Actor
from gateway.app import API_PREFIX
from gateway.permissions import NATIONAL, ROLE_PERMISSIONS, Grant, Permission, Role, declared_routes
from tests.gateway.factories import (
    make_account,
    make_assessed_sample,
    make_inspection,
    make_judgement,
    make_team,
    make_unit,
)

INSPECTIONS = "/api/v1/inspections"


def person_id(role: Role, n: int = 1) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"scoping/{role}/{n}")


def holding(role: Role, *units, n: int = 1) -> Actor:
    covered = None if role is Role.ADMIN else frozenset(u.id for u in units)
    return Actor(id=str(person_id(role, n)), name=f"A {role}", kind="person",
                 grants=(Grant(ROLE_PERMISSIONS[role], covered, role),))


def nationally(role: Role, *also: Grant, n: int = 1) -> Actor:
    """The role on every unit (as the national programme's planners hold it), and any other grants."""
    return Actor(id=str(person_id(role, n)), name=f"A {role}", kind="person",
                 grants=(Grant(ROLE_PERMISSIONS[role], None, role), *also))


TEAM = {Role.LEAD_INSPECTOR: "lead_inspector", Role.INSPECTOR: "inspector"}
"""The draft's team: the first person of each of these roles, in this place."""


@pytest.fixture
async def estate(db_session):
    """Two regions, each with a PDU; in the first a published inspection and a draft in rating, rated
    and with a sample; in the second a draft."""
    north, south = await make_unit(db_session, type="region"), await make_unit(db_session, type="region")
    here, there = await make_unit(db_session, parent=north), await make_unit(db_session, parent=south)
    published = await make_inspection(db_session, unit=here, status="published")
    draft = await make_inspection(db_session, unit=here, status="rating")
    elsewhere = await make_inspection(db_session, unit=there, status="rating")
    cases = [{"case_ref": f"Q{i:06d}", "answers": {kq: "yes" for kq in ("2.2.1", "2.2.2", "2.2.3")}} for i in range(3)]
    sample = await make_assessed_sample(db_session, draft, "case_supervision", cases)
    await make_judgement(db_session, draft, "1.1", "good")
    await make_team(db_session, draft, {await make_account(db_session, id=person_id(role)): place
                                        for role, place in TEAM.items()})
    return {"north": north, "south": south, "here": here, "there": there, "published": published, "draft": draft,
            "elsewhere": elsewhere, "sample": sample}


# --- the matrix, generated from the declarations -------------------------------------------------------


def _concrete(path: str, estate: dict, snapshot_id: str) -> str:
    values = {
        "inspection_id": estate["draft"].id, "unit_id": estate["here"].id, "region_id": estate["north"].id,
        "sample_id": estate["sample"].id, "snapshot_id": snapshot_id, "sample_type": "case_supervision",
        "case_ref": "Q000001", "standard_id": "1.1", "framework_id": "probation-pdu-2021",
    }
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), uuid.uuid4())), path)


ACTORS = [None, *Role]


@pytest.mark.parametrize("who", ACTORS, ids=lambda who: str(who or "anonymous"))
async def test_every_route_refuses_exactly_the_callers_its_declaration_names(gateway, gateway_app, acting_as,
                                                                          estate, who):
    actor = None if who is None else holding(who, estate["north"], estate["here"])
    routes = declared_routes(gateway_app, API_PREFIX)
    assert len(routes) >= 38
    seen = []
    for route in routes:
        declared = route.declarations[0]
        needed = declared.permission
        if actor is None:
            expected = "allowed" if needed is None and not declared.signed_in else "unauthenticated"
        else:
            # The grants here are on some units: a national permission is not given by them.
            held = needed in ROLE_PERMISSIONS[who] and (needed not in NATIONAL or who is Role.ADMIN)
            expected = "allowed" if needed is None or held else "forbidden"
        for method in sorted(route.methods - {"HEAD"}):
            with acting_as(actor):
                response = await gateway.request(method, _concrete(route.path, estate, str(uuid.uuid4())), json={})
            got = {401: "unauthenticated", 403: "forbidden"}.get(response.status_code, "allowed")
            if got == "forbidden" and expected == "allowed":
                # Allowed at the door, refused by a rule of the record reached: say which.
                assert response.json().get("permission") not in (None, str(needed)), (method, route.path)
                got = "allowed"
            seen.append((method, route.path, expected, got))
            if expected == "unauthenticated":
                assert response.headers["www-authenticate"] == "Bearer"
            if expected == "forbidden":
                assert response.json()["permission"] == str(needed), (method, route.path)
    assert [s for s in seen if s[2] != s[3]] == []


# --- rules of the record reached --------------------------------------------------------------------


async def test_an_inspection_outside_the_callers_units_is_not_found_not_forbidden(gateway, acting_as, estate):
    with acting_as(holding(Role.LEAD_INSPECTOR, estate["north"], estate["here"])):
        assert (await gateway.get(f"{INSPECTIONS}/{estate['draft'].id}")).status_code == 200
        hidden = await gateway.get(f"{INSPECTIONS}/{estate['elsewhere'].id}")
        assert (hidden.status_code, hidden.json()["detail"]) == (404, f"No inspection {estate['elsewhere'].id}")
        assert (await gateway.get(f"{INSPECTIONS}/{estate['elsewhere'].id}/summary")).status_code == 404
        assert (await gateway.post(f"{INSPECTIONS}/{estate['elsewhere'].id}/rating-runs")).status_code == 404
        listed = {i["id"] for i in (await gateway.get(INSPECTIONS, params={"limit": 200})).json()["items"]}
        assert str(estate["draft"].id) in listed and str(estate["elsewhere"].id) not in listed
        sample = await gateway.get(f"/api/v1/samples/{estate['sample'].id}/cases")
        assert sample.status_code == 200
    with acting_as(holding(Role.LEAD_INSPECTOR, estate["south"], estate["there"])):
        sample = await gateway.get(f"/api/v1/samples/{estate['sample'].id}/cases")
        assert (sample.status_code, sample.json()["detail"]) == (404, f"No sample {estate['sample'].id}")


async def test_a_reader_sees_what_is_published_and_nothing_at_case_level(gateway, acting_as, estate):
    published, draft = estate["published"], estate["draft"]
    with acting_as(holding(Role.READER, estate["here"])):
        assert (await gateway.get(f"{INSPECTIONS}/{published.id}")).status_code == 200
        assert (await gateway.get(f"{INSPECTIONS}/{draft.id}")).status_code == 404
        assert (await gateway.get(f"{INSPECTIONS}/{draft.id}/summary")).status_code == 404
        # The readiness for publication is read as the inspection is.
        assert (await gateway.get(f"{INSPECTIONS}/{published.id}/readiness")).status_code == 200
        assert (await gateway.get(f"{INSPECTIONS}/{draft.id}/readiness")).status_code == 404
        listed = {i["id"] for i in (await gateway.get(INSPECTIONS, params={"limit": 200})).json()["items"]}
        assert listed == {str(published.id)}
        history = (await gateway.get(f"/api/v1/units/{estate['here'].id}/ratings-history")).json()["items"]
        assert [entry["inspection_id"] for entry in history] == [str(published.id)]
        for path in (f"{INSPECTIONS}/{published.id}/assessments", f"{INSPECTIONS}/{published.id}/frames",
                     f"{INSPECTIONS}/{published.id}/judgements", f"{INSPECTIONS}/{published.id}/rating-runs"):
            refused = await gateway.get(path)
            assert refused.status_code == 403, path
            assert refused.json()["permission"] in {"assessments:read", "caseloads:read", "drafts:read"}


async def test_a_draft_becomes_visible_to_readers_once_published(gateway, acting_as, estate, db_session):
    draft = estate["draft"]
    with acting_as(holding(Role.READER, estate["north"], estate["here"])):
        assert (await gateway.get(f"{INSPECTIONS}/{draft.id}/summary")).status_code == 404
    draft.status = "published"
    await db_session.flush()
    with acting_as(holding(Role.READER, estate["north"], estate["here"])):
        summary = await gateway.get(f"{INSPECTIONS}/{draft.id}/summary")
        assert (summary.status_code, summary.json()["inspection"]["status"]) == (200, "published")


async def test_publication_takes_a_lead_inspector_of_the_unit(gateway, acting_as, estate, db_session):
    draft = estate["draft"]
    lead_elsewhere = Actor(id="lead-2", name="Lead", kind="person", grants=(
        Grant(ROLE_PERMISSIONS[Role.LEAD_INSPECTOR], frozenset({estate["south"].id, estate["there"].id}),
              Role.LEAD_INSPECTOR),
        Grant(ROLE_PERMISSIONS[Role.READER] | {Permission.DRAFTS_READ, Permission.INSPECTIONS_MOVE},
              frozenset({estate["north"].id, estate["here"].id}), None),
    ))
    with acting_as(lead_elsewhere):
        refused = await gateway.post(f"{INSPECTIONS}/{draft.id}/transitions", json={"to": "published"})
        assert (refused.status_code, refused.json()["permission"]) == (403, "inspections:publish")
    with acting_as(holding(Role.LEAD_INSPECTOR, estate["north"], estate["here"])):
        moved = await gateway.post(f"{INSPECTIONS}/{draft.id}/transitions", json={"to": "fieldwork"})
        assert moved.status_code == 200, moved.text


async def test_recording_takes_a_place_on_the_inspections_team(gateway, acting_as, estate):
    judgement = f"{INSPECTIONS}/{estate['draft'].id}/judgements/1.2"
    sent = {"rating": "good", "evidence_summary": "Interviews."}
    with acting_as(holding(Role.INSPECTOR, estate["north"], estate["here"], n=2)):
        refused = await gateway.put(judgement, json=sent)
        assert (refused.status_code, refused.json()["type"]) == (403, "/problems/not-on-team")
        assert "this needs a place on this inspection's team" in refused.json()["detail"]
    with acting_as(holding(Role.INSPECTOR, estate["north"], estate["here"])):
        recorded = await gateway.put(judgement, json=sent)
        assert (recorded.status_code, recorded.json()["updated_by"]) == (201, str(person_id(Role.INSPECTOR)))


async def test_planning_takes_the_permission_on_the_unit_planned(gateway, acting_as, estate):
    plan = {"unit_id": str(estate["there"].id), "framework_id": "probation-pdu-2021", "type": "core"}
    with acting_as(holding(Role.LEAD_INSPECTOR, estate["north"], estate["here"])):
        refused = await gateway.post(INSPECTIONS, json=plan)
        assert (refused.status_code, refused.json()["permission"]) == (403, "inspections:plan")
        planned = await gateway.post(INSPECTIONS, json={**plan, "unit_id": str(estate["here"].id)})
        assert planned.status_code == 201, planned.text


async def test_the_programme_is_planned_only_with_a_national_grant(gateway, acting_as, estate):
    asked = {"units": [{"unit_id": str(estate["here"].id), "caseload": 300}], "hours_per_case": 3,
             "hours_per_inspection": 100, "annual_hours": 5000}
    with acting_as(holding(Role.LEAD_INSPECTOR, estate["north"], estate["here"])):
        refused = await gateway.post("/api/v1/programme/capacity", json=asked)
        assert (refused.status_code, refused.json()["permission"]) == (403, "programme:write")
        assert "on every unit" in refused.json()["detail"]
        assert (await gateway.get("/api/v1/programme/topics")).status_code == 200  # reading is staff's
    with acting_as(nationally(Role.LEAD_INSPECTOR)):
        assert (await gateway.post("/api/v1/programme/capacity", json=asked)).status_code == 200
