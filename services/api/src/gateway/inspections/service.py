"""The rules of inspections: planning one, changing its plan, moving it through its phases, and the reads
dashboards and report generators make.

The planning rules are data (lifecycle.py): the framework must apply to the unit's type (its
`applies_to`), be published and in effect on the first day of fieldwork (pilots may try a draft or an
early version); a joint inspection names its partner inspectorates; fieldwork lasts at most three weeks,
and the dates are notified at least two weeks ahead, which is checked on the move into fieldwork. Every
fault is a problem response naming the field; every write records the actor.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from gateway.actors import Actor
from gateway.db import utcnow
from gateway.frameworks.models import FrameworkVersion
from gateway.inspections import repository
from gateway.inspections.guards import ensure_editable, get_inspection
from gateway.inspections.lifecycle import (
    ANNOUNCED_STATUSES,
    ANY_FRAMEWORK_UNIT_TYPES,
    MAX_FIELDWORK_DAYS,
    MIN_NOTICE_DAYS,
    PARTNERS_REFUSED,
    PARTNERS_REQUIRED,
    TRIAL_TYPES,
    allowed_moves,
)
from gateway.inspections.models import Inspection, InspectionStatusChange
from gateway.inspections.schemas import (
    AssessmentProgress,
    HistoryQuery,
    InspectedUnit,
    InspectionCreate,
    InspectionListQuery,
    InspectionRead,
    InspectionSummary,
    InspectionUpdate,
    JudgementProgress,
    KeyQuestionLine,
    OverallLine,
    PinnedFramework,
    RatingsHistoryEntry,
    RatingsHistoryQuery,
    RatingsTable,
    RegionBrief,
    SampleCounts,
    StandardLine,
    StatusChangeRead,
    TransitionRequest,
)
from gateway.preconditions import check_if_match
from gateway.preconditions import etag as version_etag
from gateway.ratings.models import RatingSnapshot
from gateway.units.models import Unit
from inspection_shared.framework import Framework
from inspection_shared.pagination import Page
from inspection_shared.problems import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
)
from inspection_shared.rating import RatingResult

# --- reading -----------------------------------------------------------------------------------------


def etag(inspection: Inspection) -> str:
    """The inspection's entity tag: changes with every write to it, including every move of status."""
    return version_etag(inspection.version)


def to_read(inspection: Inspection, unit: Unit) -> InspectionRead:
    return InspectionRead(
        id=inspection.id,
        unit_id=inspection.unit_id,
        unit_code=unit.code,
        unit_name=unit.name,
        framework_id=inspection.framework_id,
        type=inspection.type,  # type: ignore[arg-type]
        status=inspection.status,  # type: ignore[arg-type]
        allowed_transitions=list(allowed_moves(inspection.status)),  # type: ignore[arg-type]
        title=inspection.title,
        lead=inspection.lead,
        partner_inspectorates=list(inspection.partner_inspectorates or []),
        fieldwork_start=inspection.fieldwork_start,
        fieldwork_end=inspection.fieldwork_end,
        published_at=inspection.published_at,
        current_rating=inspection.current_rating,  # type: ignore[arg-type]
        created_at=inspection.created_at,
        created_by=inspection.created_by,
        updated_at=inspection.updated_at,
        updated_by=inspection.updated_by,
    )


async def read_inspection(session: AsyncSession, inspection_id: uuid.UUID) -> tuple[Inspection, Unit]:
    found = await repository.inspection_with_unit(session, inspection_id)
    if found is None:
        raise NotFound(f"No inspection {inspection_id}")
    return found


async def _unit_of(session: AsyncSession, inspection: Inspection) -> Unit:
    unit = await session.get(Unit, inspection.unit_id)
    assert unit is not None  # the foreign key keeps it
    return unit


