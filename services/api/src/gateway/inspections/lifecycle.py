"""The phases of an inspection (domain.md section 1) and the moves allowed between them."""

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


def allowed_moves(status: str) -> tuple[str, ...]:
    return TRANSITIONS[status]
