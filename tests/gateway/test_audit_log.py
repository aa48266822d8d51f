"""The audit log records every change through the write hooks: rows inserted, changed (only the fields
that changed) and deleted by the unit of work and by bulk statements, executemany ones included, each with
its actor, request and inspection; bookkeeping is left out, and a write it cannot describe is refused."""

from __future__ import annotations

import json
import uuid
from contextlib import asynccontextmanager, contextmanager

import pytest
from sqlalchemy import bindparam, delete, event, func, insert, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import selectinload

from gateway import audit
from gateway.actors import SESSION_KEY, Actor
from gateway.assessments.models import CaseAssessment
from gateway.audit.masking import MASKED
from gateway.audit.models import AuditEntry
from gateway.audit.rows import Undescribable
from gateway.caseloads.models import Sample, SampledCase
from gateway.frameworks.models import FrameworkStandard, FrameworkVersion
from gateway.idempotency.models import IdempotentRequest
from gateway.inspections.guards import inspection_for_change
from gateway.inspections.models import Inspection
from gateway.units.models import Unit
from gateway.writes import NoActor
from inspection_shared.web import request_id_var
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit

INSPECTOR = Actor(id="inspector-7", name="An inspector", kind="person")
REPORTS_KEY = Actor(id="key:reports", name="Report generator", kind="key")


@pytest.fixture
def sessions(db_connection):
    """Sessions in the test's transaction, acting for an actor, committed when their block ends."""
    @asynccontextmanager
    async def open_for(actor: Actor | None):
        async with async_sessionmaker(
            bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False,
            info={SESSION_KEY: actor},
        )() as session:
            yield session
            if session.in_transaction():
                await session.commit()
    return open_for


@pytest.fixture
def request_id():
    token = request_id_var.set(f"req-{uuid.uuid4().hex[:12]}")
    yield request_id_var.get()
    request_id_var.reset(token)


async def head(session) -> int:
    return await session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))


async def since(session, mark: int, **where) -> list[AuditEntry]:
    statement = select(AuditEntry).where(AuditEntry.id > mark).order_by(AuditEntry.id)
    for name, value in where.items():
        statement = statement.where(getattr(AuditEntry, name) == value)
    return list((await session.scalars(statement)).all())


def new_unit(**fields) -> Unit:
    tag = uuid.uuid4().hex[:8].upper()
    return Unit(**{"code": f"A{tag}", "name": f"Audited {tag}", "type": "region", "nation": "England", **fields})


# --- the unit of work --------------------------------------------------------------------------------


async def test_an_insert_is_recorded_whole_with_its_actor_and_request(sessions, db_session, request_id):
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        unit = new_unit()
        session.add(unit)
        await session.flush()
    [entry] = await since(db_session, mark)
    assert (entry.action, entry.entity, entry.entity_id) == ("insert", "units", str(unit.id))
    assert (entry.actor_id, entry.actor_kind, entry.request_id) == ("inspector-7", "person", request_id)
    assert entry.before is None and entry.inspection_id is None
    assert entry.after["code"] == unit.code and entry.after["version"] == 1 and entry.after["parent_id"] is None
    assert entry.after["created_by"] == "inspector-7" and entry.after["id"] == str(unit.id)
    assert entry.at.tzinfo is not None


async def test_an_update_records_only_the_fields_that_changed_before_and_after(sessions, db_session, request_id):
    unit = await make_unit(db_session, type="region")
    mark = await head(db_session)
    async with sessions(REPORTS_KEY) as session:
        held = await session.get(Unit, unit.id)
        held.name, held.caseload_size = "Renamed", 1200
        held.nation = held.nation  # the same value: not a change
        await session.flush()
    [entry] = await since(db_session, mark)
    assert (entry.action, entry.actor_id, entry.actor_kind) == ("update", "key:reports", "key")
    assert set(entry.before) == set(entry.after) == {"name", "caseload_size", "version", "updated_at", "updated_by"}
    assert (entry.before["name"], entry.after["name"]) == (unit.name, "Renamed")
    assert (entry.before["caseload_size"], entry.after["caseload_size"]) == (None, 1200)
    assert (entry.before["version"], entry.after["version"]) == (1, 2)
    assert (entry.before["updated_by"], entry.after["updated_by"]) == ("test", "key:reports")


async def test_a_parent_set_through_the_relationship_is_recorded_with_the_key_it_had(sessions, db_session):
    region = await make_unit(db_session, type="region")
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        pdu = new_unit(type="pdu")
        session.add(pdu)
        await session.flush()  # its parent_id is never loaded: the flush wrote it as NULL
        pdu.parent = await session.get(Unit, region.id)
        await session.flush()
    inserted, moved = await since(db_session, mark)
    assert inserted.after["parent_id"] is None
    assert (moved.before["parent_id"], moved.after["parent_id"]) == (None, str(region.id))


