"""Inspections: planning one, changing its plan, moving it through its phases, and the reads that
dashboards and report generators make (the list, an inspection's summary, a unit's ratings history).

Every route takes `CurrentActor`: the one place its permission check will be declared.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from gateway.actors import CurrentActor
from gateway.db import SessionDep
from gateway.inspections import service
from gateway.inspections.schemas import (
    HistoryQuery,
    InspectionCreate,
    InspectionListQuery,
    InspectionRead,
    InspectionSummary,
    InspectionUpdate,
    RatingsHistoryEntry,
    RatingsHistoryQuery,
    StatusChangeRead,
    TransitionRequest,
)
from gateway.inspections.summaries import read_summary
from gateway.preconditions import matches_any
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["inspections"])

_ETAG_HEADER = {
    "ETag": {
        "description": "Version of the inspection; send it back in If-Match to change it.",
        "schema": {"type": "string"},
    }
}
IfMatch = Annotated[str | None, Header(description="The ETag of your last read of the inspection.")]
IfNoneMatch = Annotated[str | None, Header(description="The ETag of a summary you hold.")]


@router.get(
    "/inspections",
    operation_id="list_inspections",
    summary="Inspections, newest fieldwork first, filtered",
    description=(
        "Filter by unit, region (the region's own inspections and those of the units directly under it), "
        "framework version, year of the first day of fieldwork, status, type and current overall rating; "
        "repeat status, type or rating to match any of several. Inspections without fieldwork dates come last."
    ),
    responses=problem_responses(422),
)
async def list_inspections(
    query: Annotated[InspectionListQuery, Query()], session: SessionDep, actor: CurrentActor
) -> Page[InspectionRead]:
    return await service.list_inspections(session, query)


@router.post(
    "/inspections",
    operation_id="create_inspection",
    summary="Plan an inspection of a unit against a framework version",
    description=(
        "The framework version is pinned for good. It must apply to the unit's type and be published and in "
        "effect when fieldwork starts (a pilot may use a draft or an early version); the unit must be in "
        "service; a joint inspection names its partner inspectorates; fieldwork lasts at most three weeks. "
        "The inspection starts as planned."
    ),
    status_code=201,
    responses={
        201: {
            "description": "Planned; Location names the new inspection.",
            "headers": {**_ETAG_HEADER, "Location": {"schema": {"type": "string"}}},
        },
        **problem_responses(409, 422),
    },
)
async def create_inspection(
    data: InspectionCreate, request: Request, response: Response, session: SessionDep, actor: CurrentActor
) -> InspectionRead:
    inspection, unit = await service.create_inspection(session, data, actor)
    response.headers["Location"] = request.app.url_path_for("inspections.get_inspection", inspection_id=str(inspection.id))
    response.headers["ETag"] = service.etag(inspection)
    return service.to_read(inspection, unit)


@router.get(
    "/inspections/{inspection_id}",
    name="inspections.get_inspection",
    operation_id="get_inspection",
    summary="One inspection",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 422)},
)
async def get_inspection(
    inspection_id: uuid.UUID, response: Response, session: SessionDep, actor: CurrentActor
) -> InspectionRead:
    inspection, unit = await service.read_inspection(session, inspection_id)
    response.headers["ETag"] = service.etag(inspection)
    return service.to_read(inspection, unit)


@router.patch(
    "/inspections/{inspection_id}",
    operation_id="update_inspection",
    summary="Change some fields of an inspection's plan",
    description=(
        "Send If-Match with the ETag of your last read: 428 without it, 412 if the inspection has changed "
        "since. A published or withdrawn inspection is frozen (409); the unit and framework version are fixed "
        "at planning (409 if changed); the status moves through the transitions endpoint."
    ),
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 409, 412, 422, 428)},
)
async def update_inspection(
    inspection_id: uuid.UUID,
    changes: InspectionUpdate,
    response: Response,
    session: SessionDep,
    actor: CurrentActor,
    if_match: IfMatch = None,
) -> InspectionRead:
    inspection, unit = await service.update_inspection(session, inspection_id, changes, if_match, actor)
    response.headers["ETag"] = service.etag(inspection)
    return service.to_read(inspection, unit)


@router.post(
    "/inspections/{inspection_id}/transitions",
    operation_id="move_inspection",
    summary="Move an inspection to its next phase, or withdraw it",
    description=(
        "planned -> pre_fieldwork (the announcement: fieldwork dates set) -> fieldwork (at least two weeks "
        "after the announcement) -> rating -> published (needs a rating snapshot; freezes the inspection); "
        "withdrawn (with a note) from any phase before publication. A move not allowed from the current "
        "status is a 409 listing the allowed ones in `allowed`. If-Match is optional here: if sent and "
        "stale, 412."
    ),
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 409, 412, 422)},
)
async def move_inspection(
    inspection_id: uuid.UUID,
    move: TransitionRequest,
    response: Response,
    session: SessionDep,
    actor: CurrentActor,
    if_match: IfMatch = None,
) -> InspectionRead:
    inspection, unit = await service.move(session, inspection_id, move, if_match, actor)
    response.headers["ETag"] = service.etag(inspection)
    return service.to_read(inspection, unit)


@router.get(
    "/inspections/{inspection_id}/history",
    operation_id="list_inspection_history",
    summary="Every move of an inspection through its phases, oldest first",
    responses=problem_responses(404, 422),
)
async def list_inspection_history(
    inspection_id: uuid.UUID, query: Annotated[HistoryQuery, Query()], session: SessionDep, actor: CurrentActor
) -> Page[StatusChangeRead]:
    return await service.history(session, inspection_id, query)


@router.get(
    "/inspections/{inspection_id}/summary",
    operation_id="get_inspection_summary",
    summary="An inspection with its unit, framework, ratings table and progress, for dashboards and reports",
    description=(
        "The ratings table comes from the latest rating snapshot (null before the first rating run); "
        "`ratings.published` says whether the inspection was published with it. Progress counts the cases "
        "in each sample, the assessments recorded for them, and the judgements recorded for the judged "
        "standards. The `ETag` changes whenever anything in the summary may have; send it back in "
        "If-None-Match to be answered 304 while nothing has."
    ),
    response_model=InspectionSummary,
    responses={
        200: {"headers": {"ETag": {"description": "The state of the summary.", "schema": {"type": "string"}}}},
        304: {"description": "Nothing in the summary has changed since the ETag sent in If-None-Match."},
        **problem_responses(404, 422),
    },
)
async def get_inspection_summary(
    inspection_id: uuid.UUID, request: Request, actor: CurrentActor, if_none_match: IfNoneMatch = None
) -> Response:
    document = await read_summary(request, inspection_id)
    headers = {"ETag": document.etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and matches_any(document.etag, if_none_match):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type="application/json", headers=headers)


@router.get(
    "/units/{unit_id}/ratings-history",
    operation_id="get_unit_ratings_history",
    summary="A unit's inspections over time with their overall ratings, newest first",
    description=(
        "Each inspection with the overall rating and score it was published with, or, before publication, "
        "those of its latest rating snapshot (`rating_basis` says which). Withdrawn inspections are listed "
        "without a rating."
    ),
    responses=problem_responses(404, 422),
)
async def get_unit_ratings_history(
    unit_id: uuid.UUID, query: Annotated[RatingsHistoryQuery, Query()], session: SessionDep, actor: CurrentActor
) -> Page[RatingsHistoryEntry]:
    return await service.ratings_history(session, unit_id, query)
