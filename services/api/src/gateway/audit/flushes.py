"""Changes written by the unit of work: objects added, changed and deleted, then flushed.

Which rows the flush wrote is told row by row as it writes them (`written`, from the mappers' after
insert, update and delete events): so a row the flush deletes by itself (an orphan taken out of a
collection) is recorded as surely as one passed to `session.delete`. What changed is read from the objects
once the flush is over (`after_flush`: keys assigned, each attribute's history still held). Two things
the flush does not leave behind are noted before it (`before_flush`): the version an object had (the ORM
bumps it without history), and the values of columns an object changes or loses that were never loaded,
read then, one query per table (for an orphan, just before its DELETE: `deleting`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Column, Connection, Table, inspect
from sqlalchemy.orm import InstanceState, Mapper, Session
from sqlalchemy.orm.base import NO_VALUE

from gateway.actors import Actor
from gateway.audit.chain import append
from gateway.audit.rows import (
    DELETE,
    INSERT,
    UPDATE,
    RowChange,
    concern,
    differences,
    drafts,
    refuse_the_log_itself,
    select_rows,
)

_PRIOR = "audit.prior"
"""`session.info` key, from before a flush to after it: state -> column key -> value before the flush."""
_WRITTEN = "audit.written"
"""`session.info` key: (action, state) of each row the flush has written, in order."""


@cache
def _columns(mapper: Mapper) -> tuple[tuple[str, Column], ...]:
    """(attribute key, column) of each column of the mapper's own table."""
    table = mapper.local_table
    return tuple((prop.key, prop.columns[0]) for prop in mapper.column_attrs if prop.columns[0].table is table)


def _version_key(mapper: Mapper) -> str | None:
    column = mapper.version_id_col
    return mapper.get_property_by_column(column).key if column is not None else None


def _unknown(state: InstanceState, deleting: bool) -> list[Column]:
    """Columns whose value before the flush the object does not hold, and the audit log needs: for a
    deletion every column not loaded; for a change those changed without being loaded, those a flush
    may set from a relationship (foreign keys) and the one naming the inspection."""
    how = concern(state.mapper.local_table)
    unknown = []
    for key, column in _columns(state.mapper):
        if key not in state.dict:
            if deleting or column.foreign_keys or (how is not None and column is how.column):
                unknown.append(column)
        elif state.committed_state.get(key) is NO_VALUE:
            unknown.append(column)
    return unknown


def before_flush(session: Session) -> None:
    """Note what the flush will not leave behind (see the module's docstring)."""
    session.info[_WRITTEN] = []  # nothing left over from a flush that failed
    for obj in session.new:
        refuse_the_log_itself(inspect(obj).mapper.local_table)
    prior: dict[InstanceState, dict[str, Any]] = {}
    unloaded: dict[Table, list[tuple[InstanceState, list[Column]]]] = {}
    changing = [(obj, False) for obj in session.dirty if session.is_modified(obj, include_collections=False)]
    for obj, deleting in [*changing, *((obj, True) for obj in session.deleted)]:
        state: InstanceState = inspect(obj)
        refuse_the_log_itself(state.mapper.local_table)
        noted: dict[str, Any] = {}
        version = _version_key(state.mapper)
        if version is not None:
            noted[state.mapper.version_id_col.key] = state.dict.get(version)
        unknown = _unknown(state, deleting)
        if unknown and state.key is not None:
            unloaded.setdefault(state.mapper.local_table, []).append((state, unknown))
        prior[state] = noted
    for table, wanted in unloaded.items():
        columns = list(dict.fromkeys(column for _, unknown in wanted for column in unknown))
        rows = select_rows(session.connection(), table, columns, [state.key[1] for state, _ in wanted])
        for state, unknown in wanted:
            row = rows.get(state.key[1], {})
            prior[state].update({column.key: row.get(column.key) for column in unknown})
    session.info[_PRIOR] = prior


def _inserted(state: InstanceState) -> RowChange:
    table = state.mapper.local_table
    refuse_the_log_itself(table)
    after = {}
    for key, column in _columns(state.mapper):
        if key in state.dict:
            after[column.key] = state.dict[key]
        elif column.server_default is None:
            after[column.key] = None  # written as NULL; a server default is left to the database
    how = concern(table)
    key = tuple(after.get(column.key) for column in table.primary_key.columns)
    return RowChange(INSERT, table, key, None, after, after.get(how.column.key) if how else None)


def _updated(state: InstanceState, noted: dict[str, Any]) -> RowChange | None:
    table = state.mapper.local_table
    before, after = {}, {}
    for key, column in _columns(state.mapper):
        if key in state.committed_state:
            old = state.committed_state[key]
            before[column.key] = noted.get(column.key) if old is NO_VALUE else old
            after[column.key] = state.dict.get(key)
    version = _version_key(state.mapper)
    if version is not None and state.mapper.version_id_col.key in noted:  # noted if changed before the flush
        before[state.mapper.version_id_col.key] = noted[state.mapper.version_id_col.key]
        after[state.mapper.version_id_col.key] = state.dict.get(version)
    difference = differences(before, after)
    if difference is None:
        return None
    return RowChange(UPDATE, table, state.key[1], *difference, _concern_value(state, noted))


def _deleted(state: InstanceState, noted: dict[str, Any]) -> RowChange:
    table = state.mapper.local_table
    before = {column.key: state.dict[key] if key in state.dict else noted.get(column.key)
              for key, column in _columns(state.mapper)}
    return RowChange(DELETE, table, state.key[1], before, None, _concern_value(state, noted))


def _concern_value(state: InstanceState, noted: dict[str, Any]) -> Any:
    how = concern(state.mapper.local_table)
    if how is None:
        return None
    for key, column in _columns(state.mapper):
        if column is how.column:
            return state.dict.get(key, noted.get(column.key))
    return None


def written(action: str, target: object) -> None:
    """The flush has written the row of `target` (INSERT, UPDATE or DELETE)."""
    state: InstanceState = inspect(target)
    state.session.info.setdefault(_WRITTEN, []).append((action, state))


def deleting(connection: Connection, target: object) -> None:
    """The flush is about to delete the row of `target`: if it was not deleted through the session (an
    orphan), note now what of it was never loaded."""
    state: InstanceState = inspect(target)
    prior: dict[InstanceState, dict[str, Any]] = state.session.info.setdefault(_PRIOR, {})
    if state in prior or state.key is None:
        return
    unknown = _unknown(state, deleting=True)
    row = select_rows(connection, state.mapper.local_table, unknown, [state.key[1]]).get(state.key[1], {})
    prior[state] = {column.key: row.get(column.key) for column in unknown} if unknown else {}


def after_flush(session: Session, actor: Actor) -> None:
    """Record every row the flush wrote, in its transaction, in the order it wrote them."""
    prior: dict[InstanceState, dict[str, Any]] = session.info.pop(_PRIOR, {})
    changes: list[RowChange] = []
    for action, state in session.info.pop(_WRITTEN, []):
        refuse_the_log_itself(state.mapper.local_table)
        if action == INSERT:
            changes.append(_inserted(state))
        elif action == DELETE:
            changes.append(_deleted(state, prior.get(state, {})))
        elif (change := _updated(state, prior.get(state, {}))) is not None:
            changes.append(change)
    if changes:
        connection = session.connection()
        append(connection, drafts(session, connection, actor, changes))
