"""From the evidence sent for a standard to key-question tallies: case filters, answers, counts, faults.

The functions check the evidence against the framework as they count it, and collect every fault they
find (with the dotted path of the field at fault) rather than stopping at the first. Fault messages name
case references, key questions and attribute names, never answers or attribute values. The per-case
work is done in comprehensions and C-level list and set operations: a pooled national request holds
tens of thousands of cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from inspection_shared.framework import CaseCondition, CaseFilter, Framework, Standard
from inspection_shared.rating import SCALE_ANSWERS, CaseAnswers, KeyQuestionCount
from rating_engine.errors import Fault

_by_case_ref = itemgetter("case_ref")

MAX_FAULTS = 100
"""Enough to fix a bad request by; a request with thousands of faults gets the first hundred."""


class Faults(list[Fault]):
    """The faults found so far; `add` stops recording past MAX_FAULTS."""

    def add(self, where: str, message: str) -> None:
        if len(self) < MAX_FAULTS:
            self.append(Fault(where, message))


def _sum_known(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


@dataclass
class Tally:
    """Answers to one key question. `not_applicable` and `unanswered` are known only from cases. On an
    outcome key question `yes` counts the cases improved, `no` those unchanged or worse, and `worse`
    those worse."""

    yes: int = 0
    no: int = 0
    not_applicable: int | None = None
    unanswered: int | None = None
    worse: int | None = None

    @property
    def applicable(self) -> int:
        return self.yes + self.no

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.yes + other.yes,
            self.no + other.no,
            _sum_known(self.not_applicable, other.not_applicable),
            _sum_known(self.unanswered, other.unanswered),
            _sum_known(self.worse, other.worse),
        )


@dataclass(frozen=True)
class Progress:
    """An outcome standard's cases: those with any outcome that applies, and those improved on any."""

    applicable: int = 0
    with_progress: int = 0

    def __add__(self, other: Progress) -> Progress:
        return Progress(self.applicable + other.applicable, self.with_progress + other.with_progress)


@dataclass
class CaseColumns:
    """A standard's cases in case-reference order, their answers laid out per key question."""

    case_refs: list[str]
    answers: dict[str, list[str | None]]
    attributes: list[dict[str, Any] | None] | None = None

    def canonical(self) -> dict[str, Any]:
        """The cases as the input fingerprint hashes them, keys in sorted order at every level."""
        out: dict[str, Any] = {"answers": self.answers}  # built over the key questions in sorted order
        if self.attributes is not None:
            out["attributes"] = [{k: a[k] for k in sorted(a)} if a else None for a in self.attributes]
        out["case_refs"] = self.case_refs
        return out


@dataclass
class StandardTally:
    """A case-based standard's evidence reduced to one tally per key question, in framework order."""

    evidence: str  # "cases" or "counts"
    key_questions: dict[str, Tally]
    cases: int | None = None
    cases_selected: int | None = None
    lacking_filter_attributes: int = 0
    columns: CaseColumns | None = None
    progress: Progress | None = None
    """For an outcome standard rated from cases."""

    def __add__(self, other: StandardTally) -> StandardTally:
        """Pool two tallies; a figure known only from cases is unknown once counts are pooled in."""
        return StandardTally(
            evidence=self.evidence if self.evidence == other.evidence else "counts",
            key_questions={k: t + other.key_questions[k] for k, t in self.key_questions.items()},
            cases=_sum_known(self.cases, other.cases),
            cases_selected=_sum_known(self.cases_selected, other.cases_selected),
            lacking_filter_attributes=self.lacking_filter_attributes + other.lacking_filter_attributes,
            progress=self.progress + other.progress if self.progress and other.progress else None,
        )


def filter_attributes(framework: Framework, extra: CaseFilter | None = None) -> frozenset[str]:
    """The case attributes a rating under `framework` can read: those its case filters (and `extra`) name."""
    filters = [s.case_filter for s in framework.standards() if s.case_filter] + ([extra] if extra else [])
    return frozenset(c.attribute for f in filters for c in f.conditions)


