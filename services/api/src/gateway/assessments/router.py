"""Case assessments and domain-one judgements: what inspectors record during fieldwork and rating.

No route here calls an engine, so recording never waits on, or is lost to, an engine failure.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from gateway.assessments import importer, judgements, service
from gateway.assessments.schemas import (
    AssessmentImportReport,
    AssessmentListQuery,
    CaseAssessmentImportItem,
    CaseAssessmentRead,
    CaseAssessmentWrite,
    JudgementList,
    JudgementRead,
    JudgementWrite,
    UnitJudgementRead,
)
from gateway.db import SessionDep
from gateway.inspections.schemas import EXAMPLE_FRAMEWORK
from gateway.permissions import Permission, requires
from gateway.preconditions import answer_put, etag
from inspection_shared import uploads
from inspection_shared.framework import Slug, StandardId
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter()


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of your last read. Leave it out to record the first one; required to change it.",
    ),
]
SampleTypePath = Annotated[Slug, Path(description="The sample the case was drawn in, e.g. case_supervision.")]
CaseRefPath = Annotated[str, Path(min_length=1, max_length=64, description="The case reference, e.g. X123456.")]
StandardPath = Annotated[StandardId, Path(description="A judged standard of the pinned framework, e.g. 1.1.")]

_ETAG_HEADER = {
    "ETag": {"description": "Version; send it back in If-Match to change it.", "schema": {"type": "string"}}
}
_CREATED_HEADERS = {**_ETAG_HEADER, "Location": {"description": "Where it is read.", "schema": {"type": "string"}}}
_WRITE_DESCRIPTION = (
    "Without If-Match when there is none yet (201); with the ETag of your last read to change it (200): "
    "428 without If-Match, 412 if it has changed since. Recorded while the inspection is in fieldwork or "
    "rating; 409 before, and once it is published or withdrawn."
)
_PUT_RESPONSES = {  # a record put whole: created (201) or changed (200)
    200: {"description": "Changed.", "headers": _ETAG_HEADER},
    201: {"description": "Recorded for the first time.", "headers": _CREATED_HEADERS},
    **problem_responses(404, 409, 412, 422, 428),
}


# --- case assessments --------------------------------------------------------------------------------

_CASE_PATH = "/inspections/{inspection_id}/samples/{sample_type}/cases/{case_ref}/assessment"


@router.get(
    _CASE_PATH,
    tags=["assessments"],
    summary="The assessment of one sampled case",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 422)},
    dependencies=[requires(Permission.ASSESSMENTS_READ)],
)
async def get_case_assessment(
    inspection_id: uuid.UUID, sample_type: SampleTypePath, case_ref: CaseRefPath, response: Response, session: SessionDep
) -> CaseAssessmentRead:
    assessment = await service.get_assessment(session, inspection_id, sample_type, case_ref)
    response.headers["ETag"] = etag(assessment.version)
    return assessment


@router.put(
    _CASE_PATH,
    tags=["assessments"],
    summary="Record the assessment of one sampled case",
    description=(
        "The whole assessment as it now stands: answers to the key questions of the case-based standards "
        "assessed on the case's sample (a key question left out is not answered yet), the case attributes "
        "their case filters read (no others), and a short evidence note. A case replaced by a substitution "
        "cannot be assessed (409). " + _WRITE_DESCRIPTION
    ),
    responses=_PUT_RESPONSES,
    dependencies=[requires(Permission.ASSESSMENTS_WRITE)],
)
async def put_case_assessment(
    inspection_id: uuid.UUID,
    sample_type: SampleTypePath,
    case_ref: CaseRefPath,
    data: CaseAssessmentWrite,
    request: Request,
    response: Response,
    session: SessionDep,
    if_match: IfMatch = None,
) -> CaseAssessmentRead:
    assessment, created = await service.put_assessment(session, inspection_id, sample_type, case_ref, data, if_match)
    answer_put(request, response, assessment.version, created)
    return assessment


@router.get(
    "/inspections/{inspection_id}/assessments",
    tags=["assessments"],
    summary="The inspection's case assessments, by sample type and case reference",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.ASSESSMENTS_READ)],
)
async def list_case_assessments(
    inspection_id: uuid.UUID, query: Annotated[AssessmentListQuery, Query()], session: SessionDep
) -> Page[CaseAssessmentRead]:
    return await service.list_assessments(session, inspection_id, query)


# The examples, like the planning example, are for an inspection under EXAMPLE_FRAMEWORK (a test imports
# them into one).
_CSV_EXAMPLE = (
    "case_ref,sample_type,key_question,answer,evidence_note\n"
    "X123456,case_supervision,2.2.1,yes,Sentence plan and contact log on the case record\n"
    "X123456,case_supervision,2.2.2,no,\n"
    "X123456,case_supervision,2.2.3,not_applicable,\n"
    "X234567,court_reports,2.1.1,yes,\n"
)
_IMPORT_BODY = uploads.import_body(
    "Case answers as CSV (the body, or the `file` part of a form) or as a JSON array of case assessments.\n\n"
    + importer.CSV_FORMAT
    + f"\nThe examples are for an inspection under {EXAMPLE_FRAMEWORK}, whose standards read no case "
    "attributes; under a framework whose case filters read one (standard 3.1 of probation-crc-2018 reads "
    "`unpaid_work_requirement`), it is a column of its own.\n",
    _CSV_EXAMPLE,
    CaseAssessmentImportItem.model_json_schema(),
    [
        {
            "case_ref": "X123456",
            "sample_type": "case_supervision",
            "answers": {"2.2.1": "yes", "2.2.2": "no", "2.2.3": "not_applicable"},
            "evidence_note": "Sentence plan and contact log on the case record",
        }
    ],
)


@router.post(
    "/inspections/{inspection_id}/assessments/import",
    tags=["assessments"],
    summary="Record many case answers at once, all or nothing",
    description=(
        "Checks the whole import against the pinned framework and the inspection's sampled cases before "
        "writing anything; any fault refuses all of it with a 422 listing every fault by CSV line (the "
        "header is line 1) or JSON array index. An import sets the answers, attributes and notes it gives "
        "and keeps the rest of each held assessment; a changed assessment's version goes up by one. "
        "Importing the same file again reports every case unchanged. Recorded while the inspection is in "
        "fieldwork or rating."
    ),
    responses=problem_responses(404, 409, 413, 415, 422),
    openapi_extra=_IMPORT_BODY,
    dependencies=[requires(Permission.ASSESSMENTS_WRITE)],
)
async def import_case_assessments(inspection_id: uuid.UUID, request: Request, session: SessionDep) -> AssessmentImportReport:
    kind, content = await uploads.read_import(request, uploads.upload_limit(request), "The case answers")
    return await importer.import_assessments(session, inspection_id, kind, content)


# --- domain-one judgements ---------------------------------------------------------------------------


@router.get(
    "/inspections/{inspection_id}/judgements",
    tags=["judgements"],
    summary="The inspectors' judgements of the judged standards, and those still missing",
    description="Each judged standard with the evidence from people under supervision that informs it "
    "(`voice`: survey questions and interview themes linked to it at PUT .../voice).",
    responses=problem_responses(404),
    dependencies=[requires(Permission.ASSESSMENTS_READ)],
)
async def list_judgements(inspection_id: uuid.UUID, session: SessionDep) -> JudgementList:
    return await judgements.list_judgements(session, inspection_id)


@router.get(
    "/inspections/{inspection_id}/judgements/{standard_id}",
    tags=["judgements"],
    summary="The judgement of one judged standard",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 422)},
    dependencies=[requires(Permission.ASSESSMENTS_READ)],
)
async def get_judgement(
    inspection_id: uuid.UUID, standard_id: StandardPath, response: Response, session: SessionDep
) -> JudgementRead:
    judgement = await judgements.get_judgement(session, inspection_id, standard_id)
    response.headers["ETag"] = etag(judgement.version)
    return judgement


@router.put(
    "/inspections/{inspection_id}/judgements/{standard_id}",
    tags=["judgements"],
    summary="Record the inspectors' rating of a judged standard, with its evidence summary",
    description=(
        "Only judged standards of the pinned framework (domain one, policy and provision) take a judgement; "
        "a case-based or unknown standard is refused (422). " + _WRITE_DESCRIPTION
    ),
    responses=_PUT_RESPONSES,
    dependencies=[requires(Permission.ASSESSMENTS_WRITE)],
)
async def put_judgement(
    inspection_id: uuid.UUID,
    standard_id: StandardPath,
    data: JudgementWrite,
    request: Request,
    response: Response,
    session: SessionDep,
    if_match: IfMatch = None,
) -> JudgementRead:
    judgement, created = await judgements.put_judgement(session, inspection_id, standard_id, data, if_match)
    answer_put(request, response, judgement.version, created)
    return judgement


@router.get(
    "/inspections/{inspection_id}/units/{unit_id}/judgements",
    tags=["judgements"],
    summary="The judgements recorded for one PDU of a region's inspection",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.ASSESSMENTS_READ)],
)
async def list_unit_judgements(inspection_id: uuid.UUID, unit_id: uuid.UUID, session: SessionDep) -> list[UnitJudgementRead]:
    return await judgements.list_unit_judgements(session, inspection_id, unit_id)


@router.put(
    "/inspections/{inspection_id}/units/{unit_id}/judgements/{standard_id}",
    tags=["judgements"],
    summary="Record the inspectors' rating of a judged standard for one PDU of a region's inspection",
    description=(
        "Domain one is judged for the region (`/judgements/{standard_id}`) and for each PDU of it here; the "
        "report gives each PDU's judgements beside its case figures. " + _WRITE_DESCRIPTION
    ),
    responses=_PUT_RESPONSES,
    dependencies=[requires(Permission.ASSESSMENTS_WRITE)],
)
async def put_unit_judgement(
    inspection_id: uuid.UUID,
    unit_id: uuid.UUID,
    standard_id: StandardPath,
    data: JudgementWrite,
    request: Request,
    response: Response,
    session: SessionDep,
    if_match: IfMatch = None,
) -> UnitJudgementRead:
    judgement, created = await judgements.put_unit_judgement(session, inspection_id, unit_id, standard_id, data, if_match)
    answer_put(request, response, judgement.version, created)
    return judgement
