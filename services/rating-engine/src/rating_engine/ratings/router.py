"""HTTP shell of the rating rules: parse the evidence, rate it, return the working."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from inspection_shared.problems import problem_responses
from inspection_shared.rating import RatingRequest, RatingResult
from rating_engine.frameworks.service import resolve_framework
from rating_engine.ratings.examples import RATING_EXAMPLES
from rating_engine.ratings.service import rate
from rating_engine.wire import json_body, json_response, request_body_openapi

router = APIRouter(tags=["ratings"])


@router.post(
    "/ratings",
    operation_id="rate_inspection",
    summary="Rate one inspection's evidence against a framework version, with the working shown",
    description=(
        "Each standard takes cases (answers per key question), counts, or a rating. The response gives "
        "every standard of the framework with its computed and final rating, the key question that drove "
        "it, each key question's exact share, band and Wilson interval, whether it is borderline, how many "
        "answers would move it a band, and the overall score and rating with the band edges around it. "
        "Faults in the evidence are answered 422, each named in `errors`."
    ),
    response_model=RatingResult,
    responses=problem_responses(422),
    openapi_extra=request_body_openapi(RatingRequest, RATING_EXAMPLES),
)
async def rate_inspection(request: Annotated[RatingRequest, Depends(json_body(RatingRequest))]) -> Response:
    return json_response(rate(resolve_framework(request.framework), request))
