"""The framework library: the shipped versions, their facts, and every refusal of the loader."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inspection_shared.framework import Framework
from inspection_shared.library import (
    LIBRARY_DIR,
    FrameworkInvalid,
    VocabularyInvalid,
    content_hash,
    library,
    load_framework_file,
    load_library,
    load_vocabularies,
    load_vocabulary_file,
    parse_framework,
    rule_faults,
    vocabularies,
)
from inspection_shared.vocabulary import UNIT_COLUMN, spelling_key

PUBLISHED = {"probation-crc-2018", "probation-nps-2018", "probation-pdu-2021", "probation-regional-2023", "youth-2018",
             "youth-2021"}
"""The published versions shipped (the five of domain.md, and the 2023 regional framework)."""
DRAFTS = {"probation-pdu-2021-effectiveness"}
ADULT_THEMES = ["engaging_the_person", "reducing_offending", "keeping_others_safe"]
YOUTH_THEMES = ["desistance", "keeping_the_child_safe", "keeping_others_safe"]
BANDS_30 = [("inadequate", 0, 5), ("requires_improvement", 6, 15), ("good", 16, 25), ("outstanding", 26, 30)]
BANDS_36 = [("inadequate", 0, 6), ("requires_improvement", 7, 18), ("good", 19, 30), ("outstanding", 31, 36)]
BANDS_27 = [("inadequate", 0, 4), ("requires_improvement", 5, 13), ("good", 14, 22), ("outstanding", 23, 27)]
BANDS_24 = [("inadequate", 0, 4), ("requires_improvement", 5, 12), ("good", 13, 20), ("outstanding", 21, 24)]
OUT_OF_COURT = {"youth_caution", "youth_conditional_caution", "community_resolution"}

# id -> standards in order as (id, name, kind, scored, sample type)
DOMAIN_ONE_ADULT = [
    ("1.1", "Leadership", "judged", True, None),
    ("1.2", "Staff", "judged", True, None),
    ("1.3", "Services", "judged", True, None),
    ("1.4", "Information and facilities", "judged", True, None),
]
CASE_SUPERVISION_2018 = [
    ("2.1", "Assessment", "case", True, "case_supervision"),
    ("2.2", "Planning", "case", True, "case_supervision"),
    ("2.3", "Implementation and delivery", "case", True, "case_supervision"),
    ("2.4", "Reviewing", "case", True, "case_supervision"),
]
YOUTH_2018 = [
    ("1.1", "Governance and leadership", "judged", True, None),
    ("1.2", "Staff", "judged", True, None),
    ("1.3", "Partnerships and services", "judged", True, None),
    ("1.4", "Information and facilities", "judged", True, None),
    ("2.1", "Assessment", "case", True, "court_disposals"),
    ("2.2", "Planning", "case", True, "court_disposals"),
    ("2.3", "Implementation and delivery", "case", True, "court_disposals"),
    ("2.4", "Reviewing", "case", True, "court_disposals"),
    ("3.1", "Assessment", "case", True, "out_of_court_disposals"),
    ("3.2", "Planning", "case", True, "out_of_court_disposals"),
    ("3.3", "Implementation and delivery", "case", True, "out_of_court_disposals"),
    ("3.4", "Out-of-court disposal policy and provision", "judged", True, None),
]
STANDARDS = {
    "probation-crc-2018": DOMAIN_ONE_ADULT
    + CASE_SUPERVISION_2018
    + [
        ("3.1", "Unpaid work", "case", True, "unpaid_work"),
        ("3.2", "Through the Gate", "case", True, "through_the_gate"),
    ],
    "probation-nps-2018": DOMAIN_ONE_ADULT
    + CASE_SUPERVISION_2018
    + [
        ("3.1", "Court reports and allocation", "case", True, "court_reports"),
        ("3.2", "Statutory victim work", "case", True, "victims"),
    ],
    "probation-pdu-2021": DOMAIN_ONE_ADULT
    + [
        ("2.1", "Court work", "case", True, "court_reports"),
        ("2.2", "Assessment", "case", True, "case_supervision"),
        ("2.3", "Planning", "case", True, "case_supervision"),
        ("2.4", "Implementation and delivery", "case", True, "case_supervision"),
        ("2.5", "Reviewing", "case", True, "case_supervision"),
    ],
    "probation-regional-2023": DOMAIN_ONE_ADULT + CASE_SUPERVISION_2018,
    "youth-2018": YOUTH_2018,
    "youth-2021": YOUTH_2018 + [("4.1", "Resettlement policy and provision", "judged", False, None)],
}
# id -> (standards rated, standards scored, maximum score, bands, themes)
FACTS = {
    "probation-crc-2018": (10, 10, 30, BANDS_30, ADULT_THEMES),
    "probation-nps-2018": (10, 10, 30, BANDS_30, ADULT_THEMES),
    "probation-pdu-2021": (9, 9, 27, BANDS_27, ADULT_THEMES),
    "probation-regional-2023": (8, 8, 24, BANDS_24, ADULT_THEMES),
    "youth-2018": (12, 12, 36, BANDS_36, YOUTH_THEMES),
    "youth-2021": (13, 12, 36, BANDS_36, YOUTH_THEMES),
}


def framework(framework_id: str) -> Framework:
    return library()[framework_id]


def as_data(framework_id: str) -> dict[str, Any]:
    """A loaded framework as plain data, ready to be broken."""
    return framework(framework_id).model_dump(mode="json")


def refusal(data: dict[str, Any]) -> FrameworkInvalid:
    with pytest.raises(FrameworkInvalid) as caught:
        parse_framework(data)
    return caught.value


def standard_of(data: dict[str, Any], standard_id: str) -> dict[str, Any]:
    return next(s for d in data["domains"] for s in d["standards"] if s["id"] == standard_id)


def band_of(data: dict[str, Any], rating: str) -> dict[str, Any]:
    return next(b for b in data["rules"]["overall"]["bands"] if b["rating"] == rating)


# --- the shipped library ------------------------------------------------------------------------


def test_shipped_library_holds_exactly_the_five_versions_and_the_draft():
    assert set(library()) == PUBLISHED | DRAFTS
    assert {p.stem for p in LIBRARY_DIR.glob("*.yaml")} == PUBLISHED | DRAFTS
    assert {fid for fid, f in library().items() if f.status == "draft"} == DRAFTS


def test_library_is_loaded_once_and_matches_a_fresh_load():
    assert library() is library()
    fresh = load_library()
    assert {k: content_hash(v) for k, v in fresh.items()} == {k: content_hash(v) for k, v in library().items()}


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_shipped_framework_has_no_rule_faults_and_survives_a_round_trip(framework_id):
    f = framework(framework_id)
    assert rule_faults(f) == []
    again = parse_framework(json.loads(json.dumps(f.model_dump(mode="json"))))
    assert again == f
    assert content_hash(again) == content_hash(f)


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_standards_are_the_published_ones_in_order(framework_id):
    got = [(s.id, s.name, s.kind, s.scored, s.sample_type) for s in framework(framework_id).standards()]
    assert got == STANDARDS[framework_id]


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_counts_maximum_and_bands(framework_id):
    rated, scored, max_score, bands, _ = FACTS[framework_id]
    f = framework(framework_id)
    assert len(f.standards()) == rated
    assert sum(s.scored for s in f.standards()) == scored
    assert f.rules.overall.max_score == max_score == 3 * scored
    assert [(b.rating, b.min, b.max) for b in f.rules.overall.bands] == bands


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_every_score_falls_in_exactly_one_band(framework_id):
    overall = framework(framework_id).rules.overall
    for score in range(overall.max_score + 1):
        assert sum(b.min <= score <= b.max for b in overall.bands) == 1, score
    assert min(b.min for b in overall.bands) == 0
    assert max(b.max for b in overall.bands) == overall.max_score


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_rating_scale_points_and_thresholds(framework_id):
    rules = framework(framework_id).rules
    assert [(p.rating, p.label, p.points) for p in rules.scale] == [
        ("outstanding", "Outstanding", 3),
        ("good", "Good", 2),
        ("requires_improvement", "Requires improvement", 1),
        ("inadequate", "Inadequate", 0),
    ]
    t = rules.key_question_thresholds
    assert (t.outstanding, t.good, t.requires_improvement) == (80, 65, 50)


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_case_based_standards_have_one_key_question_per_theme(framework_id):
    f = framework(framework_id)
    themes = FACTS[framework_id][4]
    assert [t.id for t in f.themes] == themes
    case_based = [s for s in f.standards() if s.kind == "case"]
    assert case_based
    for s in case_based:
        assert [k.id for k in s.key_questions] == [f"{s.id}.1", f"{s.id}.2", f"{s.id}.3"]
        assert [k.theme for k in s.key_questions] == themes
        assert all(k.text.endswith("?") for k in s.key_questions)
        assert s.sample_type in {t.id for t in f.sample_types}


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_judged_standards_have_no_key_questions_or_sample(framework_id):
    for s in framework(framework_id).standards():
        if s.kind == "judged":
            assert (s.key_questions, s.sample_type, s.case_filter) == ([], None, None)


@pytest.mark.parametrize("framework_id", sorted(PUBLISHED))
def test_every_sample_type_is_used_and_source_marks_recalled_wording(framework_id):
    f = framework(framework_id)
    assert {t.id for t in f.sample_types} == {s.sample_type for s in f.standards() if s.sample_type}
    assert "[recalled]" in f.source


def test_sample_types_named_per_framework():
    names = {fid: sorted(t.id for t in framework(fid).sample_types) for fid in PUBLISHED}
    assert names == {
        "probation-crc-2018": ["case_supervision", "through_the_gate", "unpaid_work"],
        "probation-nps-2018": ["case_supervision", "court_reports", "victims"],
        "probation-pdu-2021": ["case_supervision", "court_reports"],
        "probation-regional-2023": ["case_supervision"],
        "youth-2018": ["court_disposals", "out_of_court_disposals"],
        "youth-2021": ["court_disposals", "out_of_court_disposals"],
    }


@pytest.mark.parametrize("framework_id", ["youth-2018", "youth-2021"])
def test_youth_samples_are_stratified_on_disposal_type_and_looked_after_status(framework_id):
    for sample in framework(framework_id).sample_types:
        assert {"disposal_type", "looked_after"} <= set(sample.strata), sample.id


@pytest.mark.parametrize("framework_id", ["youth-2018", "youth-2021"])
def test_youth_key_question_wording(framework_id):
    f = framework(framework_id)
    for standard_id in ("2.1", "3.1"):
        assert [k.text for k in f.standard(standard_id).key_questions] == [
            "Does assessment focus sufficiently on supporting the child's desistance?",
            "Does assessment focus sufficiently on keeping the child safe?",
            "Does assessment focus sufficiently on keeping other people safe?",
        ]


def test_case_filters_are_where_the_domain_calls_for_them():
    filters = {
        (fid, s.id): [
            (c.attribute, c.equals, sorted(c.one_of) if c.one_of is not None else None)
            for c in s.case_filter.conditions
        ]
        for fid in PUBLISHED
        for s in framework(fid).standards()
        if s.case_filter is not None
    }
    out_of_court = [("disposal_type", None, sorted(OUT_OF_COURT))]
    assert filters == {
        ("probation-crc-2018", "3.1"): [("unpaid_work_requirement", True, None)],
        ("probation-crc-2018", "3.2"): [("released_from_custody", True, None)],
        ("youth-2018", "3.1"): out_of_court,
        ("youth-2018", "3.2"): out_of_court,
        ("youth-2018", "3.3"): out_of_court,
        ("youth-2021", "3.1"): out_of_court,
        ("youth-2021", "3.2"): out_of_court,
        ("youth-2021", "3.3"): out_of_court,
    }


def test_youth_2021_resettlement_is_rated_but_not_scored():
    f = framework("youth-2021")
    resettlement = f.standard("4.1")
    assert (resettlement.name, resettlement.kind, resettlement.scored) == (
        "Resettlement policy and provision",
        "judged",
        False,
    )
    assert [d.number for d in f.domains] == [1, 2, 3, 4]
    # Everything else is as youth-2018.
    older = framework("youth-2018")
    assert [s for s in f.standards() if s.id != "4.1"] == older.standards()
    assert "small" in f.rules.unit_rating.note.lower()


def test_only_the_pdu_bands_are_provisional():
    provisional = {fid for fid in PUBLISHED if framework(fid).rules.overall.provisional}
    assert provisional == {"probation-pdu-2021", "probation-regional-2023"}
    overall = framework("probation-pdu-2021").rules.overall
    assert "provisional" in overall.note.lower()
    assert "not published" in overall.note.lower()
    inadequate = next(b for b in overall.bands if b.rating == "inadequate")
    # Published PDU scores of 0 to 3 were all rated Inadequate.
    assert inadequate.min == 0
    assert inadequate.max >= 3


def test_pdu_rates_regions_and_pdus_and_says_the_pdu_judgement_is_undecided():
    unit_rating = framework("probation-pdu-2021").rules.unit_rating
    assert unit_rating.rated_unit_types == ["region", "pdu"]
    assert "undecided" in unit_rating.note.lower()


def test_frameworks_apply_to_their_unit_types():
    assert {fid: framework(fid).applies_to for fid in PUBLISHED} == {
        "probation-crc-2018": ["crc"],
        "probation-nps-2018": ["nps_division"],
        "probation-pdu-2021": ["region", "pdu"],
        "probation-regional-2023": ["region"],
        "youth-2018": ["yos"],
        "youth-2021": ["yos"],
    }


def test_every_version_states_what_publication_requires():
    gates = {fid: framework(fid).publication.model_dump() for fid in PUBLISHED}
    adult = {"scored_standards_rated": True, "judgements_recorded": True, "minimum_answered_share": 0.9,
             "minimum_applicable_cases": 10}
    assert gates == {
        "probation-crc-2018": adult, "probation-nps-2018": adult, "probation-pdu-2021": adult,
        "probation-regional-2023": adult,
        "youth-2018": {**adult, "minimum_applicable_cases": 5}, "youth-2021": {**adult, "minimum_applicable_cases": 5},
    }


@pytest.mark.parametrize(
    ("field", "value", "fault"),
    [
        ("minimum_answered_share", 0, "publication.minimum_answered_share: Input should be greater than 0"),
        ("minimum_answered_share", 1.2, "publication.minimum_answered_share: Input should be less than or equal to 1"),
        ("minimum_applicable_cases", 0, "publication.minimum_applicable_cases: Input should be greater than or equal to 1"),
        ("minimum_applicable_cases", 2.5, "publication.minimum_applicable_cases: Input should be a valid integer, got a number with a fractional part"),
        ("judgements_recorded", "sometimes", "publication.judgements_recorded: Input should be a valid boolean, unable to interpret input"),
    ],
)
def test_publication_gates_are_checked_on_load(field: str, value: Any, fault: str):
    data = as_data("probation-pdu-2021")
    data["publication"][field] = value
    assert refusal(data).faults == [fault]


def test_a_gate_left_out_is_named():
    data = as_data("youth-2021")
    del data["publication"]["minimum_applicable_cases"]
    assert refusal(data).faults == ["publication.minimum_applicable_cases: Field required"]


def test_the_share_may_be_all_of_the_sample():
    data = as_data("youth-2021")
    data["publication"]["minimum_answered_share"] = 1
    assert parse_framework(data).publication.minimum_answered_share == 1


def test_a_library_file_without_publication_gates_is_refused(tmp_path: Path):
    data = as_data("youth-2018")
    del data["publication"]
    parse_framework(data)  # inline, as the rating engine takes it, it is a framework all the same
    path = tmp_path / "youth-2018.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FrameworkInvalid) as caught:
        load_framework_file(path)
    assert caught.value.faults == ["publication: a version in the library states what publication requires"]


# --- refusals -----------------------------------------------------------------------------------


def test_refusal_names_the_framework():
    data = as_data("probation-crc-2018")
    data["rules"]["key_question_thresholds"]["good"] = 90
    error = refusal(data)
    assert str(error).startswith("framework probation-crc-2018 is invalid: ")
    assert error.source == "probation-crc-2018"


def test_duplicate_standard_id():
    data = as_data("probation-crc-2018")
    standard_of(data, "2.2")["id"] = "2.1"
    assert "duplicate standard id 2.1" in refusal(data).faults


def test_duplicate_key_question_id():
    data = as_data("probation-crc-2018")
    standard_of(data, "2.1")["key_questions"][1]["id"] = "2.1.1"
    faults = refusal(data).faults
    assert "duplicate key question id 2.1.1" in faults
    assert "key question 2.1.1 is at position 2 of standard 2.1" in faults


@pytest.mark.parametrize(
    ("mutate", "fault"),
    [
        (lambda d: d["themes"].append(copy.deepcopy(d["themes"][0])), "duplicate theme id engaging_the_person"),
        (
            lambda d: d["sample_types"].append(copy.deepcopy(d["sample_types"][0])),
            "duplicate sample type id case_supervision",
        ),
        (lambda d: d["domains"][2].update(number=2), "duplicate domain number 2"),
    ],
    ids=["theme", "sample-type", "domain"],
)
def test_other_duplicate_ids(mutate: Callable[[dict[str, Any]], None], fault: str):
    data = as_data("probation-crc-2018")
    mutate(data)
    assert fault in refusal(data).faults


def test_key_question_under_no_standard():
    data = as_data("probation-crc-2018")
    standard_of(data, "2.1")["key_questions"][2]["id"] = "2.9.3"
    assert refusal(data).faults == [
        "key question 2.9.3 is under no standard: there is no standard 2.9 (it is listed under standard 2.1)"
    ]


def test_key_question_listed_under_another_standard():
    data = as_data("probation-crc-2018")
    standard_of(data, "2.1")["key_questions"][0]["id"] = "2.2.1"
    faults = refusal(data).faults
    assert "key question 2.2.1 is listed under standard 2.1 but its id places it under standard 2.2" in faults
    assert "duplicate key question id 2.2.1" in faults


def test_standard_numbered_outside_its_domain():
    data = as_data("probation-crc-2018")
    data["domains"][1]["standards"].append(data["domains"][0]["standards"].pop())
    assert "standard 1.4 is numbered outside domain 2" in refusal(data).faults


@pytest.mark.parametrize(
    ("thresholds", "shown"),
    [
        ({"outstanding": 80, "good": 85, "requires_improvement": 50}, "outstanding 80.0 > good 85.0"),
        ({"outstanding": 80, "good": 65, "requires_improvement": 65}, "good 65.0 > requires_improvement 65.0"),
        ({"outstanding": 50, "good": 65, "requires_improvement": 80}, "outstanding 50.0 > good 65.0"),
    ],
    ids=["good-above-outstanding", "equal", "ascending"],
)
def test_thresholds_not_descending(thresholds: dict[str, float], shown: str):
    data = as_data("youth-2018")
    data["rules"]["key_question_thresholds"] = thresholds
    faults = refusal(data).faults
    assert len(faults) == 1
    assert faults[0].startswith("key question thresholds must descend")
    assert shown in faults[0]


@pytest.mark.parametrize(
    ("rating", "change", "fault"),
    [
        ("requires_improvement", {"min": 8}, "score bands leave a gap: no band covers 6-7"),
        ("requires_improvement", {"min": 7}, "score bands leave a gap: no band covers 6"),
        ("inadequate", {"min": 2}, "score bands leave a gap: no band covers 0-1"),
        ("outstanding", {"max": 28}, "score bands leave a gap: no band covers 29-30"),
        (
            "requires_improvement",
            {"min": 4},
            "score bands overlap: 4-5 is in both inadequate and requires_improvement",
        ),
        ("good", {"max": 26}, "score bands overlap: 26 is in both good and outstanding"),
        ("outstanding", {"max": 32}, "score bands run past the maximum score 30: 31-32"),
        ("good", {"min": 26, "max": 16}, "score band good runs backwards (26-16)"),
    ],
    ids=["gap", "gap-of-one", "gap-at-zero", "gap-at-top", "overlap", "overlap-of-one", "past-max", "backwards"],
)
def test_score_band_faults(rating: str, change: dict[str, int], fault: str):
    data = as_data("probation-crc-2018")
    band_of(data, rating).update(change)
    assert fault in refusal(data).faults


def test_score_band_missing_a_rating():
    data = as_data("probation-crc-2018")
    overall = data["rules"]["overall"]
    overall["bands"] = [b for b in overall["bands"] if b["rating"] != "outstanding"]
    band_of(data, "good")["max"] = 30
    assert refusal(data).faults == ["no score band for outstanding"]


def test_score_bands_in_the_wrong_order():
    data = as_data("probation-crc-2018")
    bands = data["rules"]["overall"]["bands"]
    assert [b["rating"] for b in (bands[0], bands[3])] == ["inadequate", "outstanding"]
    bands[0]["rating"], bands[3]["rating"] = "outstanding", "inadequate"
    assert "score bands must rise from inadequate to outstanding" in refusal(data).faults


def test_duplicate_score_band():
    data = as_data("probation-crc-2018")
    band_of(data, "good")["rating"] = "requires_improvement"
    faults = refusal(data).faults
    assert "duplicate score band for requires_improvement" in faults
    assert "no score band for good" in faults


def test_maximum_not_three_times_the_scored_standards():
    data = as_data("probation-crc-2018")
    data["rules"]["overall"]["max_score"] = 27
    faults = refusal(data).faults
    assert "maximum score 27 is not 3 x 10 scored standards = 30" in faults


def test_maximum_follows_which_standards_are_scored():
    data = as_data("probation-crc-2018")
    standard_of(data, "3.2")["scored"] = False
    assert "maximum score 30 is not 3 x 9 scored standards = 27" in refusal(data).faults

    data = as_data("youth-2021")
    standard_of(data, "4.1")["scored"] = True
    assert "maximum score 36 is not 3 x 13 scored standards = 39" in refusal(data).faults


def test_points_must_fall_and_scale_must_be_complete():
    data = as_data("probation-crc-2018")
    data["rules"]["scale"][1]["points"] = 3
    assert "points per rating must fall strictly from outstanding to inadequate" in refusal(data).faults

    data = as_data("probation-crc-2018")
    data["rules"]["scale"][1]["rating"] = "outstanding"
    assert any(f.startswith("rating scale must name each of") for f in refusal(data).faults)


@pytest.mark.parametrize(
    ("mutate", "fault"),
    [
        (lambda d: standard_of(d, "2.1").update(key_questions=[]), "case-based standard 2.1 has no key questions"),
        (lambda d: standard_of(d, "2.1").update(sample_type=None), "case-based standard 2.1 names no sample type"),
        (
            lambda d: standard_of(d, "2.1").update(sample_type="victims"),
            "standard 2.1 is assessed on unknown sample type 'victims'",
        ),
        (
            lambda d: standard_of(d, "1.1").update(
                key_questions=copy.deepcopy(standard_of(d, "2.1")["key_questions"])
            ),
            "judged standard 1.1 must not have key questions",
        ),
        (
            lambda d: standard_of(d, "1.1").update(sample_type="case_supervision"),
            "judged standard 1.1 must not name a sample or case filter",
        ),
        (
            lambda d: standard_of(d, "2.1")["key_questions"][0].update(theme="keeping_the_child_safe"),
            "key question 2.1.1 has undeclared theme 'keeping_the_child_safe'",
        ),
        (
            lambda d: standard_of(d, "3.1")["case_filter"]["conditions"][0].update(one_of=[True]),
            "case filter of standard 3.1 on 'unpaid_work_requirement' must give exactly one of equals or one_of",
        ),
        (
            lambda d: standard_of(d, "3.1")["case_filter"]["conditions"][0].update(equals=None),
            "case filter of standard 3.1 on 'unpaid_work_requirement' must give exactly one of equals or one_of",
        ),
        (
            lambda d: standard_of(d, "3.1")["case_filter"]["conditions"][0].update(equals=None, one_of=[]),
            "case filter of standard 3.1 on 'unpaid_work_requirement' has an empty one_of and would match no case",
        ),
    ],
    ids=[
        "no-key-questions",
        "no-sample",
        "unknown-sample",
        "judged-with-questions",
        "judged-with-sample",
        "undeclared-theme",
        "filter-both",
        "filter-neither",
        "filter-empty",
    ],
)
def test_structural_faults(mutate: Callable[[dict[str, Any]], None], fault: str):
    data = as_data("probation-crc-2018")
    mutate(data)
    assert fault in refusal(data).faults


def test_every_fault_is_named_at_once():
    data = as_data("probation-nps-2018")
    standard_of(data, "2.2")["id"] = "2.1"
    data["rules"]["key_question_thresholds"]["good"] = 90
    band_of(data, "good")["min"] = 17
    faults = refusal(data).faults
    assert "duplicate standard id 2.1" in faults
    assert any(f.startswith("key question thresholds must descend") for f in faults)
    assert "score bands leave a gap: no band covers 16" in faults


def test_schema_faults_name_the_field():
    data = as_data("probation-crc-2018")
    standard_of(data, "2.1")["id"] = "two.one"
    data["colour"] = "blue"
    error = refusal(data)
    assert error.source == "probation-crc-2018"
    assert any(f.startswith("domains.1.standards.0.id: String should match pattern") for f in error.faults)
    assert "colour: Extra inputs are not permitted" in error.faults


def test_a_non_mapping_is_refused():
    with pytest.raises(FrameworkInvalid) as caught:
        parse_framework(None)
    assert caught.value.source == "inline"
    assert caught.value.faults == ["(top level): Input should be a valid dictionary or instance of Framework"]


def test_refusal_survives_pickling():
    error = pickle.loads(pickle.dumps(FrameworkInvalid("x.yaml", ["one", "two"])))
    assert (error.source, error.faults) == ("x.yaml", ["one", "two"])
    assert str(error) == "framework x.yaml is invalid: one; two"


# --- files --------------------------------------------------------------------------------------


def copy_library_file(framework_id: str, directory: Path, name: str | None = None) -> Path:
    target = directory / (name or f"{framework_id}.yaml")
    target.write_text((LIBRARY_DIR / f"{framework_id}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return target


def test_load_library_from_another_directory(tmp_path: Path):
    copy_library_file("youth-2018", tmp_path)
    copy_library_file("probation-crc-2018", tmp_path)
    (tmp_path / "README.txt").write_text("not a framework")
    loaded = load_library(tmp_path)
    assert sorted(loaded) == ["probation-crc-2018", "youth-2018"]
    assert content_hash(loaded["youth-2018"]) == content_hash(framework("youth-2018"))


def test_a_file_must_be_named_after_its_framework(tmp_path: Path):
    path = copy_library_file("youth-2018", tmp_path, "youth-2019.yaml")
    with pytest.raises(FrameworkInvalid) as caught:
        load_framework_file(path)
    assert caught.value.source == "youth-2019.yaml"
    assert caught.value.faults == ["file name does not match framework id 'youth-2018'"]


def test_the_same_framework_twice_is_refused(tmp_path: Path):
    copy_library_file("youth-2018", tmp_path)
    (tmp_path / "youth-2018.json").write_text(json.dumps(as_data("youth-2018")))
    with pytest.raises(FrameworkInvalid) as caught:
        load_library(tmp_path)
    assert caught.value.faults == ["duplicate framework id youth-2018 (also in youth-2018.json)"]


def test_a_repeated_yaml_key_is_refused_not_silently_dropped(tmp_path: Path):
    path = copy_library_file("probation-crc-2018", tmp_path)
    text = path.read_text()
    path.write_text(text.replace("    max_score: 30\n", "    max_score: 30\n    max_score: 33\n", 1))
    with pytest.raises(FrameworkInvalid) as caught:
        load_framework_file(path)
    assert caught.value.source == "probation-crc-2018.yaml"
    assert caught.value.faults[0].startswith("not valid YAML: duplicate key 'max_score'")


def test_broken_yaml_is_refused(tmp_path: Path):
    path = tmp_path / "youth-2018.yaml"
    path.write_text("id: youth-2018\ndomains: [\n")
    with pytest.raises(FrameworkInvalid) as caught:
        load_framework_file(path)
    assert caught.value.faults[0].startswith("not valid YAML")


def test_a_bad_file_stops_the_library_loading(tmp_path: Path):
    path = copy_library_file("probation-crc-2018", tmp_path)
    path.write_text(path.read_text().replace("max: 25", "max: 24", 1))
    with pytest.raises(FrameworkInvalid) as caught:
        load_library(tmp_path)
    assert caught.value.faults == ["score bands leave a gap: no band covers 25"]


def test_yaml_anchors_and_merges_are_allowed(tmp_path: Path):
    path = copy_library_file("probation-crc-2018", tmp_path)
    text = path.read_text().replace(
        "    - {rating: outstanding, label: Outstanding, points: 3}\n",
        "    - &top {rating: outstanding, label: Outstanding, points: 3}\n",
    ).replace(
        "    - {rating: good, label: Good, points: 2}\n",
        "    - {<<: *top, rating: good, label: Good, points: 2}\n",
    )
    path.write_text(text)
    assert content_hash(load_framework_file(path)) == content_hash(framework("probation-crc-2018"))


# --- content hash -------------------------------------------------------------------------------

MINIMAL = {
    "id": "hash-check",
    "version": "1",
    "name": "Hash check",
    "themes": [{"id": "t", "name": "T"}],
    "domains": [{"number": 1, "name": "D", "standards": [{"id": "1.1", "name": "S", "kind": "judged"}]}],
    "rules": {
        "scale": [
            {"rating": "outstanding", "label": "Outstanding", "points": 3},
            {"rating": "good", "label": "Good", "points": 2},
            {"rating": "requires_improvement", "label": "Requires improvement", "points": 1},
            {"rating": "inadequate", "label": "Inadequate", "points": 0},
        ],
        "key_question_thresholds": {"outstanding": 80, "good": 65, "requires_improvement": 50},
        "overall": {
            "max_score": 3,
            "bands": [
                {"rating": "inadequate", "min": 0, "max": 0},
                {"rating": "requires_improvement", "min": 1, "max": 1},
                {"rating": "good", "min": 2, "max": 2},
                {"rating": "outstanding", "min": 3, "max": 3},
            ],
        },
    },
}


def test_content_hash_is_pinned():
    # A published framework's hash is stored by the gateway; the canonical form must not drift.
    expected = "f97f556351bdfb5d55fa5393a053ec7c5527cd174d65ae3cb0c225f4b6aa8ea3"
    assert content_hash(parse_framework(MINIMAL)) == expected


def test_content_hash_is_stable_and_distinct():
    hashes = {fid: content_hash(framework(fid)) for fid in PUBLISHED | DRAFTS}
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes.values())
    assert len(set(hashes.values())) == len(PUBLISHED | DRAFTS)
    assert {fid: content_hash(f) for fid, f in load_library().items()} == hashes


def test_content_hash_leaves_out_the_publication_gates():
    # They say when a rating may be published, not what it is: set on a published version, they leave
    # the hash its inspections were rated against as it was.
    data = as_data("probation-crc-2018")
    data["publication"]["minimum_applicable_cases"] = 20
    assert content_hash(parse_framework(data)) == content_hash(framework("probation-crc-2018"))
    del data["publication"]
    assert content_hash(parse_framework(data)) == content_hash(framework("probation-crc-2018"))


def test_content_hash_changes_with_content():
    data = as_data("probation-crc-2018")
    before = content_hash(parse_framework(data))
    standard_of(data, "2.1")["key_questions"][0]["text"] = "Does assessment focus on engagement?"
    assert content_hash(parse_framework(data)) != before


def test_content_hash_ignores_order_of_keys_and_spelt_out_defaults():
    data = as_data("probation-crc-2018")
    reordered = dict(reversed(list(data.items())))
    assert content_hash(parse_framework(reordered)) == content_hash(framework("probation-crc-2018"))

    spelt_out = copy.deepcopy(MINIMAL)
    spelt_out["status"] = "published"
    spelt_out["domains"][0]["standards"][0]["scored"] = True
    assert content_hash(parse_framework(spelt_out)) == content_hash(parse_framework(MINIMAL))

    data = copy.deepcopy(MINIMAL)
    data["status"] = "draft"
    assert content_hash(parse_framework(data)) != content_hash(parse_framework(MINIMAL))


# --- vocabularies of frame columns ----------------------------------------------------------------

VOCABULARY_DIR = LIBRARY_DIR / "vocabularies"


def test_every_column_the_frameworks_stratify_on_or_filter_by_has_a_vocabulary():
    named = {c for f in library().values() for t in f.sample_types for c in t.strata}
    named |= {
        c.attribute for f in library().values() for s in f.standards() if s.case_filter for c in s.case_filter.conditions
    }
    assert named - {UNIT_COLUMN} == set(vocabularies()) == {
        "gender", "sentence_type", "rosh_level", "disposal_type", "looked_after", "unpaid_work_requirement",
        "released_from_custody",
    }


@pytest.mark.parametrize(
    ("column", "written", "code"),
    [
        ("gender", "M", "male"), ("gender", " Male ", "male"), ("gender", "male", "male"), ("gender", "F", "female"),
        ("gender", "N/K", "not_known"), ("sentence_type", "Community Order", "community_order"),
        ("sentence_type", "SSO", "suspended_sentence_order"), ("sentence_type", "post-release licence", "licence"),
        ("sentence_type", "Pre-release (custody)", "pre_release_custody"), ("rosh_level", "Very-High", "very_high"),
        ("rosh_level", "VERY_HIGH", "very_high"), ("rosh_level", "M", "medium"), ("disposal_type", "YRO", "youth_rehabilitation_order"),
        ("disposal_type", "ycc", "youth_conditional_caution"), ("looked_after", "Y", "true"), ("looked_after", "LAC", "true"),
        ("unpaid_work_requirement", "No", "false"), ("released_from_custody", "1", "true"),
    ],
)
def test_common_spellings_read_as_their_code(column: str, written: str, code: str):
    assert vocabularies()[column].code_for(written) == code


def test_unknown_values_read_as_no_code():
    assert vocabularies()["sentence_type"].code_for("banana") is None
    assert vocabularies()["rosh_level"].code_for("999") is None
    assert spelling_key("  Very--High (RoSH) ") == "very high rosh"


def copy_vocabularies(directory: Path) -> Path:
    folder = directory / "vocabularies"
    folder.mkdir()
    for path in VOCABULARY_DIR.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_a_spelling_mapped_to_two_codes_is_refused(tmp_path: Path):
    folder = copy_vocabularies(tmp_path)
    path = folder / "gender.yaml"
    path.write_text(path.read_text().replace("spellings: [F, Woman", "spellings: [M, Woman"))
    with pytest.raises(VocabularyInvalid) as caught:
        load_vocabularies(folder)
    assert caught.value.source == "gender.yaml"
    assert caught.value.faults == [
        "spelling 'M' of female reads as 'M' of male: a value spelled so would map to two codes"
    ]
    assert str(caught.value).startswith("vocabulary gender.yaml is invalid")


def test_a_vocabulary_must_be_named_after_its_column_and_list_each_code_once(tmp_path: Path):
    path = tmp_path / "sex.yaml"
    path.write_text(
        "column: gender\nname: Gender\ncodes:\n  - {code: male, label: Male}\n  - {code: male, label: Man}\n"
    )
    with pytest.raises(VocabularyInvalid) as caught:
        load_vocabulary_file(path)
    assert caught.value.faults == ["code male is listed more than once", "file name does not match column 'gender'"]


def test_a_framework_naming_a_column_with_no_vocabulary_is_refused(tmp_path: Path):
    folder = copy_vocabularies(tmp_path)
    (folder / "looked_after.yaml").unlink()
    copy_library_file("probation-crc-2018", tmp_path)
    assert sorted(load_library(tmp_path)) == ["probation-crc-2018"]
    copy_library_file("youth-2018", tmp_path)
    with pytest.raises(FrameworkInvalid) as caught:
        load_library(tmp_path)
    assert caught.value.source == "youth-2018.yaml"
    assert caught.value.faults == [
        "sample type court_disposals is stratified on looked_after, which has no vocabulary",
        "sample type out_of_court_disposals is stratified on looked_after, which has no vocabulary",
    ]


def test_a_case_filter_value_must_be_a_code_of_its_column(tmp_path: Path):
    copy_vocabularies(tmp_path)
    path = copy_library_file("youth-2018", tmp_path)
    path.write_text(path.read_text().replace("one_of: [youth_caution,", "one_of: [Youth Caution,", 1))
    with pytest.raises(FrameworkInvalid) as caught:
        load_library(tmp_path)
    assert caught.value.faults == [
        "case filter of standard 3.1 compares disposal_type with 'Youth Caution', not one of its codes "
        "(referral_order, youth_rehabilitation_order, detention_and_training_order, long_term_detention, "
        "reparation_order, youth_caution, youth_conditional_caution, community_resolution)"
    ]


def test_regional_framework_rates_the_region_with_provisional_bands_and_no_pdu_overall():
    f = framework("probation-regional-2023")
    assert f.rules.unit_rating.rated_unit_types == ["region"]
    assert "undecided" in f.rules.unit_rating.note.lower()
    assert "provisional" in f.rules.overall.note.lower() and "not published" in f.rules.overall.note.lower()
    assert [t.strata for t in f.sample_types] == [["gender", "sentence_type", "rosh_level", "unit"]]
    # Its case-supervision key questions are worded as the 2021 framework's, renumbered.
    pdu = framework("probation-pdu-2021")
    for regional, older in (("2.1", "2.2"), ("2.2", "2.3"), ("2.3", "2.4"), ("2.4", "2.5")):
        assert [k.text for k in f.standard(regional).key_questions] == [k.text for k in pdu.standard(older).key_questions]
