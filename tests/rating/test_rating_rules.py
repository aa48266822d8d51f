"""The rating rules through the pure core: band edges, not-applicable answers, filters, published results,
each framework's overall bands, overrides, explanations and the input fingerprint."""

import pytest

from inspection_shared.library import library
from rating_engine.errors import RatingInputError
from tests.rating.builders import SCORE_OF, answers, cases, counts, framework, rated, small_framework, standard, table

EDGES = [
    (80, 100, "outstanding"),
    (7999, 10000, "good"),
    (65, 100, "good"),
    (6499, 10000, "requires_improvement"),
    (50, 100, "requires_improvement"),
    (4999, 10000, "inadequate"),
]


def _crc_21(kq1, kq2=(100, 100), kq3=(100, 100)):
    return {"framework": "probation-crc-2018", "standards": [{"standard": "2.1", "counts": counts(k2_1_1=kq1, k2_1_2=kq2, k2_1_3=kq3)}]}


@pytest.mark.parametrize(("yes", "applicable", "band"), EDGES)
def test_band_edges_with_counts(yes, applicable, band):
    result = standard(rated(_crc_21((yes, applicable))), "2.1")
    assert (result["computed_rating"], result["rating"], result["driver"]) == (band, band, "2.1.1")
    figure = result["key_questions"][0]
    assert figure["percent"] == 100 * yes / applicable
    assert figure["band"] == band


@pytest.mark.parametrize(("yes", "applicable", "band"), EDGES)
def test_band_edges_with_cases(yes, applicable, band):
    body = {
        "framework": "probation-crc-2018",
        "standards": [
            {
                "standard": "2.1",
                "cases": cases(
                    {
                        "2.1.1": answers(yes, applicable - yes),
                        "2.1.2": answers(applicable, 0),
                        "2.1.3": answers(applicable, 0),
                    }
                ),
            }
        ],
    }
    result = standard(rated(body), "2.1")
    assert (result["computed_rating"], result["driver"]) == (band, "2.1.1")
    assert result["key_questions"][0]["yes"] == yes
    assert result["key_questions"][0]["applicable"] == applicable


def test_lowest_key_question_drives():
    result = standard(rated(_crc_21((90, 100), (66, 100), (51, 100))), "2.1")
    assert [f["band"] for f in result["key_questions"]] == ["outstanding", "good", "requires_improvement"]
    assert (result["computed_rating"], result["driver"]) == ("requires_improvement", "2.1.3")
    assert "2.1.3" in result["explanation"] and "51 of 100" in result["explanation"]


def test_tied_lowest_share_names_the_first_key_question():
    result = standard(rated(_crc_21((60, 100), (3, 5), (120, 200))), "2.1")
    assert result["driver"] == "2.1.1"


def test_not_applicable_answers_leave_the_denominator():
    body = {
        "framework": "probation-crc-2018",
        "standards": [
            {
                "standard": "2.1",
                "cases": cases(
                    {
                        "2.1.1": answers(8, 2, not_applicable=40),  # 8 of 10 = 80%, not 8 of 50
                        "2.1.2": answers(50, 0),
                        "2.1.3": answers(45, 0, not_applicable=5),
                    }
                ),
            }
        ],
    }
    result = standard(rated(body), "2.1")
    first = result["key_questions"][0]
    assert (first["yes"], first["applicable"], first["not_applicable"], first["unanswered"]) == (8, 10, 40, 0)
    assert first["percent"] == 80.0 and first["band"] == "outstanding"
    assert result["computed_rating"] == "outstanding"


