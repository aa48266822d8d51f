"""The collection shape every list endpoint returns: `{"items": [...], "next_cursor": ...}`."""

from typing import Generic, TypeVar

from pydantic import BaseModel

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = None
