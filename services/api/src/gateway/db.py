"""The gateway's database: the declarative base, engines and the request-scoped unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, DateTime, MetaData, event, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from gateway.actors import SESSION_KEY, Actor, CurrentActor
from inspection_shared.problems import Problem
from inspection_shared.web import problem_response

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDocument = JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL."""


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on both databases (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class DatabaseLimits:
    """How long the gateway waits on its database, and how many connections it keeps (GATEWAY_DB_*)."""

    connect_timeout: float = 5.0
    """Seconds to open a connection."""
    checkout_timeout: float = 5.0
    """Seconds a request waits for a pooled connection before it is answered 503."""
    statement_timeout: float = 15.0
    """Seconds one statement may run (and, on SQLite, a writer waits for its turn)."""
    pool_size: int = 10
    max_overflow: int = 20


def create_engine(url: str, limits: DatabaseLimits = DatabaseLimits()) -> AsyncEngine:
    """The gateway's engine: a database that is slow or gone costs a request seconds, never minutes, and
    no SQL parameter (a case reference, say) ever appears in an error or a log."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": limits.statement_timeout}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            # SQLite leaves foreign keys off unless asked; WAL lets readers run beside a writer.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
            # The driver's own implicit BEGIN comes late (first DML only), so a SAVEPOINT would open the
            # outermost transaction and its RELEASE would commit it. Take over BEGIN so that nested
            # transactions (per-request sessions inside a test's transaction) stay nested.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # Immediate: a transaction takes the write lock when it begins, waiting its turn (the busy
            # timeout) if another holds it. A deferred one that read first could not wait when it came to
            # write, and would fail with "database is locked" where PostgreSQL waits for the row lock.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(
        url,
        pool_size=limits.pool_size,
        max_overflow=limits.max_overflow,
        pool_timeout=limits.checkout_timeout,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args=postgres_connect_args(limits),
    )


def postgres_connect_args(limits: DatabaseLimits) -> dict[str, Any]:
    """asyncpg's arguments for the limits: the client gives up on a statement a second after the server
    would have cancelled it, so a server that has stopped answering is noticed too."""
    return {
        "timeout": limits.connect_timeout,
        "command_timeout": limits.statement_timeout + 1,
        "server_settings": {
            "statement_timeout": str(int(limits.statement_timeout * 1000)),
            "idle_in_transaction_session_timeout": str(int(limits.statement_timeout * 4000)),
        },
    }


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """A read pool's connections only ever run reads, in no transaction and with no session settings, so
    they go back to the pool as they are: asyncpg's default reset would cost a round trip a read."""


async def read_pool(engine: AsyncEngine, max_connections: int, limits: DatabaseLimits) -> asyncpg.Pool:
    """An asyncpg pool for reads that need no session nor transaction, with the connection settings and
    limits SQLAlchemy's own pool uses; it connects on first use, as SQLAlchemy's pool does."""
    _, connect_args = engine.dialect.create_connect_args(engine.url)
    for adapter_only in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"):
        connect_args.pop(adapter_only, None)
    return await asyncpg.create_pool(
        min_size=0, max_size=max_connections, reset=_nothing_to_reset,
        **{**connect_args, **postgres_connect_args(limits)},
    )


def create_sessionmaker(engine: AsyncEngine, actor: Actor | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; they write for `actor` unless opened with another (`info={SESSION_KEY: ...}`)."""
    return async_sessionmaker(engine, expire_on_commit=False, info={SESSION_KEY: actor})


async def get_session(request: Request, actor: CurrentActor) -> AsyncIterator[AsyncSession]:
    """One session per request, writing for its actor (see `writes`): committed when the handler
    succeeds, rolled back on any error."""
    async with request.app.state.sessionmaker(info={SESSION_KEY: actor}) as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def release(session: AsyncSession) -> None:
    """End a request's read phase before it waits on something slow (an engine, a client's body): commit
    what it did and give its connection back to the pool, so that no connection, transaction or row lock
    is held while it waits. The session opens a new transaction for the write that follows, which must
    check again what it read."""
    await session.commit()


# scope="function": commit before the response is sent, so a failed commit is never reported as success.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


DATABASE_UNREACHABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset or timed-out connections, as asyncpg raises them itself
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # the server is starting, shutting down or cancelled us
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    OperationalError,  # SQLAlchemy's name for the above, and SQLite's "database is locked"
    InterfaceError,  # a connection closed under SQLAlchemy
)

UNAVAILABLE_STATES = frozenset({"57014", "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006"})
"""PostgreSQL SQLSTATEs of a statement cancelled (its timeout), a server shutting down or refusing
connections, and connections lost: the database, not the request, is at fault."""

log = structlog.get_logger("db")


async def _database_unreachable(request: Request, error: Exception) -> JSONResponse:
    log.warning("database unreachable", error=type(error).__name__)
    return problem_response(
        request,
        Problem(
            503,
            "Database unavailable",
            "The database could not be reached, so the request did not complete; try again shortly.",
            slug="database-unavailable",
            headers={"Retry-After": "5"},
        ),
    )


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE beneath an error (SQLAlchemy's wrapper, the driver's, asyncpg's), if any."""
    cause: BaseException | None = error
    while cause is not None:
        if (state := getattr(cause, "sqlstate", None)) is not None:
            return state
        cause = getattr(cause, "orig", None) or cause.__cause__
    return None


async def _database_error(request: Request, error: DBAPIError) -> JSONResponse:
    if error.connection_invalidated or sqlstate(error) in UNAVAILABLE_STATES:
        return await _database_unreachable(request, error)
    raise error  # not the database's state: answered as any unexpected error


async def _database_busy(request: Request, error: Exception) -> JSONResponse:
    log.warning("database connections all in use", error=type(error).__name__)
    return problem_response(
        request,
        Problem(
            503,
            "Database busy",
            "Every database connection is in use, so the request did not complete; try again shortly.",
            slug="database-busy",
            headers={"Retry-After": "2"},
        ),
    )


def answer_database_outages(app: FastAPI) -> None:
    """A database that cannot be reached, is too slow or has no connection free is a 503 with Retry-After,
    not an internal error."""
    for error in DATABASE_UNREACHABLE:
        app.add_exception_handler(error, _database_unreachable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_busy)


def row_fields(row: Base) -> dict[str, Any]:
    """A row's loaded column values by attribute name (columns a query deferred are left out, never
    loaded here): with a read's own derived fields added, what its schema validates from."""
    unloaded = inspect(row).unloaded
    return {a.key: getattr(row, a.key) for a in row.__mapper__.column_attrs if a.key not in unloaded}