def test_key_question_without_applicable_cases_is_reported_and_the_rest_decide():
    body = {
        "framework": "probation-crc-2018",
        "standards": [
            {
                "standard": "2.1",
                "cases": cases(
                    {"2.1.1": answers(0, 0, 30), "2.1.2": answers(21, 9), "2.1.3": answers(25, 5)}
                ),
            }
        ],
    }
    result = standard(rated(body), "2.1")
    first = result["key_questions"][0]
    assert first["status"] == "no_applicable_cases"
    assert (first["percent"], first["band"], first["interval"]) == (None, None, None)
    assert (result["computed_rating"], result["driver"]) == ("good", "2.1.2")
    assert any("2.1.1 had no applicable cases" in n for n in result["notes"])


def test_unanswered_key_questions_are_counted_apart():
    body = {
        "framework": "probation-crc-2018",
        "standards": [{"standard": "2.1", "cases": cases({"2.1.1": answers(4, 0), "2.1.2": answers(2, 0), "2.1.3": answers(4, 0)})}],
    }
    result = standard(rated(body), "2.1")
    second = result["key_questions"][1]
    assert (second["applicable"], second["unanswered"]) == (2, 2)
    assert any("no answer to 2.1.2" in n for n in result["notes"])


def test_case_filter_selects_the_cases():
    qualifying = cases(
        {"3.1.1": answers(8, 2), "3.1.2": answers(9, 1), "3.1.3": answers(10, 0)},
        prefix="U",
        attributes={"unpaid_work_requirement": True},
    )
    others = cases({"3.1.1": answers(0, 10), "3.1.2": answers(0, 10), "3.1.3": answers(0, 10)}, prefix="N",
                   attributes={"unpaid_work_requirement": False})
    unknown = cases({"3.1.1": answers(0, 5), "3.1.2": answers(0, 5), "3.1.3": answers(0, 5)}, prefix="Q")
    body = {"framework": "probation-crc-2018", "standards": [{"standard": "3.1", "cases": qualifying + others + unknown}]}
    result = standard(rated(body), "3.1")
    assert (result["cases"], result["cases_selected"]) == (25, 10)
    assert result["key_questions"][0]["applicable"] == 10
    assert result["computed_rating"] == "outstanding"
    assert any("15 of 25 cases fall outside the case filter, 5 of them" in n for n in result["notes"])


def test_case_filter_with_one_of_compares_type_and_value():
    youth = framework("youth-2021")
    disposal = youth.standard("3.1").case_filter.conditions[0]
    accepted = disposal.one_of[0]
    body = {
        "framework": "youth-2021",
        "standards": [
            {
                "standard": "3.1",
                "cases": cases({"3.1.1": ["yes"], "3.1.2": ["yes"], "3.1.3": ["yes"]}, prefix="A",
                               attributes={disposal.attribute: accepted})
                + cases({"3.1.1": ["no"], "3.1.2": ["no"], "3.1.3": ["no"]}, prefix="B",
                        attributes={disposal.attribute: "referral_order"})
                + cases({"3.1.1": ["no"], "3.1.2": ["no"], "3.1.3": ["no"]}, prefix="C",
                        attributes={disposal.attribute: True}),
            }
        ],
    }
    result = standard(rated(body), "3.1")
    assert result["cases_selected"] == 1
    assert result["computed_rating"] == "outstanding"


def test_a_filter_equal_to_true_does_not_match_one():
    body = {
        "framework": "probation-crc-2018",
        "standards": [
            {"standard": "3.1", "cases": cases({"3.1.1": ["yes"]}, attributes={"unpaid_work_requirement": 1})},
        ],
    }
    assert standard(rated(body), "3.1")["cases_selected"] == 0


def test_standard_whose_cases_are_all_filtered_out_is_not_rated():
    body = {
        "framework": "probation-crc-2018",
        "standards": [{"standard": "3.1", "cases": cases({"3.1.1": answers(5, 0)})}],
    }
    result = rated(body)
    unpaid = standard(result, "3.1")
    assert (unpaid["status"], unpaid["computed_rating"], unpaid["rating"]) == ("no_applicable_cases", None, None)
    assert result["overall"]["rating"] == "not_rated"
    assert any("3.1" in r and "no applicable cases" in r for r in result["overall"]["reasons"])


