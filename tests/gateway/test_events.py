"""The outbox and the feed: every phase change, publication, rating run and panel decision is an event,
written in the transaction of the change (none for a change rolled back), listed in the order of the
commits after a cursor, to those who may see the inspection as the event left it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from gateway.actors import Actor
from gateway.events import outbox
from gateway.events.models import Event
from gateway.inspections.models import Inspection
from gateway.inspections.service import status_change
from gateway.permissions import Grant, Permission, Role
from tests.gateway.factories import make_inspection, make_unit
from tests.gateway.test_ratings import youth_inspection
from tests.gateway.test_scoping import holding

API = "/api/v1"
EVENTS = f"{API}/events"


async def latest(db_session) -> int:
    return await db_session.scalar(select(func.coalesce(func.max(Event.id), 0)))


async def publish_rated(gateway, inspection_id) -> tuple[dict, dict]:
    """A rating run, a panel decision and publication, through the API: the two snapshots."""
    run = await gateway.post(f"{API}/inspections/{inspection_id}/rating-runs")
    assert run.status_code == 201, run.text
    decided = await gateway.post(f"{API}/inspections/{inspection_id}/panel-decisions", json={"overrides": [
        {"standard": "2.2", "rating": "requires_improvement", "reason": "The panel weighed the case files."}]})
    assert decided.status_code == 201, decided.text
    published = await gateway.post(f"{API}/inspections/{inspection_id}/transitions", json={"to": "published"})
    assert published.status_code == 200, published.text
    return run.json(), decided.json()


async def test_each_change_is_an_event_in_order_with_its_figures(gateway, db_session):
    inspection = await youth_inspection(db_session)
    since = await latest(db_session)
    run, decided = await publish_rated(gateway, inspection.id)

    listed = await gateway.get(EVENTS, params={"after": since})
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(e["type"], e["inspection_id"], e["unit_id"]) for e in items] == [
        (kind, str(inspection.id), str(inspection.unit_id))
        for kind in ("rating_run.completed", "panel.decided", "inspection.phase_changed", "inspection.published")
    ]
    ids = [e["id"] for e in items]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert items[0]["data"] == {"snapshot_id": run["id"], "sequence": 1, "overall_rating": run["overall_rating"],
                                "overall_score": run["overall_score"]}
    assert items[1]["data"] == {"snapshot_id": decided["id"], "sequence": 2,
                                "overall_rating": decided["overall_rating"],
                                "overall_score": decided["overall_score"], "based_on_id": run["id"]}
    assert items[2]["data"] == {"from": "rating", "to": "published"}
    published = await gateway.get(f"{API}/inspections/{inspection.id}")
    assert items[3]["data"] == {"published_at": published.json()["published_at"].replace("Z", "+00:00"),
                                "snapshot_id": decided["id"], "overall_rating": decided["overall_rating"]}
    assert listed.json()["next_cursor"] is None


async def test_the_cursor_reads_on_page_by_page_and_types_filter(gateway, db_session):
    inspection = await youth_inspection(db_session)
    since = await latest(db_session)
    await publish_rated(gateway, inspection.id)

    seen, after = [], since
    while True:
        page = (await gateway.get(EVENTS, params={"after": after, "limit": 1})).json()
        seen += [e["type"] for e in page["items"]]
        if page["next_cursor"] is None:
            break
        assert page["next_cursor"] == str(page["items"][-1]["id"])
        after = int(page["next_cursor"])
    assert seen[-4:] == ["rating_run.completed", "panel.decided", "inspection.phase_changed", "inspection.published"]
    assert len(seen) == 4

    only = await gateway.get(EVENTS, params=[("after", since), ("type", "inspection.published"),
                                             ("type", "panel.decided")])
    assert [e["type"] for e in only.json()["items"]] == ["panel.decided", "inspection.published"]


@pytest.mark.parametrize("params, field", [({"type": "inspection.deleted"}, "type"), ({"after": -1}, "after"),
                                           ({"limit": 501}, "limit"), ({"cursor": "x"}, "cursor")])
async def test_a_bad_query_is_a_422_naming_the_parameter(gateway, params, field):
    refused = await gateway.get(EVENTS, params=params)
    assert refused.status_code == 422
    assert [e["field"].removesuffix(".0") for e in refused.json()["errors"]] == [f"query.{field}"]


async def test_planning_and_each_move_are_phase_changes(gateway, db_session):
    unit = await make_unit(db_session)
    since = await latest(db_session)
    planned = await gateway.post(f"{API}/inspections", json={
        "unit_id": str(unit.id), "framework_id": "probation-pdu-2021", "type": "core"})
    assert planned.status_code == 201, planned.text
    iid = planned.json()["id"]
    withdrawn = await gateway.post(f"{API}/inspections/{iid}/transitions", json={"to": "withdrawn", "note": "Merged."})
    assert withdrawn.status_code == 200
    items = (await gateway.get(EVENTS, params={"after": since})).json()["items"]
    assert [(e["type"], e["data"]) for e in items] == [
        ("inspection.phase_changed", {"from": None, "to": "planned"}),
        ("inspection.phase_changed", {"from": "planned", "to": "withdrawn"}),
    ]


async def test_a_change_rolled_back_leaves_no_event(db_session):
    inspection = await make_inspection(db_session, status="rating")
    since = await latest(db_session)
    nested = await db_session.begin_nested()
    inspection.status = "fieldwork"
    db_session.add(status_change(inspection, "rating", "Back for more cases."))
    await db_session.flush()
    written = (await db_session.scalars(select(Event).where(Event.id > since))).all()
    assert [(e.type, e.data, e.inspection_status) for e in written] == [
        ("inspection.phase_changed", {"from": "rating", "to": "fieldwork"}, "fieldwork")]
    await nested.rollback()
    assert await latest(db_session) == since


async def test_a_request_whose_event_cannot_be_written_changes_nothing(gateway, db_session, monkeypatch):
    inspection = await make_inspection(db_session, status="planned")
    since = await latest(db_session)

    def broken(connection, inspection_id):
        raise RuntimeError("the outbox is out of order")

    monkeypatch.setattr(outbox.inspections, "unit_and_status", broken)
    failed = await gateway.post(f"{API}/inspections/{inspection.id}/transitions", json={"to": "withdrawn", "note": "No."})
    assert failed.status_code == 500
    assert await db_session.scalar(select(Inspection.status).where(Inspection.id == inspection.id)) == "planned"
    assert await latest(db_session) == since


# --- who sees what ----------------------------------------------------------------------------------


def reporting_key(*units) -> Actor:
    scopes = frozenset({Permission.REPORTS_READ, Permission.INSPECTIONS_READ, Permission.EVENTS_READ})
    return Actor(id=f"key:{uuid.uuid4()}", name="Report generator", kind="key",
                 grants=(Grant(scopes, frozenset(u.id for u in units) if units else None),))


async def test_readers_and_report_keys_see_publications_never_a_drafts_events(gateway, db_session, acting_as):
    region = await make_unit(db_session, type="region")
    here, there = await make_unit(db_session, parent=region), await make_unit(db_session, parent=region)
    published = await youth_inspection(db_session)
    published.unit_id = here.id
    draft = await youth_inspection(db_session)
    draft.unit_id = here.id
    elsewhere = await youth_inspection(db_session)
    elsewhere.unit_id = there.id
    await db_session.flush()
    since = await latest(db_session)
    await publish_rated(gateway, published.id)
    for inspection in (draft, elsewhere):
        assert (await gateway.post(f"{API}/inspections/{inspection.id}/rating-runs")).status_code == 201

    async def feed() -> list[tuple[str, str]]:
        items = (await gateway.get(EVENTS, params={"after": since, "limit": 500})).json()["items"]
        return [(e["type"], e["inspection_id"]) for e in items]

    with acting_as(holding(Role.READER, here)):
        assert await feed() == [("inspection.phase_changed", str(published.id)),
                                ("inspection.published", str(published.id))]
    with acting_as(reporting_key()):  # every unit, published only
        assert await feed() == [("inspection.phase_changed", str(published.id)),
                                ("inspection.published", str(published.id))]
    with acting_as(reporting_key(there)):
        assert await feed() == []
    with acting_as(holding(Role.LEAD_INSPECTOR, here)):  # the team's drafts as well
        assert [kind for kind, iid in await feed() if iid == str(draft.id)] == ["rating_run.completed"]
        assert {iid for _, iid in await feed()} == {str(published.id), str(draft.id)}
    key_without_events = Actor(id="key:x", name="No events", kind="key",
                               grants=(Grant(frozenset({Permission.INSPECTIONS_READ}), None),))
    with acting_as(key_without_events):
        refused = await gateway.get(EVENTS)
        assert (refused.status_code, refused.json()["permission"]) == (403, "events:read")
