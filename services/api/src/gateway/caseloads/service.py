"""The rules of caseloads: which frames an inspection takes, drawing one sample from each, substitutions.

A frame is uploaded per inspection and sample type (a sample type the pinned framework names for a
case-based standard) and holds only the columns that sample needs. One sample is drawn from each frame,
by the sampling service; the gateway stores it whole and never draws or changes a sample itself. A case
that cannot be inspected is replaced by the next unused reserve of its stratum, and every substitution
is kept. Frames, draws and substitutions are accepted until fieldwork ends.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from starlette.concurrency import run_in_threadpool

from gateway.actors import Actor
from gateway.assessments.models import CaseAssessment
from gateway.caseloads import frames
from gateway.caseloads.models import CaseloadFrame, Sample, SampledCase, Substitution
from gateway.caseloads.schemas import (
    MAX_SEED,
    CaseloadFrameRead,
    ReserveRead,
    SampledCaseQuery,
    SampleDrawRequest,
    SampleRead,
    SampleSummary,
    SubstitutionCreate,
    SubstitutionQuery,
    SubstitutionRead,
)
from gateway.db import utcnow
from gateway.engines import call_engine
from gateway.inspections.guards import ensure_editable, get_inspection, inspection_for_change, pinned_framework
from gateway.inspections.models import Inspection
from gateway.pagination import decode_cursor, encode_cursor
from inspection_shared.clients import SamplingClient
from inspection_shared.framework import Framework
from inspection_shared.problems import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
)
from inspection_shared.sampling import (
    EligibilityWindow,
    Precision,
    SampleDesign,
    SampleResult,
)

log = structlog.get_logger("caseloads")

SAMPLING_PHASES = ("planned", "pre_fieldwork", "fieldwork")
"""Frames, draws and substitutions are accepted until fieldwork ends; after it the sample is what was inspected."""
DEFAULT_RESERVES_PER_STRATUM = 2
STRATUM_WIDTH = 200
"""The widest stratum name stored."""
CURRENT = ("selected", "reserve_used")


# --- the inspection and its framework ----------------------------------------------------------------


def ensure_sampling_open(inspection: Inspection) -> None:
    """Frozen inspections change no more; after fieldwork the sample is what was inspected."""
    ensure_editable(inspection)
    if inspection.status not in SAMPLING_PHASES:
        raise Conflict(
            f"Inspection {inspection.id} is in {inspection.status}: frames, samples and substitutions change only "
            f"until fieldwork ends ({', '.join(SAMPLING_PHASES)}).",
            status_of_inspection=inspection.status,
            allowed_statuses=list(SAMPLING_PHASES),
        )


def case_sample_types(framework: Framework) -> list[str]:
    """The sample types the framework's case-based standards are assessed on, in the framework's order."""
    named = {s.sample_type for s in framework.standards() if s.kind == "case" and s.sample_type}
    listed = [t.id for t in framework.sample_types if t.id in named]
    return listed + sorted(named - set(listed))


def check_sample_type(framework: Framework, sample_type: str, field: str) -> None:
    valid = case_sample_types(framework)
    if sample_type not in valid:
        raise InvalidInput(
            f"{sample_type!r} is not a sample type of framework {framework.id}; its case-based standards are "
            f"assessed on: {', '.join(valid) or 'none'}.",
            [FieldError(field=field, message=f"not one of {', '.join(valid)}")],
            valid_sample_types=valid,
        )


def strata_of(framework: Framework, sample_type: str) -> list[str]:
    found = next((t for t in framework.sample_types if t.id == sample_type), None)
    return list(found.strata) if found else []


def allowed_columns(framework: Framework, sample_type: str) -> list[str]:
    """case_ref, the unit, the sample type's strata, the eligibility date, and the attributes its case filters read."""
    columns = {frames.CASE_REF, frames.UNIT_COLUMN, frames.DATE_COLUMN, *strata_of(framework, sample_type)}
    for standard in framework.standards():
        if standard.kind == "case" and standard.sample_type == sample_type and standard.case_filter:
            columns.update(c.attribute for c in standard.case_filter.conditions)
    return sorted(columns)


# --- frames ------------------------------------------------------------------------------------------