# --------------------------------------------------------------------------------------------------------
# Published results


def test_published_youth_table_scores_25_of_36_good():
    ratings = ["good", "good", "outstanding", "outstanding", "good", "inadequate", "outstanding", "outstanding",
               "requires_improvement", "requires_improvement", "outstanding", "good", "requires_improvement"]
    result = rated(table("youth-2021", ratings))
    overall = result["overall"]
    assert (overall["score"], overall["max_score"], overall["rating"]) == (25, 36, "good")
    resettlement = standard(result, "4.1")
    assert (resettlement["scored"], resettlement["rating"], resettlement["points"]) == (False, "requires_improvement", None)
    assert overall["band"] == {"rating": "good", "min": 19, "max": 30}
    assert (overall["points_to_move_up"], overall["points_to_move_down"]) == (6, 7)


def test_published_crc_five_good_five_requires_improvement_is_15_of_30():
    result = rated(table("probation-crc-2018", ["good"] * 5 + ["requires_improvement"] * 5))
    overall = result["overall"]
    assert (overall["score"], overall["max_score"], overall["rating"]) == (15, 30, "requires_improvement")
    assert overall["band_above"] == {"rating": "good", "min": 16, "max": 25}
    assert overall["points_to_move_up"] == 1


@pytest.mark.parametrize(("framework_id", "ratings"), [
    ("youth-2018", ["inadequate"] * 12),
    ("youth-2021", ["inadequate"] * 12 + ["outstanding"]),
])
def test_twelve_inadequate_youth_standards_is_0_of_36(framework_id, ratings):
    overall = rated(table(framework_id, ratings))["overall"]
    assert (overall["score"], overall["max_score"], overall["rating"]) == (0, 36, "inadequate")
    assert overall["band_below"] is None and overall["points_to_move_down"] is None


def test_not_scored_standard_is_rated_but_left_out_of_the_score():
    ratings = ["good"] * 12
    low = rated(table("youth-2021", ratings + ["inadequate"]))["overall"]
    high = rated(table("youth-2021", ratings + ["outstanding"]))["overall"]
    assert low["score"] == high["score"] == 24
    assert low["scored_standards"] == 12


# --------------------------------------------------------------------------------------------------------
# Overall bands of every framework, at both edges of every band


def _scores(framework_id):
    fw = framework(framework_id)
    return [(band, score) for band in fw.rules.overall.bands for score in sorted({band.min, band.max})]


def _ratings_for(framework_id, score):
    """Ratings for each standard, in order, whose scored points add up to `score`."""
    names = {v: k for k, v in SCORE_OF.items()}
    remaining, out = score, []
    for s in framework(framework_id).standards():
        if not s.scored:
            out.append("outstanding")  # must not count
            continue
        points = min(3, remaining)
        out.append(names[points])
        remaining -= points
    assert remaining == 0
    return out


@pytest.mark.parametrize(
    ("framework_id", "band", "score"),
    [(f, band, score) for f in sorted(library()) for band, score in _scores(f)],
    ids=lambda v: getattr(v, "rating", v),
)
def test_overall_bands_at_every_edge(framework_id, band, score):
    overall = rated(table(framework_id, _ratings_for(framework_id, score)))["overall"]
    assert (overall["score"], overall["rating"]) == (score, band.rating)
    assert overall["band"] == {"rating": band.rating, "min": band.min, "max": band.max}
    assert overall["max_score"] == framework(framework_id).rules.overall.max_score
    if overall["band_above"]:
        assert overall["points_to_move_up"] == band.max + 1 - score
    if overall["band_below"]:
        assert overall["points_to_move_down"] == score - band.min + 1


def test_provisional_bands_are_flagged():
    fw = framework("probation-pdu-2021")
    overall = rated(table("probation-pdu-2021", ["good"] * 9))["overall"]
    assert overall["bands_provisional"] is fw.rules.overall.provisional
    if fw.rules.overall.provisional:
        assert "provisional" in overall["explanation"]


