"""Which format a report is answered in, from `?format=` or else the `Accept` header, and writing it.

JSON is the default (no Accept, or `*/*`). A format asked for that is not one of the five, or an Accept
header none of whose media ranges any of them matches, is a 406 problem listing the formats there are;
so is PDF where WeasyPrint cannot be loaded (`pages.PdfUnavailable`).
"""

from __future__ import annotations

from collections.abc import Callable

from gateway import negotiation
from gateway.reports.pages import PdfUnavailable, html_page, pdf_document, weasyprint
from gateway.reports.schemas import Report, ReportFormat, ReportTable
from gateway.reports.spreadsheets import csv_table, xlsx_workbook
from inspection_shared.problems import FieldError, InvalidInput, Problem

MEDIA_TYPES: dict[ReportFormat, str] = {
    ReportFormat.JSON: "application/json",
    ReportFormat.HTML: "text/html",
    ReportFormat.CSV: "text/csv",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}
"""In the order a wildcard (`*/*`, `text/*`) is matched: JSON first."""
CHARSETS = {ReportFormat.HTML, ReportFormat.CSV}
"""Text formats, sent with `charset=utf-8`."""

RENDERERS: dict[ReportFormat, Callable[[Report, ReportTable | None], bytes]] = {
    ReportFormat.CSV: lambda report, table: csv_table(report, table_of_csv(table)),
    ReportFormat.XLSX: lambda report, _: xlsx_workbook(report),
    ReportFormat.HTML: lambda report, _: html_page(report),
    ReportFormat.PDF: lambda report, _: pdf_document(report),
}
"""Every format but JSON, which is held ready (see `documents`)."""

def table_of_csv(table: ReportTable | None) -> ReportTable:
    """The table a CSV report is of: `?table=` must name one (422 otherwise)."""
    if table is None:
        tables = ", ".join(ReportTable)
        raise InvalidInput(
            f"A CSV report is one table: name it with ?table= (one of {tables}).",
            [FieldError(field="query.table", message=f"required for CSV: one of {tables}")],
        )
    return table


def available() -> list[ReportFormat]:
    """The formats this process can write: all five, less PDF where WeasyPrint cannot be loaded."""
    try:
        weasyprint()
    except PdfUnavailable:
        return [f for f in MEDIA_TYPES if f is not ReportFormat.PDF]
    return list(MEDIA_TYPES)


def not_acceptable(detail: str) -> Problem:
    formats = available()
    listed = ", ".join(f"{f} ({MEDIA_TYPES[f]})" for f in formats)
    return Problem(
        406, "Not acceptable", f"{detail} The report is available as {listed}: ask with ?format= or Accept.",
        slug="not-acceptable", available=[{"format": str(f), "media_type": MEDIA_TYPES[f]} for f in formats],
    )


def negotiate(asked: str | None, accept: str | None) -> ReportFormat:
    """The format to answer in: `?format=` if given, else the most preferred of the Accept header's
    (by quality, then by how exactly it is named, then JSON first), JSON without either."""
    chosen = None
    if asked is not None:
        try:
            chosen = ReportFormat(asked.strip().lower())
        except ValueError:
            raise not_acceptable(f"There is no report format {asked!r}.") from None
    return negotiation.negotiate(chosen, accept, MEDIA_TYPES, lambda accepted: not_acceptable(
        f"None of the media types accepted ({accepted}) is a format of the report."))


def render(report: Report, report_format: ReportFormat, table: ReportTable | None) -> bytes:
    """The report in a format other than JSON; a 406 problem for PDF where it cannot be written."""
    try:
        return RENDERERS[report_format](report, table)
    except PdfUnavailable as unavailable:
        raise not_acceptable(f"PDF cannot be written by this server: WeasyPrint could not be loaded ({unavailable}).") from None
