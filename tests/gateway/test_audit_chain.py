"""The audit log is tamper-evident: entries are numbered consecutively, each holds the hash of the one
before it, `audit-verify` names the first broken link of an edited, rehashed or removed entry (exit code 1),
and on PostgreSQL a trigger refuses any UPDATE, DELETE or TRUNCATE of the log."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from gateway.audit.chain import GENESIS, entry_hash, verify
from gateway.audit.models import AuditEntry
from gateway.cli import migrate
from gateway.db import create_engine, create_sessionmaker
from tests.conftest import ROOT, TEST_ACTOR, _admin, _create_postgres_database, _postgres_skip_reason
from tests.gateway.factories import make_inspection, make_judgement, make_unit

TABLE = AuditEntry.__table__


async def entries_from(connection, first: int) -> list[dict]:
    rows = await connection.execute(select(TABLE).where(TABLE.c.id >= first).order_by(TABLE.c.id))
    return [dict(row) for row in rows.mappings()]


async def some_changes(session) -> int:
    """A few changes of several kinds; the id of the first entry they wrote."""
    start = await session.scalar(select(TABLE.c.id).order_by(TABLE.c.id.desc()).limit(1)) or 0
    inspection = await make_inspection(session)
    await make_judgement(session, inspection, "1.1", "good")
    inspection.title = "Changed"
    await session.flush()
    return start + 1


async def test_entries_are_numbered_in_turn_and_each_holds_the_hash_of_the_one_before(db_session, db_connection):
    first = await some_changes(db_session)
    entries = await entries_from(db_connection, first - 1 if first > 1 else first)
    for before, entry in zip(entries, entries[1:]):
        assert entry["id"] == before["id"] + 1
        assert entry["prev_hash"] == before["hash"]
    for entry in entries:
        assert entry["hash"] == entry_hash(entry)
    if entries[0]["id"] == 1:
        assert entries[0]["prev_hash"] == GENESIS
    verdict = await db_connection.run_sync(verify)
    assert verdict.intact, verdict.describe()
    assert (verdict.head_id, verdict.head_hash) == (entries[-1]["id"], entries[-1]["hash"])


@pytest.fixture
async def editable(db_connection):
    """The log with its append-only trigger off for this test's transaction, as someone with the
    database owner's rights could do; rolled back with the test."""
    if db_connection.dialect.name == "postgresql":
        await db_connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    return db_connection


@pytest.mark.parametrize("edit", ["contents", "rehashed", "removed"])
async def test_an_entry_changed_in_the_database_is_named_by_the_verification(db_session, editable, edit):
    first = await some_changes(db_session)
    entries = await entries_from(editable, first)
    target = entries[1]
    if edit == "contents":
        await editable.execute(TABLE.update().where(TABLE.c.id == target["id"]).values(actor_id="mallory"))
    elif edit == "rehashed":
        forged = {**target, "actor_id": "mallory"}
        await editable.execute(
            TABLE.update().where(TABLE.c.id == target["id"]).values(actor_id="mallory", hash=entry_hash(forged))
        )
    else:
        await editable.execute(TABLE.delete().where(TABLE.c.id == target["id"]))

    verdict = await editable.run_sync(verify)
    assert not verdict.intact
    if edit == "contents":
        assert verdict.broken_at == target["id"]
        assert "its contents do not match its hash" in verdict.problem
    elif edit == "rehashed":
        assert verdict.broken_at == target["id"] + 1
        assert f"does not match the hash of entry {target['id']}" in verdict.problem
    else:
        assert verdict.broken_at == target["id"] + 1
        assert f"entry {target['id']} is missing" in verdict.problem
    assert verdict.describe().startswith(f"audit log broken at entry {verdict.broken_at}: ")


async def test_on_postgresql_the_log_refuses_update_delete_and_truncate(db_session, db_connection):
    if db_connection.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; SQLite relies on audit-verify")
    first = await some_changes(db_session)
    for statement in (
        TABLE.update().where(TABLE.c.id == first).values(actor_id="mallory"),
        TABLE.delete().where(TABLE.c.id == first),
        text("TRUNCATE audit_entries"),
    ):
        with pytest.raises(DBAPIError, match="audit entries are append-only"):
            async with db_connection.begin_nested():
                await db_connection.execute(statement)
    assert (await entries_from(db_connection, first))[0]["actor_id"] == TEST_ACTOR.id


# --- the command -------------------------------------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty, migrated database of its own, thrown away afterwards."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
        migrate(url)
        yield url
        return
    created = _create_postgres_database()
    if created is None:
        pytest.skip(_postgres_skip_reason[0])
    admin, url = created
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def audit_verify(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "audit-verify"], env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def on(url: str, work):
    async def run():
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_audit_verify_walks_the_chain_and_exits_1_naming_the_first_broken_link(scratch_database):
    empty = audit_verify(scratch_database)
    assert (empty.returncode, empty.stdout.strip()) == (0, "audit log: empty")

    async def write(session):
        for _ in range(3):
            await make_unit(session, type="region")

    on(scratch_database, write)
    intact = audit_verify(scratch_database)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("audit log intact: 3 entries, head 3 ")

    async def tamper(session):
        connection = await session.connection()  # straight to the database: a session refuses to
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            await connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        await connection.execute(TABLE.update().where(TABLE.c.id == 2).values(entity_id="someone-else"))
        if postgres:
            await connection.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))

    on(scratch_database, tamper)
    broken = audit_verify(scratch_database)
    assert broken.returncode == 1
    assert broken.stderr.startswith("audit log broken at entry 2: its contents do not match its hash"), broken.stderr
