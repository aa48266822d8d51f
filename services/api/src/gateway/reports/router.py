"""The report of an inspection, in the format a report generator asks for."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from gateway.actors import CurrentActor
from gateway.permissions import Permission, requires
from gateway.preconditions import matches_any
from gateway.reports.documents import ReportDocument, read_report
from gateway.reports.formats import CHARSETS, MEDIA_TYPES, negotiate, render, table_of_csv
from gateway.reports.schemas import Report, ReportFormat, ReportTable
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["reports"])

FormatQuery = Annotated[str | None, Query(
    alias="format", description="json, csv, xlsx, html or pdf; overrides Accept.", examples=["xlsx"]
)]
TableQuery = Annotated[ReportTable | None, Query(description="For CSV, the one table wanted (required).")]
IfNoneMatch = Annotated[str | None, Header(description="The ETag of the report you hold, in this format.")]

_EXTENSIONS = {ReportFormat.CSV: "csv", ReportFormat.XLSX: "xlsx", ReportFormat.PDF: "pdf"}
_DESCRIPTION = """The structured content of the inspection's report: the unit, dates, phase, framework and rules
version, the rating snapshot reported (id, fingerprint) and whether it is a draft; the ratings table; for
each case-based standard each key question's yes / applicable, percent, band and interval, the driver,
borderline flags and how many more yes answers would have lifted it a band; the samples (frame and sample
sizes, the margin of error achieved at 80% confidence, the balance of frame against sample, substitutions
and their reasons); the judgements with their evidence summaries; the published version and its
corrections. No case reference is in any format.

Formats, by `?format=` or `Accept`: JSON (the default); CSV, one table a request (`?table=`); XLSX, a sheet
per table; HTML, a printable A4 page with a chart per case-based standard; PDF, that page rendered. A draft
(not published) is marked as one in every format, and only the inspection's staff may read it; a
published report needs `reports:read` on the inspection's unit. The `ETag` differs by format; send it back
in If-None-Match to be answered 304 while nothing in the report has changed."""


def _filename(document: ReportDocument, report_format: ReportFormat, table: ReportTable | None) -> str:
    code = re.sub(r"[^A-Za-z0-9_-]", "_", document.report.unit.code)
    parts = ["inspection-report", code, str(document.report.inspection_id)[:8]]
    parts += [str(table)] if table else []
    parts += ["draft"] if document.report.draft else []
    return f"{'-'.join(parts)}.{_EXTENSIONS[report_format]}"


@router.get(
    "/inspections/{inspection_id}/report",
    summary="The inspection's report, whole, as JSON, CSV, XLSX, HTML or PDF",
    description=_DESCRIPTION,
    response_model=Report,
    responses={
        200: {
            "headers": {"ETag": {"description": "The state of the report, in this format.", "schema": {"type": "string"}}},
            "content": {media_type: {} for media_type in MEDIA_TYPES.values() if media_type != "application/json"},
        },
        304: {"description": "Nothing in the report has changed since the ETag sent in If-None-Match."},
        **problem_responses(404, 406, 422),
    },
    dependencies=[requires(Permission.REPORTS_READ)],
)
async def get_inspection_report(
    inspection_id: uuid.UUID,
    request: Request,
    actor: CurrentActor,
    report_format: FormatQuery = None,
    table: TableQuery = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    chosen = negotiate(report_format, request.headers.get("accept"))
    if chosen is ReportFormat.CSV:
        table_of_csv(table)
    else:
        table = None
    document = await read_report(request, inspection_id, actor)
    etag = document.etag(chosen, table)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
    if if_none_match is not None and matches_any(etag, if_none_match):
        return Response(status_code=304, headers=headers)
    if chosen is ReportFormat.JSON:
        body = document.json
    else:
        # Written in a worker thread: a workbook or a PDF takes milliseconds to seconds of CPU.
        body = await run_in_threadpool(render, document.report, chosen, table)
    if chosen in _EXTENSIONS:
        disposition = "inline" if chosen is ReportFormat.PDF else "attachment"
        headers["Content-Disposition"] = f'{disposition}; filename="{_filename(document, chosen, table)}"'
    media_type = MEDIA_TYPES[chosen] + ("; charset=utf-8" if chosen in CHARSETS else "")
    return Response(body, media_type=media_type, headers=headers)
