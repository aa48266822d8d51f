"""The programme: capacity and frequency, the criteria topics are prioritised by, topics and their ranking."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from gateway.db import SessionDep
from gateway.engines import SamplingDep
from gateway.permissions import Permission, requires
from gateway.programme import capacity, service
from gateway.programme.schemas import (
    CapacityRead,
    CapacityRequest,
    CriteriaRead,
    CriterionRead,
    Ranking,
    TopicCreate,
    TopicFilters,
    TopicListQuery,
    TopicRead,
    TopicUpdate,
    WeightChange,
)
from gateway.programme.sizing import __doc__ as SIZING
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(prefix="/programme", tags=["programme"])

_ETAG = {"ETag": {"description": "Version of the record; send it back in If-Match to change it.",
                  "schema": {"type": "string"}}}
IfMatch = Annotated[str | None, Header(description="The ETag of your last read.")]


@router.post(
    "/capacity",
    summary="How often the PDUs can be inspected: a sample per PDU and a sample per region, side by side",
    description=SIZING,
    responses=problem_responses(422, 502, 503, 504),
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def count_capacity(data: CapacityRequest, session: SessionDep, sampling: SamplingDep) -> CapacityRead:
    return await capacity.capacity(session, sampling, data)


@router.get(
    "/criteria",
    summary="The criteria topics are prioritised by, in their groups, with their weights and every change",
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def list_criteria(session: SessionDep) -> CriteriaRead:
    return await service.list_criteria(session)


@router.get(
    "/criteria/{criterion_id}",
    summary="One criterion, its weight and every change of it",
    responses={200: {"headers": _ETAG}, **problem_responses(404)},
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def get_criterion(criterion_id: str, response: Response, session: SessionDep) -> CriterionRead:
    criterion, response.headers["ETag"] = await service.get_criterion(session, criterion_id)
    return criterion


@router.put(
    "/criteria/{criterion_id}",
    summary="Change a criterion's weight, saying why",
    description="Send If-Match with the ETag of your last read: 428 without it, 412 if changed since.",
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def change_criterion_weight(criterion_id: str, change: WeightChange, response: Response, session: SessionDep,
                                  if_match: IfMatch = None) -> CriterionRead:
    criterion, response.headers["ETag"] = await service.change_weight(session, criterion_id, change, if_match)
    return criterion


@router.get(
    "/topics",
    summary="Thematic inspection and research topics, by programme year and name",
    responses=problem_responses(422),
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def list_topics(query: Annotated[TopicListQuery, Query()], session: SessionDep) -> Page[TopicRead]:
    return await service.list_topics(session, query)


@router.post(
    "/topics",
    summary="Add a thematic inspection or research topic, with a score and rationale per criterion",
    status_code=201,
    responses={201: {"headers": {**_ETAG, "Location": {"schema": {"type": "string"}}}},
               **problem_responses(409, 422)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def create_topic(data: TopicCreate, request: Request, response: Response, session: SessionDep) -> TopicRead:
    topic, response.headers["ETag"] = await service.create_topic(session, data)
    response.headers["Location"] = request.app.url_path_for("programme.get_topic", topic_id=str(topic.id))
    return topic


@router.get(
    "/topics/ranking",
    summary="The topics ranked by their weighted totals, each total shown criterion by criterion",
    description=service.scoring.__doc__,
    responses=problem_responses(422),
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def rank_topics(filters: Annotated[TopicFilters, Query()], session: SessionDep) -> Ranking:
    return await service.ranking(session, filters)


@router.get(
    "/topics/{topic_id}",
    name="programme.get_topic",
    summary="One topic and its scores",
    responses={200: {"headers": _ETAG}, **problem_responses(404)},
    dependencies=[requires(Permission.PROGRAMME_READ)],
)
async def get_topic(topic_id: uuid.UUID, response: Response, session: SessionDep) -> TopicRead:
    topic, response.headers["ETag"] = await service.get_topic(session, topic_id)
    return topic


@router.patch(
    "/topics/{topic_id}",
    summary="Change a topic's status, lead, partners, groups or scores",
    description="Scores sent replace those on the same criteria. Send If-Match with the ETag of your last "
    "read: 428 without it, 412 if changed since.",
    responses={200: {"headers": _ETAG}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.PROGRAMME_WRITE)],
)
async def update_topic(topic_id: uuid.UUID, changes: TopicUpdate, response: Response, session: SessionDep,
                       if_match: IfMatch = None) -> TopicRead:
    topic, response.headers["ETag"] = await service.update_topic(session, topic_id, changes, if_match)
    return topic