def _condition(condition: CaseCondition) -> Callable[[Mapping[str, Any]], bool]:
    """A test of one case attribute; a case without the attribute never passes.

    Values compare by type as well as value: `equals: true` must not match 1, nor "true" match true.
    """
    name = condition.attribute
    if condition.one_of is not None:
        allowed = [(type(v), v) for v in condition.one_of]
        return lambda attrs: name in attrs and (type(attrs[name]), attrs[name]) in allowed
    if condition.equals is not None:
        wanted = condition.equals
        return lambda attrs: name in attrs and type(attrs[name]) is type(wanted) and attrs[name] == wanted
    # The library refuses a condition with neither; read one as a yes/no attribute that must be true.
    return lambda attrs: attrs.get(name) is True


def case_selector(filters: Iterable[CaseFilter | None]) -> Callable[[Mapping[str, Any]], bool] | None:
    """A predicate over a case's attributes that every given filter must accept; None when none is given."""
    tests: list[Callable[[Mapping[str, Any]], bool]] = []
    for case_filter in filters:
        if case_filter is None:
            continue
        conditions = [_condition(c) for c in case_filter.conditions]
        if case_filter.match == "all":
            tests.append(lambda attrs, cs=conditions: all(c(attrs) for c in cs))
        else:
            tests.append(lambda attrs, cs=conditions: any(c(attrs) for c in cs))
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]
    return lambda attrs: all(t(attrs) for t in tests)


def _count(columns: dict[str, list[str | None]], outcome: bool) -> dict[str, tuple[int, int, int, int | None]]:
    """Per key question: (yes, no, not applicable, None), or for outcomes (improved, unchanged or worse,
    not applicable, worse)."""
    if outcome:
        return {
            kq: (col.count("improved"), col.count("unchanged") + (worse := col.count("worse")),
                 col.count("not_applicable"), worse)
            for kq, col in columns.items()
        }
    return {kq: (col.count("yes"), col.count("no"), col.count("not_applicable"), None) for kq, col in columns.items()}


def _progress(columns: dict[str, list[str | None]], chosen: list[bool] | None) -> Progress:
    """Cases (of those `chosen`) with any outcome that applies, and those improved on any."""
    applicable = with_progress = 0
    for i, answers in enumerate(zip(*columns.values(), strict=True)):
        if chosen is not None and not chosen[i]:
            continue
        if any(a in ("improved", "unchanged", "worse") for a in answers):
            applicable += 1
            with_progress += "improved" in answers
    return Progress(applicable, with_progress)


