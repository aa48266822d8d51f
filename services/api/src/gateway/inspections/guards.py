"""Loading an inspection for a request: refused as not found to an actor who may not see it, refused
(403) to one who may see it but lacks the permission the request needs on its unit, and refused what
its phase does not allow (the table in `lifecycle`).

An actor sees an inspection with `inspections:read` on its unit, and one not yet published only with
`drafts:read` there too: readers see what is published, and a publication withdrawn stays on the
record. Every domain reaches inspections through here, so this is where the unit scoping of the security
rules is applied, and where an activity only the inspection's team does (recording case answers and
judgements) is refused to anyone else.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import Actor
from gateway.frameworks.service import get_framework
from gateway.inspections import repository
from gateway.inspections.lifecycle import ACTIVITIES, FROZEN_STATUSES, IS_IN, PUBLISHED, Activity, ActivityRule
from gateway.inspections.models import Inspection
from gateway.permissions import Permission, allows, forbidden, is_admin
from gateway.writes import BOOKKEEPING, actor_of
from inspection_shared.framework import Framework
from inspection_shared.problems import Conflict, NotFound, Problem
from inspection_shared.wording import listed


def is_public(status: str, published_at: datetime | None) -> bool:
    """Published, or published once and withdrawn since: a report pulled is marked withdrawn, not hidden."""
    return status == PUBLISHED or published_at is not None


def sees(actor: Actor, unit_id: uuid.UUID, public: bool) -> bool:
    """Whether the actor may see an inspection of this unit at all, public (`is_public`) or not."""
    return allows(actor, Permission.INSPECTIONS_READ, unit_id) and (
        public or allows(actor, Permission.DRAFTS_READ, unit_id)
    )


def authorize(actor: Actor, inspection: Inspection, need: Permission) -> None:
    """404 if the actor may not see the inspection (its existence does not leak), 403 naming the permission
    if it may see it but lacks `need` on its unit."""
    if not sees(actor, inspection.unit_id, is_public(inspection.status, inspection.published_at)):
        raise NotFound(f"No inspection {inspection.id}")
    if not allows(actor, need, inspection.unit_id):
        raise forbidden(need)


async def ensure_on_team(session: AsyncSession, actor: Actor, inspection: Inspection, rule: ActivityRule) -> None:
    """Refuse (403) an activity only the team does to anyone not on the inspection's team: administrators
    are not refused, API keys always are."""
    if actor.kind == "key":
        detail = (f"An API key cannot do this: {rule.what} by the people on an inspection's team, each signed in "
                  "as themselves.")
    elif is_admin(actor) or await repository.on_team(session, inspection.id, uuid.UUID(actor.id)):
        return
    else:
        detail = (f"In inspection {inspection.id}, {rule.what} by its team only: this needs a place on this "
                  "inspection's team. Its lead inspector or an administrator sets the team "
                  f"(PUT /api/v1/inspections/{inspection.id}/team).")
    raise Problem(403, "Forbidden", detail, slug="not-on-team")


async def get_inspection(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    need: Permission = Permission.INSPECTIONS_READ,
    *,
    for_update: bool = False,
) -> Inspection:
    """The inspection, if the session's actor may see it and holds `need` on its unit."""
    inspection = await session.get(Inspection, inspection_id, with_for_update=for_update or None)
    if inspection is None:
        raise NotFound(f"No inspection {inspection_id}")
    authorize(actor_of(session), inspection, need)
    return inspection


def ensure_phase(inspection: Inspection, activity: Activity | None = None) -> None:
    """Refuse any change to a frozen (published or withdrawn) inspection but an activity allowed in it
    (a correction), and `activity` in a phase that does not allow it: a 409 naming the status and the
    statuses that would."""
    rule = ACTIVITIES[activity] if activity is not None else None
    if inspection.status in FROZEN_STATUSES and (rule is None or inspection.status not in rule.statuses):
        raise Conflict(
            f"Inspection {inspection.id} is {IS_IN[inspection.status]} and can no longer be changed.",
            status_of_inspection=inspection.status,
        )
    if rule is None:
        return
    if inspection.status not in rule.statuses:
        raise Conflict(
            f"Inspection {inspection.id} is {IS_IN[inspection.status]}: {rule.what} only while it is "
            f"{listed((IS_IN[s] for s in rule.statuses), 'or')}.",
            status_of_inspection=inspection.status,
            **{rule.listed_as: list(rule.statuses)},
        )


_INSPECTIONS = Inspection.__table__


async def inspection_for_change(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    activity: Activity | None = None,
    *,
    unchanged_since: int | None = None,
) -> Inspection:
    """The inspection, for a request that changes what is recorded for it: its row locked until the
    request ends, its evidence revision moved on, and refused if the actor may not do `activity` in it
    (its permission on the unit, and a place on the team where the activity takes one), if its phase
    does not allow `activity` (or if it is frozen), or if its evidence revision has moved on since `unchanged_since` (what a request
    read before it waited on an engine, without holding anything).

    Every such write comes here before it takes any other lock. So writes to one inspection queue on its
    row in one order (no deadlock between them), none lands beside a change of its status (publication
    freezes it), and a reader of a document derived from it (the summary) sees the revision move. The
    update comes first: on SQLite too the request then holds the write lock from its first statement.
    """
    moved = await session.execute(
        update(_INSPECTIONS)
        .where(_INSPECTIONS.c.id == inspection_id)
        .values(evidence_revision=_INSPECTIONS.c.evidence_revision + 1),
        execution_options={BOOKKEEPING: True},
    )
    if moved.rowcount == 0:
        raise NotFound(f"No inspection {inspection_id}")
    inspection = await session.get(Inspection, inspection_id, populate_existing=True)
    assert inspection is not None  # the row was just updated in this transaction
    if activity is not None:
        rule, actor = ACTIVITIES[activity], actor_of(session)
        authorize(actor, inspection, rule.permission)
        if rule.team_only:
            await ensure_on_team(session, actor, inspection, rule)
    ensure_phase(inspection, activity)
    if unchanged_since is not None and inspection.evidence_revision != unchanged_since + 1:
        raise Conflict(
            f"What is recorded for inspection {inspection.id} changed while this request was being worked on; "
            "look at it again and repeat the request if it is still wanted."
        )
    return inspection


async def pinned_framework(session: AsyncSession, inspection: Inspection) -> Framework:
    """The framework version the inspection was created with."""
    return await get_framework(session, inspection.framework_id)
