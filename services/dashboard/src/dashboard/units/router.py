"""Page 1, the units with their latest published ratings; page 2, one unit's ratings history."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dashboard.pages import RATING_LABELS, RATINGS, ViewerDep, render
from dashboard.units.service import NOT_INSPECTED, RATING_ORDER, SORTS, UnitFilters, distribution, filtered, unit_rows

router = APIRouter(include_in_schema=False)

TYPE_LABELS = {"pdu": "PDU", "yos": "YOS", "region": "Region"}
FILTER_LABELS = {"region": "Region", "type": "Unit type", "rating": "Latest rating", "overdue": "Overdue"}


def _choices(everything: str, options: list[tuple[str, str]], chosen: str | None) -> list[dict]:
    """A select's items: `everything` first, then each option, the chosen one selected."""
    return [{"value": "", "text": everything}] + [
        {"value": value, "text": text, "selected": value == chosen} for value, text in options
    ]


@router.get("/")
async def units_page(
    request: Request, viewer: ViewerDep, region: str | None = None, type: str | None = None,
    rating: str | None = None, overdue: str | None = None, sort: str = "name", order: str = "asc",
) -> Response:
    token = await viewer.token()
    units, published = await asyncio.gather(
        viewer.gateway.units(token), viewer.gateway.inspections(token, status="published"),
    )
    interval = request.app.state.settings.inspection_interval_days
    rows = unit_rows(units, published, date.today(), interval)
    filters = UnitFilters(region or None, type or None, rating or None, overdue == "yes",
                          sort if sort in SORTS else "name", order == "desc")
    shown = filtered(rows, filters)
    query = {k: v for k, v in {"region": region, "type": type, "rating": rating, "overdue": overdue}.items() if v}

    def sort_link(column: str) -> str:
        descending = filters.sort == column and not filters.descending
        return "/?" + urlencode({**query, "sort": column, "order": "desc" if descending else "asc"})

    regions = sorted({(row.region_code, row.region_name) for row in rows if row.region_name}, key=lambda r: r[1])
    named = {"region": dict(regions), "type": TYPE_LABELS, "rating": {**RATING_LABELS, NOT_INSPECTED: "No published inspection"},
             "overdue": {"yes": "Only overdue units"}}
    # The filters applied, each a tag whose link is this page without it (MoJ Frontend's filter pattern).
    selected = [
        {"label": FILTER_LABELS[key], "value": named[key].get(value, value),
         "remove": "/?" + urlencode({**{k: v for k, v in query.items() if k != key}, "sort": filters.sort,
                                     "order": "desc" if filters.descending else "asc"})}
        for key, value in query.items()
    ]
    choices = {
        "region": _choices("All regions", regions, filters.region),
        "type": _choices("All types", [(t, TYPE_LABELS.get(t, t.capitalize())) for t in sorted({r.unit.type for r in rows})],
                         filters.type),
        "rating": _choices("Any rating", [*((code, RATING_LABELS[code]) for code in RATINGS),
                                          (NOT_INSPECTED, "No published inspection")], filters.rating),
    }
    return render(
        request, "units.html", rows=shown, total=len(rows), counts=distribution(shown), filters=filters,
        choices=choices, sort_link=sort_link, NOT_INSPECTED=NOT_INSPECTED, interval_years=round(interval / 365, 1),
        selected=selected, RATING_ORDER=RATING_ORDER,
    )


@router.get("/units/{unit_id}")
async def unit_page(unit_id: uuid.UUID, request: Request, viewer: ViewerDep) -> Response:
    token = await viewer.token()
    unit, history = await asyncio.gather(
        viewer.gateway.unit(token, str(unit_id)), viewer.gateway.ratings_history(token, str(unit_id)),
    )
    summaries = await viewer.gateway.summaries(token, [item["inspection_id"] for item in history], viewer=viewer.id)
    standards: dict[str, str] = {}  # code: name, in the frameworks' order
    ratings: dict[str, dict[str, str | None]] = {}
    for item in history:
        summary = summaries.get(item["inspection_id"]) or {}
        by_standard = {}
        for standard in (summary.get("ratings") or {}).get("standards", []):
            standards.setdefault(standard["standard"], standard["name"])
            by_standard[standard["standard"]] = standard.get("rating")
        ratings[item["inspection_id"]] = by_standard
    return render(request, "unit.html", unit=unit, history=history, standards=standards, ratings=ratings)
