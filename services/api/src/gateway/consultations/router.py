"""Consultations on the programme: the consultation, the responses it receives and their summary, as
JSON or CSV. Staff only: contact details are personal data."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from gateway.consultations import service, tables
from gateway.consultations.schemas import (
    ConsultationCreate,
    ConsultationRead,
    ConsultationSummary,
    ConsultationUpdate,
    ResponseCreate,
    ResponseListQuery,
    ResponseRead,
    SummaryFormat,
    SummaryQuery,
)
from gateway.db import SessionDep
from gateway.negotiation import negotiate
from gateway.pagination import PageQuery
from gateway.permissions import Permission, requires
from inspection_shared.pagination import Page
from inspection_shared.problems import Problem, problem_responses

router = APIRouter(prefix="/consultations", tags=["consultations"])

_ETAG = {"ETag": {"description": "Version of the record; send it back in If-Match to change it.",
                  "schema": {"type": "string"}}}
_LOCATION = {"Location": {"schema": {"type": "string"}}}
IfMatch = Annotated[str | None, Header(description="The ETag of your last read.")]
CSV = "text/csv"
MEDIA_TYPES = {SummaryFormat.JSON: "application/json", SummaryFormat.CSV: CSV}
"""In the order a wildcard is matched: JSON first."""


def _not_acceptable(accepted: str) -> Problem:
    return Problem(
        406, "Not acceptable", f"None of the media types accepted ({accepted}) is one a summary is answered in: "
        "application/json or text/csv (or ask with ?format=json or csv).",
        slug="not-acceptable", available=[{"format": str(f), "media_type": m} for f, m in MEDIA_TYPES.items()],
    )


@router.get(
    "",
    summary="Consultations, the latest to open first",
    responses=problem_responses(422),
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def list_consultations(query: Annotated[PageQuery, Query()], session: SessionDep) -> Page[ConsultationRead]:
    return await service.list_consultations(session, query)


@router.post(
    "",
    summary="Open a consultation: its programme years, period, deadline, recipients by group and questions",
    status_code=201,
    responses={201: {"headers": {**_ETAG, **_LOCATION}}, **problem_responses(409, 422)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def create_consultation(data: ConsultationCreate, request: Request, response: Response,
                              session: SessionDep) -> ConsultationRead:
    consultation, response.headers["ETag"] = await service.create_consultation(session, data)
    response.headers["Location"] = request.app.url_path_for("consultations.get_consultation",
                                                            consultation_id=str(consultation.id))
    return consultation


@router.get(
    "/{consultation_id}",
    name="consultations.get_consultation",
    summary="One consultation, with its recipients (and their contact details) and questions",
    responses={200: {"headers": _ETAG}, **problem_responses(404)},
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def get_consultation(consultation_id: uuid.UUID, response: Response, session: SessionDep) -> ConsultationRead:
    consultation, response.headers["ETag"] = await service.get_consultation(session, consultation_id)
    return consultation


@router.patch(
    "/{consultation_id}",
    summary="Change a consultation's title, programme years, period, deadline or recipients",
    description="Recipients sent replace those held; questions are fixed. Send If-Match with the ETag of your "
    "last read: 428 without it, 412 if changed since.",
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def update_consultation(consultation_id: uuid.UUID, changes: ConsultationUpdate, response: Response,
                              session: SessionDep, if_match: IfMatch = None) -> ConsultationRead:
    consultation, response.headers["ETag"] = await service.update_consultation(session, consultation_id, changes,
                                                                              if_match)
    return consultation


@router.get(
    "/{consultation_id}/responses",
    summary="The responses received, in the order they arrived; by group, question, or late or not",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def list_consultation_responses(consultation_id: uuid.UUID, query: Annotated[ResponseListQuery, Query()],
                                      session: SessionDep) -> Page[ResponseRead]:
    return await service.list_responses(session, consultation_id, query)


@router.post(
    "/{consultation_id}/responses",
    summary="Record a response to one question, with the programme topics it names",
    description="A response received after the deadline is recorded and flagged late.",
    status_code=201,
    responses={201: {"headers": _LOCATION}, **problem_responses(404, 409, 422)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def record_consultation_response(consultation_id: uuid.UUID, data: ResponseCreate, request: Request,
                                       response: Response, session: SessionDep) -> ResponseRead:
    recorded = await service.create_response(session, consultation_id, data)
    response.headers["Location"] = request.app.url_path_for(
        "consultations.get_response", consultation_id=str(consultation_id), response_id=str(recorded.id))
    return recorded


@router.get(
    "/{consultation_id}/responses/{response_id}",
    name="consultations.get_response",
    summary="One response",
    responses=problem_responses(404),
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def get_consultation_response(consultation_id: uuid.UUID, response_id: uuid.UUID,
                                    session: SessionDep) -> ResponseRead:
    return await service.get_response(session, consultation_id, response_id)


@router.get(
    "/{consultation_id}/summary",
    summary="Responses counted by group, by question and by both, the late ones, and the topics most raised",
    description="JSON by default; CSV with ?format=csv or Accept: text/csv, one row per figure. Counts only: "
    "no respondent, contact details or response text.",
    response_model=ConsultationSummary,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}, **problem_responses(404, 406, 422)},
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def summarise_consultation(consultation_id: uuid.UUID, query: Annotated[SummaryQuery, Query()],
                                 request: Request, session: SessionDep) -> Any:
    chosen = negotiate(query.format, request.headers.get("accept"), MEDIA_TYPES, _not_acceptable)
    summary = await service.summary(session, consultation_id)
    if chosen is SummaryFormat.JSON:
        return summary
    return Response(tables.summary_csv(summary), media_type=f"{CSV}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="consultation-{consultation_id}-summary.csv"', "Vary": "Accept",
    })
