"""The one write path: every change the gateway makes to a row passes through the session hooks here.

- **Who and when.** A column declared with `who()` or `when()` is stamped by the hook, never by hand:
  with the id of the actor the session acts for (`session.info["actor"]`, set per request by
  `db.get_session`) and the time of the write. `on="insert"` stamps a row once, when it is created
  (created_at, drawn_by, ...); `on="change"` stamps it on creation and on every change (updated_at, ...).
  A session with no actor cannot write at all, so no change goes unaccounted for.
- **Both ways of writing.** Objects flushed by the unit of work are stamped in `before_flush`; bulk
  INSERT and UPDATE statements executed through the session (imports, sampled cases) are stamped in
  `do_orm_execute`. These two hooks are where every change passes, and so where the audit log hangs:
  each change is recorded in the same transaction (`gateway.audit`: after the flush for the unit of
  work, told by the mappers which rows it wrote; around the statement for a bulk one), and a statement
  the log cannot describe is refused.
- **Bookkeeping.** A statement that only moves a counter the gateway keeps for itself (an inspection's
  evidence revision) is not a change of the record; it says so with the execution option
  `bookkeeping=True` and is left unstamped and unaudited.
- **Retention.** A statement that removes case data under the retention policy (`gateway.retention`)
  says so with `retention=True`: it passes the hook like any write (an actor is required; the audit log
  records it), but the who-and-when of the rows it empties stay those of the people who made them.
- **Watched inserts.** A domain that derives something from the rows of a table as they are written
  (`gateway.events`: the outbox of events; `gateway.statistics`: the figures of each inspection as
  published) watches that table's inserts (`watch_inserts`); the watchers are called in the flush's
  transaction, after the audit log has recorded the rows, so what they write stands or falls with them. Such rows are inserted by the unit of work only: a bulk INSERT into a
  watched table is refused, never let through unwatched.
- **Announcements.** A write to a table some process keeps in memory (`announcements.announce`) is
  announced as its transaction commits: by NOTIFY inside that transaction on PostgreSQL, and to this
  process's subscribers right after the commit.
- **Clashes.** `flush()` (and `answering_clashes()` around a bulk statement) turns a write that lost a
  race with a concurrent request into the problem the caller should see: a stale version (the row was
  changed since it was read) is a 412, a constraint violation is a 409.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, String, Table, TextClause, event, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    Mapped,
    MappedColumn,
    Mapper,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
)
from sqlalchemy.orm.exc import StaleDataError

from gateway import announcements
from gateway.actors import NoActor, actor_of
from gateway.audit import flushes, statements
from gateway.audit.rows import DELETE, INSERT, UPDATE, Undescribable
from gateway.db import UTCDateTime, utcnow
from inspection_shared.problems import Conflict, PreconditionFailed, Problem

BOOKKEEPING = "bookkeeping"
"""Execution option of a statement that changes no record, only the gateway's own counters and logs of
its own work (such as its webhook deliveries)."""

RETENTION = "retention"
"""Execution option of a statement that removes case data under retention (see the module docstring)."""

_STAMP = "stamp"


class Stamp(NamedTuple):
    kind: Literal["who", "when"]
    on: Literal["insert", "change"]


def who(*, on: Literal["insert", "change"] = "insert") -> MappedColumn[Any]:
    """A column holding the id of the actor who created (or last changed) the row."""
    return mapped_column(String(100), info={_STAMP: Stamp("who", on)})


def when(*, on: Literal["insert", "change"] = "insert") -> MappedColumn[Any]:
    """A column holding when the row was created (or last changed), in UTC."""
    return mapped_column(UTCDateTime, info={_STAMP: Stamp("when", on)})


class Recorded:
    """Columns of a shared record: who created it and when, and who changed it last and when."""

    created_at: Mapped[datetime] = when()
    created_by: Mapped[str] = who()
    updated_at: Mapped[datetime] = when(on="change")
    updated_by: Mapped[str] = who(on="change")


__all__ = ["BOOKKEEPING", "NoActor", "Recorded", "actor_of", "answering_clashes", "flush", "watch_inserts", "when",
           "who"]


@cache
def _stamps(table: Table) -> tuple[tuple[str, Stamp], ...]:
    return tuple((column.key, column.info[_STAMP]) for column in table.columns if _STAMP in column.info)


def _stamp_values(session: Session, table: Table, *, inserting: bool) -> dict[str, Any]:
    stamps = [(key, stamp) for key, stamp in _stamps(table) if inserting or stamp.on == "change"]
    if not stamps:
        return {}
    actor, now = actor_of(session), utcnow()
    return {key: actor.id if stamp.kind == "who" else now for key, stamp in stamps}


@event.listens_for(Session, "before_flush")
def _stamp_flushed_objects(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    session.info.pop(_INSERTED, None)  # nothing left over from a flush that failed
    if not (session.new or session.dirty or session.deleted):
        return
    actor_of(session)  # refuse any write, deletions included, for nobody
    for obj in session.deleted:
        _note_change(session, obj.__table__)
    for inserting, objects in ((True, session.new), (False, session.dirty)):
        for obj in objects:
            if not inserting and not session.is_modified(obj, include_collections=False):
                continue
            _note_change(session, obj.__table__)
            for key, value in _stamp_values(session, obj.__table__, inserting=inserting).items():
                setattr(obj, key, value)
    flushes.before_flush(session)


@event.listens_for(Mapper, "after_insert")
def _inserted(mapper: Mapper, connection: Connection, target: object) -> None:
    flushes.written(INSERT, target)
    if mapper.local_table.name in _WATCHED:
        sa_inspect(target).session.info.setdefault(_INSERTED, []).append(target)


@event.listens_for(Mapper, "after_update")
def _updated(mapper: Mapper, connection: Connection, target: object) -> None:
    flushes.written(UPDATE, target)


@event.listens_for(Mapper, "before_delete")
def _deleting(mapper: Mapper, connection: Connection, target: object) -> None:
    flushes.deleting(connection, target)


@event.listens_for(Mapper, "after_delete")
def _deleted(mapper: Mapper, connection: Connection, target: object) -> None:
    flushes.written(DELETE, target)


@event.listens_for(Session, "after_flush")
def _audit_flushed_objects(session: Session, flush_context: UOWTransaction) -> None:
    flushes.after_flush(session, actor_of(session))
    for row in session.info.pop(_INSERTED, None) or ():
        for watcher in _WATCHED[row.__table__.name]:
            watcher(session.connection(), row)


_DML_TEXT = re.compile(r"^\s*(?:WITH\b.*\b)?(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE|REPLACE|UPSERT)\b", re.I | re.S)


@event.listens_for(Session, "do_orm_execute")
def _stamp_statements(state: ORMExecuteState) -> Any:
    if not (state.is_insert or state.is_update or state.is_delete):
        if isinstance(state.statement, TextClause) and not state.execution_options.get(BOOKKEEPING):
            if _DML_TEXT.match(state.statement.text):
                raise Undescribable("a change written as SQL text cannot be audited: write it as a statement")
        return None
    if state.execution_options.get(BOOKKEEPING):
        return None
    actor = actor_of(state.session)  # refuse any write for nobody
    if state.is_insert and state.statement.table.name in _WATCHED:
        raise Undescribable(f"rows of {state.statement.table.name} are watched as they are inserted: add them to the session")
    _note_change(state.session, state.statement.table)
    unstamped = state.is_delete or state.execution_options.get(RETENTION)
    stamps = {} if unstamped else _stamp_values(state.session, state.statement.table, inserting=state.is_insert)
    return statements.execute(state, actor, stamps)


# --- inserts watched by the domains that derive something from them ---------------------------------

InsertWatcher = Callable[[Connection, Any], None]
"""Called with the flush's connection and each row object inserted into the table watched."""
_WATCHED: dict[str, list[InsertWatcher]] = {}
_INSERTED = "watched.inserted"
"""`session.info` key: the objects of watched tables the flush has inserted, in order."""