@dataclass
class FrameTarget:
    """Where an upload goes, checked before its body is read."""

    inspection: Inspection
    sample_type: str
    allowed: list[str]
    held: CaseloadFrame | None


async def _frame(session: AsyncSession, inspection_id: uuid.UUID, sample_type: str) -> CaseloadFrame | None:
    statement = select(CaseloadFrame).where(
        CaseloadFrame.inspection_id == inspection_id, CaseloadFrame.sample_type == sample_type
    )
    return (await session.scalars(statement)).one_or_none()


async def _sample_of_frame(session: AsyncSession, frame_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(Sample.id).where(Sample.frame_id == frame_id))


async def frame_target(session: AsyncSession, inspection_id: uuid.UUID, sample_type: str) -> FrameTarget:
    """Refuse an upload that cannot be taken, whatever its contents, before they are read."""
    inspection = await inspection_for_change(session, inspection_id)
    ensure_sampling_open(inspection)
    framework = await pinned_framework(session, inspection)
    check_sample_type(framework, sample_type, "path.sample_type")
    held = await _frame(session, inspection_id, sample_type)
    if held is not None:
        sample_id = await _sample_of_frame(session, held.id)
        if sample_id is not None:
            raise Conflict(
                f"A sample has been drawn from the {sample_type} frame of this inspection, so the frame can no "
                "longer be replaced.",
                sample_id=str(sample_id),
            )
    return FrameTarget(inspection, sample_type, allowed_columns(framework, sample_type), held)


async def store_frame(
    session: AsyncSession, target: FrameTarget, data: bytes, actor: Actor
) -> tuple[CaseloadFrame, bool]:
    """Check and store an uploaded frame; returns it and whether it is new (else it replaced the one held)."""
    parsed = await run_in_threadpool(frames.read_frame, data, target.allowed, target.sample_type)
    compressed = await run_in_threadpool(parsed.compressed)
    frame = target.held
    created = frame is None
    if frame is None:
        frame = CaseloadFrame(id=uuid.uuid4(), inspection_id=target.inspection.id, sample_type=target.sample_type)
        session.add(frame)
    frame.columns = parsed.columns
    frame.case_count = parsed.case_count
    frame.fingerprint = parsed.fingerprint
    frame.content = compressed
    frame.uploaded_at = utcnow()
    frame.uploaded_by = actor.id
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            f"Another {target.sample_type} frame was uploaded for this inspection at the same time; "
            "list the frames and retry."
        ) from None
    return frame, created


def frame_read(frame: CaseloadFrame, sample_id: uuid.UUID | None) -> CaseloadFrameRead:
    return CaseloadFrameRead(
        id=frame.id,
        inspection_id=frame.inspection_id,
        sample_type=frame.sample_type,
        columns=frame.columns,
        case_count=frame.case_count,
        fingerprint=frame.fingerprint,
        uploaded_at=frame.uploaded_at,
        uploaded_by=frame.uploaded_by,
        sample_id=sample_id,
    )


async def list_frames(session: AsyncSession, inspection_id: uuid.UUID) -> list[CaseloadFrameRead]:
    await get_inspection(session, inspection_id)
    rows = (
        await session.execute(
            select(CaseloadFrame, Sample.id)
            .options(defer(CaseloadFrame.content))
            .outerjoin(Sample, Sample.frame_id == CaseloadFrame.id)
            .where(CaseloadFrame.inspection_id == inspection_id)
            .order_by(CaseloadFrame.sample_type)
        )
    ).all()
    return [frame_read(frame, sample_id) for frame, sample_id in rows]


async def get_frame(session: AsyncSession, inspection_id: uuid.UUID, sample_type: str) -> CaseloadFrameRead:
    await get_inspection(session, inspection_id)
    row = (
        await session.execute(
            select(CaseloadFrame, Sample.id)
            .options(defer(CaseloadFrame.content))
            .outerjoin(Sample, Sample.frame_id == CaseloadFrame.id)
            .where(CaseloadFrame.inspection_id == inspection_id, CaseloadFrame.sample_type == sample_type)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"Inspection {inspection_id} has no {sample_type} frame")
    return frame_read(*row)


# --- drawing -----------------------------------------------------------------------------------------


def _validation_faults(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(["body", *(str(p) for p in e["loc"])]),
            message=e["msg"].removeprefix("Value error, "),
        )
        for e in error.errors()
    ]


