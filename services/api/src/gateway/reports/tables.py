"""The report as flat tables, for the formats that are tables (CSV, one table a request; XLSX, a sheet
each). Each column says what kind of value it holds, so a spreadsheet keeps numbers as numbers and
shows percentages as percentages; the values themselves are the aggregate's, unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gateway.reports.schemas import Report, ReportTable

Kind = Literal["text", "integer", "number", "percent", "share", "flag", "datetime"]
"""percent: a percentage (73.3 is 73.3%); share: a proportion (0.733 is 73.3%)."""

DRAFT_NOTE = "DRAFT: this inspection is not published and its figures may still change."


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    name: ReportTable
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]


def _columns(*spec: str | tuple[str, Kind]) -> tuple[Column, ...]:
    return tuple(Column(s) if isinstance(s, str) else Column(*s) for s in spec)


def ratings(report: Report) -> Table:
    """Each standard's computed and final rating, points and override reason; the overall last, its points
    the score and its maximum the most the score can be."""
    rows: list[tuple[Any, ...]] = []
    table = report.ratings
    if table is not None:
        for s in table.standards:
            rows.append((s.standard, s.name, s.kind, s.scored, s.status, s.computed_rating, s.rating, s.points,
                         None, s.overridden, s.override_reason))
        o = table.overall
        rows.append(("overall", "Overall", None, True, o.status, o.computed_rating, o.rating, o.score, o.max_score,
                     None, None))
    return Table(ReportTable.RATINGS, "Ratings", _columns(
        "standard", "name", "kind", ("scored", "flag"), "status", "computed_rating", "rating", ("points", "integer"),
        ("max_points", "integer"), ("overridden", "flag"), "override_reason",
    ), rows)


def key_questions(report: Report) -> Table:
    """Each key question of each case-based standard, with the standard's driver and distance to move up."""
    rows = [
        (s.standard, s.name, kq.key_question, kq.text, kq.status, kq.yes, kq.applicable, kq.percent,
         kq.percent_rounded, kq.band, kq.interval[0] if kq.interval else None, kq.interval[1] if kq.interval else None,
         kq.crosses_band_edge, kq.driver, kq.yes_to_lift, s.rating, s.borderline, s.yes_to_lift)
        for s in report.case_standards
        for kq in s.key_questions
    ]
    return Table(ReportTable.KEY_QUESTIONS, "Key questions", _columns(
        "standard", "standard_name", "key_question", "text", "status", ("yes", "integer"), ("applicable", "integer"),
        ("percent", "percent"), ("percent_rounded", "integer"), "band", ("interval_low", "percent"),
        ("interval_high", "percent"), ("crosses_band_edge", "flag"), ("driver", "flag"), ("yes_to_lift", "integer"),
        "standard_rating", ("standard_borderline", "flag"), ("standard_yes_to_lift", "integer"),
    ), rows)


def samples(report: Report) -> Table:
    rows = [
        (s.sample_type, s.name, s.frame_cases, s.eligible_cases, s.sample_size, s.in_sample, s.substitutions,
         s.assessed, s.margin_of_error, s.confidence, s.largest_deviation)
        for s in report.samples
    ]
    return Table(ReportTable.SAMPLES, "Samples", _columns(
        "sample_type", "name", ("frame_cases", "integer"), ("eligible_cases", "integer"), ("sample_size", "integer"),
        ("in_sample", "integer"), ("substitutions", "integer"), ("assessed", "integer"), ("margin_of_error", "share"),
        ("confidence", "share"), ("largest_deviation", "share"),
    ), rows)


def balance(report: Report) -> Table:
    rows = [
        (s.sample_type, b.variable, b.level, b.frame_count, b.frame_share, b.sample_count, b.sample_share, b.deviation)
        for s in report.samples
        for b in s.balance
    ]
    return Table(ReportTable.BALANCE, "Balance", _columns(
        "sample_type", "variable", "level", ("frame_count", "integer"), ("frame_share", "share"),
        ("sample_count", "integer"), ("sample_share", "share"), ("deviation", "share"),
    ), rows)


def substitutions(report: Report) -> Table:
    rows = [(s.sample_type, s.stratum, s.reason, s.substituted_at) for s in report.substitutions]
    return Table(ReportTable.SUBSTITUTIONS, "Substitutions", _columns(
        "sample_type", "stratum", "reason", ("substituted_at", "datetime"),
    ), rows)


def judgements(report: Report) -> Table:
    rows = [(j.standard, j.name, j.rating, j.evidence_summary) for j in report.judgements]
    return Table(ReportTable.JUDGEMENTS, "Judgements", _columns("standard", "name", "rating", "evidence_summary"), rows)


