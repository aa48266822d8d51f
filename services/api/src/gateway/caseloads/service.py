"""The rules of caseloads: the frames an inspection takes, and the sample drawn from each.

A frame is uploaded per inspection and sample type (a sample type the pinned framework names for a
case-based standard) and holds only the columns that sample needs, each value a code (`values`). One
sample is in use per frame, drawn by the sampling service; the gateway stores it whole and never draws
or changes a sample itself (`design` says what to draw; `substitutions` replaces cases that cannot be
inspected). Until the first case answer is recorded against it, a sample may be discarded: it is kept,
marked discarded, and nothing reads its cases again; another may then be drawn from the frame, or the
frame replaced. Frames, draws, discards and substitutions are accepted until fieldwork ends
(`lifecycle.ACTIVITIES`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from gateway.caseloads import frames, repository
from gateway.caseloads.design import (
    allowed_columns,
    build_design,
    check_sample_type,
    check_widths,
    strata_of,
)
from gateway.caseloads.models import CaseloadFrame, Sample, SampledCase, SampleDiscard
from gateway.caseloads.schemas import (
    CaseloadFrameRead,
    CaseStatus,
    ReserveRead,
    SampledCaseQuery,
    SampledCaseRead,
    SampleDiscardCreate,
    SampleDiscardRead,
    SampleDrawRequest,
    SampleRead,
    SampleSummary,
)
from gateway.caseloads.values import ColumnCodes, coded_exclusions, frame_codes, unit_codes
from gateway.db import release, row_fields
from gateway.engines import call_engine
from gateway.inspections.guards import ensure_phase, get_inspection, inspection_for_change, pinned_framework
from gateway.inspections.lifecycle import Activity
from gateway.permissions import Permission
from gateway.units import repository as units
from gateway.writes import flush
from inspection_shared.clients import SamplingClient
from inspection_shared.library import vocabularies
from inspection_shared.pagination import Page
from inspection_shared.problems import Conflict, NotFound, Problem
from inspection_shared.sampling import SampleDesign, SampleResult

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


log = structlog.get_logger("caseloads")


# --- frames ------------------------------------------------------------------------------------------


async def _frame_allowed(session: AsyncSession, inspection: Inspection, sample_type: str) -> tuple[list[str], CaseloadFrame | None]:
    """The columns a frame of `sample_type` may hold, and the frame held now; refused if it cannot be
    taken (an unknown sample type, or a frame with a sample in use)."""
    framework = await pinned_framework(session, inspection)
    check_sample_type(framework, sample_type, "path.sample_type")
    held = await repository.frame(session, inspection.id, sample_type)
    if held is not None:
        sample_id = await repository.sample_of_frame(session, held.id)
        if sample_id is not None:
            raise Conflict(
                f"A sample has been drawn from the {sample_type} frame of this inspection, so the frame can not "
                f"be replaced; discard the sample first (POST /api/v1/samples/{sample_id}/discard), which is "
                "possible until the first case answer is recorded against it.",
                sample_id=str(sample_id),
            )
    return allowed_columns(framework, sample_type), held


async def frame_columns(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str
) -> tuple[list[str], dict[str, ColumnCodes]]:
    """Refuse an upload that cannot be taken, whatever its contents, before they are read; else the columns
    it may hold, and the codes of those that have them (`values`). Nothing is locked: the upload is read
    after this, and checked again when it is stored."""
    inspection = await get_inspection(session, inspection_id, Permission.CASELOADS_WRITE)
    ensure_phase(inspection, Activity.SAMPLING)
    allowed, _ = await _frame_allowed(session, inspection, sample_type)
    inspected, *below = await units.subtree_codes(session, inspection.unit_id)
    return allowed, frame_codes(allowed, vocabularies(), unit_codes(inspected, below))


async def store_frame(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str, parsed: frames.CanonicalFrame
) -> tuple[CaseloadFrame, bool]:
    """Store a checked frame; returns it and whether it is new (else it replaced the one held)."""
    inspection = await inspection_for_change(session, inspection_id, Activity.SAMPLING)
    _, frame = await _frame_allowed(session, inspection, sample_type)
    created = frame is None
    if frame is None:
        frame = CaseloadFrame(id=uuid.uuid4(), inspection_id=inspection_id, sample_type=sample_type)
        session.add(frame)
    frame.columns = parsed.columns
    frame.case_count = parsed.case_count
    frame.fingerprint = parsed.fingerprint
    frame.content = parsed.content
    await flush(
        session,
        clash=f"Another {sample_type} frame was uploaded for this inspection at the same time; list the frames "
        "and retry.",
    )
    return frame, created


def frame_read(frame: CaseloadFrame, sample_id: uuid.UUID | None) -> CaseloadFrameRead:
    return CaseloadFrameRead.model_validate(frame).model_copy(update={"sample_id": sample_id})


async def list_frames(session: AsyncSession, inspection_id: uuid.UUID) -> list[CaseloadFrameRead]:
    await get_inspection(session, inspection_id, Permission.CASELOADS_READ)
    return [frame_read(*row) for row in await repository.frames_with_samples(session, inspection_id)]


async def get_frame(session: AsyncSession, inspection_id: uuid.UUID, sample_type: str) -> CaseloadFrameRead:
    await get_inspection(session, inspection_id, Permission.CASELOADS_READ)
    found = await repository.frames_with_samples(session, inspection_id, sample_type)
    if not found:
        raise NotFound(f"Inspection {inspection_id} has no {sample_type} frame")
    return frame_read(*found[0])


# --- drawing -----------------------------------------------------------------------------------------


async def _ask_sampling(sampling: SamplingClient, content: bytes, design: SampleDesign) -> SampleResult:
    try:
        return await call_engine(sampling, lambda: sampling.draw_sample_csv(content, design))
    except Problem as problem:
        # The sampling service names the fields of its design; the caller sent them as the body's.
        for error in problem.errors or []:
            if error.field == "design" or error.field.startswith("design."):
                error.field = "body" + error.field.removeprefix("design")
        raise


async def draw_sample(
    session: AsyncSession, sampling: SamplingClient, inspection_id: uuid.UUID, request: SampleDrawRequest
) -> Sample:
    """Draw the sample of one frame through the sampling service and store it whole.

    Nothing is held while the sampling service works (a second or two for a large frame): the frame is
    read, the connection given back, and the sample written in a new transaction that locks the
    inspection and checks again that the frame is the one drawn from and has no sample yet.
    """
    inspection = await get_inspection(session, inspection_id, Permission.CASELOADS_WRITE)
    ensure_phase(inspection, Activity.SAMPLING)
    framework = await pinned_framework(session, inspection)
    check_sample_type(framework, request.sample_type, "body.sample_type")
    frame = await _frame_to_draw_from(session, inspection_id, request.sample_type, with_content=True)
    used_seeds = await repository.discarded_seeds(session, frame.id)
    request = request.model_copy(update={"exclude": coded_exclusions(request.exclude, vocabularies())})
    of_region = (await units.get(session, inspection.unit_id)).type == "region"
    design = build_design(request, frame.columns, strata_of(framework, request.sample_type), used_seeds, of_region)
    await release(session)

    content = await run_in_threadpool(frames.decompress, frame.content)  # opened as read: byte for byte as stored
    result = await _ask_sampling(sampling, content, design)
    check_widths(result)
    if result.frame_fingerprint != frame.fingerprint:
        # Not a fault of the sample: it carries the fingerprint of the frame as the sampling service read it.
        log.warning("frame fingerprint differs", frame_id=str(frame.id), sample_type=request.sample_type)

    await inspection_for_change(session, inspection_id, Activity.SAMPLING)
    drawn_from = await _frame_to_draw_from(session, inspection_id, request.sample_type)
    if (drawn_from.id, drawn_from.fingerprint) != (frame.id, frame.fingerprint):
        raise Conflict(
            f"The {request.sample_type} frame of inspection {inspection_id} was replaced while the sample was "
            "being drawn; draw again from the frame now held."
        )
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
    )
    session.add(sample)
    await flush(
        session,
        clash=f"Another sample was drawn from the {request.sample_type} frame at the same time; list the samples.",
    )
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
                    "status": CaseStatus.SELECTED,
                    "reserve_rank": None,
                }
                for case in result.selected
            ],
        )
    return sample


async def _frame_to_draw_from(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str, *, with_content: bool = False
) -> CaseloadFrame:
    """The frame of `sample_type`, if it has no sample in use (409 otherwise)."""
    frame = await repository.frame(session, inspection_id, sample_type, with_content=with_content)
    if frame is None:
        raise Conflict(
            f"Inspection {inspection_id} has no {sample_type} frame yet; upload it first "
            f"(PUT /api/v1/inspections/{inspection_id}/frames/{sample_type})."
        )
    held = await repository.sample_of_frame(session, frame.id)
    if held is not None:
        raise Conflict(
            f"A sample has already been drawn from the {sample_type} frame of this inspection; one sample is in "
            f"use per frame (to draw again, discard it first: POST /api/v1/samples/{held}/discard).",
            sample_id=str(held),
        )
    return frame


# --- reading samples ---------------------------------------------------------------------------------


async def get_sample(session: AsyncSession, sample_id: uuid.UUID) -> Sample:
    """The sample, if the session's actor may read the caseloads of its inspection (404 otherwise)."""
    sample = await session.get(Sample, sample_id)
    if sample is None:
        raise NotFound(f"No sample {sample_id}")
    try:
        await get_inspection(session, sample.inspection_id, Permission.CASELOADS_READ)
    except NotFound:
        raise NotFound(f"No sample {sample_id}") from None
    return sample


