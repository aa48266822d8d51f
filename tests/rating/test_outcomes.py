"""Outcome standards: the draft framework's effectiveness standard, rated on the share of applicable cases
with progress (a case is applicable when any outcome applies, and shows progress when any improved), on
the framework's provisional outcome thresholds.

- Unit tests of the core, figures worked by hand.
- Properties (hypothesis): the rating is the band of the share counted by hand; turning an outcome's
  answer into 'improved' never lowers it; the order of cases changes nothing.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rating_engine.errors import RatingInputError
from rating_engine.ratings.bands import rank
from tests.rating.builders import framework, pooled, rated

DRAFT = "probation-pdu-2021-effectiveness"
OUTCOMES = ["3.1.1", "3.1.2", "3.1.3"]


def effectiveness(result: dict) -> dict:
    return next(s for s in result["standards"] if s["standard"] == "3.1")


def body(cases: list[dict], **extra) -> dict:
    return {"framework": DRAFT, "standards": [{"standard": "3.1", "cases": cases}], **extra}


def case(i: int, *answers: str | None) -> dict:
    """Case i answering the outcomes in order; None leaves one unanswered."""
    return {"case_ref": f"X{i:06d}", "answers": {kq: a for kq, a in zip(OUTCOMES, answers, strict=False) if a}}


def test_the_standard_is_rated_on_the_share_of_applicable_cases_with_progress():
    # 10 cases: 6 improved on something (one also worse elsewhere), 3 without progress, 1 where nothing applies.
    cases = [case(i, "improved", "unchanged", "not_applicable") for i in range(4)]
    cases += [case(4, "not_applicable", "improved", "worse"), case(5, "worse", "not_applicable", "improved")]
    cases += [case(i, "unchanged", "worse", "unchanged") for i in range(6, 9)]
    cases += [case(9, "not_applicable", "not_applicable", "not_applicable")]
    standard = effectiveness(rated(body(cases)))

    assert (standard["status"], standard["kind"], standard["scored"], standard["points"]) == ("rated", "case", False, None)
    progress = standard["progress"]
    assert (progress["applicable"], progress["with_progress"], progress["percent_rounded"]) == (9, 6, 67)
    assert progress["band"] == standard["computed_rating"] == standard["rating"] == "good"  # 66.7%: 65 to under 80
    assert progress["thresholds_provisional"] is True
    assert standard["driver"] is None
    # 8 of 10 (80%) reaches outstanding: 2 more cases; 5 of 9 (55.6%) falls under 65%: 1 fewer.
    assert (standard["cases_to_move_up"], standard["cases_to_move_down"]) == (2, 1)
    assert standard["explanation"] == (
        "6 of 9 applicable cases improved on at least one outcome since the start of supervision (66.67%), "
        "at least 65% and under 80%. The outcome thresholds of this framework are provisional."
    )


def test_each_outcome_is_reported_with_its_cases_improved_unchanged_and_worse():
    cases = [case(0, "improved", "worse", "not_applicable"), case(1, "unchanged", "worse", None),
             case(2, "improved", "improved", "not_applicable")]
    figures = {f["key_question"]: f for f in effectiveness(rated(body(cases)))["key_questions"]}
    accommodation = figures["3.1.1"]
    assert (accommodation["yes"], accommodation["unchanged"], accommodation["worse"], accommodation["applicable"]) == (
        2, 1, 0, 3,
    )
    assert figures["3.1.2"]["worse"] == 2 and figures["3.1.2"]["yes"] == 1
    substance = figures["3.1.3"]
    assert (substance["status"], substance["not_applicable"], substance["unanswered"]) == ("no_applicable_cases", 2, 1)
    assert (substance["unchanged"], substance["worse"]) == (0, 0)


def test_bands_on_the_exact_fraction_at_each_provisional_threshold():
    def rating(improved: int, without: int) -> str:
        cases = [case(i, "improved") for i in range(improved)]
        cases += [case(improved + i, "unchanged") for i in range(without)]
        return effectiveness(rated(body(cases)))["rating"]

    assert rating(4, 1) == "outstanding"  # 80%
    assert rating(79, 21) == "good"  # 79%
    assert rating(13, 7) == "good"  # 65%
    assert rating(1, 1) == "requires_improvement"  # 50%
    assert rating(49, 51) == "inadequate"


def test_no_case_with_an_outcome_that_applies_leaves_the_standard_unrated():
    standard = effectiveness(rated(body([case(0, "not_applicable", "not_applicable", "not_applicable")])))
    assert (standard["status"], standard["rating"], standard["progress"]["applicable"]) == (
        "no_applicable_cases", None, 0,
    )


def test_the_standard_does_not_count_in_the_overall_score():
    result = rated(body([case(0, "worse", "worse", "worse")]))
    assert effectiveness(result)["rating"] == "inadequate"
    assert result["overall"]["scored_standards"] == 9
    assert result["overall"]["max_score"] == 27


def test_yes_no_answers_are_refused_on_an_outcome_and_outcome_answers_on_a_yes_no_key_question():
    with pytest.raises(RatingInputError) as caught:
        rated({"framework": DRAFT, "standards": [
            {"standard": "3.1", "cases": [case(0, "yes", "improved")]},
            {"standard": "2.2", "cases": [{"case_ref": "X000001", "answers": {"2.2.1": "improved"}}]},
        ]})
    assert [(f.field, f.message) for f in caught.value.faults] == [
        ("body.standards.0.cases.0.answers.3.1.1",
         "3.1.1 records progress on an outcome since the start of supervision: answer improved, unchanged, worse, "
         "not_applicable"),
        ("body.standards.1.cases.0.answers.2.2.1", "2.2.1 is answered yes, no, not_applicable"),
    ]


def test_counts_cannot_rate_an_outcome_standard():
    with pytest.raises(RatingInputError) as caught:
        rated({"framework": DRAFT, "standards": [{"standard": "3.1", "counts": {"3.1.1": {"yes": 3, "applicable": 5}}}]})
    assert [f.field for f in caught.value.faults] == ["body.standards.0.counts"]
    assert "outcome standard" in caught.value.faults[0].message


def test_the_other_standards_of_the_draft_rate_as_under_pdu_2021():
    # The draft adds a standard and changes nothing of the rest.
    answers = {"2.2.1": "yes", "2.2.2": "no", "2.2.3": "yes"}
    cases = [{"case_ref": f"X{i:06d}", "answers": answers} for i in range(5)]
    draft = rated({"framework": DRAFT, "standards": [{"standard": "2.2", "cases": cases}]})
    base = rated({"framework": "probation-pdu-2021", "standards": [{"standard": "2.2", "cases": cases}]})
    assert draft["standards"][:9] == base["standards"]
    assert draft["overall"] == base["overall"]


def test_pooling_adds_the_units_cases_with_progress_and_keeps_each_units_own():
    north = [case(0, "improved"), case(1, "unchanged")]
    south = [case(0, "improved"), case(1, "improved"), case(2, "worse")]
    result = pooled({"framework": DRAFT, "units": [
        {"unit": "N01", "standards": [{"standard": "3.1", "cases": north}]},
        {"unit": "S01", "standards": [{"standard": "3.1", "cases": south}]},
    ]})
    standard = result["standards"][0]
    assert (standard["progress"]["applicable"], standard["progress"]["with_progress"], standard["rating"]) == (
        5, 3, "requires_improvement",
    )
    assert [(u["unit"], u["computed_rating"], u["progress"]["with_progress"]) for u in standard["units"]] == [
        ("N01", "requires_improvement", 1), ("S01", "good", 2),
    ]


# --- properties ---------------------------------------------------------------------------------------

OUTCOME_ANSWER = st.sampled_from(["improved", "unchanged", "worse", "not_applicable", None])
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THRESHOLDS = framework(DRAFT).rules.outcome_thresholds


@st.composite
def outcome_cases(draw):
    n = draw(st.integers(0, 40))
    return [case(i, *(draw(OUTCOME_ANSWER) for _ in OUTCOMES)) for i in range(n)]


def _by_hand(cases: list[dict]) -> tuple[int, int]:
    applicable = [c for c in cases if set(c["answers"].values()) & {"improved", "unchanged", "worse"}]
    return len(applicable), sum("improved" in c["answers"].values() for c in applicable)


def _band(with_progress: int, applicable: int) -> str:
    percent = 100 * with_progress / applicable
    for rating in ("outstanding", "good", "requires_improvement"):
        if percent >= getattr(THRESHOLDS, rating) - 1e-9:
            return rating
    return "inadequate"


@SETTINGS
@given(outcome_cases())
def test_the_rating_is_the_band_of_the_share_with_progress_counted_by_hand(cases):
    standard = effectiveness(rated(body(cases)))
    applicable, with_progress = _by_hand(cases)
    assert (standard["progress"]["applicable"], standard["progress"]["with_progress"]) == (applicable, with_progress)
    assert standard["rating"] == (_band(with_progress, applicable) if applicable else None)
    for figure in standard["key_questions"]:
        kq = figure["key_question"]
        given_answers = [c["answers"].get(kq) for c in cases]
        assert figure["yes"] == given_answers.count("improved")
        assert figure["applicable"] == len([a for a in given_answers if a in ("improved", "unchanged", "worse")])


@SETTINGS
@given(outcome_cases(), st.data())
def test_an_outcome_turned_to_improved_never_lowers_the_rating(cases, data):
    changeable = [(i, kq) for i, c in enumerate(cases) for kq in OUTCOMES if c["answers"].get(kq) != "improved"]
    if not changeable:
        return
    i, kq = data.draw(st.sampled_from(changeable))
    before = effectiveness(rated(body(cases)))["rating"]
    cases[i]["answers"][kq] = "improved"
    after = effectiveness(rated(body(cases)))["rating"]
    assert after is not None
    assert before is None or rank(after) >= rank(before)


@SETTINGS
@given(outcome_cases(), st.randoms(use_true_random=False))
def test_the_order_of_cases_changes_nothing(cases, random):
    shuffled = list(cases)
    random.shuffle(shuffled)
    assert rated(body(shuffled)) == rated(body(cases))
