"""Prioritising thematic inspections and research: one scoring for both, as the 2020 consultation letter
chooses research "using the same criteria as for thematics".

A topic's total is the sum over the criteria of weight x score; a criterion the topic has no score on
adds nothing and is named as unscored, so a total is never made up of guesses. Topics rank by total,
highest first; equal totals share a rank (1, 2, 2, 4).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Weighting:
    """A criterion and the weight it is given now."""

    criterion_id: str
    group: str
    name: str
    weight: float


@dataclass(frozen=True)
class Mark:
    """A topic's score on a criterion, and why."""

    score: int
    rationale: str


@dataclass(frozen=True)
class Part:
    """What one criterion adds to a topic's total."""

    criterion: Weighting
    mark: Mark | None

    @property
    def weighted(self) -> float:
        return self.criterion.weight * self.mark.score if self.mark else 0.0


@dataclass(frozen=True)
class Total:
    parts: list[Part]
    total: float
    most: float
    """The total of a topic scoring the highest score on every criterion."""
    by_group: dict[str, float]
    unscored: list[str]


@dataclass(frozen=True)
class Ranked(Generic[Key]):
    rank: int
    key: Key
    total: Total


def total(criteria: Iterable[Weighting], marks: Mapping[str, Mark], highest_score: int) -> Total:
    """A topic's total over `criteria` (in their order) from its `marks` by criterion id."""
    parts = [Part(c, marks.get(c.criterion_id)) for c in criteria]
    by_group: dict[str, float] = {}
    for part in parts:
        by_group[part.criterion.group] = math.fsum((by_group.get(part.criterion.group, 0.0), part.weighted))
    return Total(
        parts=parts,
        total=math.fsum(p.weighted for p in parts),
        most=math.fsum(p.criterion.weight * highest_score for p in parts),
        by_group=by_group,
        unscored=[p.criterion.criterion_id for p in parts if p.mark is None],
    )


def rank(totals: Iterable[tuple[Key, Total]], tie_break: Mapping[Key, str]) -> list[Ranked[Key]]:
    """The topics by total, highest first, equal totals sharing a rank and listed by `tie_break` (a name)."""
    ordered = sorted(totals, key=lambda item: (-item[1].total, tie_break[item[0]]))
    ranked: list[Ranked[Key]] = []
    for position, (key, topic_total) in enumerate(ordered, start=1):
        shared = ranked and ranked[-1].total.total == topic_total.total
        ranked.append(Ranked(ranked[-1].rank if shared else position, key, topic_total))
    return ranked
