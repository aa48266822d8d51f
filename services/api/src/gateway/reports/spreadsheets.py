"""The report's tables as CSV (one table) and as an XLSX workbook (a sheet each, after a sheet saying
what the report is of). A draft says so first: a line before the header in CSV, a note above each
sheet's header in XLSX.

The workbook is written by XlsxWriter in its constant-memory mode, which writes each row out as it comes
and so holds about one row at a time whatever the size of the report. Numbers stay numbers; percentages
and shares are stored as fractions with a percentage format, so a spreadsheet shows 73.3% and computes
with 0.733; the header row of every sheet is frozen.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import xlsxwriter

from gateway.reports.schemas import Report, ReportTable
from gateway.reports.tables import DRAFT_NOTE, TABLES, Kind, Table, head_lines
from inspection_shared.exports import csv_text


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def csv_table(report: Report, name: ReportTable) -> bytes:
    """One table as CSV (RFC 4180), values as the JSON report gives them."""
    table = TABLES[name](report)
    header = [column.name for column in table.columns]
    rows = ([_text(value) for value in row] for row in table.rows)
    # RFC 4180's line ends, as the report's CSV has always had.
    return csv_text(header, rows, before=[[DRAFT_NOTE]] if report.draft else [], line_end="\r\n").encode()


_FORMATS: dict[Kind, dict[str, Any]] = {
    "integer": {"num_format": "0"},
    "number": {"num_format": "0.00"},
    "percent": {"num_format": "0.0%"},
    "share": {"num_format": "0.0%"},
    "datetime": {"num_format": "yyyy-mm-dd hh:mm"},
}
_WIDEST = 60


class _Workbook:
    def __init__(self, buffer: io.BytesIO):
        self.book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "remove_timezone": True})
        self.formats = {kind: self.book.add_format(spec) for kind, spec in _FORMATS.items()}
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.bold = self.book.add_format({"bold": True})
        self.note = self.book.add_format({"bold": True, "font_color": "#d4351c"})

    def sheet(self, title: str, headers: list[str], widths: list[int], draft: bool) -> tuple[Any, int]:
        """A sheet with the draft note (if any) and its header row, frozen; the first row left for data."""
        sheet = self.book.add_worksheet(title)
        for i, width in enumerate(widths):
            sheet.set_column(i, i, min(width, _WIDEST))
        row = 0
        if draft:
            sheet.write_string(row, 0, DRAFT_NOTE, self.note)
            row += 1
        for i, header in enumerate(headers):
            sheet.write_string(row, i, header, self.bold)
        sheet.freeze_panes(row + 1, 0)
        return sheet, row + 1

    def cell(self, sheet: Any, row: int, col: int, value: Any, kind: Kind = "text") -> None:
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, datetime):
            sheet.write_datetime(row, col, value, self.formats["datetime"])
        elif isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), self.date)
        elif isinstance(value, int | float):
            number = value / 100 if kind == "percent" else value
            sheet.write_number(row, col, number, self.formats.get(kind))
        else:
            sheet.write_string(row, col, str(value))

    def table(self, table: Table, draft: bool) -> None:
        widths = [max(len(c.name), *(len(str(r[i])) for r in table.rows), 8) + 2 for i, c in enumerate(table.columns)]
        sheet, first = self.sheet(table.title, [c.name for c in table.columns], widths, draft)
        for n, row in enumerate(table.rows):
            for i, (column, value) in enumerate(zip(table.columns, row, strict=True)):
                self.cell(sheet, first + n, i, value, column.kind)
        if table.rows:
            sheet.autofilter(first - 1, 0, first - 1 + len(table.rows), len(table.columns) - 1)


def xlsx_workbook(report: Report) -> bytes:
    """The report as a workbook: a sheet saying what it is of, then one sheet per table (PDUs only for an
    inspection of a region)."""
    buffer = io.BytesIO()
    workbook = _Workbook(buffer)
    lines = head_lines(report)
    sheet, first = workbook.sheet("Report", ["item", "value"], [22, max(len(str(v)) for _, v in lines) + 2],
                                  report.draft)
    for n, (label, value) in enumerate(lines):
        workbook.cell(sheet, first + n, 0, label)
        workbook.cell(sheet, first + n, 1, value)
    for name, build in TABLES.items():
        if name is ReportTable.PDUS and not report.pdus:
            continue  # only an inspection of a region has PDUs to report
        workbook.table(build(report), report.draft)
    workbook.book.close()
    return buffer.getvalue()
