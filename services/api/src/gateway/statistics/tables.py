"""Statistics as CSV: each answer as two tables, chosen by `?table=`: its figures (the default), and the
corrected and withdrawn inspections in its scope (`corrections`), holding the same values as its JSON.

Numbers are written as Python writes them (a float's shortest exact form), so a CSV read back gives the
JSON's values; an empty cell is a null.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.statistics.schemas import (
    Amended,
    Amendment,
    AnnualStatistics,
    KeyQuestionStatistics,
    RatingCounts,
    RatingStatistics,
    Trends,
)
from inspection_shared.exports import csv_text

RATING_COLUMNS = list(RatingCounts.model_fields)
AMENDMENT_COLUMNS = list(Amendment.model_fields)


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    return csv_text(header, rows)


def corrections_csv(answer: Amended) -> str:
    """One row per inspection of `corrections`, then of `withdrawn` (the kind column tells them apart), each
    value as its JSON writes it."""
    entries = (entry.model_dump(mode="json") for entry in (*answer.corrections, *answer.withdrawn))
    return _csv(AMENDMENT_COLUMNS, ([entry[column] for column in AMENDMENT_COLUMNS] for entry in entries))


def _counts(counts: RatingCounts) -> list[int]:
    return [getattr(counts, name) for name in RATING_COLUMNS]


def ratings_csv(statistics: RatingStatistics) -> str:
    """One row for the overall ratings (standard `overall`), then one per framework and standard."""
    rows = [["", "overall", "Overall", statistics.inspections, *_counts(statistics.overall)]]
    rows += [[s.framework_id, s.standard, s.name, s.inspections, *_counts(s.ratings)] for s in statistics.standards]
    return _csv(["framework_id", "standard", "name", "inspections", *RATING_COLUMNS], rows)


def key_questions_csv(statistics: KeyQuestionStatistics) -> str:
    return _csv(
        ["framework_id", "standard", "key_question", "text", "inspections", "yes", "applicable", "percent",
         "interval_low", "interval_high"],
        ([k.framework_id, k.standard, k.key_question, k.text, k.inspections, k.yes, k.applicable, k.percent,
          *(k.interval or (None, None))] for k in statistics.key_questions),
    )


def trends_csv(trends: Trends) -> str:
    return _csv(
        ["year", "from", "to", "inspections", *RATING_COLUMNS, "scored_inspections", "mean_score_share"],
        ([y.year, y.from_, y.to, y.inspections, *_counts(y.overall), y.scored_inspections, y.mean_score_share]
         for y in trends.years),
    )


def annual_csv(annual: AnnualStatistics) -> str:
    """One row per figure: what it is of (overall, a standard, a key question), its measure, and its value
    in the year, in the year before, and the change."""
    current, previous, change = annual.current, annual.previous, annual.change
    rows: list[list[Any]] = []
    for measure in ("inspections", "scored_inspections", "mean_score_share"):
        rows.append(["overall", "", "", "", measure, getattr(current, measure), getattr(previous, measure),
                     getattr(change, measure)])
    for name in RATING_COLUMNS:
        rows.append(["overall", "", "", "", name, getattr(current.overall, name), getattr(previous.overall, name),
                     getattr(change.overall, name)])
    now = {(s.framework_id, s.standard): s for s in current.standards}
    before = {(s.framework_id, s.standard): s for s in previous.standards}
    for moved in change.standards:
        key = (moved.framework_id, moved.standard)
        for measure in ("inspections", *RATING_COLUMNS):
            values = [_standard_value(figures.get(key), measure) for figures in (now, before)]
            rows.append(["standard", moved.framework_id, moved.standard, "", measure, *values,
                         _standard_value(moved, measure)])
    asked_now = {(k.framework_id, k.key_question): k for k in current.key_questions}
    asked_before = {(k.framework_id, k.key_question): k for k in previous.key_questions}
    for moved in change.key_questions:
        key = (moved.framework_id, moved.key_question)
        for measure, changed in (("inspections", "inspections"), ("yes", "yes"), ("applicable", "applicable"),
                                 ("percent", "percent_points")):
            values = [getattr(figures[key], measure) if key in figures else None for figures in (asked_now, asked_before)]
            rows.append(["key_question", moved.framework_id, moved.standard, moved.key_question, measure, *values,
                         getattr(moved, changed)])
    return _csv(["of", "framework_id", "standard", "key_question", "measure", annual.year, annual.previous_year,
                 "change"], rows)


def _standard_value(figures: Any, measure: str) -> int | None:
    if figures is None:
        return None
    return figures.inspections if measure == "inspections" else getattr(figures.ratings, measure)
