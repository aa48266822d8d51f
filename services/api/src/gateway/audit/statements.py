"""Changes written by bulk statements executed through a session: INSERT, UPDATE and DELETE, executed
once or for many rows of parameters (executemany).

- **INSERT**: what is inserted is in the statement's parameters (and literal `.values()`); Python-side
  column defaults (a new row's id) are filled in before it runs, so every row's key is known.
- **UPDATE and DELETE**: the rows are read before the statement runs (on PostgreSQL with FOR UPDATE, so
  nobody changes them meanwhile), and an UPDATE's changed columns after it has run: one query each way
  per statement (per 1,000 rows), never one per row. An executemany statement names its rows by primary
  key: `update(t).where(t.c.id == bindparam("b_id"))` (the case-answer import) or ORM bulk UPDATE by
  primary key; its before-images are read with one `IN` over every row's key. A statement run once names
  its rows by its WHERE clause; on PostgreSQL it is then narrowed to the rows read, so a row committed by
  another transaction in between is neither changed nor left unrecorded. SQLite's writer holds the whole
  database, so nothing can come in between.

Anything else (INSERT ... SELECT, multi-row VALUES, ON CONFLICT, SQL expressions as inserted values, an
executemany UPDATE not keyed by primary key, DML as text) is refused with `Undescribable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Result, Table, any_, bindparam, false, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from gateway.actors import Actor
from gateway.audit.chain import append
from gateway.audit.rows import (
    DELETE,
    INSERT,
    UPDATE,
    RowChange,
    Undescribable,
    concern,
    differences,
    drafts,
    primary_key,
    refuse_the_log_itself,
    select_rows,
)


def table_of(state: ORMExecuteState) -> Table:
    table = state.statement.table
    return table if isinstance(table, Table) else table._deannotate()


def execute(state: ORMExecuteState, actor: Actor, stamps: dict[str, Any]) -> Result:
    """Run the statement of `state` with `stamps` (the who and when of its rows) and record what it
    changed, in the same transaction."""
    table = table_of(state)
    refuse_the_log_itself(table)
    session = state.session
    if state.is_orm_statement and session.autoflush and state.execution_options.get("autoflush", True):
        session.flush()  # as the ORM would before the statement: what it flushes is recorded as its own
    connection = session.connection()
    if state.is_insert:
        result, changes = _insert(state, table, stamps)
    elif state.is_update:
        result, changes = _update(state, connection, table, stamps)
    else:
        result, changes = _delete(state, connection, table)
    append(connection, drafts(session, connection, actor, changes))
    return result


# --- INSERT ------------------------------------------------------------------------------------------


def _literal_values(statement: Any) -> dict[str, Any]:
    if statement._multi_values or statement.select is not None or statement._post_values_clause is not None:
        raise Undescribable("the audit log records INSERTs of given rows only (not multi-row VALUES, "
                            "INSERT ... SELECT or ON CONFLICT)")
    values = {}
    for column, value in (statement._values or {}).items():
        if not isinstance(value, BindParameter) or value.required or value.callable is not None:
            raise Undescribable(f"the value inserted into {getattr(column, 'key', column)} is an SQL expression")
        values[getattr(column, "key", column)] = value.value
    return values


class _RowContext:
    """What a context-sensitive default reads of the row being inserted (as SQLAlchemy's execution
    context offers it): its parameters."""

    def __init__(self, parameters: dict[str, Any]):
        self._parameters = parameters

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self._parameters


def _defaults(table: Table, given: dict[str, Any]) -> dict[str, Any]:
    """Python-side defaults of the columns not given, as the insert would fill them in (a default that
    reads the row, such as a blind index of its case reference, reads the values given)."""
    filled: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if column.key in given or default is None:
            continue
        if default.is_scalar:
            filled[column.key] = default.arg
        elif default.is_callable:
            filled[column.key] = default.arg(_RowContext({**given, **filled}))
    return filled


def _insert(state: ORMExecuteState, table: Table, stamps: dict[str, Any]) -> tuple[Result, list[RowChange]]:
    literal = _literal_values(state.statement)
    given = [dict(row) for row in state.parameters] if state.is_executemany else [dict(state.parameters or {})]
    added, changes = [], []
    how = concern(table)
    for row in given:
        extra = {**_defaults(table, {**literal, **row}), **stamps}
        values = {**literal, **row, **extra}
        unknown = [c.key for c in table.columns if c.key not in values and c.server_default is None]
        after = {**{key: None for key in unknown}, **{k: v for k, v in values.items() if k in table.c}}
        key = tuple(after.get(column.key) for column in primary_key(table))
        if any(part is None for part in key):
            raise Undescribable(f"a row inserted into {table.name} without its primary key")
        added.append(extra)
        changes.append(RowChange(INSERT, table, key, None, after, after.get(how.column.key) if how else None))
    if state.is_executemany:
        result = state.invoke_statement(params=added)
    elif state.parameters:
        result = state.invoke_statement(params=added[0])
    else:
        result = state.invoke_statement(statement=state.statement.values(**added[0]))
    return result, changes


# --- UPDATE and DELETE -------------------------------------------------------------------------------


def _key_parameters(where: ColumnElement[bool] | None, table: Table) -> dict[str, str] | None:
    """Primary key column -> the name of the parameter it is compared with, if the WHERE clause (or one
    of its ANDed terms) says `pk == bindparam(name)` for every primary key column."""
    if where is None:
        return None
    terms = where.clauses if isinstance(where, BooleanClauseList) and where.operator is operators.and_ else [where]
    named: dict[str, str] = {}
    for term in terms:
        if not (isinstance(term, BinaryExpression) and term.operator is operators.eq):
            continue
        for column, parameter in ((term.left, term.right), (term.right, term.left)):
            if (isinstance(column, Column) and isinstance(parameter, BindParameter) and parameter.required
                    and column.table.name == table.name and column.primary_key):
                named[column.key] = parameter.key
    return named if len(named) == len(table.primary_key) else None


def _many_keys(state: ORMExecuteState, table: Table) -> list[tuple[Any, ...]]:
    """The primary key of each row of an executemany UPDATE or DELETE."""
    pk = primary_key(table)
    named = _key_parameters(state.statement.whereclause, table)
    rows: Sequence[dict[str, Any]] = state.parameters  # type: ignore[assignment]
    if named is None and state.statement.whereclause is None and all(c.key in rows[0] for c in pk):
        named = {c.key: c.key for c in pk}  # ORM bulk UPDATE by primary key
    if named is None:
        raise Undescribable(
            f"an executemany statement on {table.name} must name its rows by primary key "
            "(WHERE pk == bindparam(...)) for the audit log to read them before it runs"
        )
    return list(dict.fromkeys(tuple(row[named[c.key]] for c in pk) for row in rows))


def _set_columns(state: ORMExecuteState, table: Table) -> list[Column]:
    keys = {getattr(column, "key", column) for column in (state.statement._values or {})}
    given = state.parameters[0] if state.is_executemany else (state.parameters or {})
    pk = {c.key for c in primary_key(table)}
    keys |= {key for key in given if key in table.c and key not in pk}  # type: ignore[union-attr]
    return [column for column in table.columns if column.key in keys]


def _matching(
    connection: Connection, table: Table, columns: list[Column], where: ColumnElement[bool] | None
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows a statement run once would change, locked, by primary key."""
    pk = primary_key(table)
    wanted = list(dict.fromkeys([*pk, *columns]))
    statement = select(*wanted)
    if where is not None:
        statement = statement.where(where)
    found = {}
    for row in connection.execute(statement.with_for_update(of=table)).mappings():
        values = {column.key: row[column] for column in wanted}
        found[tuple(values[c.key] for c in pk)] = values
    return found


