"""A changed row as the audit log describes it: its table, key, action, the fields before and after, and
the inspection it concerns. Shared by the two ways of writing (`flushes` and `statements`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Column, Connection, Table, select, tuple_
from sqlalchemy.orm import Session

from gateway.actors import Actor
from gateway.audit.chain import Draft
from gateway.audit.masking import canonical_json, image, plain
from inspection_shared.web import request_id_var

INSERT, UPDATE, DELETE = "insert", "update", "delete"
ROW_ACTIONS = frozenset({INSERT, UPDATE, DELETE})
AUDIT_TABLE = "audit_entries"
_INSPECTIONS_OF = "audit.inspections"
"""`session.info` key: (table, key) -> inspection id, of rows a concern was looked up through."""


class Undescribable(RuntimeError):
    """A write the audit log cannot describe: refused, rather than let through unrecorded."""


@dataclass(frozen=True, slots=True)
class RowChange:
    action: str
    table: Table
    key: tuple[Any, ...]
    before: dict[str, Any] | None
    """Column key -> value: the whole row (delete) or the fields that changed (update)."""
    after: dict[str, Any] | None
    """Column key -> value: the whole row (insert) or the fields that changed (update)."""
    concern: Any
    """The value of the row's `Concern.column`, if its table has one."""


@dataclass(frozen=True)
class Concern:
    """Where a row of a table finds the inspection it concerns: in its own `column`, or (`via`) in the
    `inspection_id` of the row of another table that `column` refers to (a sampled case's sample)."""

    column: Column
    via: Table | None = None


@cache
def concern(table: Table) -> Concern | None:
    if table.name == "inspections":
        return Concern(table.c.id)
    if "inspection_id" in table.c:
        return Concern(table.c.inspection_id)
    for foreign_key in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
        target = foreign_key.column.table
        if "inspection_id" in target.c and foreign_key.column.primary_key and len(target.primary_key) == 1:
            return Concern(foreign_key.parent, target)
    return None


def primary_key(table: Table) -> list[Column]:
    return list(table.primary_key.columns)


def refuse_the_log_itself(table: Table) -> None:
    if table.name == AUDIT_TABLE:
        raise Undescribable("audit entries are appended by gateway.audit only, never written through a session")


def entity_id(key: Sequence[Any]) -> str:
    return str(plain(key[0])) if len(key) == 1 else canonical_json([plain(value) for value in key])


def _inspections(session: Session, connection: Connection, changes: Sequence[RowChange]) -> list[uuid.UUID | None]:
    """The inspection each change concerns: one query for the rows of each table looked up through."""
    known: dict[tuple[str, Any], uuid.UUID] = session.info.setdefault(_INSPECTIONS_OF, {})
    wanted: dict[Table, set[Any]] = {}
    for change in changes:
        how = concern(change.table)
        if how is not None and how.via is not None and change.concern is not None:
            if (how.via.name, change.concern) not in known:
                wanted.setdefault(how.via, set()).add(change.concern)
    for via, keys in wanted.items():
        ordered = list(keys)
        for start in range(0, len(ordered), 1000):
            rows = connection.execute(
                select(via.c.id, via.c.inspection_id).where(via.c.id.in_(ordered[start : start + 1000]))
            )
            known.update(((via.name, row_id), inspection_id) for row_id, inspection_id in rows)
    found: list[uuid.UUID | None] = []
    for change in changes:
        how = concern(change.table)
        if how is None or change.concern is None:
            found.append(None)
        elif how.via is None:
            found.append(change.concern)
            if change.action != DELETE and len(change.key) == 1:  # rows of other tables may look it up
                known[(change.table.name, change.key[0])] = change.concern
        else:
            found.append(known.get((how.via.name, change.concern)))
    return found


def drafts(session: Session, connection: Connection, actor: Actor, changes: Sequence[RowChange]) -> list[Draft]:
    """The entries for the changes, masked (see `masking`), with the request's id."""
    request_id = request_id_var.get()
    return [
        Draft(
            actor_id=actor.id, actor_kind=actor.kind, action=change.action, entity=change.table.name,
            entity_id=entity_id(change.key), inspection_id=inspection_id, request_id=request_id,
            before=image(change.table, change.before) if change.before is not None else None,
            after=image(change.table, change.after) if change.after is not None else None,
        )
        for change, inspection_id in zip(changes, _inspections(session, connection, changes), strict=True)
    ]


def differences(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Only the fields that changed, before and after; None if none did."""
    changed = [key for key, value in after.items() if key not in before or before[key] != value]
    if not changed:
        return None
    return {key: before.get(key) for key in changed}, {key: after[key] for key in changed}


def select_rows(
    connection: Connection, table: Table, columns: Iterable[Column], keys: Sequence[tuple[Any, ...]], *,
    lock: bool = False, batch: int = 1000,
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The rows of `table` with these primary keys (key -> column key -> value), a batch at a time."""
    pk = primary_key(table)
    wanted = list(dict.fromkeys([*pk, *columns]))
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for start in range(0, len(keys), batch):
        chunk = keys[start : start + batch]
        matching = pk[0].in_([k[0] for k in chunk]) if len(pk) == 1 else tuple_(*pk).in_(chunk)
        statement = select(*wanted).where(matching)
        if lock:
            statement = statement.with_for_update(of=table)
        for row in connection.execute(statement).mappings():
            values = {column.key: row[column] for column in wanted}
            found[tuple(values[column.key] for column in pk)] = values
    return found