def tally_cases(
    standard: Standard,
    cases: list[CaseAnswers],
    where: str,
    faults: Faults,
    allowed_attributes: frozenset[str],
    extra_filter: CaseFilter | None = None,
) -> StandardTally:
    """Count the answers of the cases the standard's filter (and `extra_filter`) selects, per key question.

    Not-applicable answers leave the denominator; a selected case with no answer to a key question is
    counted as unanswered. Faults: a case reference used twice, an answer to a key question the standard
    does not have or off its standard's answer scale, an attribute no case filter reads. An outcome
    standard's cases are also counted as a whole (`Progress`).

    The cases are put in case-reference order and their answers laid out per key question (`columns`),
    which is what the counting needs and also the canonical form the input fingerprint hashes.
    """
    kq_ids = [k.id for k in standard.key_questions]
    kq_set = frozenset(kq_ids)
    # Each check is one pass in C over the cases; the loops in Python run only over cases at fault.
    ordered = sorted(cases, key=_by_case_ref)
    refs = [c["case_ref"] for c in ordered]
    if len(set(refs)) != len(refs):
        seen: set[str] = set()
        for index, case in enumerate(cases):
            if case["case_ref"] in seen:
                faults.add(
                    f"{where}.{index}.case_ref",
                    f"case {case['case_ref']} appears more than once in standard {standard.id}",
                )
            seen.add(case["case_ref"])
    # A case is a dict of case_ref and answers, plus attributes when it has any: count keys to skip the
    # search for attributes when no case has them.
    with_attributes = (
        [(i, c["attributes"]) for i, c in enumerate(cases) if c.get("attributes")]
        if sum(map(len, cases)) > 2 * len(cases)
        else []
    )
    for index, attributes in with_attributes:
        for name in sorted(attributes.keys() - allowed_attributes):
            faults.add(
                f"{where}.{index}.attributes.{name}",
                f"attribute {name!r} is read by no case filter; send only what rating needs",
            )
    answers = [c["answers"] for c in ordered]
    columns = CaseColumns(
        case_refs=refs,
        answers={kq: [a.get(kq) for a in answers] for kq in sorted(kq_ids)},
        attributes=[c.get("attributes") or None for c in ordered] if with_attributes else None,
    )
    outcome = standard.answer_scale == "outcome"
    counted = _count(columns.answers, outcome)
    # Every answer was counted unless some case answered a key question the standard lacks, or off its scale.
    if sum(yes + no + na for yes, no, na, _ in counted.values()) != sum(map(len, answers)):
        scale = SCALE_ANSWERS[standard.answer_scale]
        for index, case in enumerate(cases):
            for kq, answer in sorted(case["answers"].items()):
                if kq not in kq_set:
                    faults.add(
                        f"{where}.{index}.answers.{kq}",
                        f"standard {standard.id} has no key question {kq}; it has {', '.join(kq_ids)}",
                    )
                elif answer not in scale:
                    faults.add(f"{where}.{index}.answers.{kq}", _off_scale(standard, kq))

    lacking, n, chosen = 0, len(cases), None
    selector = case_selector([standard.case_filter, extra_filter])
    if selector is not None:
        filter_names = frozenset(
            c.attribute for f in (standard.case_filter, extra_filter) if f for c in f.conditions
        )
        attributes = columns.attributes or [None] * n
        chosen = [selector(a or {}) for a in attributes]
        lacking = sum(
            1 for a, keep in zip(attributes, chosen, strict=True) if not keep and not filter_names <= (a or {}).keys()
        )
        counted = _count(
            {kq: [v for v, keep in zip(col, chosen, strict=True) if keep] for kq, col in columns.answers.items()},
            outcome,
        )
        n = sum(chosen)

    tallies: dict[str, Tally] = {}
    for kq in kq_ids:
        yes, no, na, worse = counted[kq]
        tallies[kq] = Tally(yes, no, na, n - yes - no - na, worse)
    return StandardTally(
        progress=_progress(columns.answers, chosen) if outcome else None,
        evidence="cases",
        key_questions=tallies,
        cases=len(cases),
        cases_selected=n,
        lacking_filter_attributes=lacking,
        columns=columns,
    )


def _off_scale(standard: Standard, kq: str) -> str:
    if standard.answer_scale == "outcome":
        return (
            f"{kq} records progress on an outcome since the start of supervision: answer "
            f"{', '.join(SCALE_ANSWERS['outcome'])}"
        )
    return f"{kq} is answered {', '.join(SCALE_ANSWERS['yes_no'])}"


def tally_counts(
    standard: Standard, counts: Mapping[str, KeyQuestionCount], where: str, faults: Faults
) -> StandardTally:
    """Take aggregate counts as they are, after checking each names a key question of the standard and
    has `yes` no greater than `applicable`. A key question left out has no applicable cases."""
    kq_ids = [k.id for k in standard.key_questions]
    for kq, count in counts.items():
        if kq not in kq_ids:
            faults.add(f"{where}.{kq}", f"standard {standard.id} has no key question {kq}; it has {', '.join(kq_ids)}")
        elif count.yes > count.applicable:
            faults.add(
                f"{where}.{kq}.yes",
                f"key question {kq}: yes ({count.yes}) is more than applicable ({count.applicable})",
            )
    tallies = {}
    for kq in kq_ids:
        count = counts.get(kq)
        tallies[kq] = Tally(count.yes, count.applicable - count.yes) if count else Tally()
    return StandardTally(evidence="counts", key_questions=tallies)
