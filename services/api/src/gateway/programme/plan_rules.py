"""The rules of a programme plan, as plain functions over plain data: which units a plan must inspect and by
when, how concerning each of the others is, and where each inspection goes in the quarters of the years.

- **Must inspect.** A unit rated Inadequate is re-inspected within `reinspect_inadequate_within_months` of
  its last inspection; no unit goes longer than `max_interval_months` without one (a unit never inspected
  is due at once). A unit whose deadline falls in the plan is placed in its deadline's quarter or before
  (one already overdue in the first quarter, its figures saying so), earliest deadline first; one that finds
  no room by then is listed as not placed, never put later. A re-flow or a hand move never takes it past
  that quarter either.
- **At random.** `random_count` of the other units, chosen by the sampling service (seeded; see
  `plans.py`), placed wherever there is room.
- **By concern.** The rest, highest concern first, while room is left (up to `concern_count`): concern is
  the weighted sum of the intelligence score sent (0 to 1), the last rating (Inadequate 1, Requires
  improvement 2/3, Good 1/3, Outstanding 0, none 1) and the time since the last inspection (its share of
  the longest interval, at most 1; never inspected 1).
- **Kinds.** A unit whose caseload is below `proportionate_below_caseload` gets a proportionate
  inspection; the joint quotas go, in turn, to the most concerning full inspections (a quota short of
  them is listed as not placed, with its shortfall); commissioned inspections (a named body outside the
  tree) are placed first, in the quarter asked for.

Each inspection takes its load (hours, or one inspection) from its quarter's capacity, which is never
exceeded: an inspection goes to the allowed quarter with the most room left, the earliest on a tie. Ties
between units go by code, so the same registry, rules and random choice give the same schedule.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from typing import Any, Literal

from gateway.statistics.periods import ProgrammeYear
from inspection_shared.framework import RATINGS, Rating

Kind = Literal["full", "proportionate", "joint", "commissioned"]
Rule = Literal["reinspect_inadequate", "max_interval", "random", "concern", "commissioned", "by_hand"]
UnplacedRule = Rule | Literal["joint"]
"""Why something is not placed: a rule's unit or body with no room, or a joint quota short of full inspections."""

RATING_CONCERN: dict[str, Fraction] = {rating: Fraction(i, len(RATINGS) - 1) for i, rating in enumerate(RATINGS)}
"""How concerning a last rating (as stored: a code of `RATINGS`, best first) is: outstanding 0, good 1/3,
requires improvement 2/3, inadequate 1. A unit never rated (or `not_rated`) counts as inadequate does (nothing
assures it)."""
INADEQUATE: Rating = "inadequate"
DEFAULT_INTERVAL_MONTHS = 36
"""The span time since inspection is measured against when no longest interval is set: three years."""


@dataclass(frozen=True)
class Quarter:
    """A quarter of a programme year: Q1 is April to June."""

    label: str
    start: date
    end: date


