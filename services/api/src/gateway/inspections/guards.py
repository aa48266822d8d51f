"""Loading an inspection for a request: refused as not found to an actor who may not see it, refused
(403) to one who may see it but lacks the permission the request needs on its unit, and refused what
its phase does not allow (the table in `lifecycle`).

An actor sees an inspection with `inspections:read` on its unit, and one not yet published only with
`drafts:read` there too: readers see what is published. Every domain reaches inspections through here,
so this is where the unit scoping of the security rules is applied.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import Actor
from gateway.frameworks.service import get_framework
from gateway.inspections.lifecycle import ACTIVITIES, FROZEN_STATUSES, IS_IN, PUBLISHED, Activity
from gateway.inspections.models import Inspection
from gateway.permissions import Permission, allows, forbidden
from gateway.writes import BOOKKEEPING, actor_of
from inspection_shared.framework import Framework
from inspection_shared.problems import Conflict, NotFound
from inspection_shared.wording import listed


def sees(actor: Actor, unit_id: uuid.UUID, status: str) -> bool:
    """Whether the actor may see an inspection of this unit in this status at all."""
    return allows(actor, Permission.INSPECTIONS_READ, unit_id) and (
        status == PUBLISHED or allows(actor, Permission.DRAFTS_READ, unit_id)
    )


def authorize(actor: Actor, inspection: Inspection, need: Permission) -> None:
    """404 if the actor may not see the inspection (its existence does not leak), 403 naming the permission
    if it may see it but lacks `need` on its unit."""
    if not sees(actor, inspection.unit_id, inspection.status):
        raise NotFound(f"No inspection {inspection.id}")
    if not allows(actor, need, inspection.unit_id):
        raise forbidden(need)


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
    """Refuse any change to a frozen (published or withdrawn) inspection, and `activity` in a phase
    that does not allow it: a 409 naming the status and the statuses that would."""
    if inspection.status in FROZEN_STATUSES:
        raise Conflict(
            f"Inspection {inspection.id} is {IS_IN[inspection.status]} and can no longer be changed.",
            status_of_inspection=inspection.status,
        )
    if activity is None:
        return
    rule = ACTIVITIES[activity]
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
    request ends, its evidence revision moved on, and refused if its phase does not allow `activity`
    (or if it is frozen), or if its evidence revision has moved on since `unchanged_since` (what a request
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
        authorize(actor_of(session), inspection, ACTIVITIES[activity].permission)
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
