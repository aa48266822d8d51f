"""The rules of inspections: planning one, changing its plan, and the reads of inspections.

The planning rules are data (`lifecycle`) checked field by field (`planning`): the framework must apply
to the unit's type (its `applies_to`), be published and in effect on the first day of fieldwork (pilots
may try a draft or an early version); a joint inspection names its partner inspectorates; fieldwork
lasts at most three weeks, and does not overlap that of another open inspection of the unit (409 naming
it). Moves between phases are `transitions`. Every fault is a problem response naming the field.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import utcnow
from gateway.frameworks.service import find_framework, no_framework
from gateway.inspections import repository
from gateway.inspections.guards import authorize, ensure_phase, get_inspection
from gateway.inspections.lifecycle import InspectionStatus
from gateway.inspections.models import Inspection, InspectionStatusChange
from gateway.inspections.planning import framework_faults, plan_faults
from gateway.inspections.schemas import (
    InspectionCreate,
    InspectionListQuery,
    InspectionRead,
    InspectionUpdate,
    StatusChangeRead,
)
from gateway.pagination import PageQuery
from gateway.permissions import Permission, allows, forbidden
from gateway.preconditions import check_if_match
from gateway.preconditions import etag as version_etag
from gateway.units import repository as units
from gateway.writes import actor_of, flush
from inspection_shared.pagination import Page
from inspection_shared.problems import Conflict, FieldError, InvalidInput, NotFound


def etag(inspection: Inspection) -> str:
    """The inspection's entity tag: changes with every write to it, including every move of status."""
    return version_etag(inspection.version)


def check_precondition(inspection: Inspection, if_match: str | None, *, required: bool = True) -> None:
    check_if_match("this inspection", inspection.version, if_match, required=required)


def clash(what: str) -> str:
    """The 409 detail of a change to an inspection that lost a race with another."""
    return f"{what} clashed with a change made at the same time; read the inspection again and retry."


# --- reading -----------------------------------------------------------------------------------------


async def read_inspection(
    session: AsyncSession, inspection_id: uuid.UUID, need: Permission = Permission.INSPECTIONS_READ
) -> Inspection:
    """The inspection with its unit loaded, as its reads show it, if the actor may see it and holds `need`."""
    inspection = await repository.inspection_with_unit(session, inspection_id)
    if inspection is None:
        raise NotFound(f"No inspection {inspection_id}")
    authorize(actor_of(session), inspection, need)
    return inspection


async def list_inspections(session: AsyncSession, query: InspectionListQuery) -> Page[InspectionRead]:
    errors: list[FieldError] = []
    if query.unit_id is not None and await units.get(session, query.unit_id) is None:
        errors.append(FieldError(field="query.unit_id", message=f"no unit {query.unit_id}"))
    if query.region_id is not None:
        region = await units.get(session, query.region_id)
        if region is None:
            errors.append(FieldError(field="query.region_id", message=f"no unit {query.region_id}"))
        elif region.type != "region":
            errors.append(
                FieldError(field="query.region_id", message=f"{region.code} is a unit of type {region.type}, not a region")
            )
    if query.framework_id is not None and await find_framework(session, query.framework_id) is None:
        errors.append(FieldError(field="query.framework_id", message=await no_framework(session, query.framework_id)))
    if errors:
        raise InvalidInput("The filters name things that are not held: " + "; ".join(e.message for e in errors) + ".", errors)
    filters = repository.InspectionFilters(
        unit_id=query.unit_id,
        region_id=query.region_id,
        framework_id=query.framework_id,
        year=query.year,
        statuses=query.status,
        types=query.type,
        ratings=query.rating,
    )
    return await repository.list_inspections(
        session, filters, query, InspectionRead.model_validate, visible_to=actor_of(session)
    )


async def history(session: AsyncSession, inspection_id: uuid.UUID, query: PageQuery) -> Page[StatusChangeRead]:
    await get_inspection(session, inspection_id)
    return await repository.status_changes(session, inspection_id, query, StatusChangeRead.model_validate)


# --- planning and changing the plan ------------------------------------------------------------------


def status_change(
    inspection: Inspection, from_status: str | None, note: str | None, details: dict | None = None
) -> InspectionStatusChange:
    """The record of a move through the lifecycle (from None: the inspection's planning)."""
    return InspectionStatusChange(
        inspection=inspection, from_status=from_status, to_status=inspection.status, note=note, details=details
    )


def withdraw_publication(session: AsyncSession, inspection: Inspection, reason: str) -> None:
    """Mark a published inspection withdrawn, as a correction does (`ratings.corrections`), with the move in
    its status history: it stays on the record, readable and marked withdrawn. Not a move of
    `lifecycle.TRANSITIONS`, where published is final; the caller holds the inspection and flushes."""
    inspection.status = InspectionStatus.WITHDRAWN
    session.add(status_change(inspection, InspectionStatus.PUBLISHED, reason))


async def _refuse_overlap(
    session: AsyncSession,
    unit_id: uuid.UUID,
    unit_code: str,
    start: date | None,
    end: date | None,
    other_than: uuid.UUID | None = None,
) -> None:
    """409 naming the open inspection of the unit whose fieldwork overlaps `start`..`end`, if there is one:
    a unit is in the field for one inspection at a time."""
    if start is None or end is None:
        return
    other = await repository.overlapping(session, unit_id, start, end, other_than)
    if other is None:
        return
    assert other.fieldwork_start is not None and other.fieldwork_end is not None  # matched on them
    named = f"inspection {other.id} ({other.title})" if other.title else f"inspection {other.id}"
    raise Conflict(
        f"Fieldwork from {start.isoformat()} to {end.isoformat()} overlaps that of {named} of {unit_code}, "
        f"{other.fieldwork_start.isoformat()} to {other.fieldwork_end.isoformat()}, which is {other.status}: a "
        "unit is inspected by one open inspection at a time. Choose other dates, or withdraw that inspection.",
        errors=[FieldError(field="body.fieldwork_start", message=f"overlaps the fieldwork of {named}")],
        overlapping={
            "id": str(other.id), "title": other.title, "status": other.status,
            "fieldwork_start": other.fieldwork_start.isoformat(), "fieldwork_end": other.fieldwork_end.isoformat(),
        },
    )


