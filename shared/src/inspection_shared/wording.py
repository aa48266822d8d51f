"""Counts and lists as a sentence says them: "1 case reference appears", "3 case references appear";
"planned, in pre-fieldwork or in fieldwork"."""

from __future__ import annotations

from collections.abc import Iterable


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`count` and its words agreeing with it: `plural` (default: `singular` + "s") unless it is 1."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def listed(items: Iterable[str], last: str = "and") -> str:
    """"a", "a and b", "a, b and c" (or with `last` = "or")."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}" if items else ""
