"""Caseload frames, the samples drawn from them, and substitutions of sampled cases."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from gateway.caseloads import frames, service, substitutions
from gateway.caseloads.design import DEFAULT_RESERVES_PER_STRATUM
from gateway.caseloads.schemas import (
    CaseloadFrameRead,
    SampledCaseQuery,
    SampledCaseRead,
    SampleDiscardCreate,
    SampleDrawRequest,
    SampleRead,
    SampleSummary,
    SubstitutionCreate,
    SubstitutionQuery,
    SubstitutionRead,
)
from gateway.db import SessionDep, release
from gateway.engines import SamplingDep
from gateway.idempotency.service import IdempotencyKey, run_once
from gateway.permissions import Permission, requires
from inspection_shared import uploads
from inspection_shared.library import vocabularies
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses
from inspection_shared.vocabulary import UNIT_COLUMN

router = APIRouter(tags=["caseloads"])

SampleTypePath = Annotated[
    str,
    Path(pattern=r"^[a-z][a-z0-9_]*$", max_length=64, description="A sample type of the pinned framework.",
         examples=["case_supervision"]),
]

_CSV_EXAMPLE = (
    "case_ref,unit,gender,sentence_type,rosh_level,start_date\n"
    "X100001,N53DRBY,M,community_order,medium,2025-07-14\n"
    "X100002,N53DRBY,F,licence,low,2025-08-02\n"
)
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "The caseload frame as CSV (header row, comma-separated, UTF-8): as the body, or as the `frame` "
            "(or `file`) part of a form."
        ),
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"frame": {"type": "string", "format": "binary", "description": "A .csv file."}},
                    "required": ["frame"],
                }
            },
        },
    }
}
_CODES = "\n".join(
    f"- `{v.column}` ({v.name.lower()}): {', '.join(f'`{c}`' for c in v.allowed())}"
    for v in sorted(vocabularies().values(), key=lambda v: v.column)
)
_UPLOAD_DESCRIPTION = f"""\
Upload the caseload frame an inspection's sample of this type is drawn from: at most
{frames.MAX_CASES:,} cases (413 above).

