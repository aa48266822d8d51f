"""The phases of an inspection (domain.md section 1), the moves allowed between them, what each phase
allows inspectors to do, and the planning rules an inspection is held to. All of it is data: change a
rule here and nowhere else (`guards.ensure_phase` applies the table of activities)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args

from gateway.permissions import Permission

InspectionType = Literal["core", "joint", "re_inspection", "pilot", "thematic"]
INSPECTION_TYPES: tuple[str, ...] = get_args(InspectionType)


class InspectionStatus(StrEnum):
    """The phase an inspection is in."""

    PLANNED = "planned"
    PRE_FIELDWORK = "pre_fieldwork"
    FIELDWORK = "fieldwork"
    RATING = "rating"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


PLANNED, PRE_FIELDWORK, FIELDWORK, RATING, PUBLISHED, WITHDRAWN = InspectionStatus

IS_IN: dict[InspectionStatus, str] = {
    PLANNED: "planned",
    PRE_FIELDWORK: "in pre-fieldwork",
    FIELDWORK: "in fieldwork",
    RATING: "in rating",
    PUBLISHED: "published",
    WITHDRAWN: "withdrawn",
}
"""Each status as a sentence says it: "Inspection ... is <this>"."""

TRANSITIONS: dict[InspectionStatus, tuple[InspectionStatus, ...]] = {
    PLANNED: (PRE_FIELDWORK, WITHDRAWN),
    PRE_FIELDWORK: (FIELDWORK, PLANNED, WITHDRAWN),
    FIELDWORK: (RATING, WITHDRAWN),
    RATING: (PUBLISHED, FIELDWORK, WITHDRAWN),
    PUBLISHED: (),
    WITHDRAWN: (),
}
"""From each status, the statuses it may move to. Published and withdrawn are final."""

FROZEN_STATUSES = frozenset({PUBLISHED, WITHDRAWN})
"""No edit of any kind is accepted once an inspection is in one of these, but a correction of what was
published (a new published version, or its withdrawal)."""

ANNOUNCED_STATUSES = frozenset({PRE_FIELDWORK, FIELDWORK, RATING, PUBLISHED})
"""From the announcement on, the service has been told the fieldwork dates: they can move but not vanish."""


class Activity(StrEnum):
    """What is recorded for an inspection besides its plan, each allowed in some phases only."""

    SAMPLING = "sampling"
    RECORDING = "recording"
    RATING_RUN = "rating_run"
    PANEL_DECISION = "panel_decision"
    CORRECTION = "correction"
    VOICE = "voice"


@dataclass(frozen=True)
class ActivityRule:
    statuses: tuple[InspectionStatus, ...]
    permission: Permission
    """What the actor must hold on the inspection's unit to do it."""
    what: str
    """The activity as a refusal names it: "<what> only while it is in ..."."""
    listed_as: str = "allowed_statuses"
    """The member of the 409 problem that lists `statuses`."""
    team_only: bool = False
    """Done only by the inspection's team (see `TEAM_ROLES`); administrators apart, and never by an API key."""


ACTIVITIES: dict[Activity, ActivityRule] = {
    # After fieldwork the sample is what was inspected.
    Activity.SAMPLING: ActivityRule(
        (PLANNED, PRE_FIELDWORK, FIELDWORK), Permission.CASELOADS_WRITE, "frames, samples and substitutions change"
    ),
    Activity.RECORDING: ActivityRule(
        (FIELDWORK, RATING), Permission.ASSESSMENTS_WRITE, "case answers and judgements are recorded",
        listed_as="recording_statuses", team_only=True,
    ),
    # Not during fieldwork: every snapshot joins the record publication rests on, and answers are still coming in.
    Activity.RATING_RUN: ActivityRule((RATING,), Permission.RATINGS_RUN, "its evidence is rated"),
    Activity.PANEL_DECISION: ActivityRule((RATING,), Permission.PANEL_DECIDE, "a ratings panel decides"),
    # What is published stays final: it is corrected openly, as a new published version, by those who publish.
    Activity.CORRECTION: ActivityRule((PUBLISHED,), Permission.INSPECTIONS_PUBLISH, "a correction is issued"),
    # The evidence of people under supervision informs the domain-one judgements: recorded when they are.
    Activity.VOICE: ActivityRule(
        (FIELDWORK, RATING), Permission.ASSESSMENTS_WRITE,
        "the voice of people under supervision is recorded", listed_as="recording_statuses", team_only=True,
    ),
}
"""For each activity, the statuses it is allowed in and the permission it takes. Frozen statuses allow only
the activities that name them."""

TeamRole = Literal["lead_inspector", "inspector"]
TEAM_ROLES: tuple[str, ...] = get_args(TeamRole)
"""A place on an inspection's team. A team that has members has exactly one lead inspector."""
LEAD: TeamRole = "lead_inspector"

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


def allowed_moves(status: str) -> tuple[InspectionStatus, ...]:
    return TRANSITIONS[InspectionStatus(status)]
