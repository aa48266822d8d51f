"""HTTP shell of pooled ratings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from inspection_shared.problems import problem_responses
from inspection_shared.rating import PooledRatingRequest, PooledRatingResult
from rating_engine.frameworks.service import resolve_framework
from rating_engine.pooled.service import rate_pooled
from rating_engine.ratings.examples import POOLED_EXAMPLES
from rating_engine.wire import json_body, json_response, request_body_openapi

router = APIRouter(tags=["ratings"])


@router.post(
    "/ratings/pooled",
    operation_id="rate_pooled",
    summary="Pool several units' case answers into one rating per standard, with each unit's figures",
    description=(
        "For regional ratings and delivery-partner judgements: the case answers (or counts) of several "
        "units' inspections are pooled per key question and rated by the framework's rules. An optional "
        "`case_filter` pools only matching cases (e.g. those with an unpaid work requirement)."
    ),
    response_model=PooledRatingResult,
    responses=problem_responses(422),
    openapi_extra=request_body_openapi(PooledRatingRequest, POOLED_EXAMPLES),
)
async def rate_pooled_units(
    request: Annotated[PooledRatingRequest, Depends(json_body(PooledRatingRequest))],
) -> Response:
    return json_response(rate_pooled(resolve_framework(request.framework), request))
