"""The inspection summary as a document: built once for each state of the inspection, then served as bytes.
The same holder keeps other documents built from the same state (the report of an inspection).

Dashboards and report generators read summaries far more often than anything in them changes, and
building one reads five tables. So each gateway process keeps the rendered JSON of recent summaries with
the state each was built from: the inspection's version and evidence revision, and the versions of its
unit and of the unit's parent. Every change to anything a summary shows moves one of them on (the
inspection and units through their version columns; frames, samples, answers, judgements and ratings
through `inspections.guards.inspection_for_change`), in the transaction that makes the change. A read looks the
state up with one query on primary keys and serves the held document while it matches. Framework
versions never change once held, so their names need no part in the state.

The state is read before the summary is built, so a document is never older than the state it is held
under: a change committed in between only means one more build on the next read. The state is also the
summary's ETag, so a client that holds it can ask with If-None-Match and be answered 304.

A document of an earlier published version (`?version=`) is held beside the latest, under the same
state: a correction moves the state on, so every version's document then says there is a later one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import asyncpg
from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.actors import Actor
from gateway.db import DatabaseLimits, read_pool
from gateway.inspections.guards import is_public, sees
from gateway.ratings.publication import no_version
from gateway.summaries import repository, service
from gateway.summaries.repository import STATE, State
from gateway.summaries.schemas import InspectionSummary
from inspection_shared.problems import NotFound


def shape_of(schema: type[BaseModel]) -> str:
    """Part of every ETag of a document of this schema, so that a release that changes the document's
    shape never answers 304 to a client holding a document of the old shape."""
    return hashlib.sha256(json.dumps(schema.model_json_schema(), sort_keys=True).encode()).hexdigest()[:8]


_SHAPE = shape_of(InspectionSummary)


class PostgresStates:
    """Reads states on a small asyncpg pool of its own, one query for the reads of an inspection that
    arrive together.

    A held summary is otherwise little more than the HTTP work, and the same query through SQLAlchemy's
    pool and session costs about four times the CPU of all the rest (measured: 0.4 ms against 0.1 ms a
    read), so here the driver is used directly, with the connection settings SQLAlchemy would use.

    Reads of one inspection that arrive while its state is being read wait for the next query, which
    starts when that one ends and answers all of them: each read still sees every change committed
    before it arrived, and a dashboard's many readers cost the database one query at a time.
    """

    def __init__(self, pool: asyncpg.Pool, sql: str, checkout_timeout: float):
        self._pool = pool
        self._sql = sql
        self._checkout_timeout = checkout_timeout
        self._waiting: dict[uuid.UUID, asyncio.Future[State | None]] = {}
        self._running: set[uuid.UUID] = set()

    @classmethod
    async def open(
        cls, engine: AsyncEngine, max_connections: int, limits: DatabaseLimits = DatabaseLimits()
    ) -> PostgresStates:
        pool = await read_pool(engine, max_connections, limits)
        return cls(pool, str(STATE.compile(dialect=engine.dialect)), limits.checkout_timeout)

    async def __call__(self, inspection_id: uuid.UUID) -> State | None:
        waiting = self._waiting.get(inspection_id)
        if waiting is None:
            waiting = self._waiting[inspection_id] = asyncio.get_running_loop().create_future()
            if inspection_id not in self._running:
                self._start(inspection_id)
        # Shielded: a reader that goes away does not cancel the query the others wait for.
        return await asyncio.shield(waiting)

    def _start(self, inspection_id: uuid.UUID) -> None:
        """Query now for everyone waiting, all of whom arrived before this moment."""
        waiting = self._waiting.pop(inspection_id)
        self._running.add(inspection_id)
        query = asyncio.get_running_loop().create_task(self._query(inspection_id))
        query.add_done_callback(lambda done: self._answer(inspection_id, done, waiting))

    def _answer(self, inspection_id: uuid.UUID, query: asyncio.Task, waiting: asyncio.Future) -> None:
        self._running.discard(inspection_id)
        if query.cancelled():
            waiting.cancel()
        elif query.exception() is not None:
            waiting.set_exception(query.exception())
            waiting.add_done_callback(lambda failed: failed.exception())  # retrieved, even if no one waits now
        else:
            waiting.set_result(query.result())
        if inspection_id in self._waiting:
            self._start(inspection_id)

    async def _query(self, inspection_id: uuid.UUID) -> State | None:
        async with self._pool.acquire(timeout=self._checkout_timeout) as connection:
            row = await connection.fetchrow(self._sql, inspection_id)
        return tuple(row) if row is not None else None

    async def aclose(self) -> None:
        await self._pool.close()


class InspectionDocument(Protocol):
    unit_id: uuid.UUID
    public: bool
    """The inspection's unit and whether it is public (`guards.is_public`), as the document shows them:
    what decides who may read it."""
    versions: int
    """Its published versions."""


Version = int | None
"""A published version, or None: the document as it is now."""

Document = TypeVar("Document", bound=InspectionDocument)
Build = Callable[[AsyncSession, uuid.UUID, Version, State], Awaitable[Document]]


@dataclass(frozen=True)
class SummaryDocument:
    etag: str
    body: bytes
    unit_id: uuid.UUID
    public: bool
    versions: int


def etag_of(state: State, shape: str = _SHAPE, version: Version = None) -> str:
    """The state as an ETag, with the shape of the document built from it (and the version it shows)."""
    inspection, evidence, unit, parent = state
    shown = f"-v{version}" if version is not None else ""
    return f'"{shape}-{inspection}-{evidence}-{unit}-{parent if parent is not None else 0}{shown}"'


class HeldDocuments(Generic[Document]):
    """The documents of one kind (summaries, reports) this process has built lately, each held under the
    state it was built from, and built by `build` when none is held for the state now."""

    def __init__(self, states: PostgresStates | None, capacity: int, build: Build[Document]):
        self._states = states
        self._capacity = capacity
        self._build_document = build
        self._held: OrderedDict[tuple[uuid.UUID, Version], tuple[State, Document]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._held)

    async def get(
        self, sessions: async_sessionmaker[AsyncSession], inspection_id: uuid.UUID, version: Version = None
    ) -> Document:
        """The document as it is now (or of published version `version`); a session is opened only to build one."""
        key = (inspection_id, version)
        if self._states is None:
            async with sessions() as session:
                state = await repository.state(session, inspection_id)
                return self._held_now(key, state) or await self._build(session, key, state)
        state = await self._states(inspection_id)
        held = self._held_now(key, state)
        if held is not None:
            return held
        async with sessions() as session:
            return await self._build(session, key, state)

    async def read(
        self, sessions: async_sessionmaker[AsyncSession], inspection_id: uuid.UUID, version: Version,
        may_read: Callable[[Document], bool],
    ) -> Document:
        """The document as it is now (or of published version `version`); not found for a reader it does not
        allow (`may_read`, judged on the document as it is now), nor for a version the inspection lacks."""
        document = await self.get(sessions, inspection_id)
        if not may_read(document):
            raise NotFound(f"No inspection {inspection_id}")
        if version is None:
            return document
        if version > document.versions:
            raise no_version(inspection_id, version, document.versions)
        return await self.get(sessions, inspection_id, version)

    def _held_now(self, key: tuple[uuid.UUID, Version], state: State | None) -> Document | None:
        if state is None:
            raise NotFound(f"No inspection {key[0]}")
        held = self._held.get(key)
        if held is None or held[0] != state:
            return None
        self._held.move_to_end(key)
        return held[1]

    async def _build(self, session: AsyncSession, key: tuple[uuid.UUID, Version], state: State) -> Document:
        document = await self._build_document(session, *key, state)
        self._held[key] = (state, document)
        self._held.move_to_end(key)
        while len(self._held) > self._capacity:
            self._held.popitem(last=False)
        return document


async def _summary_document(
    session: AsyncSession, inspection_id: uuid.UUID, version: Version, state: State
) -> SummaryDocument:
    summary = await service.summary(session, inspection_id, version)
    inspection = summary.inspection
    return SummaryDocument(
        etag_of(state, version=version), summary.model_dump_json().encode(), inspection.unit_id,
        is_public(inspection.status, inspection.published_at),
        summary.publication.latest_version if summary.publication else 0,
    )


class SummaryDocuments(HeldDocuments[SummaryDocument]):
    def __init__(self, states: PostgresStates | None, capacity: int):
        super().__init__(states, capacity, _summary_document)


async def inspection_states(engine: AsyncEngine, limits: DatabaseLimits) -> PostgresStates | None:
    """The reader of inspection states the held documents share: on PostgreSQL, a pool of its own;
    elsewhere none (states are read in the session that builds)."""
    if engine.dialect.name != "postgresql":
        return None
    return await PostgresStates.open(engine, max_connections=10, limits=limits)


async def read_summary(
    request: Request, inspection_id: uuid.UUID, actor: Actor, version: Version = None
) -> SummaryDocument:
    """The summary as it is now (or of published version `version`), from the process's documents, built in
    the app's sessions if need be; not found for an actor who may not see the inspection, nor for a version
    it does not have."""
    documents: SummaryDocuments = request.app.state.summaries
    return await documents.read(
        request.app.state.sessionmaker, inspection_id, version, lambda d: sees(actor, d.unit_id, d.public)
    )