async def list_inspections(session: AsyncSession, query: InspectionListQuery) -> Page[InspectionRead]:
    errors: list[FieldError] = []
    if query.unit_id is not None and await session.get(Unit, query.unit_id) is None:
        errors.append(FieldError(field="query.unit_id", message=f"no unit {query.unit_id}"))
    if query.region_id is not None:
        region = await session.get(Unit, query.region_id)
        if region is None:
            errors.append(FieldError(field="query.region_id", message=f"no unit {query.region_id}"))
        elif region.type != "region":
            errors.append(
                FieldError(field="query.region_id", message=f"{region.code} is a unit of type {region.type}, not a region")
            )
    if query.framework_id is not None and await session.get(FrameworkVersion, query.framework_id) is None:
        errors.append(FieldError(field="query.framework_id", message=f"no framework {query.framework_id!r}"))
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
    rows, next_cursor = await repository.list_inspections(session, filters, query.limit, query.cursor)
    return Page(items=[to_read(inspection, unit) for inspection, unit in rows], next_cursor=next_cursor)


async def history(session: AsyncSession, inspection_id: uuid.UUID, query: HistoryQuery) -> Page[StatusChangeRead]:
    await get_inspection(session, inspection_id)
    changes, next_cursor = await repository.status_changes(session, inspection_id, query.limit, query.cursor)
    return Page(items=[StatusChangeRead.model_validate(c) for c in changes], next_cursor=next_cursor)


# --- the plan: what an inspection must be to be held -------------------------------------------------


def _framework_faults(
    framework: Framework, unit: Unit, type_: str, fieldwork_start: date | None, field: str, type_given: bool
) -> list[FieldError]:
    """Whether the framework version suits this unit, this type of inspection and its fieldwork dates."""
    faults: list[FieldError] = []
    if unit.type not in ANY_FRAMEWORK_UNIT_TYPES and unit.type not in framework.applies_to:
        faults.append(
            FieldError(
                field=field,
                message=f"framework {framework.id} applies to units of type {', '.join(framework.applies_to) or 'none'}, "
                f"not to {unit.code} ({unit.type})",
            )
        )
    trial = type_ in TRIAL_TYPES
    blame = "body.type" if type_given else field
    if framework.status != "published" and not trial:
        faults.append(
            FieldError(
                field=blame,
                message=f"framework {framework.id} is a {framework.status}; only a "
                f"{' or '.join(sorted(TRIAL_TYPES))} inspection may use it",
            )
        )
    if fieldwork_start is not None:
        effective_from = _day(framework.effective_from)
        effective_to = _day(framework.effective_to)
        if effective_from is not None and fieldwork_start < effective_from and not trial:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"framework {framework.id} takes effect on {effective_from.isoformat()}, after fieldwork "
                    f"starts ({fieldwork_start.isoformat()})",
                )
            )
        if effective_to is not None and fieldwork_start > effective_to:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"framework {framework.id} was in effect until {effective_to.isoformat()}, before fieldwork "
                    f"starts ({fieldwork_start.isoformat()})",
                )
            )
    return faults


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _plan_faults(
    *,
    unit: Unit | None,
    status: str,
    type_: str,
    partners: list[str],
    fieldwork_start: date | None,
    fieldwork_end: date | None,
    given: set[str],
) -> list[FieldError]:
    """Faults of the whole plan as it would stand, each blamed on a field the caller sent where possible.

    `unit`: the unit whose time in service the fieldwork must fall in (None: not to check).
    """
    faults: list[FieldError] = []

    def field(preferred: str, other: str) -> str:
        return f"body.{preferred if preferred in given or other not in given else other}"

    if type_ in PARTNERS_REQUIRED and not partners:
        faults.append(
            FieldError(
                field=field("partner_inspectorates", "type"),
                message=f"a {type_} inspection names at least one partner inspectorate",
            )
        )
    if type_ in PARTNERS_REFUSED and partners:
        faults.append(
            FieldError(
                field=field("partner_inspectorates", "type"),
                message=f"a {type_} inspection has no partner inspectorates; with partners it is a joint inspection",
            )
        )
    if (fieldwork_start is None) != (fieldwork_end is None):
        missing = "fieldwork_end" if fieldwork_end is None else "fieldwork_start"
        faults.append(FieldError(field=f"body.{missing}", message="give both fieldwork dates or neither"))
    if fieldwork_start is None and fieldwork_end is None and status in ANNOUNCED_STATUSES:
        faults.append(
            FieldError(
                field=field("fieldwork_start", "fieldwork_end"),
                message=f"the fieldwork dates were announced ({status}) and can be moved but not cleared",
            )
        )
    if fieldwork_start is not None and fieldwork_end is not None:
        if fieldwork_end < fieldwork_start:
            faults.append(
                FieldError(
                    field=field("fieldwork_end", "fieldwork_start"),
                    message=f"fieldwork ends ({fieldwork_end.isoformat()}) before it starts ({fieldwork_start.isoformat()})",
                )
            )
        elif (days := (fieldwork_end - fieldwork_start).days + 1) > MAX_FIELDWORK_DAYS:
            faults.append(
                FieldError(
                    field=field("fieldwork_end", "fieldwork_start"),
                    message=f"fieldwork lasts at most {MAX_FIELDWORK_DAYS} days (three weeks); "
                    f"{fieldwork_start.isoformat()} to {fieldwork_end.isoformat()} is {days}",
                )
            )
    if fieldwork_start is not None and unit is not None:
        if unit.valid_from is not None and fieldwork_start < unit.valid_from:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"{unit.code} comes into service on {unit.valid_from.isoformat()}, after fieldwork starts",
                )
            )
        if unit.valid_to is not None and fieldwork_start > unit.valid_to:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"{unit.code} is in service only until {unit.valid_to.isoformat()}, before fieldwork starts",
                )
            )
    return faults