def build_design(request: SampleDrawRequest, columns: list[str], sample_type_strata: list[str]) -> SampleDesign:
    """The design sent to the sampling service: the request with its defaults filled in from the frame.

    Columns of the frame the design does not use are sent as carried, so the sampling service reads the
    stored frame whole and its fingerprint is the frame's.
    """
    present = [c for c in columns if c != frames.CASE_REF]
    faults: list[FieldError] = []
    if "unit" in request.model_fields_set:
        unit = request.unit
    else:
        unit = frames.UNIT_COLUMN if frames.UNIT_COLUMN in present else None
    if unit is not None and unit not in columns:
        faults.append(FieldError(field="body.unit", message=f"the frame has no column {unit}"))
    if request.strata is None:
        strata = [c for c in sample_type_strata if c in present and c != unit]
    else:
        strata = list(request.strata)
        faults += [
            FieldError(field=f"body.strata.{i}", message=f"the frame has no column {name}")
            for i, name in enumerate(strata)
            if name not in columns
        ]
    eligibility = None
    if request.eligibility is not None:
        if frames.DATE_COLUMN not in present:
            faults.append(
                FieldError(field="body.eligibility", message=f"the frame has no {frames.DATE_COLUMN} column")
            )
        eligibility = EligibilityWindow(
            column=frames.DATE_COLUMN, start=request.eligibility.start, end=request.eligibility.end
        )
    faults += [
        FieldError(field=f"body.exclude.{i}.column", message=f"the frame has no column {rule.column}")
        for i, rule in enumerate(request.exclude)
        if rule.column not in columns
    ]
    if faults:
        raise InvalidInput(
            "The design does not fit the frame: " + "; ".join(f.message for f in faults)
            + f". The frame's columns: {', '.join(columns)}.",
            faults,
        )
    reserves = request.reserves_per_stratum
    if reserves is None and request.reserve_ratio is None:
        reserves = DEFAULT_RESERVES_PER_STRATUM
    fields: dict[str, Any] = {
        "size": request.size,
        "precision": None if request.size is not None else (request.precision or Precision()),
        "strata": strata,
        "unit": unit,
        "unit_mode": request.unit_mode,
        "min_per_unit": request.min_per_unit,
        "min_per_stratum": request.min_per_stratum,
        "eligibility": eligibility,
        "exclude": request.exclude,
        "reserves_per_stratum": reserves,
        "reserve_ratio": request.reserve_ratio,
        # Chosen here rather than by the sampling service so that it fits the stored column.
        "seed": request.seed if request.seed is not None else secrets.randbelow(MAX_SEED),
    }
    try:
        used = SampleDesign(**fields).used_columns()
        return SampleDesign(**fields, carried=[c for c in present if c not in used])
    except ValidationError as error:
        faults = _validation_faults(error)
        raise InvalidInput(f"The design cannot be drawn: {faults[0].message}.", faults) from None


async def _ask_sampling(sampling: SamplingClient, content: bytes, design: SampleDesign) -> SampleResult:
    try:
        return await call_engine(lambda: sampling.draw_sample_csv(content, design))
    except Problem as problem:
        # The sampling service names the fields of its design; the caller sent them as the body's.
        for error in problem.errors or []:
            if error.field == "design" or error.field.startswith("design."):
                error.field = "body" + error.field.removeprefix("design")
        raise


def _check_widths(result: SampleResult) -> None:
    wide = sorted({c.stratum for c in [*result.selected, *result.reserves] if len(c.stratum) > STRATUM_WIDTH})
    if wide:
        raise InvalidInput(
            f"The strata are named by their values joined with '|', and {len(wide)} names are longer than "
            f"{STRATUM_WIDTH} characters; stratify on fewer variables.",
            [FieldError(field="body.strata", message=f"stratum names longer than {STRATUM_WIDTH} characters")],
        )


