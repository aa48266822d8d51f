"""Where the statistics statements run: in the request's session, or on PostgreSQL on a small asyncpg pool
of their own.

A statistics answer only reads, so it needs neither the session's unit of work nor a transaction: it is
a few statements, each consistent in itself (as in a READ COMMITTED transaction, where each statement
sees its own snapshot too), run at once (`together`). Through SQLAlchemy's pool and session a request
pays for the pre-ping, BEGIN and COMMIT and the session's own work, and ran its statements one after
another (measured on the ten-year history: 15 ms for key questions whose own statement takes 7); on the
pool each statement is one round trip. The statements are the same, compiled by SQLAlchemy for asyncpg,
with the same parameters (the caller's visibility among them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from fastapi import Request
from sqlalchemy import Executable
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.compiler import ExpandedState

from gateway.db import DatabaseLimits, read_pool

COMPILED = 256
"""Shapes of statement held compiled; a few dozen are in use (one for each set of figures, filters and
kind of caller)."""

Read = Callable[[Executable], Awaitable[list[dict[str, Any]]]]
"""Runs a statement; its rows, each a dict by column name."""


def in_session(session: AsyncSession) -> Read:
    """Reads in `session`, one at a time even when asked `together`: a session runs one statement at once."""
    one_at_a_time = asyncio.Lock()

    async def read(statement: Executable) -> list[dict[str, Any]]:
        async with one_at_a_time:
            return [dict(row._mapping) for row in await session.execute(statement)]

    return read


async def together(*reads: Awaitable[Any]) -> list[Any]:
    """The results of `reads`, run at once: on the pool, each on a connection of its own, so an answer
    of several statements takes about as long as its longest. If one fails, the others are cancelled and
    awaited before its error is raised, so that none runs on after the request."""
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class PostgresReads:
    """Runs statements on asyncpg connections from `acquire`, compiled for `dialect`."""

    def __init__(self, acquire: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]], dialect: Dialect):
        self._acquire = acquire
        self._dialect = dialect
        self._compiled: dict[Any, Compiled] = {}
        self._sent: dict[int, tuple[Executable, str, list[Any]]] = {}

    def _expanded(self, statement: Executable) -> ExpandedState:
        """The statement's SQL and parameters. Compiling costs more than a statistics query's own work in
        the gateway (about 2 ms), so each shape of statement is compiled once, as SQLAlchemy's own cache
        does, under its cache key; the values (lists of units too) are this statement's."""
        key = statement._generate_cache_key()
        if key is None:  # a statement SQLAlchemy does not cache either
            return statement.compile(dialect=self._dialect).construct_expanded_state()
        compiled = self._compiled.get(key.key)
        if compiled is None:
            if len(self._compiled) >= COMPILED:
                self._compiled.clear()
            compiled = self._compiled[key.key] = statement.compile(dialect=self._dialect, cache_key=key)
        return compiled.construct_expanded_state(compiled.construct_params(extracted_parameters=key.bindparams))

    def _sql(self, statement: Executable) -> tuple[str, list[Any]]:
        """The SQL and the values sent for `statement`; worked out once for a statement that is sent again
        (the repository builds each once for a scope and caller, `repository._statement`), as the cache
        key alone costs a good part of a millisecond."""
        sent = self._sent.get(id(statement))
        if sent is not None and sent[0] is statement:
            return sent[1], sent[2]
        expanded = self._expanded(statement)
        processors, bound = expanded.processors, expanded.parameters
        values = [
            processors[name](bound[name]) if name in processors else bound[name] for name in expanded.positiontup
        ]
        if len(self._sent) >= COMPILED:
            self._sent.clear()
        self._sent[id(statement)] = (statement, expanded.statement, values)
        return expanded.statement, values

    async def __call__(self, statement: Executable) -> list[dict[str, Any]]:
        sql, values = self._sql(statement)
        async with self._acquire() as connection:
            return [dict(row) for row in await connection.fetch(sql, *values)]


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
