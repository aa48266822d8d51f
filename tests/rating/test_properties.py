"""Properties of the rules, over generated evidence (hypothesis).

- Turning a 'no' into a 'yes' never lowers any rating.
- The order of cases, answers and standards never changes the result, nor the fingerprint.
- Counts and the equivalent cases give the same result.
- Whatever the evidence, the engine answers with a rating or names the fault; it never fails otherwise.
- The fingerprint hashes the canonical JSON its module documents.
"""

from __future__ import annotations

import copy
import hashlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from inspection_shared.rating import RatingRequest
from rating_engine.errors import RatingInputError
from rating_engine.frameworks.service import resolve_framework
from rating_engine.ratings.bands import rank
from rating_engine.ratings.evidence import Faults
from rating_engine.ratings.fingerprint import digest, rating_document
from rating_engine.ratings.service import case_columns, collect_evidence, rate
from tests.rating.builders import framework, rated

FRAMEWORK = "probation-crc-2018"
CRC = framework(FRAMEWORK)
CASE_STANDARDS = ["2.1", "2.2", "3.1"]  # 3.1 has a case filter
FILTERED = {"3.1": "unpaid_work_requirement"}
RATING = st.sampled_from(["outstanding", "good", "requires_improvement", "inadequate"])
ANSWER = st.sampled_from(["yes", "no", "not_applicable", None])  # None: not answered

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def case_lists(draw, standard_id):
    kq_ids = [k.id for k in CRC.standard(standard_id).key_questions]
    refs = draw(st.lists(st.from_regex(r"[A-Z][0-9]{6}", fullmatch=True), min_size=0, max_size=25, unique=True))
    out = []
    for ref in refs:
        case = {"case_ref": ref, "answers": {}}
        for kq in kq_ids:
            answer = draw(ANSWER)
            if answer is not None:
                case["answers"][kq] = answer
        if standard_id in FILTERED:
            flag = draw(st.sampled_from([True, False, None]))
            if flag is not None:
                case["attributes"] = {FILTERED[standard_id]: flag}
        out.append(case)
    return out


@st.composite
def inspections(draw):
    standards = []
    for s in CRC.standards():
        if s.kind == "case" and s.id in CASE_STANDARDS:
            standards.append({"standard": s.id, "cases": draw(case_lists(s.id))})
        elif draw(st.integers(0, 9)) > 0:  # now and then a standard has no evidence
            standards.append({"standard": s.id, "rating": draw(RATING)})
    return {"framework": FRAMEWORK, "standards": standards, "confidence": draw(st.sampled_from([0.8, 0.9, 0.95]))}


def _selected(standard_id, case):
    name = FILTERED.get(standard_id)
    return name is None or case.get("attributes", {}).get(name) is True


@SETTINGS
@given(inspections(), st.data())
def test_turning_a_no_into_a_yes_never_lowers_any_rating(body, data):
    noes = [
        (i, j, kq)
        for i, entry in enumerate(body["standards"]) if "cases" in entry
        for j, case in enumerate(entry["cases"])
        for kq, answer in case["answers"].items() if answer == "no"
    ]
    if not noes:
        return
    i, j, kq = data.draw(st.sampled_from(noes))
    before = rated(body)
    better = copy.deepcopy(body)
    better["standards"][i]["cases"][j]["answers"][kq] = "yes"
    after = rated(better)
    for old, new in zip(before["standards"], after["standards"], strict=True):
        if old["rating"] is not None:
            assert new["rating"] is not None
            assert rank(new["rating"]) >= rank(old["rating"]), (old["standard"], old["rating"], new["rating"])
    if before["overall"]["status"] == "rated":
        assert after["overall"]["score"] >= before["overall"]["score"]
        assert rank(after["overall"]["rating"]) >= rank(before["overall"]["rating"])
    assert after["overall"]["status"] == before["overall"]["status"]


@SETTINGS
@given(inspections(), st.randoms(use_true_random=False))
def test_order_of_cases_answers_and_standards_never_changes_the_result(body, random):
    shuffled = copy.deepcopy(body)
    random.shuffle(shuffled["standards"])
    for entry in shuffled["standards"]:
        if "cases" in entry:
            random.shuffle(entry["cases"])
            for case in entry["cases"]:
                items = list(case["answers"].items())
                random.shuffle(items)
                case["answers"] = dict(items)
    assert rated(shuffled) == rated(body)