async def _framework(session: AsyncSession, framework_id: str) -> Framework | None:
    row = await session.get(FrameworkVersion, framework_id)
    return Framework.model_validate(row.definition) if row is not None else None


async def _flush(session: AsyncSession, what: str) -> None:
    """Write now: a clash with a concurrent request is answered here, not as a failed commit."""
    try:
        await session.flush()
    except StaleDataError as error:
        raise Problem(
            412,
            "Precondition failed",
            "The inspection was changed by another request at the same time; read it again and reapply the change.",
            slug="precondition-failed",
        ) from error
    except IntegrityError as error:
        raise Conflict(f"{what} clashed with a change made at the same time; read the inspection again and retry.") from error


def _change(
    inspection: Inspection, from_status: str | None, note: str | None, actor: Actor, details: dict[str, Any] | None
) -> InspectionStatusChange:
    return InspectionStatusChange(
        inspection_id=inspection.id,
        from_status=from_status,
        to_status=inspection.status,
        note=note,
        changed_at=utcnow(),
        changed_by=actor.id,
        details=details,
    )


# --- creating and changing ---------------------------------------------------------------------------


async def create_inspection(session: AsyncSession, data: InspectionCreate, actor: Actor) -> tuple[Inspection, Unit]:
    errors: list[FieldError] = []
    unit = await session.get(Unit, data.unit_id)
    framework = await _framework(session, data.framework_id)
    retired = unit is not None and unit.valid_to is not None and unit.valid_to < utcnow().date()
    if unit is None:
        errors.append(FieldError(field="body.unit_id", message=f"no unit {data.unit_id}"))
    elif retired:
        errors.append(
            FieldError(field="body.unit_id", message=f"{unit.code} was retired on {unit.valid_to.isoformat()}")
        )
    if framework is None:
        errors.append(FieldError(field="body.framework_id", message=f"no framework {data.framework_id!r}"))
    if unit is not None:
        if framework is not None:
            errors += _framework_faults(
                framework, unit, data.type, data.fieldwork_start, "body.framework_id", type_given=False
            )
        errors += _plan_faults(
            unit=None if retired else unit,
            status="planned",
            type_=data.type,
            partners=data.partner_inspectorates,
            fieldwork_start=data.fieldwork_start,
            fieldwork_end=data.fieldwork_end,
            given=set(),  # on planning, each fault is blamed on the field that would fix it
        )
    if errors:
        raise InvalidInput("The inspection cannot be planned: " + "; ".join(e.message for e in errors) + ".", errors)
    assert unit is not None
    now = utcnow()
    inspection = Inspection(
        id=uuid.uuid4(),
        **data.model_dump(),
        status="planned",
        created_at=now,
        created_by=actor.id,
        updated_at=now,
        updated_by=actor.id,
    )
    session.add(inspection)
    session.add(_change(inspection, None, None, actor, None))
    await _flush(session, "Planning the inspection")
    return inspection, unit