def test_missing_scored_standard_makes_the_overall_not_rated():
    body = table("probation-crc-2018", ["good"] * 10)
    del body["standards"][3]
    result = rated(body)
    assert result["overall"]["rating"] == "not_rated"
    assert result["overall"]["score"] is None
    assert result["overall"]["reasons"] == ["scored standard 1.4 (Information and facilities) has no evidence"]
    missing = standard(result, "1.4")
    assert (missing["status"], missing["evidence"], missing["rating"]) == ("no_evidence", "none", None)


def test_missing_not_scored_standard_leaves_the_overall_rated():
    body = table("youth-2021", ["good"] * 13)
    body["standards"].pop()
    overall = rated(body)["overall"]
    assert (overall["rating"], overall["score"]) == ("good", 24)


def test_every_framework_standard_is_reported_in_order():
    result = rated({"framework": "youth-2021", "standards": []})
    assert [s["standard"] for s in result["standards"]] == [s.id for s in framework("youth-2021").standards()]


# --------------------------------------------------------------------------------------------------------
# Overrides


def test_override_sets_the_final_rating_and_keeps_the_computed_one():
    body = _crc_21((79, 100))
    body["overrides"] = [{"standard": "2.1", "rating": "outstanding", "reason": "Panel: two cases misrecorded."}]
    result = standard(rated(body), "2.1")
    assert (result["computed_rating"], result["rating"], result["overridden"]) == ("good", "outstanding", True)
    assert result["override_reason"] == "Panel: two cases misrecorded."
    assert result["points"] == 3
    assert "panel" in result["explanation"]


def test_override_changes_the_overall_and_the_computed_overall_is_kept():
    body = table("probation-crc-2018", ["good"] * 5 + ["requires_improvement"] * 5)
    body["overrides"] = [{"standard": "3.2", "rating": "good", "reason": "Panel decision."}]
    overall = rated(body)["overall"]
    assert (overall["score"], overall["rating"]) == (16, "good")
    assert (overall["computed_score"], overall["computed_rating"]) == (15, "requires_improvement")


@pytest.mark.parametrize(
    ("override", "fault"),
    [
        ({"standard": "9.9", "rating": "good", "reason": "x"}, "has no standard 9.9"),
        ({"standard": "2.2", "rating": "good", "reason": "x"}, "no evidence to override"),
    ],
)
def test_override_needs_an_evidenced_standard(override, fault):
    body = _crc_21((79, 100))
    body["overrides"] = [override]
    with pytest.raises(RatingInputError) as raised:
        rated(body)
    assert raised.value.faults[0].field == "body.overrides.0.standard"
    assert fault in raised.value.faults[0].message


def test_a_panel_confirmation_keeps_the_computed_rating_with_the_reason():
    body = _crc_21((79, 100))
    body["overrides"] = [{"standard": "2.1", "rating": "good", "reason": "Panel: few cases, but consistent."}]
    result = standard(rated(body), "2.1")
    assert (result["computed_rating"], result["rating"], result["overridden"], result["points"]) == (
        "good", "good", True, 2,
    )
    assert result["override_reason"] == "Panel: few cases, but consistent."
    assert result["explanation"].endswith(" The ratings panel confirmed Good.")


def test_a_standard_marked_not_rated_has_no_rating_and_the_overall_says_why():
    body = table("probation-crc-2018", ["good"] * 10)
    body["overrides"] = [{"standard": "3.2", "rating": "not_rated", "reason": "No releases in the period."}]
    result = rated(body)
    marked = standard(result, "3.2")
    assert (marked["computed_rating"], marked["rating"], marked["overridden"], marked["points"]) == (
        "good", None, True, None,
    )
    assert (marked["override_reason"], marked["rating_label"]) == ("No releases in the period.", None)
    assert marked["explanation"].endswith(" The ratings panel marked it not rated.")
    overall = result["overall"]
    assert (overall["status"], overall["rating"], overall["score"]) == ("not_rated", "not_rated", None)
    assert overall["reasons"] == ["scored standard 3.2 (Through the Gate) was marked not rated by the ratings panel"]


