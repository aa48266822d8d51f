"""After a whole inspection through the API, a dump of the database holds no case reference of the
caseload in clear: not of the cases drawn, nor of any other case of any frame uploaded (a replaced
frame's included), in any table, as text, JSON or compressed bytes. Everything the API answers still
holds them, opened."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.app import create_app
from gateway.cli import alembic_config, ensure_admin, load_library, migrate
from gateway.db import create_engine, create_sessionmaker
from gateway.identity.authentication import Identity
from gateway.identity.keys import load as load_signing_keys
from gateway.inspections.models import Inspection
from gateway.ratings.models import PublishedVersion, RatingSnapshot
from gateway.settings import Settings
from gateway.summaries.documents import SummaryDocuments
from tests.conftest import (
    TEST_ACTOR,
    TEST_SETTINGS,
    _admin,
    _create_postgres_database,
    _postgres_skip_reason,
    engine_clients_in_process,
)
from tests.gateway.inspection_run import PREFIX, read_back, run_inspection
from tests.support.identity import ADMIN_EMAIL, ADMIN_PASSWORD

REFERENCE = re.compile(rf"{PREFIX}\d{{6}}")
GZIP = b"\x1f\x8b"


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated and with the library, whose writes are committed (a dump sees them)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'at-rest.db'}"
        migrate(url)
        asyncio.run(load_library(url))
        asyncio.run(ensure_admin(url, ADMIN_EMAIL, ADMIN_PASSWORD))
        yield url
        return
    created = _create_postgres_database()
    if created is None:
        pytest.skip(_postgres_skip_reason[0])
    admin, url = created
    try:
        migrate(url)
        asyncio.run(load_library(url))
        asyncio.run(ensure_admin(url, ADMIN_EMAIL, ADMIN_PASSWORD))
        yield url
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


@asynccontextmanager
async def gateway_on(url: str, engine_apps) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in process on the database at `url`, each request's writes committed, signed in as its
    administrator."""
    app = create_app(Settings(database_url=url))
    app.state.identity = Identity.configured(TEST_SETTINGS, load_signing_keys(TEST_SETTINGS))
    engine = create_engine(url)
    app.state.db_engine = engine
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    app.state.rating_engine, app.state.sampling = engine_clients_in_process(engine_apps)
    app.state.summaries = SummaryDocuments(None, capacity=16)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            signed_in = await client.post("/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert signed_in.status_code == 200, signed_in.text
            client.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
            yield client
    finally:
        for client in (app.state.rating_engine, app.state.sampling):
            await client.aclose()
        await engine.dispose()


async def inspection_through_the_api(url: str, engine_apps):
    async with gateway_on(url, engine_apps) as client:
        run = await run_inspection(client)
        return run, await read_back(client, run)


def _references(data: bytes) -> set[str]:
    """The case references in some bytes, and in them decompressed if they are gzip."""
    found = set(REFERENCE.findall(data.decode("latin-1")))
    if data.startswith(GZIP):
        found |= _references(gzip.decompress(data))
    return found


def postgres_dump(url: str) -> bytes:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    target = make_url(url)
    dumped = subprocess.run(
        [pg_dump, "--no-owner", "-h", target.host or "127.0.0.1", "-p", str(target.port or 5432),
         "-U", target.username or "postgres", "-d", target.database],
        capture_output=True, timeout=120, check=True,
    )
    return dumped.stdout


def references_in_postgres_dump(dump: bytes) -> set[str]:
    found = _references(dump)
    # bytea values are dumped in hex: read each, and decompress it if it is gzip (a frame kept in clear).
    for blob in re.findall(rb"\\\\x([0-9a-f]+)", dump):
        found |= _references(bytes.fromhex(blob.decode()))
    return found


def references_in_sqlite(path: str) -> set[str]:
    found = set()
    for file in Path(path).parent.glob(Path(path).name + "*"):  # the database, its WAL and shared memory
        found |= _references(file.read_bytes())
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        found |= _references(value)
                    elif isinstance(value, str):
                        found |= _references(value.encode())
    return found


async def test_a_dump_after_a_whole_inspection_holds_no_case_reference_of_the_caseload_in_clear(
    scratch_database, engine_apps
):
    run, answers = await inspection_through_the_api(scratch_database, engine_apps)

    # The API answers them in clear: the cases drawn, the reserves, the substitutions, the answers.
    answered = _references(repr(answers).encode())
    assert len(answered) > 60 and answered <= run.uploaded_refs
    assert len(run.uploaded_refs) == 850

    if scratch_database.startswith("sqlite"):
        held = references_in_sqlite(make_url(scratch_database).database)
    else:
        dump = postgres_dump(scratch_database)
        assert b"COPY public.sampled_cases" in dump and b"COPY public.caseload_frames" in dump
        held = references_in_postgres_dump(dump)
    assert held & run.uploaded_refs == set()


BEFORE_SEALING = "8b1e4d2c6a71"


async def test_the_migration_seals_what_is_held_and_its_downgrade_opens_it(scratch_database, engine_apps):
    run, before = await inspection_through_the_api(scratch_database, engine_apps)
    config = alembic_config(scratch_database)

    await asyncio.to_thread(command.downgrade, config, BEFORE_SEALING)
    engine = create_engine(scratch_database)
    try:
        async with engine.connect() as connection:
            refs = set((await connection.execute(text("SELECT case_ref FROM sampled_cases"))).scalars())
            contents = (await connection.execute(text("SELECT content FROM caseload_frames"))).scalars().all()
            results = (await connection.execute(text("SELECT result FROM samples"))).scalars().all()
            assessed = set((await connection.execute(text("SELECT case_ref FROM case_assessments"))).scalars())
    finally:
        await engine.dispose()
    assert len(refs) > 60 and refs <= run.uploaded_refs and assessed <= refs
    assert set().union(*(_references(bytes(c)) for c in contents)) == run.uploaded_refs - run.replaced_refs
    assert all(json.loads(r) if isinstance(r, str) else r for r in results)
    assert _references(repr(results).encode()) >= {c["case_ref"] for c in _selected(before)}

    await asyncio.to_thread(command.upgrade, config, "head")
    await ensure_admin(scratch_database, ADMIN_EMAIL, ADMIN_PASSWORD)  # accounts came after the sealing step
    async with gateway_on(scratch_database, engine_apps) as client:
        assert await read_back(client, run) == before
    if scratch_database.startswith("sqlite"):
        assert references_in_sqlite(make_url(scratch_database).database) & run.uploaded_refs == set()
    else:
        assert references_in_postgres_dump(postgres_dump(scratch_database)) & run.uploaded_refs == set()

    # The tables rebuilt (on SQLite) still let an inspection go with everything of it.
    engine = create_engine(scratch_database)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            await session.execute(delete(PublishedVersion))
            await session.execute(delete(RatingSnapshot).where(RatingSnapshot.kind == "override"))
            await session.execute(delete(RatingSnapshot))
            await session.execute(delete(Inspection).where(Inspection.id == uuid.UUID(run.inspection_id)))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM sampled_cases"))).scalar() == 0
    finally:
        await engine.dispose()


def _selected(answers: dict) -> list[dict]:
    return [case for path, read in answers.items() if path.startswith("/api/v1/samples/") and "selected" in read
            for case in read["selected"]]

