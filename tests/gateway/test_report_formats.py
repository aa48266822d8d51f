"""One report, five formats: each read back (csv, openpyxl, the HTML's table cells, the PDF's text) holds
the figures of the JSON report; a draft is marked in every one; the format is chosen by ?format= or
Accept, with 406 and 422 problems for what cannot be; PDF is refused clearly where WeasyPrint cannot be
loaded; and no format holds a case reference."""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from html.parser import HTMLParser

import openpyxl
import pytest
from pypdf import PdfReader

from tests.gateway.inspection_run import PREFIX, run_inspection
from tests.gateway.rated_inspection import rated_inspection

API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLES = ["ratings", "key_questions", "samples", "balance", "substitutions", "judgements", "voice"]


def report_url(inspection_id) -> str:
    return f"{API}/inspections/{inspection_id}/report"


class Tables(HTMLParser):
    """The cells of every table of a page with an id, as text, row by row."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id", f"table-{len(self.tables)}"), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


async def fetch(gateway, inspection_id, **params):
    response = await gateway.get(report_url(inspection_id), params=params)
    assert response.status_code == 200, response.text
    return response


def csv_rows(body: bytes, draft: bool = False) -> list[dict[str, str]]:
    lines = body.decode().splitlines()
    if draft:
        assert lines[0].startswith("DRAFT: this inspection is not published")
        lines = lines[1:]
    return list(csv.DictReader(lines))


def pdf_text(body: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(body)).pages)


@pytest.fixture
async def published(gateway, db_session):
    run = await rated_inspection(gateway, db_session)
    return run, (await fetch(gateway, run.inspection_id)).json()


# --- every format holds the same figures --------------------------------------------------------------


async def test_the_csv_tables_hold_the_json_figures(gateway, published):
    run, report = published
    answered = await fetch(gateway, run.inspection_id, format="csv", table="ratings")
    assert answered.headers["content-type"] == "text/csv; charset=utf-8"
    assert answered.headers["content-disposition"].startswith(f'attachment; filename="inspection-report-{run.unit_code}')
    ratings = csv_rows(answered.content)
    assert [(r["standard"], r["rating"], r["points"]) for r in ratings] == [
        (s["standard"], s["rating"], str(s["points"])) for s in report["ratings"]["standards"]] + [
        ("overall", "good", "19")]
    assert (ratings[-1]["max_points"], ratings[3]["override_reason"], ratings[3]["overridden"]) == (
        "27", report["ratings"]["standards"][3]["override_reason"], "true")

    key_questions = csv_rows((await fetch(gateway, run.inspection_id, format="csv", table="key_questions")).content)
    expected = [(s["standard"], kq) for s in report["case_standards"] for kq in s["key_questions"]]
    assert len(key_questions) == len(expected) == 15
    for row, (standard, kq) in zip(key_questions, expected, strict=True):
        assert (row["standard"], row["key_question"], int(row["yes"]), int(row["applicable"])) == (
            standard, kq["key_question"], kq["yes"], kq["applicable"])
        assert float(row["percent"]) == kq["percent"]
        assert [float(row["interval_low"]), float(row["interval_high"])] == kq["interval"]
        assert (row["band"], row["driver"] == "true") == (kq["band"], kq["driver"])
    assert key_questions[5]["yes_to_lift"] == "1" and key_questions[5]["standard_yes_to_lift"] == "1"

    samples = csv_rows((await fetch(gateway, run.inspection_id, format="csv", table="samples")).content)
    for row, sample in zip(samples, report["samples"], strict=True):
        assert (int(row["frame_cases"]), int(row["eligible_cases"]), int(row["assessed"])) == (
            sample["frame_cases"], sample["eligible_cases"], sample["assessed"])
        assert float(row["margin_of_error"]) == sample["margin_of_error"]
    balance = csv_rows((await fetch(gateway, run.inspection_id, format="csv", table="balance")).content)
    assert [(r["sample_type"], r["variable"], r["level"], int(r["frame_count"]), float(r["sample_share"]))
            for r in balance] == [(s["sample_type"], b["variable"], b["level"], b["frame_count"], b["sample_share"])
                                  for s in report["samples"] for b in s["balance"]]
    substitutions = csv_rows((await fetch(gateway, run.inspection_id, format="csv", table="substitutions")).content)
    assert [r["reason"] for r in substitutions] == [s["reason"] for s in report["substitutions"]]


async def test_the_workbook_holds_the_json_figures_as_numbers_with_percentages_formatted(gateway, published):
    run, report = published
    answered = await fetch(gateway, run.inspection_id, format="xlsx")
    assert answered.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(answered.content))
    assert book.sheetnames == ["Report", "Ratings", "Key questions", "Samples", "Balance", "Substitutions",
                               "Judgements", "Voice"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
    head = {row[0]: row[1] for row in book["Report"].iter_rows(min_row=2, values_only=True)}
    assert (head["Status"], head["Score"], head["Maximum score"], head["Published version"]) == ("Published", 19, 27, 1)
    assert head["Snapshot fingerprint"] == report["snapshot"]["input_fingerprint"]

    ratings = list(book["Ratings"].iter_rows(values_only=True))
    assert ratings[0][:8] == ("standard", "name", "kind", "scored", "status", "computed_rating", "rating", "points")
    assert [(r[0], r[6], r[7]) for r in ratings[1:]] == [
        (s["standard"], s["rating"], s["points"]) for s in report["ratings"]["standards"]] + [("overall", "good", 19)]
    assert ratings[-1][8] == 27 and ratings[1][3] is True

    sheet = book["Key questions"]
    header = [cell.value for cell in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    kq = report["case_standards"][1]["key_questions"][2]  # 2.2.3: 7 of 11
    row = {name: cell for name, cell in zip(header, rows[5], strict=True)}
    assert (row["key_question"].value, row["yes"].value, row["applicable"].value) == ("2.2.3", 7, 11)
    assert isinstance(row["yes"].value, int) and row["percent"].value == pytest.approx(kq["percent"] / 100)
    assert row["percent"].number_format == row["interval_low"].number_format == "0.0%"
    assert [row["interval_low"].value, row["interval_high"].value] == pytest.approx([x / 100 for x in kq["interval"]])

    sheet = book["Samples"]
    header = [cell.value for cell in sheet[1]]
    row = {name: cell for name, cell in zip(header, next(sheet.iter_rows(min_row=2)), strict=True)}
    sample = report["samples"][0]
    assert (row["frame_cases"].value, row["eligible_cases"].value, row["sample_size"].value) == (
        sample["frame_cases"], sample["eligible_cases"], sample["sample_size"])
    assert row["margin_of_error"].value == pytest.approx(sample["margin_of_error"])
    assert row["margin_of_error"].number_format == "0.0%"
    balance = list(book["Balance"].iter_rows(min_row=2, values_only=True))
    assert len(balance) == sum(len(s["balance"]) for s in report["samples"])


async def test_the_html_page_and_the_pdf_hold_the_json_figures(gateway, published):
    run, report = published
    answered = await fetch(gateway, run.inspection_id, format="html")
    assert answered.headers["content-type"] == "text/html; charset=utf-8"
    page = Tables(answered.text)
    assert "DRAFT" not in answered.text
    ratings = page.tables["ratings"]
    assert ratings[0] == ["Standard", "Name", "Computed rating", "Rating", "Points", "Override reason"]
    assert [(r[0], r[3], r[4]) for r in ratings[1:-1]] == [
        (s["standard"], s["rating_label"], str(s["points"])) for s in report["ratings"]["standards"]]
    assert ratings[-1][:2] == ["Overall", "Score 19 of 27"] and ratings[-1][3] == "Good"
    for standard in report["case_standards"]:
        cells = page.tables[f"key-questions-{standard['standard']}"][1:]
        assert [(c[0].split()[0], c[2], c[3], c[4]) for c in cells] == [
            (kq["key_question"], str(kq["yes"]), str(kq["applicable"]), f"{kq['percent_rounded']}%")
            for kq in standard["key_questions"]]
        assert [c[6] for c in cells] == [f"{kq['interval'][0]:.1f}% to {kq['interval'][1]:.1f}%"
                                        for kq in standard["key_questions"]]
    # Each chart: a bar per key question, the three band lines, an interval each; its numbers follow it.
    charts = re.findall(r'<svg .*?</svg>', answered.text, re.S)
    assert len(charts) == 5
    assert [charts[1].count(mark) for mark in ('class="bar"', 'class="band-line"', 'class="interval"')] == [3, 3, 3]
    assert "2.2.3: 63.6% (interval 44.4% to 79.3%)" in charts[1]
    assert answered.text.index("chart-2-2") < answered.text.index('id="key-questions-2.2"')
    samples = page.tables["samples"][1:]
    assert [(r[1], r[2], r[6], r[7]) for r in samples] == [
        (str(s["frame_cases"]), str(s["eligible_cases"]), str(s["assessed"]), f"±{100 * s['margin_of_error']:.1f}%")
        for s in report["samples"]]
    assert "@page" in answered.text and "size: A4" in answered.text

    pdf = await fetch(gateway, run.inspection_id, format="pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    assert "Inspection of Test PDU of reports" in text and "DRAFT" not in text
    assert "Score 19 of 27" in text
    for figure in ("64%", "44.4% to 79.3%", f"±{100 * report['samples'][0]['margin_of_error']:.1f}%",
                   "The panel weighed the interviews with partners."):
        assert figure in text, figure


async def test_a_draft_is_marked_in_every_format(gateway, db_session):
    run = await rated_inspection(gateway, db_session, publish=False)
    assert (await fetch(gateway, run.inspection_id)).json()["draft"] is True
    for table in TABLES:
        body = (await fetch(gateway, run.inspection_id, format="csv", table=table)).content
        assert body.decode().splitlines()[0] == "DRAFT: this inspection is not published and its figures may still change."
    workbook = await fetch(gateway, run.inspection_id, format="xlsx")
    assert workbook.headers["content-disposition"].endswith('-draft.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    for sheet in book.worksheets:
        assert sheet["A1"].value.startswith("DRAFT"), sheet.title
        assert sheet.freeze_panes == "A3"
    assert [cell.value for cell in book["Ratings"][2]][:2] == ["standard", "name"]
    html = (await fetch(gateway, run.inspection_id, format="html")).text
    assert '<div class="draft-banner" role="note">DRAFT: not published (phase: rating).' in html
    assert '<div class="watermark" aria-hidden="true">DRAFT</div>' in html
    text = pdf_text((await fetch(gateway, run.inspection_id, format="pdf")).content)
    assert "DRAFT: not published (phase: rating)" in text


# --- choosing the format ------------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "application/json"),
    ("*/*", "application/json"),
    ("application/json", "application/json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8"),
    (XLSX, XLSX),
    ("application/pdf", "application/pdf"),
    ("application/json;q=0.5, application/pdf", "application/pdf"),
    ("application/json;q=0, */*;q=0.1", "text/html; charset=utf-8"),
    ("text/*", "text/html; charset=utf-8"),
])
async def test_the_format_is_chosen_by_accept(gateway, published, accept, expected):
    run, _ = published
    headers = {"Accept": accept} if accept is not None else {}
    response = await gateway.get(report_url(run.inspection_id), headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (200, expected)


async def test_format_overrides_accept_and_refusals_name_what_there_is(gateway, published):
    run, _ = published
    url = report_url(run.inspection_id)
    chosen = await gateway.get(url, params={"format": "XLSX"}, headers={"Accept": "application/json"})
    assert chosen.headers["content-type"] == XLSX
    csv_by_accept = await gateway.get(url, params={"table": "samples"}, headers={"Accept": "text/csv"})
    assert csv_by_accept.headers["content-type"] == "text/csv; charset=utf-8"

    for params, headers in (({"format": "docx"}, {}), ({}, {"Accept": "image/png"}), ({}, {"Accept": "text/plain"})):
        refused = await gateway.get(url, params=params, headers=headers)
        assert refused.status_code == 406, (params, headers)
        body = refused.json()
        assert (body["title"], body["type"]) == ("Not acceptable", "/problems/not-acceptable")
        assert [f["format"] for f in body["available"]] == ["json", "html", "csv", "xlsx", "pdf"]
        assert "json (application/json), html (text/html), csv (text/csv)" in body["detail"]

    for params in ({"format": "csv"}, {"format": "csv", "table": "overall"}):
        refused = await gateway.get(url, params=params)
        assert refused.status_code == 422, params
        assert [e["field"] for e in refused.json()["errors"]] == ["query.table"]
    assert "ratings, key_questions, samples, balance" in (await gateway.get(url, params={"format": "csv"})).json()["detail"]


async def test_where_weasyprint_cannot_be_loaded_pdf_is_a_406_and_the_rest_still_work(gateway, published, monkeypatch):
    run, _ = published
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as an import that fails
    refused = await gateway.get(report_url(run.inspection_id), params={"format": "pdf"})
    assert refused.status_code == 406
    body = refused.json()
    assert body["detail"].startswith("PDF cannot be written by this server: WeasyPrint could not be loaded")
    assert [f["format"] for f in body["available"]] == ["json", "html", "csv", "xlsx"]
    assert (await gateway.get(report_url(run.inspection_id), params={"format": "html"})).status_code == 200


# --- never a case reference ---------------------------------------------------------------------------


async def test_no_format_holds_a_case_reference(gateway):
    run = await run_inspection(gateway)
    reference = re.compile(rf"{PREFIX}\d{{6}}")
    bodies = {"json": (await fetch(gateway, run.inspection_id)).text,
              "html": (await fetch(gateway, run.inspection_id, format="html")).text}
    for table in TABLES:
        bodies[f"csv {table}"] = (await fetch(gateway, run.inspection_id, format="csv", table=table)).text
    workbook = zipfile.ZipFile(io.BytesIO((await fetch(gateway, run.inspection_id, format="xlsx")).content))
    bodies |= {f"xlsx {name}": workbook.read(name).decode() for name in workbook.namelist()}
    bodies["pdf"] = pdf_text((await fetch(gateway, run.inspection_id, format="pdf")).content)
    assert len(bodies["json"]) > 5000 and "Moved out of the area" in bodies["pdf"]
    assert {name: reference.findall(body) for name, body in bodies.items() if reference.search(body)} == {}
