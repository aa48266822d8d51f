"""National and annual statistics across published inspections, as JSON or CSV."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from gateway.db import SessionDep
from gateway.negotiation import negotiate
from gateway.permissions import Permission, requires
from gateway.statistics import service, tables
from gateway.statistics.reads import reads_of
from gateway.statistics.schemas import (
    AnnualStatistics,
    KeyQuestionStatistics,
    RatingStatistics,
    StatisticsFilters,
    StatisticsFormat,
    StatisticsQuery,
    StatisticsTable,
    Trends,
)
from gateway.writes import actor_of
from inspection_shared.problems import Problem, problem_responses

router = APIRouter(prefix="/statistics", tags=["statistics"])

CSV = "text/csv"
_ANSWERS = {
    200: {"content": {CSV: {"schema": {"type": "string"}}},
          "description": "JSON by default; CSV with ?format=csv or Accept: text/csv, holding the figures, or "
                         "with ?table=corrections the corrected and withdrawn inspections in scope."},
    **problem_responses(406, 422),
}
_COUNTED = (
    " Counts published inspections only, each with the latest version it was published in (withdrawn ones "
    "no longer count), of the units where the caller holds `reports:read`. Filters: programme (probation "
    "or youth), framework_id, region_id, unit_type"
)
_AMENDED = (
    " Names, by the same filters, the inspections counted with a correction (`corrections`, with version, "
    "time and reason, and their number `corrected`) and those withdrawn after publication (`withdrawn`: not "
    "counted), newest first; as CSV with ?table=corrections."
)
_PERIOD = (
    ", and the period: year (a programme year, 2024-25, from 1 April) or from / to (days, both included), "
    "by the first day of fieldwork."
)
MEDIA_TYPES = {StatisticsFormat.JSON: "application/json", StatisticsFormat.CSV: CSV}
"""In the order a wildcard is matched: JSON first."""


def _not_acceptable(accepted: str) -> Problem:
    return Problem(
        406, "Not acceptable", f"None of the media types accepted ({accepted}) is one statistics are answered in: "
        "application/json or text/csv (or ask with ?format=json or csv).",
        slug="not-acceptable", available=[{"format": str(f), "media_type": m} for f, m in MEDIA_TYPES.items()],
    )


def _chosen(asked: StatisticsFormat | None, request: Request) -> StatisticsFormat:
    """?format= if given; else the format Accept prefers (JSON without one); a 406 if it accepts neither."""
    return negotiate(asked, request.headers.get("accept"), MEDIA_TYPES, _not_acceptable)


def _answer(
    figures: BaseModel, chosen: StatisticsFormat, table: StatisticsTable, as_csv: Callable[[Any], str], name: str
) -> Any:
    if chosen is StatisticsFormat.JSON:
        return figures
    if table is StatisticsTable.CORRECTIONS:
        as_csv, name = tables.corrections_csv, f"{name}-corrections"
    return Response(
        as_csv(figures), media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statistics-{name}.csv"', "Vary": "Accept"},
    )


@router.get(
    "/ratings",
    summary="Per standard and overall, how many published inspections got each rating",
    description="Per standard of each framework version, and overall across them." + _COUNTED + _PERIOD + _AMENDED,
    response_model=RatingStatistics,
    responses=_ANSWERS,
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_rating_statistics(
    query: Annotated[StatisticsQuery, Query()], request: Request, session: SessionDep
) -> Any:
    chosen = _chosen(query.format, request)
    figures = await service.rating_statistics(reads_of(request, session), actor_of(session), query)
    return _answer(figures, chosen, query.table, tables.ratings_csv, "ratings")


@router.get(
    "/key-questions",
    summary="Each key question's cases pooled across published inspections, with its 80% interval",
    description="Per key question of each framework version: yes and applicable cases summed over the "
    "inspections, the percentage, its Wilson interval at 80% confidence, and how many inspections it "
    "applied to." + _COUNTED + _PERIOD + _AMENDED,
    response_model=KeyQuestionStatistics,
    responses=_ANSWERS,
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_key_question_statistics(
    query: Annotated[StatisticsQuery, Query()], request: Request, session: SessionDep
) -> Any:
    chosen = _chosen(query.format, request)
    figures = await service.key_question_statistics(reads_of(request, session), actor_of(session), query)
    return _answer(figures, chosen, query.table, tables.key_questions_csv, "key-questions")


@router.get(
    "/trends",
    summary="By programme year, the overall ratings and the mean score as a share of the maximum",
    description="One entry per programme year with published inspections, oldest first." + _COUNTED + _PERIOD + _AMENDED,
    response_model=Trends,
    responses=_ANSWERS,
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_statistics_trends(
    query: Annotated[StatisticsQuery, Query()], request: Request, session: SessionDep
) -> Any:
    chosen = _chosen(query.format, request)
    figures = await service.trends(reads_of(request, session), actor_of(session), query)
    return _answer(figures, chosen, query.table, tables.trends_csv, "trends")


@router.get(
    "/annual/{year}",
    summary="The dataset of an annual report: a programme year's statistics, the year before's, and the change",
    description="The ratings, key questions and overall figures of the programme year (such as 2024-25) and "
    "of the year before, and the change between them: counts as differences, percentages in points. "
    "Usually asked with programme=probation or programme=youth." + _COUNTED + "; an inspection is in the "
    "year its fieldwork started in." + _AMENDED + " Those named are of both years.",
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
    chosen = _chosen(query.format, request)
    figures = await service.annual_statistics(reads_of(request, session), actor_of(session), year, query)
    return _answer(figures, chosen, query.table, tables.annual_csv, f"annual-{figures.year}")