def _summary(sample: Sample, size: int, substitutions: int, discard: SampleDiscard | None) -> SampleSummary:
    return SampleSummary.model_validate({
        **row_fields(sample), "sample_size": size, "substitutions": substitutions,
        "discard": SampleDiscardRead.model_validate(discard) if discard is not None else None,
    })


async def list_samples(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str | None, include_discarded: bool
) -> list[SampleSummary]:
    await get_inspection(session, inspection_id, Permission.CASELOADS_READ)
    samples = await repository.samples(session, inspection_id, sample_type, include_discarded=include_discarded)
    ids = [s.id for s in samples]
    sizes, substitutions = await repository.counts(session, ids)
    discards = await repository.discards(session, ids)
    return [_summary(s, sizes.get(s.id, 0), substitutions.get(s.id, 0), discards.get(s.id)) for s in samples]


async def sample_read(session: AsyncSession, sample: Sample) -> SampleRead:
    """The sample whole, as stored, with the reserves used since (and its discard, if discarded)."""
    used = await repository.reserves_used(session, sample.id)
    sizes, substitutions = await repository.counts(session, [sample.id])
    discard = (await repository.discards(session, [sample.id])).get(sample.id)
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
        **_summary(sample, sizes.get(sample.id, 0), substitutions.get(sample.id, 0), discard).model_dump(),
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


