"""A case-based standard's working: each key question's share banded, the lowest driving, and how far
the standard is from moving a band (domain.md section 3). Outcome standards are `outcomes`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspection_shared.framework import Rating
from inspection_shared.normal import wilson_percent
from inspection_shared.wording import counted
from rating_engine.ratings.bands import (
    BEST_FIRST,
    Thresholds,
    answers_to_fall_below,
    answers_to_reach,
    compare_shares,
    percent_rounded,
)
from rating_engine.ratings.evidence import StandardTally, Tally

Json = dict[str, Any]


def key_question_figure(kq_id: str, tally: Tally, thresholds: Thresholds, confidence: float) -> Json:
    """One key question's share of yes answers, its band, and its Wilson interval in percent
    (a `KeyQuestionFigure`); an outcome key question's, of cases improved, with those unchanged and worse."""
    n = tally.applicable
    figure = _figure(kq_id, tally, thresholds, confidence) if n else {
            "key_question": kq_id,
            "status": "no_applicable_cases",
            "yes": 0,
            "applicable": 0,
            "not_applicable": tally.not_applicable,
            "unanswered": tally.unanswered,
            "percent": None,
            "percent_rounded": None,
            "band": None,
            "interval": None,
            "crosses_band_edge": False,
        }
    if tally.worse is not None:
        figure["unchanged"], figure["worse"] = tally.no - tally.worse, tally.worse
    return figure


def _figure(kq_id: str, tally: Tally, thresholds: Thresholds, confidence: float) -> Json:
    n = tally.applicable
    low_percent, high_percent = wilson_percent(tally.yes, n, confidence)
    return {
        "key_question": kq_id,
        "status": "rated",
        "yes": tally.yes,
        "applicable": n,
        "not_applicable": tally.not_applicable,
        "unanswered": tally.unanswered,
        "percent": 100 * tally.yes / n,
        "percent_rounded": percent_rounded(tally.yes, n),
        "band": thresholds.band(tally.yes, n),
        "interval": [low_percent, high_percent],
        "crosses_band_edge": thresholds.band_of_float(low_percent) != thresholds.band_of_float(high_percent),
    }


def better(rating: Rating) -> Rating | None:
    i = BEST_FIRST.index(rating)
    return BEST_FIRST[i - 1] if i > 0 else None


def percent_text(yes: int, applicable: int) -> str:
    return f"{100 * yes / applicable:.2f}".rstrip("0").rstrip(".") + "%"


def edge_text(rating: Rating, thresholds: Thresholds) -> str:
    low = thresholds.lower_edge(rating)
    above = better(rating)
    high = thresholds.lower_edge(above) if above else None
    if low is None:
        return f"under {float(thresholds.requires_improvement):g}%"
    if high is None:
        return f"at least {float(low):g}%"
    return f"at least {float(low):g}% and under {float(high):g}%"


@dataclass
class CaseStandardWorking:
    """What the rules make of a case-based standard's tallies, before any override."""

    figures: list[Json]
    rating: Rating | None = None
    driver: Json | None = None
    move_up: list[Json] = field(default_factory=list)
    move_down: Json | None = None
    explanation: str = ""
    notes: list[str] = field(default_factory=list)
    progress: Json | None = None
    """An outcome standard's share of cases with progress (a `ProgressFigure`), which rates it."""
    cases_to_move_up: int | None = None
    cases_to_move_down: int | None = None

    @property
    def borderline(self) -> bool | None:
        figure = self.progress or self.driver
        return figure["crosses_band_edge"] if figure and self.rating else None


def case_notes(tally: StandardTally, figures: list[Json]) -> list[str]:
    """What a reader of the figures should know: cases outside the case filter, and cases not answered."""
    notes = []
    if tally.cases is not None and tally.cases_selected is not None and tally.cases_selected < tally.cases:
        lacking = tally.lacking_filter_attributes
        notes.append(
            f"{tally.cases - tally.cases_selected} of {counted(tally.cases, 'case')} "
            + ("falls" if tally.cases - tally.cases_selected == 1 else "fall") + " outside the case filter"
            + (f", {lacking} of them for want of an attribute it reads." if lacking else ".")
        )
    for f in figures:
        if f["unanswered"]:
            notes.append(
                f"{counted(f['unanswered'], 'selected case has', 'selected cases have')} no answer to "
                f"{f['key_question']}; {'it is' if f['unanswered'] == 1 else 'they are'} left out of its figures."
            )
    return notes


def case_standard_working(tally: StandardTally, thresholds: Thresholds, confidence: float) -> CaseStandardWorking:
    """Band each key question, let the lowest drive, and work out how far the standard is from moving.

    Moving up needs every key question under the next band's edge to reach it (counted per key question:
    a case whose answers change on two key questions counts twice); moving down needs the one key
    question nearest its edge to fall under it.
    """
    figures = [key_question_figure(kq, t, thresholds, confidence) for kq, t in tally.key_questions.items()]
    working = CaseStandardWorking(figures=figures, notes=case_notes(tally, figures))
    notes = working.notes
    rated = [f for f in figures if f["status"] == "rated"]
    if not rated:
        working.explanation = "No key question had applicable cases, so the standard is not rated."
        return working
    unrated = [f["key_question"] for f in figures if f["status"] != "rated"]
    if unrated:
        notes.append(
            f"{', '.join(unrated)} had no applicable cases; the rating rests on "
            f"{', '.join(f['key_question'] for f in rated)}."
        )
    # The lowest share drives; on a tie the first in the framework's order is named.
    driver = rated[0]
    for f in rated[1:]:
        if compare_shares(f["yes"], f["applicable"], driver["yes"], driver["applicable"]) < 0:
            driver = f
    rating: Rating = driver["band"]
    working.driver, working.rating = driver, rating
    up = better(rating)
    if up is not None:
        edge = thresholds.lower_edge(up)
        assert edge is not None
        for f in rated:
            needed = answers_to_reach(f["yes"], f["applicable"], edge)
            if needed:
                working.move_up.append({"key_question": f["key_question"], "cases": needed})
    edge_down = thresholds.lower_edge(rating)
    if edge_down is not None:
        for f in rated:
            drop = answers_to_fall_below(f["yes"], f["applicable"], edge_down)
            if working.move_down is None or drop < working.move_down["cases"]:
                working.move_down = {"key_question": f["key_question"], "cases": drop}
    working.cases_to_move_up = sum(m["cases"] for m in working.move_up) if working.move_up else None
    working.cases_to_move_down = working.move_down["cases"] if working.move_down else None
    working.explanation = (
        f"The lowest key question, {driver['key_question']}, has {driver['yes']} of {driver['applicable']} "
        f"applicable cases answered yes ({percent_text(driver['yes'], driver['applicable'])}), "
        f"{edge_text(rating, thresholds)}."
    )
    return working


