"""An inspection's page, and its report's exports passed on from the gateway as files."""

from __future__ import annotations

import asyncio
import uuid
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from dashboard.charts import key_questions as chart_of
from dashboard.pages import ViewerDep, render
from inspection_shared.charts import Bar
from inspection_shared.clients.gateway import GatewayError

router = APIRouter(include_in_schema=False)

EXPORTS = (
    # (label, format, table)
    ("Spreadsheet (XLSX)", "xlsx", None),
    ("Printable report (HTML)", "html", None),
    ("PDF", "pdf", None),
    ("Data (JSON)", "json", None),
    ("Ratings (CSV)", "csv", "ratings"),
    ("Key questions (CSV)", "csv", "key_questions"),
    ("Samples (CSV)", "csv", "samples"),
    ("Sample balance (CSV)", "csv", "balance"),
)
NO_REPORT = (404, 409, 422)
"""The gateway's answers to a report of an inspection not rated yet."""


def charts(report: dict) -> dict[str, Markup]:
    """Each case-based standard's chart: the same SVG the report's HTML and PDF draw."""
    thresholds = (report.get("ratings") or {}).get("key_question_thresholds")
    edges = tuple(thresholds[band] for band in ("requires_improvement", "good", "outstanding")) if thresholds else ()
    drawn = {}
    for standard in report["case_standards"]:
        bars = tuple(Bar(kq["key_question"], kq["percent"], tuple(kq["interval"]) if kq.get("interval") else None,
                         kq.get("band")) for kq in standard["key_questions"])
        drawn[standard["standard"]] = chart_of(standard["standard"], standard["name"], bars, edges)
    return drawn


@router.get("/inspections/{inspection_id}")
async def inspection_page(inspection_id: uuid.UUID, request: Request, viewer: ViewerDep) -> Response:
    token = await viewer.token()
    gateway = viewer.gateway

    async def report() -> dict | None:
        try:
            return await gateway.report(token, str(inspection_id))
        except GatewayError as error:
            if error.status in NO_REPORT:
                return None
            raise

    inspection, readiness, found = await asyncio.gather(
        gateway.inspection(token, str(inspection_id)), gateway.readiness(token, str(inspection_id)), report(),
    )
    return render(
        request, "inspection.html", inspection=inspection, readiness=readiness, report=found,
        charts=charts(found) if found else {}, exports=EXPORTS,
    )


@router.get("/inspections/{inspection_id}/report")
async def report_export(
    inspection_id: uuid.UUID,
    viewer: ViewerDep,
    format: Literal["json", "csv", "xlsx", "html", "pdf"] = "xlsx",
    table: Literal["ratings", "key_questions", "samples", "balance"] | None = None,
) -> Response:
    """The report in `format`, from the gateway as the person may read it, saved as the gateway names it."""
    download = await viewer.gateway.report_file(await viewer.token(), str(inspection_id), format, table)
    headers = {"Cache-Control": "no-store"}
    extension = "html" if format == "html" else format
    headers["Content-Disposition"] = download.disposition or (
        f'attachment; filename="inspection-report-{str(inspection_id)[:8]}.{extension}"'
    )
    return Response(download.content, media_type=download.media_type, headers=headers)