async def sample_for_change(session: AsyncSession, sample_id: uuid.UUID) -> Sample:
    """The sample, its inspection locked for a change to it (`inspections.guards.inspection_for_change`);
    404 for one the actor may not see, 409 for one discarded."""
    inspection_id = await session.scalar(select(Sample.inspection_id).where(Sample.id == sample_id))
    if inspection_id is None:
        raise NotFound(f"No sample {sample_id}")
    try:
        await inspection_for_change(session, inspection_id, Activity.SAMPLING)  # one change at a time per inspection
    except NotFound:
        raise NotFound(f"No sample {sample_id}") from None
    sample = await get_sample(session, sample_id)
    if sample.discarded:
        discard = (await repository.discards(session, [sample_id]))[sample_id]
        raise Conflict(
            f"Sample {sample_id} was discarded on {discard.discarded_at:%Y-%m-%d} by {discard.discarded_by} "
            f"({discard.reason}) and is never used again; change the sample in use instead.",
            discarded_at=discard.discarded_at.isoformat(),
        )
    return sample


async def discard_sample(session: AsyncSession, sample_id: uuid.UUID, data: SampleDiscardCreate) -> Sample:
    """Set a sample aside before the first case answer is recorded against it: kept, marked discarded,
    its cases read by nothing again; its frame may then be drawn from again, or replaced."""
    sample = await sample_for_change(session, sample_id)
    assessed = await repository.assessed_count(session, sample_id)
    if assessed:
        raise Conflict(
            f"Case answers have been recorded against {assessed} case{'s' if assessed > 1 else ''} of this "
            f"{sample.sample_type} sample, so it can no longer be discarded: a sample is discarded only before "
            "its first case answer. Replace a case that cannot be inspected with a substitution instead.",
            assessed_cases=assessed,
        )
    sample.discarded = True
    session.add(SampleDiscard(sample_id=sample_id, reason=data.reason))
    await flush(session, clash="The sample was changed at the same time; read it and retry.")
    return sample


async def list_cases(session: AsyncSession, sample_id: uuid.UUID, query: SampledCaseQuery) -> Page[SampledCaseRead]:
    """The cases of the sample now (and those replaced, if asked), in case_ref order."""
    await get_sample(session, sample_id)
    return await repository.sampled_cases(session, sample_id, query, SampledCaseRead.model_validate)
