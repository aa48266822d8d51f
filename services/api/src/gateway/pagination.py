"""Keyset pagination for every list: one query shape, one cursor format, one page shape.

A list is ordered by a unique key of a few columns (`Key`s, each ascending or descending, nulls first or
last); a page is the first `limit` rows after the cursor, fetched with one more to know whether another
page follows. The cursor is the key of the page's last row, opaque to the caller, so pages stay stable
under inserts, unlike offsets. A cursor that is not one the list issued is a 422 naming the parameter.

A list in case reference order cannot be ordered by the database, which holds only sealed references
(see `casedata.sealing`): `ordered_in_gateway` reads the list's keys (a sample's or an inspection's
cases, a few hundred), opens and sorts them here in code point order (the order of the canonical frame,
and of PostgreSQL's C collation), and loads the page's rows by id. Its cursor is the last key sealed
like a case reference, so it never carries one in clear.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from cryptography.fernet import InvalidToken
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import ColumnElement, Select, and_, false, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from gateway.casedata.sealing import case_keys
from inspection_shared.pagination import Page
from inspection_shared.problems import FieldError, InvalidInput

Item = TypeVar("Item")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PageQuery(BaseModel):
    """`limit` and `cursor`, the query parameters of every list. `PageQuery.sized(default, most)` gives
    a list its own page sizes."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")

    @classmethod
    @cache
    def sized(cls, default: int, most: int) -> type[PageQuery]:
        return create_model(  # type: ignore[call-overload]
            f"PageQuery{default}To{most}",
            __base__=cls,
            limit=(int, Field(default=default, ge=1, le=most, description=f"Items per page, at most {most}.")),
        )


@dataclass(frozen=True)
class Key:
    """One column of a list's order."""

    column: InstrumentedAttribute[Any]
    descending: bool = False
    nulls_last: bool = False
    """Only for a nullable column: rows without a value come after all the others."""

    def after(self, value: Any) -> ColumnElement[bool]:
        """Rows strictly after `value` in this column's order."""
        if value is None:
            return false()  # nulls sort last: nothing comes after them
        beyond = self.column < value if self.descending else self.column > value
        return or_(beyond, self.column.is_(None)) if self.nulls_last else beyond

    def equal(self, value: Any) -> ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == value

    def ordering(self) -> Any:
        order = self.column.desc() if self.descending else self.column.asc()
        return order.nulls_last() if self.nulls_last else order

    def decode(self, value: Any) -> Any:
        """The value a cursor holds for this column, as the column's type; ValueError if it cannot be."""
        if value is None:
            if not self.nulls_last:
                raise ValueError("not nullable")
            return None
        kind = self.column.type.python_type
        if kind is uuid.UUID:
            return uuid.UUID(value)
        if kind is datetime:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("a time without its zone")
            return moment
        if kind is date:
            return date.fromisoformat(value)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("not a whole number")
        if kind is str and (not isinstance(value, str) or _CONTROL.search(value)):
            raise ValueError("not text a list is keyed on")
        return value

    @staticmethod
    def encode(value: Any) -> Any:
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        return value


def bad_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not one this list issued.",
        [FieldError(field="query.cursor", message="not a cursor from this list")],
    )


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps([Key.encode(v) for v in values]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[Key]) -> list[Any]:
    """The key a cursor carries, each value as its column's type; a 422 if the list did not issue it."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("not a key of this list")
        return [key.decode(value) for key, value in zip(keys, values)]
    except (ValueError, TypeError, AttributeError):
        raise bad_cursor() from None


def _after(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after the key `values`: later in the first column, or equal there and later in the next, ..."""
    return or_(
        *(
            and_(*(keys[j].equal(values[j]) for j in range(i)), keys[i].after(values[i]))
            for i in range(len(keys))
        )
    )


def _leading(row: Any) -> Any:
    """The entity a row is keyed on: the row itself, or the first of the entities it holds."""
    return row[0] if isinstance(row, tuple) else row


async def keyset_page(
    session: AsyncSession,
    statement: Select,
    keys: Sequence[Key],
    query: PageQuery,
    item: Callable[[Any], Item],
    *,
    scalars: bool = True,
) -> Page[Item]:
    """One page of `statement` in the order of `keys`, each row made an item by `item`.

    With `scalars` the rows are the statement's first column (an entity); otherwise they are tuples,
    keyed on the entity that leads them.
    """
    if query.cursor is not None:
        statement = statement.where(_after(keys, decode_cursor(query.cursor, keys)))
    statement = statement.order_by(*(key.ordering() for key in keys)).limit(query.limit + 1)
    result = await (session.scalars(statement) if scalars else session.execute(statement))
    rows = [tuple(row) if not scalars else row for row in result.all()]
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = _leading(rows[-1])
        next_cursor = encode_cursor([getattr(last, key.column.key) for key in keys])
    return Page(items=[item(row) for row in rows], next_cursor=next_cursor)


# --- lists ordered in the gateway --------------------------------------------------------------------

SortKey = tuple[str, ...]


def seal_cursor(key: SortKey) -> str:
    return case_keys().seal(json.dumps(list(key)).encode()).decode()


def open_cursor(cursor: str, width: int) -> SortKey:
    try:
        values = json.loads(case_keys().open(cursor.encode()))
    except (InvalidToken, ValueError, TypeError):
        raise bad_cursor() from None
    if not isinstance(values, list) or len(values) != width or not all(isinstance(v, str) for v in values):
        raise bad_cursor()
    return tuple(values)


async def ordered_in_gateway(
    session: AsyncSession,
    keys: Select,
    sort_key: Callable[[Any], SortKey],
    width: int,
    query: PageQuery,
    load: Callable[[list[Any]], Awaitable[list[Item]]],
) -> Page[Item]:
    """One page of a list the database cannot order: `keys` selects each row's id first and what
    `sort_key` makes its unique key (`width` texts) from; `load` gives the items of the page's ids, in
    that order."""
    rows = sorted(((sort_key(row), row[0]) for row in (await session.execute(keys)).all()), key=lambda r: r[0])
    start = 0
    if query.cursor is not None:
        after = open_cursor(query.cursor, width)
        start = bisect.bisect_right([key for key, _ in rows], after)
    page = rows[start : start + query.limit + 1]
    next_cursor = None
    if len(page) > query.limit:
        page = page[: query.limit]
        next_cursor = seal_cursor(page[-1][0])
    return Page(items=await load([row_id for _, row_id in page]) if page else [], next_cursor=next_cursor)
