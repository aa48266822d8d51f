"""Programme plans: made from rules and the registry, read, edited slot by slot, suspended and re-flowed,
and a slot made a planned inspection. Staff only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from gateway.db import SessionDep
from gateway.engines import SamplingDep
from gateway.pagination import PageQuery
from gateway.permissions import Permission, requires
from gateway.programme import plan_edits, plan_rules, plans, published
from gateway.programme.plan_schemas import (
    PlanCreate,
    PlanRead,
    PlanSummary,
    SlotAdd,
    SlotChange,
    SlotInspection,
    SuspensionCreate,
)
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(prefix="/programme/plans", tags=["programme"])
published_router = APIRouter(prefix="/programme/published", tags=["programme"])

_ETAG = {"ETag": {"description": "Version of the plan; send it back in If-Match to change it.",
                  "schema": {"type": "string"}}}
_CHANGE = "Send If-Match with the plan's ETag: 428 without it, 412 if the plan changed since."
IfMatch = Annotated[str | None, Header(description="The plan's ETag of your last read.")]


@router.post(
    "",
    summary="Make a plan of inspections by quarter from rules, capacity, a seed and the registry",
    description=plan_rules.__doc__,
    status_code=201,
    responses={201: {"headers": {**_ETAG, "Location": {"schema": {"type": "string"}}}},
               **problem_responses(409, 422, 502, 503, 504)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def create_plan(data: PlanCreate, request: Request, response: Response, session: SessionDep,
                      sampling: SamplingDep) -> PlanRead:
    plan, response.headers["ETag"] = await plans.create_plan(session, sampling, data)
    response.headers["Location"] = request.app.url_path_for("programme.get_plan", plan_id=str(plan.id))
    return plan


@router.get(
    "",
    summary="Plans, latest programme year first",
    responses=problem_responses(422),
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def list_plans(query: Annotated[PageQuery, Query()], session: SessionDep) -> Page[PlanSummary]:
    return await plans.list_plans(session, query)


@router.get(
    "/{plan_id}",
    name="programme.get_plan",
    summary="One plan: its quarters with their slots and capacity used, what was not placed, its re-flows",
    responses={200: {"headers": _ETAG}, **problem_responses(404)},
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def get_plan(plan_id: uuid.UUID, response: Response, session: SessionDep) -> PlanRead:
    plan, response.headers["ETag"] = await plans.get_plan(session, plan_id)
    return plan


@router.post(
    "/{plan_id}/slots",
    summary="Add an inspection to the plan by hand: a unit, or a commissioned body outside the tree",
    description=_CHANGE,
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def add_plan_slot(plan_id: uuid.UUID, data: SlotAdd, response: Response, session: SessionDep,
                        if_match: IfMatch = None) -> PlanRead:
    plan, response.headers["ETag"] = await plan_edits.add_slot(session, plan_id, data, if_match)
    return plan


@router.patch(
    "/{plan_id}/slots/{slot_id}",
    summary="Move a slot to another quarter, or change its kind or partners, saying why",
    description="An owed unit's slot goes no later than its deadline's quarter (422); a slot made an inspection "
    "already is not changed (409). " + _CHANGE,
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def change_plan_slot(plan_id: uuid.UUID, slot_id: uuid.UUID, change: SlotChange, response: Response,
                           session: SessionDep, if_match: IfMatch = None) -> PlanRead:
    plan, response.headers["ETag"] = await plan_edits.change_slot(session, plan_id, slot_id, change, if_match)
    return plan


@router.delete(
    "/{plan_id}/slots/{slot_id}",
    summary="Remove a slot from the plan",
    description="A slot made an inspection already is not removed (409). " + _CHANGE,
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def remove_plan_slot(plan_id: uuid.UUID, slot_id: uuid.UUID, response: Response, session: SessionDep,
                           if_match: IfMatch = None) -> PlanRead:
    plan, response.headers["ETag"] = await plan_edits.remove_slot(session, plan_id, slot_id, if_match)
    return plan


@router.post(
    "/{plan_id}/suspensions",
    summary="Suspend a quarter with a reason, and re-flow its slots to later quarters where capacity allows",
    description="Each slot of the quarter goes to the earliest later quarter with room, what is owed first and "
    "never past its deadline's quarter; the rest are listed as not placed. A slot made an inspection already "
    "stays in the quarter, listed as kept. The re-flow is kept with its reason. " + _CHANGE,
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def suspend_plan_quarter(plan_id: uuid.UUID, data: SuspensionCreate, response: Response, session: SessionDep,
                               if_match: IfMatch = None) -> PlanRead:
    plan, response.headers["ETag"] = await plan_edits.suspend(session, plan_id, data, if_match)
    return plan


@router.post(
    "/{plan_id}/slots/{slot_id}/inspection",
    summary="Make a slot a planned inspection of its unit (needs inspections:plan on the unit too)",
    status_code=201,
    responses={201: {"headers": {**_ETAG, "Location": {"schema": {"type": "string"}}}},
               **problem_responses(403, 404, 409, 422)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def plan_slot_inspection(plan_id: uuid.UUID, slot_id: uuid.UUID, data: SlotInspection, request: Request,
                               response: Response, session: SessionDep) -> PlanRead:
    inspection_id, _ = await plan_edits.make_inspection(session, plan_id, slot_id, data)
    response.headers["Location"] = request.app.url_path_for("inspections.get_inspection",
                                                            inspection_id=str(inspection_id))
    plan, response.headers["ETag"] = await plans.get_plan(session, plan_id)
    return plan


@router.post(
    "/{plan_id}/publish",
    summary="Publish the plan as the programme: what is inspected when, readable by readers of inspections",
    description="The reasons each unit was chosen stay with staff. " + _CHANGE,
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def publish_plan(plan_id: uuid.UUID, response: Response, session: SessionDep, if_match: IfMatch = None
                       ) -> PlanRead:
    plan, response.headers["ETag"] = await plan_edits.publish(session, plan_id, if_match)
    return plan


@published_router.get(
    "",
    summary="The programmes published, latest programme year first",
    responses=problem_responses(422),
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def list_published(query: Annotated[PageQuery, Query()], session: SessionDep) -> Page[published.PublishedSummary]:
    return await published.published_programmes(session, query)


@published_router.get(
    "/{plan_id}",
    summary="A published programme: its inspections by quarter, postponements, and the thematic inspections and "
    "research agreed for its years",
    responses=problem_responses(404),
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def get_published(plan_id: uuid.UUID, session: SessionDep) -> published.PublishedProgramme:
    return await published.published_programme(session, plan_id)