**Columns**: `case_ref` (required), `{UNIT_COLUMN}` (the delivery unit), the sample type's strata
(the framework's `sample_types`), `{frames.DATE_COLUMN}` (YYYY-MM-DD, for an eligibility window) and the
case attributes the framework's case filters read for the sample type. A column of personal data the
sample does not need (names, dates of birth, addresses, postcodes, PNC, NOMIS or national insurance
numbers, CRNs, phone numbers, emails and the like) is refused first, with a 422 naming it and saying
why: such data is never taken. Any other column is refused with a 422 naming it and listing the
columns accepted. Values are trimmed; an empty value is a missing one.

**Codes**: a column with a vocabulary takes its codes, read whatever their case, spacing and
punctuation, as the code, its label or a common spelling (`M`, `Male` and `male` are all `male`: every
spelling is listed at `GET /api/v1/vocabularies`), and stores the code:

{_CODES}
- `{UNIT_COLUMN}`: the code of the inspected unit or of a unit below it (any case), stored as the units
  spell it.

**Refused** (422, by line of the file, the header being line 1): missing or repeated case references,
ragged rows, unreadable text, dates that are not dates, values that are not codes of their column and
units outside the inspected one (each named with its column and value; `allowed_codes` lists the codes
of each column at fault). The first {frames.MAX_FAULTS} faults are listed, with the count of all. Nothing
is stored unless the whole frame is sound.

The frame is stored in canonical form (cases by case_ref, columns by name, values as codes) with its
SHA-256 `fingerprint`, which is the `frame_fingerprint` of the sample drawn from it. Uploading again
replaces the frame (200) until a sample is drawn from it; after that, 409, until every sample drawn
from it is discarded (`POST /api/v1/samples/{{sample_id}}/discard`).
"""


async def _upload(request: Request) -> bytes:
    """The CSV bytes of a frame upload, as the body or as a form's file."""
    kind = uploads.media_type(request)
    if kind in uploads.CSV_TYPES:
        return await uploads.read_body(request, uploads.upload_limit(request), "A frame upload")
    if kind == "multipart/form-data":
        content, _ = await uploads.read_form_file(
            request, uploads.upload_limit(request), "The frame", ("frame", "file")
        )
        return content
    raise uploads.unsupported(kind, "The frame", "text/csv or multipart/form-data")


# --- frames ------------------------------------------------------------------------------------------


@router.put(
    "/inspections/{inspection_id}/frames/{sample_type}",
    summary="Upload (or replace) an inspection's caseload frame for a sample type",
    description=_UPLOAD_DESCRIPTION,
    responses={
        200: {"description": "The frame held before was replaced."},
        201: {
            "model": CaseloadFrameRead,
            "description": "Stored; Location names the frame.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 409, 413, 415, 422),
    },
    openapi_extra=_UPLOAD_BODY,
    dependencies=[requires(Permission.CASELOADS_WRITE)],
)
async def put_caseload_frame(
    inspection_id: uuid.UUID, sample_type: SampleTypePath, request: Request, response: Response, session: SessionDep
) -> CaseloadFrameRead:
    allowed, codes = await service.frame_columns(session, inspection_id, sample_type)
    await release(session)  # the body may be slow to come: nothing is held while it is read
    content = await _upload(request)
    parsed = await run_in_threadpool(frames.read_frame, content, allowed, sample_type, codes)
    frame, created = await service.store_frame(session, inspection_id, sample_type, parsed)
    if created:
        response.status_code = 201
        response.headers["Location"] = request.app.url_path_for(
            "caseloads.get_caseload_frame", inspection_id=str(inspection_id), sample_type=sample_type
        )
    return service.frame_read(frame, None)


@router.get(
    "/inspections/{inspection_id}/frames",
    summary="An inspection's caseload frames (descriptions only, never their cases)",
    responses=problem_responses(404),
    dependencies=[requires(Permission.CASELOADS_READ)],
)
async def list_caseload_frames(inspection_id: uuid.UUID, session: SessionDep) -> Page[CaseloadFrameRead]:
    # At most one frame per sample type of the framework: one page always holds them all.
    return Page(items=await service.list_frames(session, inspection_id), next_cursor=None)


@router.get(
    "/inspections/{inspection_id}/frames/{sample_type}",
    name="caseloads.get_caseload_frame",
    summary="One caseload frame's description (never its cases)",
    responses=problem_responses(404),
    dependencies=[requires(Permission.CASELOADS_READ)],
)
async def get_caseload_frame(
    inspection_id: uuid.UUID, sample_type: SampleTypePath, session: SessionDep
) -> CaseloadFrameRead:
    return await service.get_frame(session, inspection_id, sample_type)


# --- samples -----------------------------------------------------------------------------------------


@router.post(
    "/inspections/{inspection_id}/samples",
    summary="Draw the sample of one of the inspection's frames, through the sampling service",
    description=(
        "Draws one sample from the inspection's frame of `sample_type` and stores it whole: the design as "
        "applied, seed, frame fingerprint, algorithm, selected cases, ordered reserves, allocation and "
        "balance. Defaults: precision 80% confidence and 5 points margin, the sample type's strata present in "
        f"the frame, the `{UNIT_COLUMN}` column as the unit when the frame has one, "
        f"{DEFAULT_RESERVES_PER_STRATUM} reserves per stratum, a seed chosen and stored (never that of a sample "
        "discarded from the frame). One sample in use per frame: a second draw is 409, until the sample is "
        "discarded (`POST /api/v1/samples/{id}/discard`). With an `Idempotency-Key`, a repeat of the request "
        "answers the first "
        "result again and never draws twice. Accepted while the inspection is planned, in pre-fieldwork or in "
        "fieldwork. If the sampling service is down or slow: 503 or 504 with Retry-After, nothing stored; if it "
        "refuses the design (e.g. a size above the eligible cases): 422 naming the fault, nothing stored. "
        "Exclusion values of a column with a vocabulary are read as its codes, as the frame holds them; one "
        "that is no code of its column is refused (422)."
    ),
    status_code=201,
    responses={
        201: {
            "description": "Drawn; Location names the sample.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 409, 422, 502, 503, 504),
    },
    dependencies=[requires(Permission.CASELOADS_WRITE)],
)
async def draw_sample(
    inspection_id: uuid.UUID,
    body: SampleDrawRequest,
    request: Request,
    session: SessionDep,
    sampling: SamplingDep,
    idempotency_key: IdempotencyKey = None,
) -> SampleRead:
    async def work() -> tuple[int, Any, dict[str, str]]:
        sample = await service.draw_sample(session, sampling, inspection_id, body)
        read = await service.sample_read(session, sample)
        location = request.app.url_path_for("caseloads.get_sample", sample_id=str(sample.id))
        return 201, read.model_dump(mode="json"), {"Location": location}

    return await run_once(  # type: ignore[return-value]
        session, request, key=idempotency_key, request_body=body.model_dump(mode="json", exclude_unset=True), work=work
    )


@router.get(
    "/inspections/{inspection_id}/samples",
    summary="An inspection's samples in use, one per frame (and those discarded, if asked)",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.CASELOADS_READ)],
)
async def list_samples(
    inspection_id: uuid.UUID,
    session: SessionDep,
    sample_type: Annotated[str | None, Query(max_length=64, description="Only the samples of this type.")] = None,
    include_discarded: Annotated[bool, Query(description="Also the samples discarded, each before its redraw.")] = False,
) -> Page[SampleSummary]:
    # One sample in use per sample type of the framework, and the few discarded: one page holds them all.
    samples = await service.list_samples(session, inspection_id, sample_type, include_discarded)
    return Page(items=samples, next_cursor=None)


@router.get(
    "/samples/{sample_id}",
    name="caseloads.get_sample",
    summary="A sample whole: design, seed, fingerprint, allocation, balance, cases drawn and reserves with their use",
    responses=problem_responses(404),
    dependencies=[requires(Permission.CASELOADS_READ)],
)
async def get_sample(sample_id: uuid.UUID, session: SessionDep) -> SampleRead:
    return await service.sample_read(session, await service.get_sample(session, sample_id))


@router.post(
    "/samples/{sample_id}/discard",
    summary="Discard a sample before its first case answer, so that another can be drawn from its frame",
    description=(
        "The sample is kept for the record, marked discarded with the reason, who and when, and never used "
        "again: its cases take no case answers or substitutions, and ratings and the summary leave it out. "
        "Reading it still works and shows it discarded. Its frame may then be drawn from again (a new seed "
        "unless one is given) or replaced. Refused once a case answer has been recorded against any of its "
        "cases, and for a sample already discarded (409). Accepted while the inspection is planned, in "
        "pre-fieldwork or in fieldwork."
    ),
    responses=problem_responses(404, 409, 422),
    dependencies=[requires(Permission.CASELOADS_WRITE)],
)
async def discard_sample(sample_id: uuid.UUID, data: SampleDiscardCreate, session: SessionDep) -> SampleRead:
    return await service.sample_read(session, await service.discard_sample(session, sample_id, data))


@router.get(
    "/samples/{sample_id}/cases",
    summary="The cases of a sample now (drawn, and brought in from the reserves), in case_ref order",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.CASELOADS_READ)],
)
async def list_sampled_cases(
    sample_id: uuid.UUID, query: Annotated[SampledCaseQuery, Query()], session: SessionDep
) -> Page[SampledCaseRead]:
    return await service.list_cases(session, sample_id, query)


# --- substitutions -----------------------------------------------------------------------------------


@router.post(
    "/samples/{sample_id}/substitutions",
    summary="Replace a case that cannot be inspected with the next reserve of its stratum",
    description=(
        "The case is marked replaced and the next unused reserve of its stratum, by rank, comes into the "
        "sample; the substitution is kept with its reason. Refused: a case not in the sample (422), a case "
        "already replaced or already assessed, or a stratum whose reserves are used up (409). Accepted while "
        "the inspection is planned, in pre-fieldwork or in fieldwork."
    ),
    status_code=201,
    responses=problem_responses(404, 409, 422),
    dependencies=[requires(Permission.CASELOADS_WRITE)],
)
async def substitute_sampled_case(sample_id: uuid.UUID, data: SubstitutionCreate, session: SessionDep) -> SubstitutionRead:
    return await substitutions.substitute(session, sample_id, data)


@router.get(
    "/samples/{sample_id}/substitutions",
    summary="Every substitution made in a sample, oldest first",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.CASELOADS_READ)],
)
async def list_substitutions(
    sample_id: uuid.UUID, query: Annotated[SubstitutionQuery, Query()], session: SessionDep
) -> Page[SubstitutionRead]:
    return await substitutions.list_substitutions(session, sample_id, query)