def watch_inserts(table: str, watcher: InsertWatcher) -> None:
    """Call `watcher` for each row of `table` a flush inserts, in its transaction, after it is audited
    (after the table's earlier watchers)."""
    _WATCHED.setdefault(table, []).append(watcher)


# --- announcing changes to the tables processes keep in memory ---------------------------------------

_ANNOUNCE = "announce"
"""Key of a session's `info`: {channel: tables} written in its transaction and not yet announced."""


def _note_change(session: Session, table: Table) -> None:
    channel = announcements.channel_of(table.name)
    if channel is not None:
        session.info.setdefault(_ANNOUNCE, {}).setdefault(channel, set()).add(table.name)


# Only the outermost transaction announces: a savepoint's end commits nothing yet.


@event.listens_for(Session, "before_commit")
def _notify_in_the_transaction(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this hook: its writes are noted first
    pending: dict[str, set[str]] = session.info.get(_ANNOUNCE) or {}
    if pending and session.get_bind().dialect.name == "postgresql":
        for channel, tables in pending.items():
            name, payload = announcements.notification(channel, tables)
            session.connection().execute(text("SELECT pg_notify(:name, :payload)"), {"name": name, "payload": payload})


@event.listens_for(Session, "after_commit")
def _tell_this_process(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for channel, tables in (session.info.pop(_ANNOUNCE, None) or {}).items():
        announcements.tell(channel, frozenset(tables))


@event.listens_for(Session, "after_rollback")
def _forget_what_was_rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_ANNOUNCE, None)


# --- clashes with concurrent requests ----------------------------------------------------------------


@contextmanager
def answering_clashes(*, clash: str | Problem, changed: str | None = None) -> Iterator[None]:
    """Answer a write that lost a race: `clash` (a 409 detail, or the problem itself) for a constraint
    violation, and a 412 naming `changed` (such as "the unit") for a stale version, if given."""
    try:
        yield
    except StaleDataError as error:
        raise (PreconditionFailed.changed_meanwhile(changed) if changed else _problem(clash)) from error
    except IntegrityError as error:
        raise _problem(clash) from error


async def flush(session: AsyncSession, *, clash: str | Problem, changed: str | None = None) -> None:
    """Write now, so that a clash with a concurrent request is answered here rather than as a failed commit."""
    with answering_clashes(clash=clash, changed=changed):
        await session.flush()


def _problem(clash: str | Problem) -> Problem:
    return clash if isinstance(clash, Problem) else Conflict(clash)
