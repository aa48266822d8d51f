"""Where the statistics statements run: in the request's session, or on PostgreSQL on a small asyncpg pool
of their own.

A statistics answer only reads, so it needs neither the session's unit of work nor a transaction: each
answer is one or two statements, each consistent in itself. Through SQLAlchemy's pool and session the
request pays for the pre-ping, BEGIN and COMMIT and the session's own work (measured on the ten-year
history: about three quarters again the time of the statement itself); on the pool each statement is
one round trip. The statements are the same, compiled by SQLAlchemy for asyncpg, with the same
parameters (the caller's visibility among them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from fastapi import Request
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway.db import DatabaseLimits, read_pool

Read = Callable[[Executable], Awaitable[list[dict[str, Any]]]]
"""Runs a statement; its rows, each a dict by column name."""


def in_session(session: AsyncSession) -> Read:
    async def read(statement: Executable) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in await session.execute(statement)]

    return read


class PostgresReads:
    """Runs statements on asyncpg connections from `acquire`, compiled for `dialect`."""

    def __init__(self, acquire: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]], dialect: Dialect):
        self._acquire = acquire
        self._dialect = dialect

    async def __call__(self, statement: Executable) -> list[dict[str, Any]]:
        compiled = statement.compile(dialect=self._dialect, compile_kwargs={"render_postcompile": True})
        bound, processors = compiled.construct_params(), compiled._bind_processors
        values = [
            processors[name](bound[name]) if name in processors else bound[name] for name in compiled.positiontup
        ]
        async with self._acquire() as connection:
            return [dict(row) for row in await connection.fetch(str(compiled), *values)]


class StatisticsPool:
    """The pool the statistics read on, apart from the sessions' and the summaries' (a long aggregate does
    not hold up either)."""

    def __init__(self, pool: asyncpg.Pool, dialect: Dialect, checkout_timeout: float):
        self._pool = pool
        self.reads = PostgresReads(lambda: pool.acquire(timeout=checkout_timeout), dialect)

    async def aclose(self) -> None:
        await self._pool.close()


async def statistics_pool(engine: AsyncEngine, limits: DatabaseLimits) -> StatisticsPool | None:
    """On PostgreSQL, a pool of its own; elsewhere none (the statistics are read in the request's session)."""
    if engine.dialect.name != "postgresql":
        return None
    return StatisticsPool(await read_pool(engine, 4, limits), engine.dialect, limits.checkout_timeout)


def reads_of(request: Request, session: AsyncSession) -> Read:
    """How a request reads statistics: on the app's pool if it has one, else in its session."""
    reads: PostgresReads | None = request.app.state.statistics_reads
    return reads if reads is not None else in_session(session)