async def draw_sample(
    session: AsyncSession, sampling: SamplingClient, inspection_id: uuid.UUID, request: SampleDrawRequest, actor: Actor
) -> Sample:
    """Draw the sample of one frame through the sampling service and store it whole.

    The inspection stays locked while the sampling service works (a second or two for a large frame):
    other changes to it wait, rather than one of them finding the frame or sample half decided.
    """
    inspection = await inspection_for_change(session, inspection_id)
    ensure_sampling_open(inspection)
    framework = await pinned_framework(session, inspection)
    check_sample_type(framework, request.sample_type, "body.sample_type")
    frame = await _frame(session, inspection_id, request.sample_type)
    if frame is None:
        raise Conflict(
            f"Inspection {inspection_id} has no {request.sample_type} frame yet; upload it first "
            f"(PUT /api/v1/inspections/{inspection_id}/frames/{request.sample_type})."
        )
    held = await _sample_of_frame(session, frame.id)
    if held is not None:
        raise Conflict(
            f"A sample has already been drawn from the {request.sample_type} frame of this inspection; "
            "one sample is drawn per frame.",
            sample_id=str(held),
        )
    design = build_design(request, frame.columns, strata_of(framework, request.sample_type))
    content = await run_in_threadpool(frames.decompress, frame.content)
    result = await _ask_sampling(sampling, content, design)
    _check_widths(result)
    if result.frame_fingerprint != frame.fingerprint:
        # Not a fault of the sample: it carries the fingerprint of the frame as the sampling service read it.
        log.warning("frame fingerprint differs", frame_id=str(frame.id), sample_type=request.sample_type)

    sample = Sample(
        id=uuid.uuid4(),
        inspection_id=inspection_id,
        frame_id=frame.id,
        sample_type=request.sample_type,
        seed=result.seed,
        design=result.design.model_dump(mode="json", exclude_none=True),
        frame_fingerprint=result.frame_fingerprint,
        algorithm=result.algorithm,
        result=result.model_dump(mode="json"),
        drawn_at=utcnow(),
        drawn_by=actor.id,
    )
    session.add(sample)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            f"Another sample was drawn from the {request.sample_type} frame at the same time; list the samples."
        ) from None
    if result.selected:
        await session.execute(
            insert(SampledCase),
            [
                {
                    "id": uuid.uuid4(),
                    "sample_id": sample.id,
                    "case_ref": case.case_ref,
                    "unit": case.unit,
                    "stratum": case.stratum,
                    "inclusion_probability": case.inclusion_probability,
                    "weight": case.weight,
                    "status": "selected",
                    "reserve_rank": None,
                }
                for case in result.selected
            ],
        )
    return sample


# --- reading samples ---------------------------------------------------------------------------------


async def get_sample(session: AsyncSession, sample_id: uuid.UUID) -> Sample:
    sample = await session.get(Sample, sample_id)
    if sample is None:
        raise NotFound(f"No sample {sample_id}")
    return sample


