"""Faults the sampling cores raise, free of HTTP; the shell turns them into RFC 9457 problems."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Fault:
    """One thing wrong with the input: the field (dotted path or column), what is wrong, and the line of an upload."""

    field: str
    message: str
    line: int | None = None


class SamplingInputError(ValueError):
    """The request cannot be met as asked (422): a bad frame, an impossible design, an infeasible allocation."""

    def __init__(self, detail: str, faults: list[Fault] | None = None, **facts: object):
        super().__init__(detail)
        self.detail = detail
        self.faults = faults or []
        self.facts = facts


class FrameTooLarge(ValueError):
    """The frame holds more cases, or bytes, than the service accepts (413)."""

    def __init__(self, detail: str, limit: int):
        super().__init__(detail)
        self.detail = detail
        self.limit = limit
