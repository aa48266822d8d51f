"""The phases of an inspection (domain.md section 1), the moves allowed between them, and the planning
rules an inspection is held to. All of it is data: change a rule here and nowhere else."""

from __future__ import annotations

from typing import Literal, get_args

InspectionType = Literal["core", "joint", "re_inspection", "pilot", "thematic"]
INSPECTION_TYPES: tuple[str, ...] = get_args(InspectionType)

InspectionStatus = Literal["planned", "pre_fieldwork", "fieldwork", "rating", "published", "withdrawn"]
INSPECTION_STATUSES: tuple[str, ...] = get_args(InspectionStatus)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "planned": ("pre_fieldwork", "withdrawn"),
    "pre_fieldwork": ("fieldwork", "planned", "withdrawn"),
    "fieldwork": ("rating", "withdrawn"),
    "rating": ("published", "fieldwork", "withdrawn"),
    "published": (),
    "withdrawn": (),
}
"""From each status, the statuses it may move to. Published and withdrawn are final."""

FROZEN_STATUSES = frozenset({"published", "withdrawn"})
"""No edit of any kind is accepted once an inspection is in one of these."""

ANNOUNCED_STATUSES = frozenset({"pre_fieldwork", "fieldwork", "rating", "published"})
"""From the announcement on, the service has been told the fieldwork dates: they can move but not vanish."""

MAX_FIELDWORK_DAYS = 21
"""Fieldwork lasts up to three weeks, counting its first and last days."""

MIN_NOTICE_DAYS = 14
"""Fieldwork dates are notified at least two weeks ahead: checked on the move into fieldwork, as days
from the announcement (the latest move into pre_fieldwork) to the first day of fieldwork."""

PARTNERS_REQUIRED: frozenset[str] = frozenset({"joint"})
"""Types that are carried out with at least one partner inspectorate."""

PARTNERS_REFUSED: frozenset[str] = frozenset({"core"})
"""Types carried out by the inspectorate alone: a core inspection with partners is a joint inspection."""

ANY_FRAMEWORK_UNIT_TYPES: frozenset[str] = frozenset({"other"})
"""Unit types inspected under any framework version. Bodies inspected on commission (such as Guernsey's
probation service) are inspected against whichever framework the commission names; every other unit
type must be one the framework's `applies_to` lists."""

TRIAL_TYPES: frozenset[str] = frozenset({"pilot"})
"""Types that may pin a draft framework version, or one whose fieldwork starts before the version takes
effect: versions are tried out in pilots before they are published. Every other type needs a published
version in effect on the first day of fieldwork."""


def allowed_moves(status: str) -> tuple[str, ...]:
    return TRANSITIONS[status]
