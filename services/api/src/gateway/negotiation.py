"""Which of a route's formats an `Accept` header prefers: one reading of media ranges and their qualities
for every route that answers in more than one format (reports, statistics)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

Format = TypeVar("Format")

_Q = re.compile(r"^\s*q\s*=\s*([0-9.]+)\s*$", re.IGNORECASE)


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media, *parameters = part.split(";")
        quality = 1.0
        for parameter in parameters:
            matched = _Q.match(parameter)
            if matched:
                try:
                    quality = float(matched.group(1))
                except ValueError:
                    quality = 0.0
        if media.strip():
            ranges.append((media.strip().lower(), quality))
    return ranges


def _match(media_type: str, media_range: str) -> int:
    """How closely a media range names the type: 3 exactly, 2 by its type (`text/*`), 1 as `*/*`, else 0."""
    if media_range == media_type:
        return 3
    if media_range == "*/*":
        return 1
    kind, _, sub = media_range.partition("/")
    return 2 if sub == "*" and media_type.startswith(kind + "/") else 0


def preferred(accept: str, media_types: Mapping[Format, str]) -> Format | None:
    """The format of `media_types` the header prefers: by quality, then by how exactly it names the format's
    media type, then the mapping's order (the first wins a wildcard); None if it accepts none of them."""
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen = None
    for order, (candidate, media_type) in enumerate(media_types.items()):
        closest = max(((_match(media_type, media_range), quality) for media_range, quality in ranges), default=(0, 0.0))
        if closest[0] == 0 or closest[1] <= 0:
            continue
        rank = (closest[1], closest[0], -order)
        if best is None or rank > best:
            best, chosen = rank, candidate
    return chosen


def negotiate(
    asked: Format | None, accept: str | None, media_types: Mapping[Format, str], refuse: Callable[[str], Exception]
) -> Format:
    """The format to answer in: `asked` (the route's ?format=) if given, else the one the Accept header
    prefers, the first of `media_types` without one; `refuse(accepted)` is raised, given the header's
    ranges, when it accepts none of them."""
    if asked is not None:
        return asked
    if accept is None or not accept.strip():
        return next(iter(media_types))
    chosen = preferred(accept, media_types)
    if chosen is None:
        raise refuse(accept.strip()[:200])
    return chosen