async def _counts(
    session: AsyncSession, sample_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    """Cases in each sample now, and substitutions made in each."""
    if not sample_ids:
        return {}, {}
    sizes = dict(
        (
            await session.execute(
                select(SampledCase.sample_id, func.count())
                .where(SampledCase.sample_id.in_(sample_ids), SampledCase.status.in_(CURRENT))
                .group_by(SampledCase.sample_id)
            )
        ).all()
    )
    substitutions = dict(
        (
            await session.execute(
                select(Substitution.sample_id, func.count())
                .where(Substitution.sample_id.in_(sample_ids))
                .group_by(Substitution.sample_id)
            )
        ).all()
    )
    return sizes, substitutions


def _summary(sample: Sample, size: int, substitutions: int) -> dict[str, Any]:
    return {
        "id": sample.id,
        "inspection_id": sample.inspection_id,
        "frame_id": sample.frame_id,
        "sample_type": sample.sample_type,
        "sample_size": size,
        "seed": sample.seed,
        "frame_fingerprint": sample.frame_fingerprint,
        "algorithm": sample.algorithm,
        "substitutions": substitutions,
        "drawn_at": sample.drawn_at,
        "drawn_by": sample.drawn_by,
    }


async def list_samples(session: AsyncSession, inspection_id: uuid.UUID, sample_type: str | None) -> list[SampleSummary]:
    await get_inspection(session, inspection_id)
    statement = (
        select(Sample)
        .options(defer(Sample.result), defer(Sample.design))
        .where(Sample.inspection_id == inspection_id)
        .order_by(Sample.sample_type)
    )
    if sample_type is not None:
        statement = statement.where(Sample.sample_type == sample_type)
    samples = list((await session.scalars(statement)).all())
    sizes, substitutions = await _counts(session, [s.id for s in samples])
    return [SampleSummary(**_summary(s, sizes.get(s.id, 0), substitutions.get(s.id, 0))) for s in samples]


async def sample_read(session: AsyncSession, sample: Sample) -> SampleRead:
    """The sample whole, as stored, with the reserves used since."""
    used = dict(
        (
            await session.execute(
                select(Substitution.reserve_case_ref, Substitution.replaced_case_ref).where(
                    Substitution.sample_id == sample.id
                )
            )
        ).all()
    )
    sizes, substitutions = await _counts(session, [sample.id])
    result = sample.result
    reserves = [
        ReserveRead(
            case_ref=r["case_ref"],
            unit=r.get("unit"),
            stratum=r["stratum"],
            rank=r["rank"],
            used=r["case_ref"] in used,
            replaced_case_ref=used.get(r["case_ref"]),
            carried=r.get("carried"),
        )
        for r in result["reserves"]
    ]
    return SampleRead(
        **_summary(sample, sizes.get(sample.id, 0), substitutions.get(sample.id, 0)),
        design=SampleDesign.model_validate(result["design"]),
        frame=result["frame"],
        sample_size_working=result.get("sample_size_working"),
        allocation=result["allocation"],
        unit_allocation=result.get("unit_allocation"),
        balance=result["balance"],
        largest_deviation=result.get("largest_deviation"),
        selected=result["selected"],
        reserves=reserves,
    )


async def list_cases(
    session: AsyncSession, sample_id: uuid.UUID, query: SampledCaseQuery
) -> tuple[list[SampledCase], str | None]:
    """The cases of the sample now (and those replaced, if asked), in case_ref order."""
    await get_sample(session, sample_id)
    statement = select(SampledCase).where(SampledCase.sample_id == sample_id)
    if not query.include_replaced:
        statement = statement.where(SampledCase.status.in_(CURRENT))
    if query.stratum is not None:
        statement = statement.where(SampledCase.stratum == query.stratum)
    if query.unit is not None:
        statement = statement.where(SampledCase.unit == query.unit)
    if query.cursor is not None:
        (after,) = decode_cursor(query.cursor, 1)
        if not isinstance(after, str):
            raise _bad_cursor()
        statement = statement.where(SampledCase.case_ref > after)
    cases = list((await session.scalars(statement.order_by(SampledCase.case_ref).limit(query.limit + 1))).all())
    if len(cases) > query.limit:
        return cases[: query.limit], encode_cursor([cases[query.limit - 1].case_ref])
    return cases, None


def _bad_cursor() -> InvalidInput:
    return InvalidInput(
        "The cursor is not one this list issued.",
        [FieldError(field="query.cursor", message="not a cursor from this list")],
    )


# --- substitutions -----------------------------------------------------------------------------------


def _substitution_read(substitution: Substitution, rank: int | None) -> SubstitutionRead:
    return SubstitutionRead(
        id=substitution.id,
        sample_id=substitution.sample_id,
        replaced_case_ref=substitution.replaced_case_ref,
        reserve_case_ref=substitution.reserve_case_ref,
        reserve_rank=rank,
        stratum=substitution.stratum,
        reason=substitution.reason,
        substituted_at=substitution.substituted_at,
        substituted_by=substitution.substituted_by,
    )


async def substitute(
    session: AsyncSession, sample_id: uuid.UUID, data: SubstitutionCreate, actor: Actor
) -> SubstitutionRead:
    """Replace a case that cannot be inspected with the next unused reserve of its stratum, by rank."""
    inspection_id = await session.scalar(select(Sample.inspection_id).where(Sample.id == sample_id))
    if inspection_id is None:
        raise NotFound(f"No sample {sample_id}")
    inspection = await inspection_for_change(session, inspection_id)  # one change at a time per inspection
    ensure_sampling_open(inspection)
    sample = await get_sample(session, sample_id)
    rows = list(
        (await session.scalars(select(SampledCase).where(SampledCase.sample_id == sample_id))).all()
    )
    by_ref = {row.case_ref: row for row in rows}
    case = by_ref.get(data.case_ref)
    reserves = sample.result.get("reserves", [])
    if case is None:
        is_reserve = any(r["case_ref"] == data.case_ref for r in reserves)
        message = "is a reserve of this sample, not in it" if is_reserve else "is not a case of this sample"
        raise InvalidInput(
            f"{data.case_ref} {message}.", [FieldError(field="body.case_ref", message=f"{data.case_ref} {message}")]
        )
    if case.status == "replaced":
        by = await session.scalar(
            select(Substitution.reserve_case_ref).where(
                Substitution.sample_id == sample_id, Substitution.replaced_case_ref == case.case_ref
            )
        )
        raise Conflict(f"{case.case_ref} has already been replaced by {by}.", replaced_by=by)
    assessed = await session.scalar(select(CaseAssessment.id).where(CaseAssessment.sampled_case_id == case.id))
    if assessed is not None:
        raise Conflict(
            f"{case.case_ref} has been assessed, so it stays in the sample; a case is substituted only before "
            "it is assessed.",
            case_assessment_id=str(assessed),
        )
    candidates = sorted((r for r in reserves if r["stratum"] == case.stratum), key=lambda r: r["rank"])
    reserve = next((r for r in candidates if r["case_ref"] not in by_ref), None)
    if reserve is None:
        raise Conflict(
            f"The reserves of stratum {case.stratum} are used up ({len(candidates)} held, all used); "
            f"{case.case_ref} cannot be replaced.",
            stratum=case.stratum,
            reserves=len(candidates),
        )
    case.status = "replaced"
    session.add(
        SampledCase(
            id=uuid.uuid4(),
            sample_id=sample_id,
            case_ref=reserve["case_ref"],
            unit=reserve.get("unit"),
            stratum=case.stratum,
            # The reserve is drawn from the same stratum, so it stands for the stratum as the case did.
            inclusion_probability=case.inclusion_probability,
            weight=case.weight,
            status="reserve_used",
            reserve_rank=reserve["rank"],
        )
    )
    substitution = Substitution(
        id=uuid.uuid4(),
        sample_id=sample_id,
        replaced_case_ref=case.case_ref,
        reserve_case_ref=reserve["case_ref"],
        stratum=case.stratum,
        reason=data.reason,
        substituted_at=utcnow(),
        substituted_by=actor.id,
    )
    session.add(substitution)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "Another substitution in this sample was made at the same time; read the sample and retry."
        ) from None
    return _substitution_read(substitution, reserve["rank"])