def check_precondition(inspection: Inspection, if_match: str | None, *, required: bool = True) -> None:
    check_if_match("this inspection", inspection.version, if_match, required=required)


async def update_inspection(
    session: AsyncSession, inspection_id: uuid.UUID, changes: InspectionUpdate, if_match: str | None, actor: Actor
) -> tuple[Inspection, Unit]:
    inspection, unit = await read_inspection(session, inspection_id)
    ensure_editable(inspection)
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
    errors = _plan_faults(
        unit=unit,
        status=inspection.status,
        type_=new["type"],
        partners=new["partner_inspectorates"],
        fieldwork_start=new["fieldwork_start"],
        fieldwork_end=new["fieldwork_end"],
        given=given,
    )
    if {"type", "fieldwork_start"} & given:
        framework = await _framework(session, inspection.framework_id)
        assert framework is not None  # pinned by a foreign key
        errors += [
            fault
            for fault in _framework_faults(
                framework, unit, new["type"], new["fieldwork_start"], "body.framework_id", type_given="type" in given
            )
            if fault.field != "body.framework_id"  # the pinning was checked when it was planned
        ]
    if errors:
        raise InvalidInput("The inspection cannot be changed that way: " + "; ".join(e.message for e in errors) + ".", errors)
    changed = [name for name, value in new.items() if getattr(inspection, name) != value]
    if changed:
        for name in changed:
            setattr(inspection, name, new[name])
        inspection.updated_at = utcnow()
        inspection.updated_by = actor.id
        await _flush(session, "Changing the inspection")
    return inspection, unit


# --- moving through the phases -----------------------------------------------------------------------


async def _check_move(session: AsyncSession, inspection: Inspection, to: str) -> dict[str, Any]:
    """Check what the move into `to` rests on (409 naming what is missing); return what to record of it."""
    if to in ("pre_fieldwork", "fieldwork") and (inspection.fieldwork_start is None or inspection.fieldwork_end is None):
        raise Conflict(
            f"Set the fieldwork dates before moving to {to}: the service is notified of them at the announcement.",
            errors=[FieldError(field=name, message="not set") for name in ("fieldwork_start", "fieldwork_end")
                    if getattr(inspection, name) is None],
            status_of_inspection=inspection.status,
        )
    if to == "pre_fieldwork":
        assert inspection.fieldwork_start is not None
        return {"notice_days": (inspection.fieldwork_start - utcnow().date()).days}
    if to == "fieldwork":
        assert inspection.fieldwork_start is not None
        announced = await repository.latest_announcement(session, inspection.id)
        if announced is None:
            # Loaded straight into a later phase (no announcement on record): nothing to check against.
            return {"notice_days": None}
        notice = (inspection.fieldwork_start - announced.date()).days
        if notice < MIN_NOTICE_DAYS:
            raise Conflict(
                f"Fieldwork dates are notified at least {MIN_NOTICE_DAYS} days ahead: the inspection was announced "
                f"on {announced.date().isoformat()} and fieldwork starts on {inspection.fieldwork_start.isoformat()}, "
                f"{notice} days later. Move the fieldwork dates, or announce again.",
                errors=[
                    FieldError(
                        field="fieldwork_start",
                        message=f"{notice} days after the announcement; at least {MIN_NOTICE_DAYS} are needed",
                    )
                ],
                status_of_inspection=inspection.status,
                notice_days=notice,
                required_notice_days=MIN_NOTICE_DAYS,
            )
        return {"notice_days": notice}
    if to == "published":
        snapshot = await repository.latest_snapshot_brief(session, inspection.id)
        if snapshot is None:
            raise Conflict(
                "An inspection is published with its ratings: run the rating (POST its rating runs) first.",
                status_of_inspection=inspection.status,
            )
        snapshot_id, sequence, overall = snapshot
        return {"snapshot_id": str(snapshot_id), "snapshot_sequence": sequence, "overall_rating": overall}
    return {}