async def test_an_object_changed_and_changed_back_leaves_no_entry(sessions, db_session):
    unit = await make_unit(db_session, type="region")
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        held = await session.get(Unit, unit.id)
        held.name = unit.name
        await session.flush()
    assert await since(db_session, mark) == []


async def test_a_deletion_records_the_row_as_it_was(sessions, db_session, request_id):
    unit = await make_unit(db_session, type="region")
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        await session.delete(await session.get(Unit, unit.id))
        await session.flush()
    [entry] = await since(db_session, mark)
    assert (entry.action, entry.entity_id, entry.after, entry.request_id) == ("delete", str(unit.id), None, request_id)
    assert entry.before["code"] == unit.code and entry.before["version"] == 1


async def test_the_rows_of_an_inspection_are_filed_under_it(db_session):
    mark = await head(db_session)
    inspection = await make_inspection(db_session)
    await make_judgement(db_session, inspection, "1.1", "good")
    sample = await make_assessed_sample(db_session, inspection, "case_supervision",
                                        [{"case_ref": "Q000001", "answers": {"2.1.1": "yes"}}])
    entries = await since(db_session, mark)
    by_entity = {}
    for entry in entries:
        by_entity.setdefault(entry.entity, []).append(entry)
    assert {e.inspection_id for e in by_entity["units"]} == {None}
    for entity in ("inspections", "judgements", "caseload_frames", "samples", "sampled_cases", "case_assessments"):
        assert {e.inspection_id for e in by_entity[entity]} == {inspection.id}, entity
    assert by_entity["samples"][0].entity_id == str(sample.id)


# --- bulk statements ---------------------------------------------------------------------------------


async def test_a_bulk_insert_records_each_row_with_its_new_key_and_its_inspection(sessions, db_session, request_id):
    inspection = await make_inspection(db_session)
    sample = await make_assessed_sample(db_session, inspection, "case_supervision", [{"case_ref": "Q000001"}])
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        await session.execute(insert(SampledCase), [
            {"sample_id": sample.id, "case_ref": f"Q00000{i}", "stratum": "all", "inclusion_probability": 1.0,
             "weight": 0.5, "status": "selected"} for i in (2, 3)
        ])
    entries = await since(db_session, mark)
    held = {str(c.id): c for c in (await db_session.scalars(
        select(SampledCase).where(SampledCase.sample_id == sample.id, SampledCase.case_ref != "Q000001"))).all()}
    assert sorted(e.entity_id for e in entries) == sorted(held)
    for entry in entries:
        assert (entry.action, entry.entity, entry.actor_id, entry.request_id) == (
            "insert", "sampled_cases", "inspector-7", request_id)
        assert entry.inspection_id == inspection.id
        assert entry.after["case_ref"] == MASKED and entry.after["weight"] == 0.5
        assert entry.after["id"] == entry.entity_id


async def test_a_bulk_update_records_the_changed_fields_of_each_row_it_changed(sessions, db_session):
    inspections = [await make_inspection(db_session, title=f"Title {n}") for n in range(3)]
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        result = await session.execute(
            update(Inspection).where(Inspection.id.in_([i.id for i in inspections[:2]])).values(title="Bulk"),
            execution_options={"synchronize_session": False},
        )
        assert result.rowcount == 2
    entries = await since(db_session, mark)
    assert sorted(e.entity_id for e in entries) == sorted(str(i.id) for i in inspections[:2])
    for entry in entries:
        assert entry.action == "update" and entry.inspection_id == uuid.UUID(entry.entity_id)
        assert set(entry.after) == {"title", "updated_at", "updated_by"}
        assert entry.before["title"].startswith("Title ") and entry.after["title"] == "Bulk"


