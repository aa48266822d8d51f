"""An outcome standard's working: the progress people make during supervision (domain.md section 2,
effectiveness [seed, proposed]).

Each key question is an outcome (accommodation, employment, ...), answered for a case by comparing the
person's position at the start of supervision with their position now: improved, unchanged, worse or not
applicable. The standard is rated on the share of applicable cases with progress, banded on the
framework's outcome thresholds exactly as a key question's share is on its thresholds: a case is
applicable when any of its outcomes applies, and shows progress when any improved. Each outcome's own
share of cases improved is reported beside it, with the cases unchanged and worse, but does not rate.
"""

from __future__ import annotations

from inspection_shared.normal import wilson_percent
from inspection_shared.wording import counted
from rating_engine.ratings.bands import Thresholds, answers_to_fall_below, answers_to_reach, percent_rounded
from rating_engine.ratings.evidence import Progress, StandardTally
from rating_engine.ratings.working import (
    CaseStandardWorking,
    Json,
    better,
    case_notes,
    edge_text,
    key_question_figure,
    percent_text,
)


def progress_figure(progress: Progress, thresholds: Thresholds, provisional: bool, confidence: float) -> Json:
    """The share of applicable cases with progress, its band and Wilson interval (a `ProgressFigure`)."""
    n, k = progress.applicable, progress.with_progress
    if n == 0:
        return {
            "applicable": 0, "with_progress": 0, "percent": None, "percent_rounded": None, "band": None,
            "interval": None, "crosses_band_edge": False, "thresholds_provisional": provisional,
        }
    low, high = wilson_percent(k, n, confidence)
    return {
        "applicable": n,
        "with_progress": k,
        "percent": 100 * k / n,
        "percent_rounded": percent_rounded(k, n),
        "band": thresholds.band(k, n),
        "interval": [low, high],
        "crosses_band_edge": thresholds.band_of_float(low) != thresholds.band_of_float(high),
        "thresholds_provisional": provisional,
    }


def outcome_standard_working(
    tally: StandardTally, thresholds: Thresholds, provisional: bool, confidence: float
) -> CaseStandardWorking:
    """Rate an outcome standard on its share of applicable cases with progress, and work out how many more
    cases with progress would move it up a band, and how many fewer would drop it."""
    progress = tally.progress or Progress()
    figures = [key_question_figure(kq, t, thresholds, confidence) for kq, t in tally.key_questions.items()]
    figure = progress_figure(progress, thresholds, provisional, confidence)
    working = CaseStandardWorking(figures=figures, notes=case_notes(tally, figures), progress=figure)
    if figure["band"] is None:
        working.explanation = "No case had an outcome that applies, so the standard is not rated."
        return working
    rating = working.rating = figure["band"]
    n, k = progress.applicable, progress.with_progress
    up = better(rating)
    edge_up = thresholds.lower_edge(up) if up else None
    edge_down = thresholds.lower_edge(rating)
    working.cases_to_move_up = answers_to_reach(k, n, edge_up) if edge_up is not None else None
    working.cases_to_move_down = answers_to_fall_below(k, n, edge_down) if edge_down is not None else None
    working.explanation = (
        f"{k} of {counted(n, 'applicable case')} improved on at least one outcome since the start of supervision "
        f"({percent_text(k, n)}), {edge_text(rating, thresholds)}."
        + (" The outcome thresholds of this framework are provisional." if provisional else "")
    )
    return working
