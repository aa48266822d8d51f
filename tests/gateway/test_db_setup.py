"""`gateway.cli setup` and `migrate` (so `make run`) make the PostgreSQL database DATABASE_URL names when
it is missing and the server allows; otherwise, and for a server that cannot be reached, one line on
stderr says what to run (exit code 2). Real PostgreSQL, each database and role named at random and
dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from gateway.cli import main
from gateway.db import create_engine
from gateway.db_setup import ensure_database
from tests.conftest import ROOT, _admin, postgres_admin_url
from tests.support.servers import free_port

QUOTE = '"'


def quoted(name: str) -> str:
    return QUOTE + name.replace(QUOTE, QUOTE * 2) + QUOTE


@pytest.fixture(scope="module")
def server() -> URL:
    """The PostgreSQL server of the run (TEST_DATABASE_URL), signed in to as its administrator."""
    url = make_url(postgres_admin_url())
    try:
        asyncio.run(_admin(url.render_as_string(hide_password=False), "SELECT 1"))
    except Exception as error:  # unreachable server, refused login, ...
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL at {url.render_as_string()} is unreachable: {error}")
    return url


def run(url: URL, scalar: str) -> object:
    async def go() -> object:
        engine = create_engine(url.render_as_string(hide_password=False))
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text(scalar))).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(go())


def exists(server: URL, name: str) -> bool:
    return run(server, f"SELECT count(*) FROM pg_database WHERE datname = '{name.replace(chr(39), chr(39) * 2)}'") == 1


@pytest.fixture
def missing(server: URL) -> Iterator[URL]:
    """The URL of a database that does not exist yet; dropped afterwards if something made it."""
    name = f"inspection_setup_{uuid.uuid4().hex[:10]}"
    yield server.set(database=name)
    asyncio.run(_admin(server.render_as_string(hide_password=False), f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)"))


def cli(command: str, url: URL | str) -> subprocess.CompletedProcess:
    database_url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", command], env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def test_migrate_makes_a_missing_database_then_migrates_it(server, missing):
    made = cli("migrate", missing)
    assert made.returncode == 0, made.stderr
    assert f'database "{missing.database}": made' in made.stdout
    assert exists(server, missing.database)
    head = run(missing, "SELECT version_num FROM alembic_version")
    assert isinstance(head, str) and head

    again = cli("migrate", missing)
    assert again.returncode == 0, again.stderr
    assert "made" not in again.stdout
    assert run(missing, "SELECT version_num FROM alembic_version") == head


async def test_the_name_is_quoted_whatever_it_holds(server):
    name = f'inspection "setup"; DROP DATABASE postgres; -- {uuid.uuid4().hex[:6]}'
    url = server.set(database=name).render_as_string(hide_password=False)
    admin = server.render_as_string(hide_password=False)
    try:
        assert await ensure_database(url, create=True) is True
        assert await asyncio.to_thread(exists, server, name)
        assert await ensure_database(url, create=True) is False  # there now: left as it is
    finally:
        await _admin(admin, f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")
    assert await asyncio.to_thread(exists, server, "postgres")


@pytest.fixture
def user_who_may_not_create_databases(server: URL) -> Iterator[str]:
    role = f"inspection_nocreate_{uuid.uuid4().hex[:8]}"
    admin = server.render_as_string(hide_password=False)
    asyncio.run(_admin(admin, f"CREATE ROLE {role} LOGIN NOCREATEDB"))
    yield role
    asyncio.run(_admin(admin, f"DROP ROLE IF EXISTS {role}"))


def test_a_user_who_may_not_create_it_is_told_in_one_line_what_to_run(server, missing, user_who_may_not_create_databases):
    role = user_who_may_not_create_databases
    refused = cli("setup", missing.set(username=role, password=None))
    assert refused.returncode == 2
    assert refused.stdout == ""
    host, port = server.host or "localhost", server.port or 5432
    assert refused.stderr == (
        f'gateway.cli: The database "{missing.database}" does not exist on PostgreSQL at {host}:{port} and {role} '
        "could not make it (permission denied to create database): run "
        f'`createdb -h {host} -p {port} "{missing.database}"` as a user allowed to (or CREATE DATABASE there), '
        "then this again.\n"
    )
    assert not exists(server, missing.database)


def in_process(command: str, url: URL | str, monkeypatch, capsys) -> tuple[int, str, str]:
    """`gateway.cli command` run here: the same main, without a new interpreter's start."""
    monkeypatch.setenv("DATABASE_URL", url if isinstance(url, str) else url.render_as_string(hide_password=False))
    code = main([command])
    out, err = capsys.readouterr()
    return code, out, err


def test_other_commands_leave_a_missing_database_missing_and_say_to_run_setup(server, missing, monkeypatch, capsys):
    code, _, err = in_process("load-library", missing, monkeypatch, capsys)
    assert code == 2
    assert err == (
        f'gateway.cli: The database "{missing.database}" does not exist on PostgreSQL at '
        f"{server.host or 'localhost'}:{server.port or 5432}: run `python -m gateway.cli setup` (or make run) to make it.\n"
    )
    assert not exists(server, missing.database)


def test_a_server_that_cannot_be_reached_is_one_line(monkeypatch, capsys):
    port = free_port()
    assert in_process("setup", f"postgresql+asyncpg://postgres@127.0.0.1:{port}/inspection", monkeypatch, capsys) == (
        2, "",
        f"gateway.cli: PostgreSQL at 127.0.0.1:{port} cannot be reached (connection refused): start it, or point "
        "DATABASE_URL at a server that runs.\n",
    )


def test_a_login_the_server_refuses_is_one_line(server, monkeypatch, capsys):
    nobody = f"nobody_{uuid.uuid4().hex[:8]}"
    code, _, err = in_process("migrate", server.set(username=nobody, password=None), monkeypatch, capsys)
    assert code == 2
    assert err == (
        f"gateway.cli: PostgreSQL at {server.host or 'localhost'}:{server.port or 5432} refused {nobody} "
        f'(role "{nobody}" does not exist): correct the user or password in DATABASE_URL.\n'
    )