@contextmanager
def statements_counted(db_engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db_engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", record)


async def _import_like(session, assessments: list[CaseAssessment], note: str) -> None:
    """What the case-answer import does: one executemany UPDATE keyed on the id of each assessment."""
    table = CaseAssessment.__table__
    await session.execute(
        update(table).where(table.c.id == bindparam("b_id")).values(
            answers=bindparam("b_answers", type_=table.c.answers.type),
            evidence_note=bindparam("b_note", type_=table.c.evidence_note.type),
            version=table.c.version + 1,
        ),
        [{"b_id": a.id, "b_answers": {**a.answers, "2.1.2": "no"}, "b_note": note} for a in assessments],
    )


@pytest.mark.parametrize("cases", [3, 60])
async def test_an_executemany_update_gets_its_before_images_without_a_query_per_row(
    sessions, db_session, db_engine, cases
):
    inspection = await make_inspection(db_session, status="fieldwork")
    refs = [f"Q{n:06d}" for n in range(cases)]
    await make_assessed_sample(db_session, inspection, "case_supervision",
                               [{"case_ref": ref, "answers": {"2.1.1": "yes"}} for ref in refs])
    assessments = list((await db_session.scalars(
        select(CaseAssessment).where(CaseAssessment.inspection_id == inspection.id))).all())
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        with statements_counted(db_engine) as statements:
            await _import_like(session, assessments, "re-imported")
    # The update, one read before and one after, and the lock, head and insert of the chain; never per row.
    assert len(statements) <= 7, statements
    entries = await since(db_session, mark)
    assert len(entries) == cases
    for entry in entries:
        assert entry.action == "update" and entry.inspection_id == inspection.id
        assert set(entry.before) == {"answers", "evidence_note", "version", "updated_at", "updated_by"}
        assert entry.before["answers"] == {"2.1.1": "yes"} and entry.after["answers"] == {"2.1.1": "yes", "2.1.2": "no"}
        assert (entry.before["version"], entry.after["version"], entry.after["evidence_note"]) == (1, 2, "re-imported")


async def test_an_executemany_update_records_only_the_rows_it_changed(sessions, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    await make_assessed_sample(db_session, inspection, "case_supervision",
                               [{"case_ref": f"Q00000{n}", "answers": {"2.1.1": "yes"}} for n in range(3)])
    assessments = list((await db_session.scalars(
        select(CaseAssessment).where(CaseAssessment.inspection_id == inspection.id))).all())
    table = CaseAssessment.__table__
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        # Keyed on id, but only where the version is still 1: the second row is left as it was.
        await session.execute(
            update(table).where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
            .values(evidence_note=bindparam("b_note", type_=table.c.evidence_note.type)),
            [{"b_id": a.id, "b_version": 1 if n != 1 else 7, "b_note": "noted"} for n, a in enumerate(assessments)],
        )
    entries = await since(db_session, mark)
    assert sorted(e.entity_id for e in entries) == sorted(str(a.id) for n, a in enumerate(assessments) if n != 1)


async def test_a_bulk_delete_records_each_row_as_it_was(sessions, db_session):
    units = [await make_unit(db_session, type="region") for _ in range(2)]
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        await session.execute(delete(Unit).where(Unit.id.in_([u.id for u in units])))
    entries = await since(db_session, mark)
    assert sorted((e.action, e.entity_id) for e in entries) == sorted(("delete", str(u.id)) for u in units)
    assert {e.before["code"] for e in entries} == {u.code for u in units}


async def test_a_bulk_insert_of_a_single_row_with_literal_values_is_recorded(sessions, db_session):
    mark = await head(db_session)
    code = f"L{uuid.uuid4().hex[:8].upper()}"
    async with sessions(INSPECTOR) as session:
        await session.execute(insert(Unit).values(code=code, name="Literal", type="region", nation="Wales", version=1))
    [entry] = await since(db_session, mark)
    held = await db_session.scalar(select(Unit).where(Unit.code == code))
    assert (entry.entity_id, entry.after["nation"], entry.after["created_by"]) == (str(held.id), "Wales", "inspector-7")


async def test_a_key_of_several_columns_is_recorded_as_a_json_array_however_long(sessions, db_session):
    scope, key = "POST /api/v1/inspections/" + str(uuid.uuid4()) + "/rating-runs", '"\\' * 100
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        session.add(IdempotentRequest(scope=scope, key=key, request_fingerprint="0" * 64))
    [entry] = await since(db_session, mark)
    assert json.loads(entry.entity_id) == [scope, key]


async def test_the_evidence_revision_is_bookkeeping_and_is_not_audited(sessions, db_session):
    inspection = await make_inspection(db_session)
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        held = await inspection_for_change(session, inspection.id)
        assert held.evidence_revision == 1
    assert await since(db_session, mark) == []


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("way", ["insert from select", "executemany not by key", "text", "the log itself",
                                 "bulk into the log"])
async def test_a_write_the_log_cannot_describe_is_refused_and_nothing_is_written(sessions, db_session, way):
    unit = await make_unit(db_session, type="region")
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        with pytest.raises(Undescribable):
            if way == "insert from select":
                source = select(Unit.id, Unit.code + "X", Unit.name, Unit.type, Unit.nation, Unit.version)
                await session.execute(
                    insert(Unit).from_select(["id", "code", "name", "type", "nation", "version"],
                                             source.where(Unit.id == unit.id))
                )
            elif way == "executemany not by key":
                await session.execute(update(Unit).where(Unit.code == bindparam("c")).values(name=bindparam("n")),
                                      [{"c": unit.code, "n": "Renamed"}])
            elif way == "text":
                await session.execute(text("UPDATE units SET name = 'Renamed' WHERE code = :c"), {"c": unit.code})
            elif way == "the log itself":
                session.add(AuditEntry(id=10**12, at=unit.created_at, actor_id="x", actor_kind="system",
                                       action="insert", entity="units", prev_hash="0", hash="0"))
                await session.flush()
            else:
                await session.execute(update(AuditEntry).where(AuditEntry.id == mark).values(actor_id="forged"))
        await session.rollback()
    assert (await db_session.get(Unit, unit.id, populate_existing=True)).name == unit.name
    assert await since(db_session, mark) == []


async def test_a_session_acting_for_nobody_records_nothing_and_writes_nothing(sessions, db_session):
    mark = await head(db_session)
    async with sessions(None) as session:
        with pytest.raises(NoActor):
            await session.execute(insert(Unit), [{"code": "NOBODY", "name": "x", "type": "region", "nation": "x"}])
        with pytest.raises(NoActor):
            await audit.record(session, "sign_in", "users", "someone")
    assert await since(db_session, mark) == []


# --- named events ------------------------------------------------------------------------------------


async def test_a_named_event_is_recorded_with_its_details_in_the_sessions_transaction(sessions, db_session, request_id):
    mark = await head(db_session)
    inspection = await make_inspection(db_session)
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        await audit.record(session, "sign_in", "users", "inspector-7", {"address": "192.0.2.1", "case_ref": "Q1"})
        await audit.record(session, "sign_in.refused", "users", None, {"username": "who@example.org"},
                           actor=Actor(id="system", name="System"), inspection_id=inspection.id)
    signed_in, refused = await since(db_session, mark)
    assert (signed_in.action, signed_in.entity, signed_in.entity_id) == ("sign_in", "users", "inspector-7")
    assert (signed_in.actor_id, signed_in.actor_kind, signed_in.request_id) == ("inspector-7", "person", request_id)
    assert signed_in.details == {"address": "192.0.2.1", "case_ref": MASKED}
    assert signed_in.before is None and signed_in.after is None
    assert (refused.actor_id, refused.entity_id, refused.inspection_id) == ("system", None, inspection.id)


@pytest.mark.parametrize("action", ["insert", "update", "delete", "Sign In", "", "x" * 65])
async def test_an_event_is_named_apart_from_the_row_actions(sessions, action):
    async with sessions(INSPECTOR) as session:
        with pytest.raises(ValueError):
            await audit.record(session, action, "users")


async def test_an_event_recorded_apart_is_committed_on_its_own(gateway_app, db_session):
    mark = await head(db_session)
    await audit.record_apart(gateway_app.state.sessionmaker, INSPECTOR, "api_key.revoked", "api_keys", "k1")
    [entry] = await since(db_session, mark)
    assert (entry.action, entry.entity_id, entry.actor_id) == ("api_key.revoked", "k1", "inspector-7")


async def test_a_sample_result_and_a_frame_are_recorded_by_hash(db_session):
    inspection = await make_inspection(db_session)
    mark = await head(db_session)
    await make_assessed_sample(db_session, inspection, "case_supervision", [{"case_ref": "Q000009"}])
    entries = {e.entity: e for e in await since(db_session, mark)}
    assert set(entries["caseload_frames"].after["content"]) == {"sha256", "bytes"}
    assert set(entries["samples"].after["result"]) == {"sha256"}
    assert set(entries["samples"].after["design"]) == {"sha256"}
    assert "Q000009" not in str([e.after for e in entries.values()])
    held = await db_session.scalar(select(Sample).where(Sample.inspection_id == inspection.id))
    assert entries["samples"].entity_id == str(held.id)


async def test_rows_the_flush_deletes_by_itself_are_recorded_too(sessions, db_session):
    """Standards taken out of a framework version's collection are deleted as orphans by the flush, never
    passing through session.delete."""
    framework_id = f"audit-{uuid.uuid4().hex[:8]}"
    standards = [FrameworkStandard(id=f"1.{n}", position=n, domain_number=1, name=f"Standard {n}", kind="judged",
                                   scored=True) for n in (1, 2)]
    async with sessions(INSPECTOR) as session:
        session.add(FrameworkVersion(id=framework_id, version="1", name="Audited", status="draft", content_hash="0",
                                     definition={}, standards=standards))
    mark = await head(db_session)
    async with sessions(INSPECTOR) as session:
        held = await session.get(FrameworkVersion, framework_id, options=[selectinload(FrameworkVersion.standards)])
        held.standards = [s for s in held.standards if s.id == "1.1"]
    entries = await since(db_session, mark)
    assert [(e.action, e.entity, e.entity_id) for e in entries] == [
        ("delete", "framework_standards", f'["{framework_id}","1.2"]')]
    assert entries[0].before["name"] == "Standard 2"
