"""GET /api/v1/audit: admins read the log newest first, filtered by actor, entity, entity id, inspection,
action and time, a page at a time; everyone else is refused. And a whole inspection run through the API
leaves no case reference in clear in any entry."""

from __future__ import annotations

import csv
import io
import random
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway import audit
from gateway.actors import SESSION_KEY, Actor
from gateway.audit.models import AuditEntry
from gateway.permissions import ROLE_PERMISSIONS, Grant, Role
from gateway.units.models import Unit
from tests.gateway.factories import make_inspection, make_unit

AUDIT = "/api/v1/audit"
PROBLEM = "application/problem+json"


async def all_pages(gateway, **params) -> list[dict]:
    found, cursor = [], None
    while True:
        response = await gateway.get(AUDIT, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        found += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return found


@pytest.fixture
async def written(db_connection, db_session):
    """Entries by two actors of their own: units created and changed, an inspection, a named event."""
    someone = Actor(id=f"person-{uuid.uuid4().hex[:8]}", name="Someone", kind="person")
    other = Actor(id=f"key:{uuid.uuid4().hex[:8]}", name="A key", kind="key")
    maker = async_sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    units = []
    async with maker(info={SESSION_KEY: someone}) as session:
        for n in range(5):
            units.append(await make_unit(session, type="region", name=f"Region {n}"))
        await session.commit()
    async with maker(info={SESSION_KEY: other}) as session:
        held = await session.get(Unit, units[0].id)
        held.name = "Renamed"
        inspection = await make_inspection(session)
        await audit.record(session, "api_key.created", "api_keys", "k-1", {"scopes": ["reports:read"]})
        await session.commit()
    return {"someone": someone, "other": other, "units": units, "inspection": inspection}


async def test_the_log_is_read_newest_first_a_page_at_a_time(gateway, written):
    everything = await all_pages(gateway, actor=written["someone"].id)
    assert [e["entity_id"] for e in everything] == [str(u.id) for u in reversed(written["units"])]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    first = (await gateway.get(AUDIT, params={"actor": written["someone"].id, "limit": 2})).json()
    assert [e["id"] for e in first["items"]] == [e["id"] for e in everything[:2]]
    paged = await all_pages(gateway, actor=written["someone"].id, limit=2)
    assert [e["id"] for e in paged] == [e["id"] for e in everything]
    entry = everything[-1]
    assert (entry["action"], entry["entity"], entry["actor_kind"], entry["before"]) == ("insert", "units", "person", None)
    assert entry["after"]["name"] == "Region 0" and len(entry["hash"]) == len(entry["prev_hash"]) == 64


async def test_each_filter_narrows_the_log(gateway, written):
    other, units, inspection = written["other"], written["units"], written["inspection"]
    by_other = await all_pages(gateway, actor=other.id)
    assert {e["actor_id"] for e in by_other} == {other.id}
    assert {(e["action"], e["entity"]) for e in by_other} >= {
        ("update", "units"), ("insert", "inspections"), ("api_key.created", "api_keys")}

    about_unit = await all_pages(gateway, entity="units", entity_id=str(units[0].id))
    assert [(e["action"], e["actor_id"]) for e in about_unit] == [("update", other.id), ("insert", written["someone"].id)]
    assert about_unit[0]["before"]["name"] == "Region 0" and about_unit[0]["after"]["name"] == "Renamed"

    of_inspection = await all_pages(gateway, inspection=str(inspection.id))
    assert [(e["action"], e["entity"]) for e in of_inspection] == [("insert", "inspections")]

    events = await all_pages(gateway, action="api_key.created", actor=other.id)
    assert [(e["entity_id"], e["details"]) for e in events] == [("k-1", {"scopes": ["reports:read"]})]


async def test_the_time_range_takes_from_inclusive_and_to_exclusive(gateway, written):
    mine = list(reversed(await all_pages(gateway, actor=written["someone"].id)))
    times = [e["at"] for e in mine]
    assert times == sorted(times) and len(set(times)) == len(times)
    middle = await all_pages(gateway, actor=written["someone"].id, **{"from": times[1], "to": times[3]})
    assert [e["at"] for e in middle] == [times[2], times[1]]
    assert await all_pages(gateway, actor=written["someone"].id, to=times[0]) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-01-01T00:00:00"}, "query.from"),  # a time without its zone
        ({"to": "yesterday"}, "query.to"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"limit": 501}, "query.limit"),
        ({"actor": "x" * 101}, "query.actor"),
        ({"entity": "units\x00"}, "query.entity"),
        ({"inspection": "not-a-uuid"}, "query.inspection"),
        ({"colour": "red"}, "query.colour"),
    ],
)
async def test_a_bad_filter_is_a_422_naming_it(gateway, params, field):
    response = await gateway.get(AUDIT, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in {e["field"] for e in response.json()["errors"]}


@pytest.mark.parametrize("value", ["' OR '1'='1", "units; DROP TABLE audit_entries; --", "%", "x" * 64])
async def test_text_in_a_filter_is_only_ever_compared(gateway, db_session, value):
    before = await db_session.scalar(select(func.count()).select_from(AuditEntry))
    for name in ("actor", "entity", "action", "entity_id"):
        response = await gateway.get(AUDIT, params={name: value})
        assert (response.status_code, response.json()["items"]) == (200, []), response.text
    assert await db_session.scalar(select(func.count()).select_from(AuditEntry)) == before


@pytest.mark.parametrize("who", ["nobody", "reader", "lead_inspector"])
async def test_only_admins_read_the_log(gateway, gateway_app, who):
    actors = {
        "nobody": None,
        "reader": Actor(id="r", name="R", kind="person", grants=(Grant(ROLE_PERMISSIONS[Role.READER], None),)),
        "lead_inspector": Actor(id="l", name="L", kind="person",
                                grants=(Grant(ROLE_PERMISSIONS[Role.LEAD_INSPECTOR], None),)),
    }

    async def authenticate(request):
        return actors[who]

    held = gateway_app.state.authenticate
    gateway_app.state.authenticate = authenticate
    try:
        response = await gateway.get(AUDIT)
    finally:
        gateway_app.state.authenticate = held
    assert response.status_code == (401 if who == "nobody" else 403)
    if who != "nobody":
        assert response.json()["permission"] == "audit:read"


# --- a whole inspection, and no case reference in clear -----------------------------------------------


def frame(rng: random.Random, unit: str, prefix: str, cases: int, start: date, court: bool) -> tuple[str, list[str]]:
    refs = [f"{prefix}{n:06d}" for n in rng.sample(range(100000, 999999), cases)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case_ref", "unit", "gender", "sentence_type", *([] if court else ["rosh_level"]), "start_date"])
    for ref in refs:
        writer.writerow([ref, unit, rng.choice(["male", "male", "female"]),
                         rng.choice(["community_order", "licence"]),
                         *([] if court else [rng.choice(["low", "medium", "high"])]),
                         (start - timedelta(days=rng.randrange(10, 150))).isoformat()])
    return out.getvalue(), refs


def ok(response, *statuses: int) -> dict:
    assert response.status_code in statuses, response.text
    return response.json() if response.content else {}


async def test_a_whole_inspection_leaves_no_case_reference_in_clear_in_the_log(gateway, db_session):
    rng = random.Random(13)
    api = "/api/v1"
    mark = await db_session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))
    unit = await make_unit(db_session)
    framework = ok(await gateway.get(f"{api}/frameworks/probation-pdu-2021"), 200)
    standards = [s for d in framework["domains"] for s in d["standards"]]
    start = date.today() + timedelta(days=21)
    inspection = ok(await gateway.post(f"{api}/inspections", json={
        "unit_id": str(unit.id), "framework_id": "probation-pdu-2021", "type": "core", "title": "Audited",
        "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=11)).isoformat(),
    }), 201)
    iid = inspection["id"]

    async def move(to: str) -> None:
        ok(await gateway.post(f"{api}/inspections/{iid}/transitions", json={"to": to, "note": "audit test"}), 200)

    await move("pre_fieldwork")
    every_ref: list[str] = []
    samples = {}
    for sample_type, prefix, cases in (("case_supervision", "Y", 240), ("court_reports", "V", 90)):
        text, refs = frame(rng, unit.code, prefix, cases, start, sample_type == "court_reports")
        every_ref += refs
        ok(await gateway.put(f"{api}/inspections/{iid}/frames/{sample_type}", content=text,
                             headers={"Content-Type": "text/csv"}), 201)
        samples[sample_type] = ok(await gateway.post(
            f"{api}/inspections/{iid}/samples", json={"sample_type": sample_type, "reserves_per_stratum": 2, "seed": 5},
            headers={"Idempotency-Key": f"audit-{sample_type}"}), 201)
    supervision = samples["case_supervision"]
    replaced = supervision["selected"][0]["case_ref"]
    ok(await gateway.post(f"{api}/samples/{supervision['id']}/substitutions",
                          json={"case_ref": replaced, "reason": "Transferred out"}), 201)

    await move("fieldwork")
    current = {}
    for sample_type, sample in samples.items():
        cases = ok(await gateway.get(f"{api}/samples/{sample['id']}/cases", params={"limit": 1000}), 200)["items"]
        current[sample_type] = [c["case_ref"] for c in cases]
    first = current["case_supervision"][0]
    supervision_kqs = [kq["id"] for s in standards if s["sample_type"] == "case_supervision" for kq in s["key_questions"]]
    ok(await gateway.put(f"{api}/inspections/{iid}/samples/case_supervision/cases/{first}/assessment",
                         json={"answers": {supervision_kqs[0]: "yes"}, "evidence_note": "Seen in person."}), 201)
    lines = ["case_ref,sample_type,key_question,answer"]
    for standard in (s for s in standards if s["kind"] == "case"):
        for ref in current[standard["sample_type"]]:
            for kq in standard["key_questions"]:
                lines.append(f"{ref},{standard['sample_type']},{kq['id']},{rng.choice(['yes', 'yes', 'no'])}")
    body = "\n".join(lines) + "\n"
    ok(await gateway.post(f"{api}/inspections/{iid}/assessments/import", content=body,
                          headers={"Content-Type": "text/csv"}), 200, 201)
    again = body.replace(",yes\n", ",not_applicable\n")  # a re-import changing answers: the executemany update
    ok(await gateway.post(f"{api}/inspections/{iid}/assessments/import", content=again,
                          headers={"Content-Type": "text/csv"}), 200, 201)
    for standard in (s for s in standards if s["kind"] == "judged"):
        ok(await gateway.put(f"{api}/inspections/{iid}/judgements/{standard['id']}",
                             json={"rating": "good", "evidence_summary": "Interviews."}), 201)

    await move("rating")
    ok(await gateway.post(f"{api}/inspections/{iid}/rating-runs", json={},
                          headers={"Idempotency-Key": "audit-rating"}), 201)
    ok(await gateway.post(f"{api}/inspections/{iid}/panel-decisions", json={"overrides": [
        {"standard": "1.1", "rating": "outstanding", "reason": "The panel weighed the partnership work."}]},
        headers={"Idempotency-Key": "audit-panel"}), 201)
    # Fieldwork over before publication: its dates moved into the past.
    held = await gateway.get(f"{api}/inspections/{iid}")
    ok(await gateway.patch(f"{api}/inspections/{iid}", headers={"If-Match": held.headers["etag"]}, json={
        "fieldwork_start": (date.today() - timedelta(days=14)).isoformat(),
        "fieldwork_end": (date.today() - timedelta(days=3)).isoformat()}), 200)
    await move("published")

    entries = list((await db_session.scalars(select(AuditEntry).where(AuditEntry.id > mark))).all())
    assert {e.entity for e in entries} >= {
        "inspections", "inspection_status_changes", "caseload_frames", "samples", "sampled_cases", "substitutions",
        "case_assessments", "judgements", "rating_snapshots", "idempotent_requests",
    }
    assert {e.action for e in entries if e.entity == "case_assessments"} == {"insert", "update"}
    written = "\n".join(
        repr([e.actor_id, e.entity, e.entity_id, e.request_id, e.before, e.after, e.details]) for e in entries
    )
    assert re.findall(r"[YV]\d{6}", written) == []
    assert not set(every_ref) & set(re.findall(r"\w+", written))
    of_inspection = await all_pages(gateway, inspection=iid, limit=500)
    assert len(of_inspection) == sum(e.inspection_id == uuid.UUID(iid) for e in entries)
