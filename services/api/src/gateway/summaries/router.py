"""The summary of an inspection: the read dashboards poll, served from each process's held documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from gateway.actors import CurrentActor
from gateway.permissions import Permission, requires
from gateway.preconditions import matches_any
from gateway.ratings.schemas import VersionQuery
from gateway.summaries.documents import read_summary
from gateway.summaries.schemas import InspectionSummary
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["inspections"])

IfNoneMatch = Annotated[str | None, Header(description="The ETag of a summary you hold.")]


@router.get(
    "/inspections/{inspection_id}/summary",
    summary="An inspection with its unit, framework, ratings table and progress, for dashboards and reports",
    description=(
        "The ratings table comes from the latest rating snapshot (null before the first rating run): after "
        "publication, that of the latest published version. With `version`, that of the published version "
        "asked for (404 for a version it does not have). `publication` says when it was published, which "
        "version is shown, and every correction since (when, by whom and why), and whether it was withdrawn. "
        "Progress counts the cases "
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
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def get_inspection_summary(
    inspection_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    if_none_match: IfNoneMatch = None,
    version: VersionQuery = None,
) -> Response:
    document = await read_summary(request, inspection_id, actor, version)
    headers = {"ETag": document.etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and matches_any(document.etag, if_none_match):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type="application/json", headers=headers)
