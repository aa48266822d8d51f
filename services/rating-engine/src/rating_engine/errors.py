"""Faults the rating engine's core raises, free of HTTP; the shared edge (`inspection_shared.web`) answers
a `RatingInputError` as the 422 problem every service gives, each fault named under `errors`."""

from __future__ import annotations

from inspection_shared.faults import Fault, InputFault

__all__ = ["Fault", "RatingInputError"]


class RatingInputError(InputFault):
    """The request cannot be rated as sent (422): an unknown framework, standard or key question, a bad
    inline framework, evidence that contradicts itself, an override with nothing to override."""
