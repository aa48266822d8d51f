"""The framework's rules for case assessments: which key questions and case attributes may be recorded on
a case of each sample type, and why a given one may not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.assessments.schemas import ATTRIBUTE_VALUE_MAX
from inspection_shared.framework import Framework, Standard
from inspection_shared.rating import SCALE_ANSWERS

_ATTRIBUTE_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


@dataclass(frozen=True)
class SampleRules:
    """What may be recorded for a case of one sample type."""

    sample_type: str
    key_questions: tuple[str, ...]
    """Every key question of the case-based standards assessed on this sample, in framework order."""
    standards: dict[str, tuple[str, ...]]
    """Standard id -> its key questions."""
    attributes: dict[str, frozenset[type]]
    """Case attribute -> the value types its case filters compare with."""


@dataclass(frozen=True)
class AssessmentRules:
    framework: Framework
    samples: dict[str, SampleRules]
    home: dict[str, tuple[Standard, str]] = field(default_factory=dict)
    """Key question -> its case-based standard and the sample type that standard is assessed on."""

    @classmethod
    def of(cls, framework: Framework) -> AssessmentRules:
        key_questions: dict[str, list[str]] = {t.id: [] for t in framework.sample_types}
        standards: dict[str, dict[str, tuple[str, ...]]] = {t.id: {} for t in framework.sample_types}
        attributes: dict[str, dict[str, set[type]]] = {t.id: {} for t in framework.sample_types}
        home: dict[str, tuple[Standard, str]] = {}
        for standard in framework.standards():
            if standard.kind != "case" or standard.sample_type not in key_questions:
                continue
            sample_type = standard.sample_type
            ids = tuple(kq.id for kq in standard.key_questions)
            key_questions[sample_type].extend(ids)
            standards[sample_type][standard.id] = ids
            for kq in ids:
                home[kq] = (standard, sample_type)
            for condition in standard.case_filter.conditions if standard.case_filter else ():
                compared = [condition.equals] if condition.equals is not None else []
                compared += condition.one_of or []
                types = attributes[sample_type].setdefault(condition.attribute, set())
                types.update(type(v) for v in compared)
                if not compared:  # compared with nothing but null: any value may be recorded
                    types.update((bool, int, str))
        samples = {
            t: SampleRules(
                sample_type=t,
                key_questions=tuple(key_questions[t]),
                standards=standards[t],
                attributes={name: frozenset(types) for name, types in attributes[t].items()},
            )
            for t in key_questions
        }
        return cls(framework=framework, samples=samples, home=home)

    def sample(self, sample_type: str) -> SampleRules | None:
        return self.samples.get(sample_type)

    def unknown_sample_type(self, sample_type: str) -> str:
        return f"no sample type {sample_type} in framework {self.framework.id}; it names " + ", ".join(
            sorted(self.samples)
        )

    def key_question_fault(self, sample_type: str, key_question: str) -> str | None:
        """Why this key question cannot be answered for a case of this sample type, if it cannot."""
        found = self.home.get(key_question)
        if found is None:
            return f"no case-based key question {key_question} in framework {self.framework.id}"
        standard, assessed_on = found
        if assessed_on != sample_type:
            return (
                f"{key_question} belongs to standard {standard.id} ({standard.name}), assessed on the "
                f"{assessed_on} sample, not the {sample_type} sample"
            )
        return None

    def answers_for(self, key_question: str) -> tuple[str, ...]:
        """The answers a key question takes: those of its standard's answer scale (yes, no, not applicable;
        or, on an outcome standard, improved, unchanged, worse, not applicable)."""
        found = self.home.get(key_question)
        return SCALE_ANSWERS[found[0].answer_scale if found else "yes_no"]

    def answer_fault(self, key_question: str, answer: str) -> str | None:
        """Why this answer cannot be given to this key question, if it cannot."""
        scale = self.answers_for(key_question)
        if answer in scale:
            return None
        standard = self.home[key_question][0] if key_question in self.home else None
        if standard is not None and standard.answer_scale == "outcome":
            return (
                f"{key_question} records the person's progress on an outcome since the start of supervision "
                f"(standard {standard.id}, {standard.name}): answer {', '.join(scale)}"
            )
        return f"{key_question} is answered {', '.join(scale)}"

    def attribute_fault(self, sample_type: str, name: str, value: Any) -> str | None:
        """Why this case attribute cannot be recorded for a case of this sample type, if it cannot."""
        used = self.samples[sample_type].attributes
        if name not in used:
            named = ", ".join(sorted(used)) if used else "none"
            return (
                f"{name} is not a case attribute the case filters of the {sample_type} standards read "
                f"(they read: {named}); no other case data is recorded"
            )
        return value_fault(used[name], value)


def value_fault(types: frozenset[type], value: Any) -> str | None:
    if type(value) in types:
        if isinstance(value, str) and (len(value) > ATTRIBUTE_VALUE_MAX or not _ATTRIBUTE_CODE.match(value)):
            return (
                f"expected a code of lower-case letters, digits and '_', at most {ATTRIBUTE_VALUE_MAX} "
                "characters (such as youth_caution)"
            )
        return None
    expected = []
    if bool in types:
        expected.append("true or false")
    if int in types:
        expected.append("a whole number")
    if str in types:
        expected.append(f"a code of at most {ATTRIBUTE_VALUE_MAX} characters (such as youth_caution)")
    return "expected " + " or ".join(expected)


def case_faults(
    rules: AssessmentRules, sample_type: str, answers: Mapping[str, str], attributes: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(field, message) for every key question, answer and attribute that may not be recorded on such a
    case."""
    faults = [
        (f"answers.{kq}", message)
        for kq, answer in answers.items()
        if (message := rules.key_question_fault(sample_type, kq) or rules.answer_fault(kq, answer)) is not None
    ]
    faults += [
        (f"attributes.{name}", message)
        for name, value in attributes.items()
        if (message := rules.attribute_fault(sample_type, name, value)) is not None
    ]
    return faults
