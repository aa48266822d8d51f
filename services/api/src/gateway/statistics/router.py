"""National and annual statistics across published inspections, as JSON or CSV."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from gateway.db import SessionDep
from gateway.permissions import Permission, requires
from gateway.statistics import service, tables
from gateway.statistics.schemas import (
    AnnualStatistics,
    KeyQuestionStatistics,
    RatingStatistics,
    StatisticsFilters,
    StatisticsFormat,
    StatisticsQuery,
    Trends,
)
from inspection_shared.problems import problem_responses

router = APIRouter(prefix="/statistics", tags=["statistics"])

CSV = "text/csv"
_ANSWERS = {
    200: {"content": {CSV: {"schema": {"type": "string"}}},
          "description": "JSON by default; CSV with ?format=csv or Accept: text/csv."},
    **problem_responses(422),
}
_COUNTED = (
    " Counts published inspections only, each with the latest version it was published in (withdrawn ones "
    "leave the figures), of the units where the caller holds `reports:read`. Filters: programme (probation "
    "or youth), framework_id, region_id, unit_type"
)
_PERIOD = (
    ", and the period: year (a programme year, 2024-25, from 1 April) or from / to (days, both included), "
    "by the first day of fieldwork."
)
_MEDIA_RANGE = re.compile(r"^\s*([^;\s]+)\s*(?:;.*?\bq\s*=\s*([0-9.]+))?", re.IGNORECASE)


def _quality(accept: str, media_type: str) -> float:
    """The quality the Accept header gives a media type named exactly (0 when it does not name it)."""
    for part in accept.split(","):
        matched = _MEDIA_RANGE.match(part)
        if matched and matched.group(1).lower() == media_type:
            try:
                return float(matched.group(2) or 1)
            except ValueError:
                return 0.0
    return 0.0


def _chosen(asked: StatisticsFormat | None, request: Request) -> StatisticsFormat:
    """?format= if given; else CSV where Accept names text/csv above application/json; else JSON."""
    if asked is not None:
        return asked
    accept = request.headers.get("accept") or ""
    csv_quality = _quality(accept, CSV)
    return StatisticsFormat.CSV if csv_quality > 0 and csv_quality >= _quality(accept, "application/json") else (
        StatisticsFormat.JSON
    )


def _answer(
    figures: BaseModel, asked: StatisticsFormat | None, request: Request, as_csv: Callable[[Any], str], name: str
) -> Any:
    if _chosen(asked, request) is StatisticsFormat.JSON:
        return figures
    return Response(
        as_csv(figures), media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statistics-{name}.csv"', "Vary": "Accept"},
    )


@router.get(
    "/ratings",
    summary="Per standard and overall, how many published inspections got each rating",
    description="Per standard of each framework version, and overall across them." + _COUNTED + _PERIOD,
    response_model=RatingStatistics,
    responses=_ANSWERS,
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_rating_statistics(
    query: Annotated[StatisticsQuery, Query()], request: Request, session: SessionDep
) -> Any:
    figures = await service.rating_statistics(session, query)
    return _answer(figures, query.format, request, tables.ratings_csv, "ratings")


@router.get(
    "/key-questions",
    summary="Each key question's cases pooled across published inspections, with its 80% interval",
    description="Per key question of each framework version: yes and applicable cases summed over the "
    "inspections, the percentage, its Wilson interval at 80% confidence, and how many inspections it "
    "applied to." + _COUNTED + _PERIOD,
    response_model=KeyQuestionStatistics,
    responses=_ANSWERS,
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_key_question_statistics(
    query: Annotated[StatisticsQuery, Query()], request: Request, session: SessionDep
) -> Any:
    figures = await service.key_question_statistics(session, query)
    return _answer(figures, query.format, request, tables.key_questions_csv, "key-questions")


@router.get(
    "/trends",
    summary="By programme year, the overall ratings and the mean score as a share of the maximum",
    description="One entry per programme year with published inspections, oldest first." + _COUNTED + _PERIOD,
    response_model=Trends,
    responses=_ANSWERS,
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_statistics_trends(
    query: Annotated[StatisticsQuery, Query()], request: Request, session: SessionDep
) -> Any:
    figures = await service.trends(session, query)
    return _answer(figures, query.format, request, tables.trends_csv, "trends")


@router.get(
    "/annual/{year}",
    summary="The dataset of an annual report: a programme year's statistics, the year before's, and the change",
    description="The ratings, key questions and overall figures of the programme year (such as 2024-25) and "
    "of the year before, and the change between them: counts as differences, percentages in points. "
    "Usually asked with programme=probation or programme=youth." + _COUNTED + "; an inspection is in the "
    "year its fieldwork started in.",
    response_model=AnnualStatistics,
    responses=_ANSWERS,
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_annual_statistics(
    year: Annotated[str, Path(description="A programme year, such as 2024-25.", examples=["2024-25"])],
    query: Annotated[StatisticsFilters, Query()],
    request: Request,
    session: SessionDep,
) -> Any:
    figures = await service.annual_statistics(session, year, query)
    return _answer(figures, query.format, request, tables.annual_csv, f"annual-{figures.year}")
