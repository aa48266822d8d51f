"""Moving an inspection through its phases (`lifecycle.TRANSITIONS`), each move checked and kept.

A move into a phase is checked against what that phase rests on by its entry checks: the fieldwork
dates for the announcement, the notice given for fieldwork (both here), a rating snapshot for
publication (the ratings domain's). The checks of other domains are handed to the app at start-up
(`app.state.entry_checks`), so this module never reads their tables. Each check refuses with a 409
naming what is missing, or returns what the status change records of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import utcnow
from gateway.inspections import repository
from gateway.inspections.guards import get_inspection
from gateway.inspections.lifecycle import (
    FIELDWORK,
    IS_IN,
    MIN_NOTICE_DAYS,
    PRE_FIELDWORK,
    PUBLISHED,
    WITHDRAWN,
    InspectionStatus,
    allowed_moves,
)
from gateway.inspections.models import Inspection
from gateway.inspections.schemas import TransitionRequest
from gateway.inspections.service import check_precondition, clash, status_change
from gateway.permissions import Permission, allows, forbidden
from gateway.writes import actor_of, flush
from inspection_shared.problems import Conflict, FieldError, InvalidInput
from inspection_shared.wording import counted, listed

EntryCheck = Callable[[AsyncSession, Inspection, InspectionStatus], Awaitable[dict[str, Any]]]
"""Checks what a move of the inspection into the phase given rests on: a 409 naming what is missing, or
what to record of it."""
EntryChecks = Mapping[InspectionStatus, Sequence[EntryCheck]]


async def _dates_set(session: AsyncSession, inspection: Inspection, to: InspectionStatus) -> dict[str, Any]:
    """The service is notified of the fieldwork dates at the announcement."""
    missing = [name for name in ("fieldwork_start", "fieldwork_end") if getattr(inspection, name) is None]
    if missing:
        raise Conflict(
            f"Set the fieldwork dates before moving to {to}: the service is notified of them at the announcement.",
            errors=[FieldError(field=name, message="not set") for name in missing],
            status_of_inspection=inspection.status,
        )
    return {}


async def _notice_to_give(session: AsyncSession, inspection: Inspection, to: InspectionStatus) -> dict[str, Any]:
    assert inspection.fieldwork_start is not None  # checked by _dates_set
    return {"notice_days": (inspection.fieldwork_start - utcnow().date()).days}


async def _notice_given(session: AsyncSession, inspection: Inspection, to: InspectionStatus) -> dict[str, Any]:
    """Fieldwork starts at least MIN_NOTICE_DAYS after the announcement."""
    assert inspection.fieldwork_start is not None  # checked by _dates_set
    announced = await repository.latest_announcement(session, inspection.id)
    if announced is None:
        # Loaded straight into a later phase (no announcement on record): nothing to check against.
        return {"notice_days": None}
    notice = (inspection.fieldwork_start - announced.date()).days
    if notice < MIN_NOTICE_DAYS:
        raise Conflict(
            f"Fieldwork dates are notified at least {MIN_NOTICE_DAYS} days ahead: the inspection was announced "
            f"on {announced.date().isoformat()} and fieldwork starts on {inspection.fieldwork_start.isoformat()}, "
            f"{counted(notice, 'day')} later. Move the fieldwork dates, or announce again.",
            errors=[
                FieldError(
                    field="fieldwork_start",
                    message=f"{counted(notice, 'day')} after the announcement; at least {MIN_NOTICE_DAYS} are needed",
                )
            ],
            status_of_inspection=inspection.status,
            notice_days=notice,
            required_notice_days=MIN_NOTICE_DAYS,
        )
    return {"notice_days": notice}


OWN_CHECKS: dict[InspectionStatus, tuple[EntryCheck, ...]] = {
    PRE_FIELDWORK: (_dates_set, _notice_to_give),
    FIELDWORK: (_dates_set, _notice_given),
}


def entry_checks(others: EntryChecks) -> dict[InspectionStatus, tuple[EntryCheck, ...]]:
    """This module's entry checks with those of other domains, each phase's own first."""
    return {
        status: (*OWN_CHECKS.get(status, ()), *others.get(status, ()))
        for status in InspectionStatus
        if status in OWN_CHECKS or status in others
    }


def _checks(request: Request) -> EntryChecks:
    return request.app.state.entry_checks


EntryChecksDep = Annotated[EntryChecks, Depends(_checks)]


async def move(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    request: TransitionRequest,
    if_match: str | None,
    checks: EntryChecks,
) -> Inspection:
    inspection = await get_inspection(session, inspection_id, Permission.INSPECTIONS_MOVE, for_update=True)
    if request.to == PUBLISHED and not allows(actor_of(session), Permission.INSPECTIONS_PUBLISH, inspection.unit_id):
        raise forbidden(Permission.INSPECTIONS_PUBLISH)
    check_precondition(inspection, if_match, required=False)
    allowed = list(allowed_moves(inspection.status))
    if request.to not in allowed:
        moves = listed(allowed, "or") if allowed else "nothing: it is final"
        raise Conflict(
            f"Inspection {inspection.id} is {IS_IN[inspection.status]} and cannot move to {request.to}; it may move "
            f"to {moves}.",
            status_of_inspection=inspection.status,
            allowed=allowed,
        )
    if request.to == WITHDRAWN and request.note is None:
        raise InvalidInput(
            "Say why the inspection is withdrawn.", [FieldError(field="body.note", message="required when withdrawing")]
        )
    details: dict[str, Any] = {}
    for check in checks.get(request.to, ()):
        details.update(await check(session, inspection, request.to))
    from_status = inspection.status
    inspection.status = request.to
    if request.to == PUBLISHED:
        inspection.published_at = utcnow()
    session.add(status_change(inspection, from_status, request.note, details or None))
    await flush(session, clash=clash(f"Moving the inspection to {request.to}"), changed="the inspection")
    await session.refresh(inspection, ["unit"])  # its reads name the unit
    return inspection
