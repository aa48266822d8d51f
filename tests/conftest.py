"""Test set-up shared by every suite: one database per run per backend, migrated once; each test in a
transaction rolled back at the end; engines in process through ASGI transports.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server). With CI set, an unreachable
PostgreSQL fails the run; elsewhere its tests are skipped and the summary says so loudly.

The `gateway` client is signed in as an administrator (a user made in the test's transaction, sending an
access token the app's own keys signed); the real authenticator resolves it on every request. `anonymous`
is a client with no credentials. Each database of the run also holds the administrator of
`tests.support.identity`, for the services started as real processes to sign in with.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from gateway.actors import SESSION_KEY, Actor
from gateway.app import create_app as create_gateway
from gateway.casedata.keys import new_index_key
from gateway.cli import ensure_admin, load_library, load_programme, migrate
from gateway.db import create_engine
from gateway.identity.authentication import Identity
from gateway.identity.models import RoleGrant, User
from gateway.permissions import EVERYTHING, Role
from gateway.reports.documents import ReportDocuments
from gateway.settings import Settings
from gateway.statistics.reads import PostgresReads
from gateway.summaries.documents import SummaryDocuments
from inspection_shared.clients import RatingEngineClient, SamplingClient
from rating_engine.app import create_app as create_rating_engine
from sampling.app import create_app as create_sampling
from tests.support.identity import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_SIGNING_KEY_PEM, known_hash

# Case keys of the run, for the tests and the services they start (which inherit the environment).
os.environ.setdefault("GATEWAY_CASE_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("GATEWAY_CASE_INDEX_KEY", new_index_key())

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TEST_ACTOR = Actor(id="test", name="Test set-up", grants=(EVERYTHING,))
"""Writes the rows tests set up straight into the database."""
TEST_ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-0000000ad001")
TEST_ADMIN = str(TEST_ADMIN_ID)
"""The administrator the `gateway` client acts as: what the rows it writes are stamped with."""
TEST_SETTINGS = Settings(database_url="unused://set-by-fixture", jwt_private_key=TEST_SIGNING_KEY_PEM)
_postgres_skip_reason: list[str] = []


def postgres_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES)


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _create_postgres_database() -> tuple[str, str] | None:
    admin = make_url(postgres_admin_url())
    name = f"inspection_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_admin(admin.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as error:  # unreachable server, refused login, ...
        reason = f"PostgreSQL at {admin.render_as_string()} is unreachable: {type(error).__name__}: {error}"
        if os.environ.get("CI"):
            pytest.exit(f"CI is set and {reason}", returncode=3)
        _postgres_skip_reason.append(reason)
        return None
    return admin.render_as_string(hide_password=False), admin.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the framework library loaded, for the whole run."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'inspection.db'}"
        migrate(url)
        asyncio.run(load_library(url))
        asyncio.run(load_programme(url))
        asyncio.run(ensure_admin(url, ADMIN_EMAIL, ADMIN_PASSWORD))
        yield url
        return
    created = _create_postgres_database()
    if created is None:
        pytest.skip(_postgres_skip_reason[0])
    admin, url = created
    migrate(url)
    asyncio.run(load_library(url))
    asyncio.run(load_programme(url))
    asyncio.run(ensure_admin(url, ADMIN_EMAIL, ADMIN_PASSWORD))
    yield url
    asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_connection(db_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back when the test ends."""
    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def db_session(db_connection: AsyncConnection):
    maker = async_sessionmaker(
        bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False, info={SESSION_KEY: TEST_ACTOR}
    )
    async with maker() as session:
        yield session


@pytest.fixture(scope="session")
def engine_apps():
    """The real engines, in process; stateless, so one of each serves the whole run."""
    return create_rating_engine(), create_sampling()


def engine_clients_in_process(engine_apps) -> tuple[RatingEngineClient, SamplingClient]:
    rating_app, sampling_app = engine_apps
    return (
        RatingEngineClient("http://rating-engine", transport=httpx.ASGITransport(app=rating_app)),
        SamplingClient("http://sampling", transport=httpx.ASGITransport(app=sampling_app)),
    )


