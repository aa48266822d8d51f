"""Faults the sampling cores raise, free of HTTP: the shared edge answers `SamplingInputError` as a 422
problem (`inspection_shared.web`), and the service's shell answers `FrameTooLarge` as a 413."""

from __future__ import annotations

from inspection_shared.faults import Fault, InputFault

__all__ = ["Fault", "FrameTooLarge", "SamplingInputError"]


class SamplingInputError(InputFault):
    """The request cannot be met as asked (422): a bad frame, an impossible design, an infeasible allocation."""


class FrameTooLarge(ValueError):
    """The frame holds more cases, or bytes, than the service accepts (413)."""

    def __init__(self, detail: str, limit: int):
        super().__init__(detail)
        self.detail = detail
        self.limit = limit