def pdus(report: Report) -> Table:
    """An inspection of a region: the region's figures (its case-based ratings pool every PDU's cases) and,
    beside them, each PDU's: a line per key question of each case-based standard and per judged standard."""
    rows: list[tuple[Any, ...]] = []
    if report.pdus:
        levels = [("region", report.unit.code, report.unit.name, report.case_standards, report.judgements)]
        levels += [("pdu", p.unit, p.name, p.standards, p.judgements) for p in report.pdus]
        for level, code, name, standards, judged in levels:
            rows += [
                (level, code, name, s.standard, s.name, "case", s.computed_rating, kq.key_question, kq.yes,
                 kq.applicable, kq.percent, kq.percent_rounded, kq.band, kq.driver)
                for s in standards
                for kq in s.key_questions
            ]
            rows += [(level, code, name, j.standard, j.name, "judged", j.rating, None, None, None, None, None, None,
                      None) for j in judged]
    return Table(ReportTable.PDUS, "PDUs", _columns(
        "level", "unit", "unit_name", "standard", "standard_name", "kind", "computed_rating", "key_question",
        ("yes", "integer"), ("applicable", "integer"), ("percent", "percent"), ("percent_rounded", "integer"), "band",
        ("driver", "flag"),
    ), rows)


def voice(report: Report) -> Table:
    """The voice of people under supervision: a row per survey answer (its count out of those who answered
    the question) and per interview theme (how many raised it out of those interviewed), with the judged
    standards each informs."""
    rows: list[tuple[Any, ...]] = [
        ("survey", s.key, s.title, s.population, s.respondents, q.key, q.text, a.key, a.text, a.count, q.answered,
         a.percent, ";".join(q.standards))
        for s in report.voice.surveys
        for q in s.questions
        for a in q.answers
    ]
    rows += [
        ("interviews", s.key, s.title, s.population, s.interviewed, None, t.text, None, None, t.raised_by,
         s.interviewed, t.percent, ";".join(t.standards))
        for s in report.voice.interviews
        for t in s.themes
    ]
    return Table(ReportTable.VOICE, "Voice", _columns(
        "evidence", "key", "title", "population", ("people", "integer"), "question", "text", "answer", "answer_text",
        ("count", "integer"), ("out_of", "integer"), ("percent", "percent"), "standards",
    ), rows)


TABLES: dict[ReportTable, Callable[[Report], Table]] = {
    ReportTable.RATINGS: ratings,
    ReportTable.KEY_QUESTIONS: key_questions,
    ReportTable.SAMPLES: samples,
    ReportTable.BALANCE: balance,
    ReportTable.SUBSTITUTIONS: substitutions,
    ReportTable.JUDGEMENTS: judgements,
    ReportTable.PDUS: pdus,
    ReportTable.VOICE: voice,
}
"""Every table of the report, in the order of the XLSX sheets."""


def head_lines(report: Report) -> list[tuple[str, Any]]:
    """What the report is of, as label and value: the first sheet of a workbook."""
    snapshot, table = report.snapshot, report.ratings
    lines: list[tuple[str, Any]] = [
        ("Status", "DRAFT: not published" if report.draft else "Published"),
        ("Unit", f"{report.unit.name} ({report.unit.code})"),
        ("Unit type", report.unit.type),
        ("Region", report.unit.region_name),
        ("Inspection", report.title),
        ("Phase", report.phase),
        ("Fieldwork start", report.fieldwork_start),
        ("Fieldwork end", report.fieldwork_end),
        ("Published at", report.published_at),
        ("Framework", f"{report.framework.name} ({report.framework.id}, version {report.framework.version})"),
        ("Rules version", snapshot.rules_version if snapshot else None),
        ("Rating snapshot", str(snapshot.id) if snapshot else None),
        ("Snapshot fingerprint", snapshot.input_fingerprint if snapshot else None),
        ("Published version", report.published_version),
        ("Corrections", len(report.corrections)),
    ]
    if table is not None:
        lines += [
            ("Overall rating", table.overall.rating_label or table.overall.rating),
            ("Score", table.overall.score),
            ("Maximum score", table.overall.max_score),
            ("Score bands", "; ".join(f"{b.rating} {b.min}-{b.max}" for b in table.overall.bands)
             + (" (provisional)" if table.overall.bands_provisional else "")),
        ]
    lines += [(f"Correction {c.version}", f"{c.made_at:%Y-%m-%d}: {c.reason}") for c in report.corrections]
    return lines