@pytest.fixture(scope="session")
def _gateway_app_once():
    # Building the app is the slow part of a test's set-up; its state is wired afresh for each test.
    return create_gateway(TEST_SETTINGS)


@pytest.fixture(scope="session")
def test_signing_keys():
    from gateway.identity.keys import load

    return load(TEST_SETTINGS)


@pytest.fixture
async def gateway_app(
    _gateway_app_once, engine_apps, test_signing_keys, db_engine: AsyncEngine, db_connection: AsyncConnection
):
    """The gateway app wired to the test's transaction and to the real engines in process, with identities
    of its own (nothing held from another test's rolled-back rows)."""
    app = _gateway_app_once
    app.state.identity = Identity.configured(TEST_SETTINGS, test_signing_keys)
    app.state.db_engine = db_engine
    app.state.sessionmaker = async_sessionmaker(
        bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.state.rating_engine, app.state.sampling = engine_clients_in_process(engine_apps)
    # States read in the test's own transaction, which a separate pool could not see.
    app.state.summaries = SummaryDocuments(None, capacity=256)
    app.state.reports = ReportDocuments(None, capacity=64)
    # Statistics on PostgreSQL read as on their pool, compiled for asyncpg, on the test's own connection
    # (one statement at a time: the pool would run them at once, each on a connection of its own).
    app.state.statistics_reads = None
    if db_engine.dialect.name == "postgresql":
        driver, one_at_a_time = (await db_connection.get_raw_connection()).driver_connection, asyncio.Lock()

        @asynccontextmanager
        async def acquire() -> AsyncIterator[object]:
            async with one_at_a_time:
                yield driver

        app.state.statistics_reads = PostgresReads(acquire, db_engine.dialect)
    clients = (app.state.rating_engine, app.state.sampling)
    yield app
    for client in clients:
        await client.aclose()


@pytest.fixture
def body_limits(gateway_app):
    """Set the gateway's body limits for one test (`body_limits(max_body_bytes=1024)`); restored after it."""
    names = ("max_body_bytes", "max_upload_bytes")
    saved = {name: getattr(gateway_app.state, name) for name in names}

    def limit(**values: int) -> None:
        for name, value in values.items():
            assert name in names
            setattr(gateway_app.state, name, value)

    yield limit
    for name, value in saved.items():
        setattr(gateway_app.state, name, value)


@pytest.fixture
async def test_admin(db_session) -> User:
    """An administrator, written into the test's transaction."""
    admin = User(id=TEST_ADMIN_ID, email="test-admin@example.org", name="Test administrator",
                 password_hash=known_hash(), active=True, token_generation=0)
    db_session.add(admin)
    await db_session.flush()
    db_session.add(RoleGrant(user_id=admin.id, role=Role.ADMIN, unit_id=None))
    await db_session.flush()
    return admin


def bearer(gateway_app, user: User) -> dict[str, str]:
    """The Authorization header of an access token for `user`, as signing in would issue it."""
    token = gateway_app.state.identity.tokens.issue(user.id, uuid.uuid4(), user.token_generation)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def gateway(gateway_app, test_admin) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway signed in as the test's administrator."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app), base_url="http://gateway", headers=bearer(gateway_app, test_admin)
    ) as client:
        yield client


@pytest.fixture
async def anonymous(gateway_app) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway sending no credentials."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway_app), base_url="http://gateway") as client:
        yield client


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _postgres_skip_reason:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line("PostgreSQL TESTS DID NOT RUN: only the embedded SQLite path was tested.", red=True, bold=True)
        terminalreporter.write_line(_postgres_skip_reason[0], red=True)
        terminalreporter.write_line(
            "Start PostgreSQL, or set TEST_DATABASE_URL=postgresql+asyncpg://user@host:5432/db, and run make test again.",
            red=True,
        )
        terminalreporter.write_line(bar, red=True, bold=True)


ROOT = Path(__file__).resolve().parents[1]
