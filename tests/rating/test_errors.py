"""The rating core refuses bad input with its own domain error, never an HTTP problem; the shell answers it."""

from __future__ import annotations

import pytest

from inspection_shared.faults import Fault, InputFault
from inspection_shared.library import library
from inspection_shared.problems import Problem
from rating_engine.errors import RatingInputError
from rating_engine.frameworks.service import resolve_framework
from tests.rating.builders import counts, pooled, rated, small_framework


def test_an_unknown_framework_is_refused_naming_the_field_and_the_library():
    with pytest.raises(RatingInputError) as raised:
        resolve_framework("probation-2099")
    known = ", ".join(sorted(library()))
    assert raised.value.detail == f"Unknown framework 'probation-2099'; the library has {known}."
    assert raised.value.faults == [Fault("body.framework", f"unknown framework 'probation-2099'; known: {known}")]


def test_a_bad_inline_framework_is_refused_with_each_fault_at_the_field_given():
    bad = small_framework(key_question_thresholds={"outstanding": 50, "good": 65, "requires_improvement": 80})
    bad["rules"]["overall"]["max_score"] = 10
    with pytest.raises(RatingInputError) as raised:
        resolve_framework(bad, field="body.units.0.framework")
    faults = raised.value.faults
    assert raised.value.detail == f"The inline framework is invalid: {len(faults)} faults."
    assert len(faults) >= 2 and all(f.field == "body.units.0.framework" and f.line is None for f in faults)
    assert any("thresholds must descend" in f.message for f in faults)
    assert any("maximum score 10" in f.message for f in faults)


def test_the_detail_names_the_first_fault_and_counts_the_rest():
    body = {
        "framework": "probation-crc-2018",
        "standards": [{"standard": "9.9", "rating": "good"}, {"standard": "2.1", "counts": counts(k2_1_1=(11, 10))}],
    }
    with pytest.raises(RatingInputError) as raised:
        rated(body)
    first = raised.value.faults[0]
    assert first.field == "body.standards.0.standard" and "has no standard 9.9" in first.message
    assert raised.value.detail == f"{first.field}: {first.message} (and 1 more)"
    assert [f.field for f in raised.value.faults] == ["body.standards.0.standard", "body.standards.1.counts.2.1.1.yes"]


def test_a_pooled_refusal_with_one_fault_has_no_count_of_more():
    body = {"framework": "probation-pdu-2021", "units": [
        {"unit": "N01", "standards": [{"standard": "2.2", "counts": counts(k2_2_1=(1, 2))}]},
        {"unit": "N01", "standards": [{"standard": "2.2", "counts": counts(k2_2_1=(1, 2))}]},
    ]}
    with pytest.raises(RatingInputError) as raised:
        pooled(body)
    assert raised.value.faults == [Fault("body.units.1.unit", "unit N01 is given more than once")]
    assert raised.value.detail == "body.units.1.unit: unit N01 is given more than once"


def test_the_core_error_is_an_input_fault_not_a_problem():
    assert issubclass(RatingInputError, InputFault) and issubclass(RatingInputError, ValueError)
    assert not issubclass(RatingInputError, Problem)