@SETTINGS
@given(inspections())
def test_counts_and_the_equivalent_cases_give_the_same_result(body):
    as_counts = copy.deepcopy(body)
    for entry in as_counts["standards"]:
        if "cases" not in entry:
            continue
        cases = [c for c in entry.pop("cases") if _selected(entry["standard"], c)]
        entry["counts"] = {
            k.id: {
                "yes": sum(c["answers"].get(k.id) == "yes" for c in cases),
                "applicable": sum(c["answers"].get(k.id) in ("yes", "no") for c in cases),
            }
            for k in CRC.standard(entry["standard"]).key_questions
        }
    from_cases, from_counts = rated(body), rated(as_counts)
    evidence_only = {"evidence", "cases", "cases_selected", "notes", "explanation"}
    figure_only = {"not_applicable", "unanswered"}
    for a, b in zip(from_cases["standards"], from_counts["standards"], strict=True):
        assert {k: v for k, v in a.items() if k not in evidence_only | {"key_questions"}} == {
            k: v for k, v in b.items() if k not in evidence_only | {"key_questions"}}
        assert [{k: v for k, v in f.items() if k not in figure_only} for f in a["key_questions"]] == [
            {k: v for k, v in f.items() if k not in figure_only} for f in b["key_questions"]]
    assert from_cases["overall"] == from_counts["overall"]


# --------------------------------------------------------------------------------------------------------
# Never a failure other than a named fault

STANDARD_IDS = st.sampled_from(["1.1", "2.1", "2.2", "3.1", "3.2", "4.1", "9.9"])
KQ_IDS = st.sampled_from(["2.1.1", "2.1.2", "2.1.3", "2.2.1", "3.1.1", "9.9.9", "x"])
NUMBER = st.integers(-2, 120)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=5))

# Where the arithmetic is tight: the upper tail of 0.9999999999999999 rounds to 1; the smallest rounds z to 0.
EDGE_CONFIDENCES = st.sampled_from([0.9999999999999999, 0.9999999999999998, 1e-300, 5e-324])
loose_entries = st.fixed_dictionaries(
    {"standard": STANDARD_IDS},
    optional={
        "rating": st.one_of(RATING, st.text(max_size=5)),
        "counts": st.dictionaries(KQ_IDS, st.fixed_dictionaries({"yes": NUMBER, "applicable": NUMBER}), max_size=3),
        "cases": st.lists(
            st.fixed_dictionaries(
                {"case_ref": st.sampled_from(["A", "B", "C", ""]),
                 "answers": st.dictionaries(KQ_IDS, st.sampled_from(["yes", "no", "not_applicable", "maybe"]), max_size=3)},
                optional={"attributes": st.dictionaries(st.sampled_from(["unpaid_work_requirement", "gender"]), SCALAR, max_size=2)},
            ),
            max_size=4,
        ),
        "confidence": st.one_of(st.floats(-1, 2), EDGE_CONFIDENCES),
        "evidence_summary": st.text(max_size=5),
    },
)
loose_bodies = st.fixed_dictionaries(
    {"framework": st.sampled_from([FRAMEWORK, "youth-2021", "nope"]), "standards": st.lists(loose_entries, max_size=5)},
    optional={
        "overrides": st.lists(
            st.fixed_dictionaries({"standard": STANDARD_IDS, "rating": RATING}, optional={"reason": st.text(max_size=3)}),
            max_size=2,
        ),
        "confidence": st.one_of(st.floats(-1, 2), EDGE_CONFIDENCES, st.just(float("nan"))),
    },
)


@settings(max_examples=200, deadline=None)
@given(loose_bodies)
def test_any_evidence_is_rated_or_refused_with_the_fault_named(body):
    try:
        request = RatingRequest.model_validate(body)
        result = rate(resolve_framework(request.framework), request)
    except ValidationError as error:
        assert error.errors()
    except RatingInputError as invalid:
        assert invalid.faults and all(e.field.startswith("body.") for e in invalid.faults)
    else:
        assert len(result["standards"]) == len(framework(request.framework).standards())


@SETTINGS
@given(inspections(), st.text(max_size=8))
def test_fingerprint_hashes_the_documented_canonical_json(body, text):
    """The fast writer gives the bytes of json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)."""
    for entry in body["standards"]:
        if "rating" in entry:
            entry["evidence_summary"] = text
        else:
            entry["confidence"] = 0.5
    reason = text if text.strip() else "x"  # a reason must hold more than whitespace
    body["overrides"] = [{"standard": "2.1", "rating": "good", "reason": reason}]
    request = RatingRequest.model_validate(body)
    resolved = resolve_framework(FRAMEWORK)
    try:
        result = rate(resolved, request)
    except RatingInputError:  # 2.1 had no applicable cases to override
        return
    evidence = collect_evidence(resolved.framework, request.standards, "body.standards", Faults())
    document = rating_document(request, resolved.hash, case_columns(evidence))
    expected = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert json.dumps(document, separators=(",", ":"), ensure_ascii=False) == expected  # keys already in order
    assert result["input_fingerprint"] == digest(document)
    assert digest(document) == hashlib.sha256(expected.encode("utf-8", "surrogatepass")).hexdigest()
