"""Page 4, the national picture, from the gateway's statistics of published inspections: the ratings of
each standard, the trends by programme year, and the pooled key questions, filtered by programme,
region and programme year."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from dashboard import charts
from dashboard.pages import RATINGS, ViewerDep, render
from inspection_shared.charts import Bar

router = APIRouter(include_in_schema=False)

COUNTED = (*RATINGS, "not_rated")
BAND_EDGES = (50.0, 65.0, 80.0)


def _ratings_chart(statistics: dict) -> Markup:
    rows = [("Overall", statistics["overall"])] + [
        (f"{s['standard']} {s['name'] or ''}".strip()[:18], s["ratings"]) for s in statistics["standards"]
    ]
    drawn = tuple((label, tuple((band, counts[band]) for band in COUNTED)) for label, counts in rows)
    return charts.stacked("chart-ratings", "Ratings of each standard, published inspections", drawn)


def _key_question_charts(statistics: dict) -> list[tuple[str, Markup, list[dict]]]:
    """A chart per standard of its key questions' pooled percentages, with the rows it draws."""
    standards: dict[tuple[str, str], list[dict]] = {}
    for kq in statistics["key_questions"]:
        standards.setdefault((kq["framework_id"], kq["standard"]), []).append(kq)
    drawn = []
    for (framework_id, standard), rows in standards.items():
        bars = tuple(Bar(kq["key_question"], kq["percent"], tuple(kq["interval"]) if kq.get("interval") else None,
                         _band(kq["percent"])) for kq in rows)
        chart = charts.key_questions(f"{framework_id}-{standard}", f"{standard} ({framework_id})", bars, BAND_EDGES)
        drawn.append((f"{standard} ({framework_id})", chart, rows))
    return drawn


def _band(percent: float | None) -> str | None:
    if percent is None:
        return None
    edges = zip(BAND_EDGES[::-1], ("outstanding", "good", "requires_improvement"), strict=True)
    return next((band for edge, band in edges if percent >= edge), "inadequate")


@router.get("/national")
async def national_page(
    request: Request, viewer: ViewerDep, programme: str | None = None, region: str | None = None,
    year: str | None = None,
) -> Response:
    token = await viewer.token()
    gateway = viewer.gateway
    filters = {"programme": programme or None, "region_id": region or None}
    ratings, key_questions, trends, regions = await asyncio.gather(
        gateway.statistics(token, "ratings", **filters, year=year),
        gateway.statistics(token, "key-questions", **filters, year=year),
        gateway.statistics(token, "trends", **filters),
        gateway.units(token, type="region"),
    )
    trend_bars = tuple(Bar(y["year"], None if y["mean_score_share"] is None else 100 * y["mean_score_share"])
                       for y in trends["years"])
    trend_chart = charts.bars("chart-trends", "Mean score as a share of the maximum, by programme year", trend_bars)
    return render(
        request, "national.html", ratings=ratings, ratings_chart=_ratings_chart(ratings), trends=trends,
        trend_chart=trend_chart, key_questions=_key_question_charts(key_questions), COUNTED=COUNTED,
        choices={"programme": programme or "", "region": region or "", "year": year or ""},
        regions=sorted(regions, key=lambda unit: unit.name), years=[y["year"] for y in trends["years"]],
    )
