"""The report as a printable A4 page (HTML, from a Jinja2 template) and as PDF (the same page rendered by
WeasyPrint). Each case-based standard has a bar chart of its key questions (`inspection_shared.charts`)
followed by its numbers in a table; a draft carries a banner and a watermark on every page.

WeasyPrint draws text with Pango and HarfBuzz, system libraries from Debian packages (the Dockerfile and
`.ci/run` install them). Where they cannot be loaded the PDF format is unavailable: it is answered as a
406 problem naming the formats that are, and every other format works as before.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import jinja2
from markupsafe import Markup

from gateway.reports.schemas import CaseStandard, Report
from gateway.reports.tables import DRAFT_NOTE
from gateway.voice.service import by_standard
from inspection_shared.charts import Bar, key_question_chart

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES.filters["label"] = lambda code: code.replace("_", " ").capitalize() if code else "Not rated"
_TEMPLATES.filters["percent"] = lambda value, places=1: "" if value is None else f"{value:.{places}f}%"
_TEMPLATES.filters["share"] = lambda value, places=1: "" if value is None else f"{100 * value:.{places}f}%"
_TEMPLATES.filters["blank"] = lambda value: "" if value is None else value
PDF_LIBRARIES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core")
"""The Debian packages WeasyPrint needs."""


class PdfUnavailable(Exception):
    """WeasyPrint, or the system libraries it loads, cannot be loaded in this process."""


def _chart(standard: CaseStandard, report: Report) -> Markup:
    thresholds = report.ratings.key_question_thresholds if report.ratings else None
    edges = (thresholds.requires_improvement, thresholds.good, thresholds.outstanding) if thresholds else ()
    bars = [Bar(kq.key_question, kq.percent, kq.interval, kq.band) for kq in standard.key_questions]
    # The builder escapes every text it is given.
    return Markup(key_question_chart(standard.standard, standard.name, bars, edges))


def html_page(report: Report) -> bytes:
    """The report as a printable A4 HTML page."""
    charts = {standard.standard: _chart(standard, report) for standard in report.case_standards}
    page = _TEMPLATES.get_template("report.html").render(
        report=report, charts=charts, draft_note=DRAFT_NOTE, voice=by_standard(report.voice)
    )
    return page.encode()


def weasyprint() -> ModuleType:
    """WeasyPrint, loaded on first use; PdfUnavailable if it or its system libraries cannot be."""
    try:
        return importlib.import_module("weasyprint")
    except (ImportError, OSError) as error:
        raise PdfUnavailable(f"{type(error).__name__}: {error}") from error


def pdf_document(report: Report) -> bytes:
    """The report's HTML page rendered to PDF by WeasyPrint."""
    return weasyprint().HTML(string=html_page(report).decode()).write_pdf()
