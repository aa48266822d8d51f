"""Which framework a rating request means: a library version by id, or a definition sent inline."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from inspection_shared.framework import Framework
from inspection_shared.library import FrameworkInvalid, content_hash, library, parse_framework
from inspection_shared.wording import counted
from rating_engine.errors import Fault, RatingInputError


@dataclass(frozen=True)
class ResolvedFramework:
    framework: Framework
    source: Literal["library", "inline"]
    hash: str


@functools.cache
def library_entry(framework_id: str) -> ResolvedFramework | None:
    # Library versions never change in a running process, so each is hashed once.
    framework = library().get(framework_id)
    return None if framework is None else ResolvedFramework(framework, "library", content_hash(framework))


def resolve_framework(reference: str | dict[str, Any], field: str = "body.framework") -> ResolvedFramework:
    """The framework named by id, or the inline definition validated by the library's loader.

    Raises RatingInputError naming an unknown id, or every fault of a bad inline definition.
    """
    if isinstance(reference, str):
        resolved = library_entry(reference)
        if resolved is None:
            known = ", ".join(sorted(library()))
            raise RatingInputError(
                f"Unknown framework {reference!r}; the library has {known}.",
                [Fault(field, f"unknown framework {reference!r}; known: {known}")],
            )
        return resolved
    try:
        framework = parse_framework(reference)
    except FrameworkInvalid as invalid:
        raise RatingInputError(
            f"The inline framework is invalid: {counted(len(invalid.faults), 'fault')}.",
            [Fault(field, fault) for fault in invalid.faults],
        ) from None
    return ResolvedFramework(framework, "inline", content_hash(framework))
