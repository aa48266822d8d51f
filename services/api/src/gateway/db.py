"""The gateway's database: the declarative base, engines and the request-scoped unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, DateTime, MetaData, event, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import InterfaceError, OperationalError
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


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

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
            connection.exec_driver_sql("BEGIN")

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


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


def answer_database_outages(app: FastAPI) -> None:
    """A database that cannot be reached is a 503 with Retry-After, not an internal error."""
    for error in DATABASE_UNREACHABLE:
        app.add_exception_handler(error, _database_unreachable)


def row_fields(row: Base) -> dict[str, Any]:
    """A row's loaded column values by attribute name (columns a query deferred are left out, never
    loaded here): with a read's own derived fields added, what its schema validates from."""
    unloaded = inspect(row).unloaded
    return {a.key: getattr(row, a.key) for a in row.__mapper__.column_attrs if a.key not in unloaded}
