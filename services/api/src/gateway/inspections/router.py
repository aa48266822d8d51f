"""Inspections: planning one, changing its plan, moving it through its phases, the list of them, an
inspection's status history, and its team."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from gateway.db import SessionDep
from gateway.inspections import service, teams, transitions
from gateway.inspections.schemas import (
    InspectionCreate,
    InspectionListQuery,
    InspectionRead,
    InspectionUpdate,
    StatusChangeRead,
    TeamRead,
    TeamWrite,
    TransitionRequest,
)
from gateway.pagination import PageQuery
from gateway.permissions import Permission, requires
from gateway.preconditions import etag
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


@router.get(
    "/inspections",
    summary="Inspections, newest fieldwork first, filtered",
    description=(
        "Filter by unit, region (the region's own inspections and those of the units directly under it), "
        "framework version, year of the first day of fieldwork, status, type and current overall rating; "
        "repeat status, type or rating to match any of several. Inspections without fieldwork dates come last."
    ),
    responses=problem_responses(422),
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def list_inspections(query: Annotated[InspectionListQuery, Query()], session: SessionDep) -> Page[InspectionRead]:
    return await service.list_inspections(session, query)


@router.post(
    "/inspections",
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
    dependencies=[requires(Permission.INSPECTIONS_PLAN)],
)
async def create_inspection(
    data: InspectionCreate, request: Request, response: Response, session: SessionDep
) -> InspectionRead:
    inspection = await service.create_inspection(session, data)
    response.headers["Location"] = request.app.url_path_for("inspections.get_inspection", inspection_id=str(inspection.id))
    response.headers["ETag"] = service.etag(inspection)
    return InspectionRead.model_validate(inspection)


@router.get(
    "/inspections/{inspection_id}",
    name="inspections.get_inspection",
    summary="One inspection",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 422)},
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def get_inspection(inspection_id: uuid.UUID, response: Response, session: SessionDep) -> InspectionRead:
    inspection = await service.read_inspection(session, inspection_id)
    response.headers["ETag"] = service.etag(inspection)
    return InspectionRead.model_validate(inspection)


@router.patch(
    "/inspections/{inspection_id}",
    summary="Change some fields of an inspection's plan",
    description=(
        "Send If-Match with the ETag of your last read: 428 without it, 412 if the inspection has changed "
        "since. A published or withdrawn inspection is frozen (409); the unit and framework version are fixed "
        "at planning (409 if changed); the status moves through the transitions endpoint."
    ),
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.INSPECTIONS_PLAN)],
)
async def update_inspection(
    inspection_id: uuid.UUID,
    changes: InspectionUpdate,
    response: Response,
    session: SessionDep,
    if_match: IfMatch = None,
) -> InspectionRead:
    inspection = await service.update_inspection(session, inspection_id, changes, if_match)
    response.headers["ETag"] = service.etag(inspection)
    return InspectionRead.model_validate(inspection)


@router.post(
    "/inspections/{inspection_id}/transitions",
    summary="Move an inspection to its next phase, or withdraw it",
    description=(
        "planned -> pre_fieldwork (the announcement: fieldwork dates set) -> fieldwork (at least two weeks "
        "after the announcement) -> rating -> published (needs a rating snapshot; freezes the inspection); "
        "withdrawn (with a note) from any phase before publication. A move not allowed from the current "
        "status is a 409 listing the allowed ones in `allowed`. If-Match is optional here: if sent and "
        "stale, 412."
    ),
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 409, 412, 422)},
    dependencies=[requires(Permission.INSPECTIONS_MOVE)],
)
async def move_inspection(
    inspection_id: uuid.UUID,
    move: TransitionRequest,
    response: Response,
    session: SessionDep,
    checks: transitions.EntryChecksDep,
    if_match: IfMatch = None,
) -> InspectionRead:
    inspection = await transitions.move(session, inspection_id, move, if_match, checks)
    response.headers["ETag"] = service.etag(inspection)
    return InspectionRead.model_validate(inspection)


@router.get(
    "/inspections/{inspection_id}/history",
    summary="Every move of an inspection through its phases, oldest first",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def list_inspection_history(
    inspection_id: uuid.UUID, query: Annotated[PageQuery, Query()], session: SessionDep
) -> Page[StatusChangeRead]:
    return await service.history(session, inspection_id, query)


_TEAM_ETAG_HEADER = {
    "ETag": {
        "description": "Version of the team, while it has members; send it back in If-Match to change it.",
        "schema": {"type": "string"},
    }
}


def _team_etag(response: Response, version: str | None) -> None:
    if version is not None:
        response.headers["ETag"] = etag(version)


@router.get(
    "/inspections/{inspection_id}/team",
    summary="The inspection's team: who records its case answers and judgements",
    responses={200: {"headers": _TEAM_ETAG_HEADER}, **problem_responses(404, 422)},
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def get_inspection_team(inspection_id: uuid.UUID, response: Response, session: SessionDep) -> TeamRead:
    team, version = await teams.read_team(session, inspection_id)
    _team_etag(response, version)
    return team


@router.put(
    "/inspections/{inspection_id}/team",
    summary="Set the inspection's team",
    description=(
        "Replaces the whole team. Only its members record case answers and judgements in the inspection "
        "(administrators apart; API keys never). Each member is an active account holding admin, "
        "lead_inspector or inspector on the inspection's unit or a unit above it, named once; a team with "
        "members has exactly one lead_inspector (422 naming each member at fault). A team that has members "
        "changes only with If-Match: 428 without it, 412 if it has changed since your read. Frozen once the "
        "inspection is published or withdrawn (409)."
    ),
    responses={200: {"headers": _TEAM_ETAG_HEADER}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.TEAMS_WRITE)],
)
async def set_inspection_team(
    inspection_id: uuid.UUID, data: TeamWrite, response: Response, session: SessionDep, if_match: IfMatch = None
) -> TeamRead:
    team, version = await teams.set_team(session, inspection_id, data, if_match)
    _team_etag(response, version)
    return team