def test_a_standard_without_evidence_may_be_marked_not_rated_but_not_rated():
    body = _crc_21((79, 100))
    body["overrides"] = [{"standard": "2.2", "rating": "not_rated", "reason": "Too few cases to judge."}]
    marked = standard(rated(body), "2.2")
    assert (marked["status"], marked["evidence"], marked["rating"], marked["overridden"]) == (
        "no_evidence", "none", None, True,
    )
    body["overrides"] = [{"standard": "2.2", "rating": "good", "reason": "x"}]
    with pytest.raises(RatingInputError) as raised:
        rated(body)
    assert raised.value.faults[0].message == (
        "standard 2.2 has no evidence to override; send its rating instead, or mark it not_rated"
    )


def test_override_twice_is_refused():
    body = _crc_21((79, 100))
    body["overrides"] = [{"standard": "2.1", "rating": "good", "reason": "x"}] * 2
    with pytest.raises(RatingInputError) as raised:
        rated(body)
    assert raised.value.faults[0].field == "body.overrides.1.standard"


# --------------------------------------------------------------------------------------------------------
# Explanation: intervals, borderline, distance to the next band


def test_interval_is_wilson_at_80_percent_by_default_and_follows_the_confidence():
    figure = standard(rated(_crc_21((79, 100))), "2.1")["key_questions"][0]
    assert figure["interval"] == [pytest.approx(73.332725), pytest.approx(83.73009)]
    body = _crc_21((79, 100))
    body["confidence"] = 0.95
    wide = standard(rated(body), "2.1")
    assert wide["confidence"] == 0.95
    assert wide["key_questions"][0]["interval"][0] < 73.0
    body["standards"][0]["confidence"] = 0.5
    assert standard(rated(body), "2.1")["confidence"] == 0.5


def test_borderline_when_the_driving_interval_crosses_a_band_edge():
    near = standard(rated(_crc_21((79, 100))), "2.1")
    assert near["borderline"] is True and near["key_questions"][0]["crosses_band_edge"] is True
    far = standard(rated(_crc_21((720, 1000))), "2.1")
    assert far["borderline"] is False


def test_cases_needed_to_move_up_and_down():
    result = standard(rated(_crc_21((70, 100), (66, 100), (90, 100))), "2.1")
    assert result["computed_rating"] == "good"
    assert result["move_up"] == [{"key_question": "2.1.1", "cases": 10}, {"key_question": "2.1.2", "cases": 14}]
    assert result["cases_to_move_up"] == 24
    assert result["move_down"] == {"key_question": "2.1.2", "cases": 2}
    assert result["cases_to_move_down"] == 2
    top = standard(rated(_crc_21((100, 100), (100, 100), (100, 100))), "2.1")
    assert (top["cases_to_move_up"], top["move_up"], top["cases_to_move_down"]) == (None, [], 21)
    bottom = standard(rated(_crc_21((0, 10), (10, 10), (10, 10))), "2.1")
    assert (bottom["cases_to_move_up"], bottom["cases_to_move_down"]) == (5, None)


def test_moving_by_the_stated_cases_moves_the_band():
    result = standard(rated(_crc_21((70, 100), (66, 100), (90, 100))), "2.1")
    up = _crc_21((70 + 10, 100), (66 + 14, 100), (90, 100))
    assert standard(rated(up), "2.1")["computed_rating"] == "outstanding"
    down = _crc_21((70, 100), (66 - result["cases_to_move_down"], 100), (90, 100))
    assert standard(rated(down), "2.1")["computed_rating"] == "requires_improvement"


