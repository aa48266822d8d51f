"""Faults in a request's input as the engines' cores raise them: plain data, free of HTTP.

A core that cannot meet a request as asked raises `InputFault` (or its service's subclass of it) with a
one-line `detail` and every `Fault` it found. The cores know nothing of responses: the shared edge
(`inspection_shared.problem_handlers`) answers an `InputFault` in every service as the 422 problem
`/problems/invalid-input`, its faults listed under `errors`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Fault:
    """One thing wrong with the input: the field (dotted path or column), what is wrong, and the line of an upload."""

    field: str
    message: str
    line: int | None = None


class InputFault(ValueError):
    """The input cannot be met as asked (422): a bad field, an unknown name, an impossible design.

    `facts` are for code in the process that catches the error and says more (by how many cases a sample
    falls short, say); the answer to the client carries the detail and the faults only.
    """

    def __init__(self, detail: str, faults: list[Fault] | None = None, **facts: object):
        super().__init__(detail)
        self.detail = detail
        self.faults = faults or []
        self.facts = facts