def _narrowed(state: ORMExecuteState, connection: Connection, table: Table, keys: list[tuple[Any, ...]]) -> Any:
    """The statement of `state`, narrowed on PostgreSQL to the rows read (and locked) before it."""
    statement = state.statement
    if connection.dialect.name != "postgresql":
        return statement
    if not keys:
        return statement.where(false())
    pk = primary_key(table)
    if len(pk) == 1:
        held = bindparam("audit_rows", [k[0] for k in keys], type_=ARRAY(pk[0].type), unique=True)
        return statement.where(pk[0] == any_(held))
    return statement.where(tuple_(*pk).in_(keys))


def _update(
    state: ORMExecuteState, connection: Connection, table: Table, stamps: dict[str, Any]
) -> tuple[Result, list[RowChange]]:
    if stamps:
        state.statement = state.statement.values(**stamps)
    changed = _set_columns(state, table)
    how = concern(table)
    read = [*changed, *([how.column] if how else [])]
    if state.is_executemany:
        before = select_rows(connection, table, read, _many_keys(state, table), lock=True)
        result = state.invoke_statement()
    else:
        before = _matching(connection, table, read, state.statement.whereclause)
        result = state.invoke_statement(statement=_narrowed(state, connection, table, list(before)))
    after = select_rows(connection, table, changed, list(before))
    changes = []
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            continue
        fields = [column.key for column in changed]
        difference = differences({f: old[f] for f in fields}, {f: new[f] for f in fields})
        if difference is not None:
            changes.append(RowChange(UPDATE, table, key, *difference, old[how.column.key] if how else None))
    return result, changes


def _delete(state: ORMExecuteState, connection: Connection, table: Table) -> tuple[Result, list[RowChange]]:
    columns = list(table.columns)
    if state.is_executemany:
        keys = _many_keys(state, table)
        before = select_rows(connection, table, columns, keys, lock=True)
        result = state.invoke_statement()
        kept = select_rows(connection, table, [], list(before))
        before = {key: row for key, row in before.items() if key not in kept}
    else:
        before = _matching(connection, table, columns, state.statement.whereclause)
        result = state.invoke_statement(statement=_narrowed(state, connection, table, list(before)))
    how = concern(table)
    return result, [
        RowChange(DELETE, table, key, row, None, row[how.column.key] if how else None) for key, row in before.items()
    ]
