"""Opaque keyset cursors for list endpoints: stable under inserts, unlike offsets."""

from __future__ import annotations

import base64
import json
from typing import Any

from inspection_shared.problems import FieldError, InvalidInput


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The sort key a cursor carries; a tampered or foreign cursor is a 422 naming the parameter."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        key = None
    if not isinstance(key, list) or len(key) != length:
        raise InvalidInput(
            "The cursor is not one this list issued.",
            [FieldError(field="query.cursor", message="not a cursor from this list")],
        )
    return key