async def move(
    session: AsyncSession, inspection_id: uuid.UUID, request: TransitionRequest, if_match: str | None, actor: Actor
) -> tuple[Inspection, Unit]:
    inspection = await get_inspection(session, inspection_id, for_update=True)
    check_precondition(inspection, if_match, required=False)
    allowed = list(allowed_moves(inspection.status))
    if request.to not in allowed:
        listed = ", ".join(allowed) if allowed else "nothing: it is final"
        raise Conflict(
            f"Inspection {inspection.id} is {inspection.status} and cannot move to {request.to}; it may move to {listed}.",
            status_of_inspection=inspection.status,
            allowed=allowed,
        )
    if request.to == "withdrawn" and request.note is None:
        raise InvalidInput(
            "Say why the inspection is withdrawn.", [FieldError(field="body.note", message="required when withdrawing")]
        )
    details = await _check_move(session, inspection, request.to)
    from_status = inspection.status
    now = utcnow()
    inspection.status = request.to
    inspection.updated_at = now
    inspection.updated_by = actor.id
    if request.to == "published":
        inspection.published_at = now
    session.add(_change(inspection, from_status, request.note, actor, details or None))
    await _flush(session, f"Moving the inspection to {request.to}")
    return inspection, await _unit_of(session, inspection)


# --- the reads for dashboards and report generators --------------------------------------------------


def _ratings_table(snapshot: RatingSnapshot, published: bool) -> RatingsTable:
    """The ratings table of a snapshot, read from the engine's result it holds (a `RatingResult`)."""
    result = RatingResult.model_validate(snapshot.result)
    return RatingsTable(
        snapshot_id=snapshot.id,
        sequence=snapshot.sequence,
        kind=snapshot.kind,
        published=published,
        framework_version=snapshot.framework_version,
        rules_version=snapshot.rules_version,
        input_fingerprint=snapshot.input_fingerprint,
        created_at=snapshot.created_at,
        created_by=snapshot.created_by,
        standards=[
            StandardLine(
                standard=s.standard,
                name=s.name,
                kind=s.kind,
                scored=s.scored,
                status=s.status,
                rating=s.rating,
                rating_label=s.rating_label,
                computed_rating=s.computed_rating,
                overridden=s.overridden,
                override_reason=s.override_reason,
                points=s.points,
                driver=s.driver,
                borderline=s.borderline,
                key_questions=[
                    KeyQuestionLine(
                        key_question=k.key_question,
                        status=k.status,
                        yes=k.yes,
                        applicable=k.applicable,
                        percent=k.percent,
                        percent_rounded=k.percent_rounded,
                        band=k.band,
                        interval=k.interval,
                    )
                    for k in s.key_questions
                ],
            )
            for s in result.standards
        ],
        overall=OverallLine(
            status=result.overall.status,
            rating=result.overall.rating,
            rating_label=result.overall.rating_label,
            score=result.overall.score,
            max_score=result.overall.max_score,
            computed_rating=result.overall.computed_rating,
            computed_score=result.overall.computed_score,
            bands_provisional=result.overall.bands_provisional,
        ),
    )


