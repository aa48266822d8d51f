"""Key rotation: every sealed value sealed again under the newest key (`gateway.cli rotate-case-key`).

Put a new key in front of GATEWAY_CASE_KEYS (keeping the old ones after it), run this, then drop the old
keys. It walks every column of a sealed type (`casedata.sealing.Sealed`), table by table in primary key
order, a batch of rows to a transaction, and seals again only the values not already under the newest
key: a run that stops part way is finished by running it again, and a second run finds nothing to do.
The clear values never change, so neither do the blind indexes, nor the rows' who-and-when, nor their
versions: a re-encryption is bookkeeping, not a change of the record (see `writes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, select, tuple_, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.casedata.sealing import CaseKeys, Sealed, SealedDocument, rotate_document
from gateway.writes import BOOKKEEPING
from inspection_shared.wording import counted

BATCH_ROWS = 200


@dataclass
class ColumnRotation:
    table: str
    column: str
    rows: int = 0
    """Rows holding a value in the column."""
    rotated: int = 0
    """Tokens sealed again under the newest key."""
    current: int = 0
    """Tokens already under it."""

    def __str__(self) -> str:
        return (
            f"{self.table}.{self.column}: {self.rotated} sealed again under the newest key, "
            f"{self.current} already under it ({counted(self.rows, 'row')})"
        )


def sealed_columns(tables: list[Table]) -> list[tuple[Table, list[Column]]]:
    found = []
    for table in tables:
        columns = [c for c in table.columns if isinstance(c.type, Sealed)]
        if columns:
            found.append((table, columns))
    return found


def _rotated_value(column: Column, value: Any, keys: CaseKeys, report: ColumnRotation) -> tuple[Any, bool]:
    if isinstance(column.type, SealedDocument):
        rotated, count = rotate_document(value, keys)
        report.rotated += count
        # Count the tokens left as they were: those under the newest key.
        report.current += _tokens(value) - count
        return rotated, count > 0
    token = value if isinstance(value, bytes) else value.encode()
    if keys.is_current(token):
        report.current += 1
        return value, False
    report.rotated += 1
    fresh = keys.rotate(token)
    return (fresh if isinstance(value, bytes) else fresh.decode()), True


def _tokens(document: Any) -> int:
    if isinstance(document, dict):
        return 1 if "$sealed" in document and len(document) == 1 else sum(_tokens(v) for v in document.values())
    if isinstance(document, list):
        return sum(_tokens(v) for v in document)
    return 0


async def _rotate_table(
    sessions: async_sessionmaker[AsyncSession], table: Table, columns: list[Column], keys: CaseKeys, batch: int
) -> list[ColumnRotation]:
    reports = {c.key: ColumnRotation(table.name, c.key) for c in columns}
    key = list(table.primary_key.columns)
    raw = {c.key: c.type.raw() for c in columns}
    statement = select(*key, *(type_coerce(c, raw[c.key]).label(c.key) for c in columns)).order_by(*key).limit(batch)
    write = (
        update(table)
        .where(*(k == bindparam(f"pk_{k.key}") for k in key))
        .values({c.key: bindparam(f"new_{c.key}", type_=raw[c.key]) for c in columns})
    )
    last: tuple | None = None
    while True:
        async with sessions.begin() as session:
            page = statement if last is None else statement.where(tuple_(*key) > tuple_(*last))
            rows = (await session.execute(page)).mappings().all()
            if not rows:
                break
            changed = []
            for row in rows:
                values, any_changed = {}, False
                for column in columns:
                    value = row[column.key]
                    if value is not None:
                        reports[column.key].rows += 1
                        value, was = _rotated_value(column, value, keys, reports[column.key])
                        any_changed |= was
                    values[f"new_{column.key}"] = value
                if any_changed:
                    changed.append({**{f"pk_{k.key}": row[k.key] for k in key}, **values})
            if changed:
                await session.execute(write, changed, execution_options={BOOKKEEPING: True})
            last = tuple(rows[-1][k.key] for k in key)
    return list(reports.values())


async def rotate_case_keys(
    sessions: async_sessionmaker[AsyncSession],
    tables: list[Table],
    keys: CaseKeys,
    *,
    batch: int = BATCH_ROWS,
    say: Callable[[str], None] = print,
) -> list[ColumnRotation]:
    """Seal every sealed value of `tables` under the newest key; says what it did, column by column."""
    done: list[ColumnRotation] = []
    for table, columns in sealed_columns(tables):
        for report in await _rotate_table(sessions, table, columns, keys, batch):
            say(str(report))
            done.append(report)
    rotated = sum(r.rotated for r in done)
    say(
        f"rotate-case-key: {counted(rotated, 'value')} sealed again under the newest key"
        if rotated else "rotate-case-key: every value is already under the newest key; nothing to do"
    )
    return done