async def create_inspection(session: AsyncSession, data: InspectionCreate) -> Inspection:
    errors: list[FieldError] = []
    unit = await units.get(session, data.unit_id)
    framework = await find_framework(session, data.framework_id)
    retired = unit is not None and unit.valid_to is not None and unit.valid_to < utcnow().date()
    if unit is None:
        errors.append(FieldError(field="body.unit_id", message=f"no unit {data.unit_id}"))
    elif retired:
        errors.append(
            FieldError(field="body.unit_id", message=f"{unit.code} was retired on {unit.valid_to.isoformat()}")
        )
    if framework is None:
        errors.append(FieldError(field="body.framework_id", message=await no_framework(session, data.framework_id)))
    if unit is not None:
        if framework is not None:
            errors += framework_faults(
                framework, unit, data.type, data.fieldwork_start, "body.framework_id", type_given=False
            )
        errors += plan_faults(
            unit=None if retired else unit,
            status=InspectionStatus.PLANNED,
            type_=data.type,
            partners=data.partner_inspectorates,
            fieldwork_start=data.fieldwork_start,
            fieldwork_end=data.fieldwork_end,
            given=set(),  # on planning, each fault is blamed on the field that would fix it
        )
    if errors:
        raise InvalidInput("The inspection cannot be planned: " + "; ".join(e.message for e in errors) + ".", errors)
    assert unit is not None
    if not allows(actor_of(session), Permission.INSPECTIONS_PLAN, unit.id):
        raise forbidden(Permission.INSPECTIONS_PLAN)
    await _refuse_overlap(session, unit.id, unit.code, data.fieldwork_start, data.fieldwork_end)
    inspection = Inspection(id=uuid.uuid4(), **data.model_dump(), status=InspectionStatus.PLANNED, unit=unit)
    session.add(inspection)
    session.add(status_change(inspection, None, None))
    await flush(session, clash=clash("Planning the inspection"), changed="the inspection")
    return inspection


async def record_past(session: AsyncSession, inspection_id: uuid.UUID, data: InspectionCreate, note: str) -> Inspection:
    """An inspection recorded after the fact, straight into `rating` with the plan it had: for a history
    loaded (`gateway.history`), not a plan, so the planning rules (which look forward) are not applied. The
    move into `rating` is kept with `note`."""
    if not allows(actor_of(session), Permission.INSPECTIONS_PLAN, data.unit_id):
        raise forbidden(Permission.INSPECTIONS_PLAN)
    inspection = Inspection(id=inspection_id, **data.model_dump(), status=InspectionStatus.RATING)
    session.add(inspection)
    session.add(status_change(inspection, None, note))
    await flush(session, clash=clash("Recording the inspection"), changed="the inspection")
    return inspection


async def update_inspection(
    session: AsyncSession, inspection_id: uuid.UUID, changes: InspectionUpdate, if_match: str | None
) -> Inspection:
    inspection = await read_inspection(session, inspection_id, Permission.INSPECTIONS_PLAN)
    ensure_phase(inspection)
    check_precondition(inspection, if_match)
    given = set(changes.model_fields_set)
    for fixed in ("unit_id", "framework_id"):
        if fixed in given and getattr(changes, fixed) != getattr(inspection, fixed):
            raise Conflict(
                f"The {fixed.removesuffix('_id')} of an inspection is fixed when it is planned; plan a new "
                "inspection (and withdraw this one) instead.",
                errors=[
                    FieldError(
                        field=f"body.{fixed}",
                        message=f"is {getattr(inspection, fixed)} and cannot change",
                    )
                ],
            )
    editable = ("type", "title", "lead", "partner_inspectorates", "fieldwork_start", "fieldwork_end")
    new = {name: getattr(changes if name in given else inspection, name) for name in editable}
    errors = plan_faults(
        unit=inspection.unit,
        status=inspection.status,
        type_=new["type"],
        partners=new["partner_inspectorates"],
        fieldwork_start=new["fieldwork_start"],
        fieldwork_end=new["fieldwork_end"],
        given=given,
    )
    if {"type", "fieldwork_start"} & given:
        framework = await find_framework(session, inspection.framework_id)
        assert framework is not None  # pinned by a foreign key
        errors += [
            fault
            for fault in framework_faults(
                framework, inspection.unit, new["type"], new["fieldwork_start"], "body.framework_id",
                type_given="type" in given,
            )
            if fault.field != "body.framework_id"  # the pinning was checked when it was planned
        ]
    if errors:
        raise InvalidInput("The inspection cannot be changed that way: " + "; ".join(e.message for e in errors) + ".", errors)
    if {"fieldwork_start", "fieldwork_end"} & given:
        await _refuse_overlap(
            session, inspection.unit_id, inspection.unit_code, new["fieldwork_start"], new["fieldwork_end"], inspection.id
        )
    for name, value in new.items():
        if getattr(inspection, name) != value:
            setattr(inspection, name, value)
    await flush(session, clash=clash("Changing the inspection"), changed="the inspection")
    return inspection