def _samples(tallies: list[repository.SampleTally]) -> list[SampleCounts]:
    by_sample: dict[uuid.UUID, dict[str, Any]] = {}
    for tally in tallies:
        counts = by_sample.setdefault(
            tally.sample_id,
            {"sample_type": tally.sample_type, "sample_id": tally.sample_id, "drawn_at": tally.drawn_at,
             "selected": 0, "replaced": 0, "reserve_used": 0, "assessed": 0},
        )
        if tally.case_status in ("selected", "replaced", "reserve_used"):
            counts[tally.case_status] += tally.cases
        if tally.case_status in repository.IN_SAMPLE:
            counts["assessed"] += tally.assessed
    return [
        SampleCounts(
            sample_type=c["sample_type"],
            sample_id=c["sample_id"],
            drawn_at=c["drawn_at"],
            in_sample=c["selected"] + c["reserve_used"],
            drawn=c["selected"] + c["replaced"],
            replaced=c["replaced"],
            reserves_used=c["reserve_used"],
            assessments_recorded=c["assessed"],
        )
        for c in by_sample.values()
    ]


async def summary(session: AsyncSession, inspection_id: uuid.UUID) -> InspectionSummary:
    head = await repository.summary_head(session, inspection_id)
    if head is None:
        raise NotFound(f"No inspection {inspection_id}")
    inspection, unit, parent = head.inspection, head.unit, head.parent
    snapshot = await repository.latest_snapshot(session, inspection_id)
    samples = _samples(await repository.sample_tallies(session, inspection_id))
    judged = await repository.judged_standards(session, inspection_id, inspection.framework_id)
    region = unit if unit.type == "region" else parent if parent is not None and parent.type == "region" else None
    return InspectionSummary(
        inspection=to_read(inspection, unit),
        unit=InspectedUnit(
            id=unit.id,
            code=unit.code,
            name=unit.name,
            type=unit.type,
            nation=unit.nation,
            region=RegionBrief(id=region.id, code=region.code, name=region.name) if region is not None else None,
        ),
        framework=PinnedFramework(id=inspection.framework_id, version=head.framework_version, name=head.framework_name),
        ratings=_ratings_table(snapshot, inspection.status == "published") if snapshot is not None else None,
        samples=samples,
        assessments=AssessmentProgress(
            recorded=sum(s.assessments_recorded for s in samples), cases_sampled=sum(s.in_sample for s in samples)
        ),
        judgements=JudgementProgress(
            recorded=sum(recorded for _, recorded in judged),
            judged_standards=len(judged),
            missing=[standard for standard, recorded in judged if not recorded],
        ),
    )


async def ratings_history(session: AsyncSession, unit_id: uuid.UUID, query: RatingsHistoryQuery) -> Page[RatingsHistoryEntry]:
    if await session.get(Unit, unit_id) is None:
        raise NotFound(f"No unit {unit_id}")
    rows, next_cursor = await repository.ratings_history(session, unit_id, query.limit, query.cursor)
    entries = []
    for row in rows:
        inspection = row.inspection
        rated = row.snapshot_id is not None and inspection.status != "withdrawn"
        entries.append(
            RatingsHistoryEntry(
                inspection_id=inspection.id,
                type=inspection.type,  # type: ignore[arg-type]
                status=inspection.status,  # type: ignore[arg-type]
                title=inspection.title,
                framework_id=inspection.framework_id,
                fieldwork_start=inspection.fieldwork_start,
                fieldwork_end=inspection.fieldwork_end,
                published_at=inspection.published_at,
                rating_basis=("published" if inspection.status == "published" else "latest") if rated else "none",
                overall_rating=row.overall_rating if rated else None,  # type: ignore[arg-type]
                overall_score=row.overall_score if rated else None,
                max_score=row.max_score if rated else None,
                snapshot_id=row.snapshot_id if rated else None,
            )
        )
    return Page(items=entries, next_cursor=next_cursor)