def quarters(years: Iterable[ProgrammeYear]) -> list[Quarter]:
    """The quarters of the programme years, in order."""
    held = []
    for year in sorted(set(years)):
        for q in range(4):
            first_month = 4 + 3 * q
            y = year.start_year + (first_month - 1) // 12
            month = (first_month - 1) % 12 + 1
            last = month + 2
            held.append(Quarter(f"{year} Q{q + 1}", date(y, month, 1),
                                date(y, last, calendar.monthrange(y, last)[1])))
    return held


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has none (31 January + 1: 28 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_between(earlier: date, later: date) -> int:
    """Whole months from `earlier` to `later`."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


@dataclass(frozen=True)
class RegistryUnit:
    """A unit the plan may inspect, as the registry holds it on the plan's first day."""

    unit_id: uuid.UUID
    code: str
    name: str
    caseload: int | None
    last_inspected: date | None
    last_rating: str | None
    intelligence: Fraction = Fraction(0)


@dataclass(frozen=True)
class Weights:
    intelligence: Fraction = Fraction(1)
    last_rating: Fraction = Fraction(1)
    time_since_inspection: Fraction = Fraction(1)


@dataclass(frozen=True)
class JointQuota:
    partners: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class Commissioned:
    body: str
    quarter: str
    load: Fraction
    partners: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    max_interval_months: int | None = None
    reinspect_inadequate_within_months: int | None = None
    random_count: int = 0
    concern_count: int | None = None
    weights: Weights = field(default_factory=Weights)
    joint: tuple[JointQuota, ...] = ()
    proportionate_below_caseload: int | None = None


@dataclass(frozen=True)
class Loads:
    """What an inspection takes from its quarter's capacity, and what a quarter has."""

    per_quarter: Fraction
    full: Fraction
    proportionate: Fraction


@dataclass(frozen=True)
class Slot:
    quarter: str
    kind: Kind
    load: Fraction
    rule: Rule
    detail: str
    figures: Mapping[str, Any]
    unit: RegistryUnit | None = None
    body: str | None = None
    partners: tuple[str, ...] = ()
    concern: Fraction = Fraction(0)


@dataclass(frozen=True)
class Unplaced:
    rule: UnplacedRule
    detail: str
    figures: Mapping[str, Any]
    unit: RegistryUnit | None = None
    body: str | None = None


@dataclass(frozen=True)
class Due:
    """A unit the plan must inspect: by which rule, by when, and the quarter that is the last it may take."""

    unit: RegistryUnit
    rule: Rule
    deadline: date
    last_quarter: int
    detail: str
    figures: Mapping[str, Any]


@dataclass
class Schedule:
    slots: list[Slot]
    unplaced: list[Unplaced]


def concern(unit: RegistryUnit, rules: Rules, start: date) -> tuple[Fraction, dict[str, Any]]:
    """The unit's concern on the plan's first day, and its parts."""
    span = rules.max_interval_months or DEFAULT_INTERVAL_MONTHS
    rating = RATING_CONCERN.get(unit.last_rating or "", Fraction(1))
    months = None if unit.last_inspected is None else max(0, months_between(unit.last_inspected, start))
    time = Fraction(1) if months is None else min(Fraction(1), Fraction(months, span))
    w = rules.weights
    total = w.intelligence * unit.intelligence + w.last_rating * rating + w.time_since_inspection * time
    return total, {
        "intelligence": float(unit.intelligence), "last_rating": unit.last_rating, "rating_concern": float(rating),
        "months_since_inspection": months, "time_concern": float(time),
        "weights": {"intelligence": float(w.intelligence), "last_rating": float(w.last_rating),
                    "time_since_inspection": float(w.time_since_inspection)},
        "concern": float(total),
    }


def _quarter_of(day: date, held: Sequence[Quarter]) -> int:
    for i, q in enumerate(held):
        if day <= q.end:
            return i
    return len(held)


def due(registry: Iterable[RegistryUnit], rules: Rules, held: Sequence[Quarter]) -> list[Due]:
    """The units the plan must inspect, earliest deadline first (then by code)."""
    start, end = held[0].start, held[-1].end
    found = []
    for unit in registry:
        reasons = []
        if (rules.reinspect_inadequate_within_months is not None and unit.last_rating == INADEQUATE
                and unit.last_inspected is not None):
            deadline = add_months(unit.last_inspected, rules.reinspect_inadequate_within_months)
            reasons.append(("reinspect_inadequate", deadline,
                            f"rated Inadequate at its inspection of {unit.last_inspected.isoformat()}: re-inspected "
                            f"within {rules.reinspect_inadequate_within_months} months, by {deadline.isoformat()}"))
        if rules.max_interval_months is not None:
            if unit.last_inspected is None:
                reasons.append(("max_interval", start, "never inspected: due at once"))
            else:
                deadline = add_months(unit.last_inspected, rules.max_interval_months)
                reasons.append(("max_interval", deadline,
                                f"last inspected {unit.last_inspected.isoformat()}: at most "
                                f"{rules.max_interval_months} months between inspections, so by {deadline.isoformat()}"))
        reasons = [r for r in reasons if r[1] <= end]
        if not reasons:
            continue
        rule, deadline, detail = min(reasons, key=lambda r: (r[1], r[0]))
        figures = {"last_inspected": unit.last_inspected.isoformat() if unit.last_inspected else None,
                   "last_rating": unit.last_rating, "deadline": deadline.isoformat(),
                   "overdue": deadline < start}
        found.append(Due(unit, rule, deadline, _quarter_of(max(deadline, start), held), detail, figures))  # type: ignore[arg-type]
    return sorted(found, key=lambda d: (d.deadline, d.unit.code))


def kind_of(unit: RegistryUnit, rules: Rules) -> Kind:
    below = rules.proportionate_below_caseload
    return "proportionate" if below is not None and unit.caseload is not None and unit.caseload < below else "full"


class Room:
    """The load each quarter has left; suspended quarters have none."""

    def __init__(self, held: Sequence[Quarter], loads: Loads, suspended: Iterable[str] = ()):
        closed = set(suspended)
        self.labels = [q.label for q in held]
        self.left = {q.label: Fraction(0) if q.label in closed else loads.per_quarter for q in held}

    def best(self, load: Fraction, first: int = 0, last: int | None = None) -> str | None:
        """The quarter from `first` to `last` (indices) with the most room left that holds `load`: the
        earliest on a tie; None if none holds it."""
        allowed = self.labels[first:None if last is None else last + 1]
        fits = [label for label in allowed if self.left[label] >= load]
        return max(fits, key=lambda label: (self.left[label], -self.labels.index(label)), default=None)

    def earliest(self, load: Fraction, first: int, last: int | None = None) -> str | None:
        allowed = self.labels[first:None if last is None else last + 1]
        return next((label for label in allowed if self.left[label] >= load), None)

    def take(self, label: str, load: Fraction) -> None:
        assert self.left[label] >= load
        self.left[label] -= load


def _load(kind: Kind, loads: Loads) -> Fraction:
    return loads.proportionate if kind == "proportionate" else loads.full


def schedule(registry: Sequence[RegistryUnit], rules: Rules, held: Sequence[Quarter], loads: Loads,
             commissioned: Sequence[Commissioned], chosen_at_random: Iterable[str]) -> Schedule:
    """The plan: commissioned inspections in their quarters, then the units due, those chosen at random
    (`chosen_at_random`: codes, from the sampling service), and the most concerning of the rest."""
    room, slots, unplaced = Room(held, loads), [], []
    start = held[0].start
    for c in commissioned:
        room.take(c.quarter, c.load)  # checked by `commissioned_faults` before
        slots.append(Slot(c.quarter, "commissioned", c.load, "commissioned",
                          f"commissioned inspection of {c.body}, added by hand", {"quarter": c.quarter},
                          body=c.body, partners=c.partners))
    taken: set[str] = set()
    for d in due(registry, rules, held):
        kind = kind_of(d.unit, rules)
        load = _load(kind, loads)
        label = room.best(load, 0, d.last_quarter)
        taken.add(d.unit.code)
        score, parts = concern(d.unit, rules, start)
        if label is None:
            unplaced.append(Unplaced(d.rule, f"{d.detail}; no quarter to {held[min(d.last_quarter, len(held) - 1)].label} "
                                     "has room left", dict(d.figures), unit=d.unit))
            continue
        room.take(label, load)
        slots.append(Slot(label, kind, load, d.rule, d.detail, {**d.figures, **parts}, unit=d.unit, concern=score))
    by_code = {u.code: u for u in registry}
    for code in sorted(set(chosen_at_random) - taken):
        unit = by_code[code]
        taken.add(code)
        kind = kind_of(unit, rules)
        load, label = _load(kind, loads), room.best(_load(kind, loads))
        score, parts = concern(unit, rules, start)
        detail = f"chosen at random, one of {rules.random_count}"
        if label is None:
            unplaced.append(Unplaced("random", f"{detail}; no quarter has room left", {}, unit=unit))
            continue
        room.take(label, load)
        slots.append(Slot(label, kind, load, "random", detail, parts, unit=unit, concern=score))
    ranked = sorted(((concern(u, rules, start), u) for u in registry if u.code not in taken),
                    key=lambda pair: (-pair[0][0], pair[1].code))
    placed_on_concern = 0
    for rank, ((score, parts), unit) in enumerate(ranked, start=1):
        if rules.concern_count is not None and placed_on_concern >= rules.concern_count:
            break
        kind = kind_of(unit, rules)
        label = room.best(_load(kind, loads))
        if label is None:
            continue
        room.take(label, _load(kind, loads))
        placed_on_concern += 1
        slots.append(Slot(label, kind, _load(kind, loads), "concern",
                          f"ranked {rank} of {len(ranked)} on concern ({float(score):.3f})",
                          {**parts, "rank": rank, "of": len(ranked)}, unit=unit, concern=score))
    slots, short = _joint(_ordered(slots, held), rules)
    return Schedule(slots, unplaced + short)


def _ordered(slots: list[Slot], held: Sequence[Quarter]) -> list[Slot]:
    order = {q.label: i for i, q in enumerate(held)}
    return sorted(slots, key=lambda s: (order[s.quarter], s.kind != "commissioned", s.unit.code if s.unit else s.body))


def _joint(slots: list[Slot], rules: Rules) -> tuple[list[Slot], list[Unplaced]]:
    """The joint quotas given, in turn, to the most concerning full inspections; each quota that runs out
    of them listed with its shortfall."""
    eligible = sorted((i for i, s in enumerate(slots) if s.kind == "full"),
                      key=lambda i: (-slots[i].concern, slots[i].unit.code))  # type: ignore[union-attr]
    short = []
    for quota in rules.joint:
        given = eligible[:quota.count]
        for i in given:
            slots[i] = replace(slots[i], kind="joint", partners=quota.partners,
                               figures={**slots[i].figures, "joint_with": list(quota.partners)})
        eligible = eligible[quota.count:]
        if len(given) < quota.count:
            short.append(Unplaced("joint", f"joint quota of {quota.count} with {', '.join(quota.partners)}: "
                                  f"{len(given)} full inspections placed to make joint, {quota.count - len(given)} short",
                                  {"partners": list(quota.partners), "quota": quota.count, "joint": len(given),
                                   "short": quota.count - len(given)}))
    return slots, short


def commissioned_faults(commissioned: Sequence[Commissioned], held: Sequence[Quarter], loads: Loads
                        ) -> list[tuple[int, str]]:
    """(index, message) for each commissioned inspection whose quarter is not in the plan or has no room."""
    room, faults = Room(held, loads), []
    for i, c in enumerate(commissioned):
        if c.quarter not in room.left:
            faults.append((i, f"{c.quarter} is not a quarter of the plan ({room.labels[0]} to {room.labels[-1]})"))
        elif room.left[c.quarter] < c.load:
            faults.append((i, f"{c.quarter} has {float(room.left[c.quarter]):g} left of its capacity, "
                              f"not {float(c.load):g}"))
        else:
            room.take(c.quarter, c.load)
    return faults


OWED: tuple[Rule, ...] = ("reinspect_inadequate", "max_interval")
"""The rules that owe a unit its inspection by a deadline (kept in its slot's figures)."""


def deadline_quarter(rule: str, figures: Mapping[str, Any], held: Sequence[Quarter]) -> int | None:
    """The index of the last quarter an owed unit's slot may take (its deadline's, or the first if overdue);
    None for a slot that owes nothing."""
    if rule not in OWED or not figures.get("deadline"):
        return None
    return _quarter_of(max(date.fromisoformat(figures["deadline"]), held[0].start), held)


@dataclass(frozen=True)
class Placed:
    """A slot as a re-flow sees it: what it takes, the last quarter it may take (owed), and whether it is
    fixed where it is (made an inspection already)."""

    key: Any
    quarter: str
    load: Fraction
    last_quarter: int | None = None
    fixed: bool = False


@dataclass(frozen=True)
class Move:
    key: Any
    from_quarter: str
    to_quarter: str | None


def reflow(placed: Sequence[Placed], held: Sequence[Quarter], loads: Loads, suspended: Iterable[str]) -> list[Move]:
    """Move each slot of a suspended quarter that is not fixed to the earliest later quarter with room, no
    later than its last quarter, in the order given; `to_quarter` None where none has room. Fixed slots stay."""
    closed = set(suspended)
    room = Room(held, loads, closed)
    for p in placed:
        if p.quarter not in closed:
            room.left[p.quarter] -= p.load  # hand edits keep within capacity, so this stays at or above zero
    moves = []
    for p in placed:
        if p.quarter not in closed or p.fixed:
            continue
        target = room.earliest(p.load, room.labels.index(p.quarter) + 1, p.last_quarter)
        if target is not None:
            room.take(target, p.load)
        moves.append(Move(p.key, p.quarter, target))
    return moves