async def list_substitutions(
    session: AsyncSession, sample_id: uuid.UUID, query: SubstitutionQuery
) -> tuple[list[SubstitutionRead], str | None]:
    """Every substitution in the sample, oldest first."""
    await get_sample(session, sample_id)
    statement = (
        select(Substitution, SampledCase.reserve_rank)
        .outerjoin(
            SampledCase,
            and_(
                SampledCase.sample_id == Substitution.sample_id,
                SampledCase.case_ref == Substitution.reserve_case_ref,
            ),
        )
        .where(Substitution.sample_id == sample_id)
    )
    if query.cursor is not None:
        key = decode_cursor(query.cursor, 2)
        try:
            at, after = datetime.fromisoformat(key[0]), uuid.UUID(key[1])
        except (TypeError, ValueError):
            raise _bad_cursor() from None
        if at.tzinfo is None:
            raise _bad_cursor()
        statement = statement.where(
            or_(Substitution.substituted_at > at, and_(Substitution.substituted_at == at, Substitution.id > after))
        )
    rows = (
        await session.execute(statement.order_by(Substitution.substituted_at, Substitution.id).limit(query.limit + 1))
    ).all()
    items = [_substitution_read(s, rank) for s, rank in rows[: query.limit]]
    if len(rows) > query.limit:
        last = items[-1]
        return items, encode_cursor([last.substituted_at.isoformat(), str(last.id)])
    return items, None