def test_judged_and_given_ratings_carry_no_figures():
    body = {"framework": "probation-crc-2018", "standards": [
        {"standard": "1.1", "rating": "good", "evidence_summary": "Interviews."},
        {"standard": "2.1", "rating": "inadequate"},
    ]}
    result = rated(body)
    judged, given = standard(result, "1.1"), standard(result, "2.1")
    assert (judged["evidence"], judged["key_questions"], judged["driver"], judged["borderline"]) == ("rating", [], None, None)
    assert "judgement" in judged["explanation"] and "given as input" in given["explanation"]
    assert given["points"] == 0


def test_result_carries_the_framework_rules_version_and_fingerprint():
    result = rated(_crc_21((79, 100)))
    assert (result["framework_id"], result["framework_version"]) == ("probation-crc-2018", "2018.1")
    assert result["framework_source"] == "library"
    assert result["rules_version"]
    assert len(result["input_fingerprint"]) == 64 and len(result["framework_hash"]) == 64


# --------------------------------------------------------------------------------------------------------
# Inline frameworks


def test_inline_framework_is_rated_by_its_own_rules():
    body = {
        "framework": small_framework(),
        "standards": [
            {"standard": "1.1", "rating": "good"},
            {"standard": "2.1", "counts": {"2.1.1": {"yes": 8, "applicable": 10}, "2.1.2": {"yes": 7, "applicable": 10}}},
            {"standard": "2.2", "cases": cases({"2.2.1": ["yes", "yes"]}, attributes={"unpaid_work": True})},
        ],
    }
    result = rated(body)
    assert result["framework_source"] == "inline" and result["framework_id"] == "draft-small"
    assert [s["rating"] for s in result["standards"]] == ["good", "good", "outstanding"]
    assert (result["overall"]["score"], result["overall"]["rating"]) == (7, "good")


def test_inline_framework_with_other_thresholds():
    body = {
        "framework": small_framework(key_question_thresholds={"outstanding": 90, "good": 70, "requires_improvement": 40}),
        "standards": [{"standard": "2.1", "counts": {"2.1.1": {"yes": 89, "applicable": 100}, "2.1.2": {"yes": 95, "applicable": 100}}}],
    }
    assert standard(rated(body), "2.1")["computed_rating"] == "good"


def test_the_same_framework_inline_or_by_id_gives_the_same_fingerprint():
    by_id = rated(_crc_21((79, 100)))
    inline = _crc_21((79, 100))
    inline["framework"] = framework("probation-crc-2018").model_dump(mode="json")
    by_value = rated(inline)
    assert by_value["framework_source"] == "inline"
    assert by_value["input_fingerprint"] == by_id["input_fingerprint"]
    assert by_value["standards"] == by_id["standards"]


# --------------------------------------------------------------------------------------------------------
# Fingerprint


def test_fingerprint_ignores_order_and_changes_with_any_answer():
    case_list = cases({"2.1.1": answers(7, 3), "2.1.2": answers(5, 5), "2.1.3": answers(9, 1)})
    body = {"framework": "probation-crc-2018", "standards": [{"standard": "1.1", "rating": "good"}, {"standard": "2.1", "cases": case_list}]}
    base = rated(body)
    shuffled = {
        "framework": "probation-crc-2018",
        "standards": [
            {"standard": "2.1", "cases": [dict(c, answers=dict(reversed(c["answers"].items()))) for c in reversed(case_list)]},
            {"standard": "1.1", "rating": "good"},
        ],
    }
    again = rated(shuffled)
    assert again == base
    changed = [dict(c, answers=dict(c["answers"])) for c in case_list]
    changed[0]["answers"]["2.1.2"] = "not_applicable"
    body["standards"][1]["cases"] = changed
    assert rated(body)["input_fingerprint"] != base["input_fingerprint"]
    body["standards"][1]["cases"] = case_list
    body["confidence"] = 0.9
    assert rated(body)["input_fingerprint"] != base["input_fingerprint"]
