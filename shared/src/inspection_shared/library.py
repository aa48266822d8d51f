"""The framework library: one data file per framework version, validated on load.

A framework that breaks a rule of domain.md section 3 is refused with every fault named, so a bad file
never reaches an inspection.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from inspection_shared.framework import RATINGS, Framework

LIBRARY_DIR = Path(__file__).parent / "library"


class FrameworkInvalid(ValueError):
    """A framework definition that breaks the library's rules; `faults` names each one."""

    def __init__(self, source: str, faults: list[str]):
        self.source = source
        self.faults = faults
        super().__init__(f"framework {source} is invalid: " + "; ".join(faults))


def _pydantic_faults(error: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()
    ]


def _duplicates(values: list[Any]) -> list[Any]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def rule_faults(framework: Framework) -> list[str]:
    """Every breach of the library's structural and rating rules, in reading order."""
    faults: list[str] = []
    standards = framework.standards()
    standard_ids = [s.id for s in standards]
    key_question_ids = [k.id for s in standards for k in s.key_questions]
    sample_type_ids = {t.id for t in framework.sample_types}
    theme_ids = {t.id for t in framework.themes}

    for label, values in (
        ("domain number", [d.number for d in framework.domains]),
        ("standard id", standard_ids),
        ("key question id", key_question_ids),
        ("sample type id", [t.id for t in framework.sample_types]),
        ("theme id", [t.id for t in framework.themes]),
    ):
        for dup in _duplicates(values):
            faults.append(f"duplicate {label} {dup}")

    for domain in framework.domains:
        for standard in domain.standards:
            if standard.id.split(".")[0] != str(domain.number):
                faults.append(f"standard {standard.id} is numbered outside domain {domain.number}")
            for position, kq in enumerate(standard.key_questions, start=1):
                owner = kq.id.rsplit(".", 1)[0]
                if owner != standard.id:
                    where = f"standard {owner}" if owner in standard_ids else "no standard"
                    faults.append(
                        f"key question {kq.id} is listed under standard {standard.id} but its id "
                        f"places it under {where}"
                    )
                elif kq.id != f"{standard.id}.{position}":
                    faults.append(f"key question {kq.id} is at position {position} of standard {standard.id}")
                if theme_ids and kq.theme not in theme_ids:
                    faults.append(f"key question {kq.id} has unknown theme {kq.theme!r}")
            if standard.kind == "case":
                if not standard.key_questions:
                    faults.append(f"case-based standard {standard.id} has no key questions")
                if standard.sample_type is None:
                    faults.append(f"case-based standard {standard.id} names no sample type")
                elif standard.sample_type not in sample_type_ids:
                    faults.append(
                        f"standard {standard.id} is assessed on unknown sample type {standard.sample_type!r}"
                    )
            else:
                if standard.key_questions:
                    faults.append(f"judged standard {standard.id} must not have key questions")
                if standard.sample_type or standard.case_filter:
                    faults.append(f"judged standard {standard.id} must not name a sample or case filter")

    rules = framework.rules
    scale_ratings = [p.rating for p in rules.scale]
    if sorted(scale_ratings) != sorted(RATINGS):
        faults.append(f"rating scale must name each of {', '.join(RATINGS)} once")
    else:
        points = [rules.points_for(r) for r in RATINGS]
        if points != sorted(points, reverse=True) or len(set(points)) != len(points):
            faults.append("points per rating must fall strictly from outstanding to inadequate")

    t = rules.key_question_thresholds
    if not (t.outstanding > t.good > t.requires_improvement):
        faults.append(
            "key question thresholds must descend: outstanding "
            f"{t.outstanding} > good {t.good} > requires_improvement {t.requires_improvement}"
        )

    overall = rules.overall
    scored = sum(s.scored for s in standards)
    if len(set(scale_ratings)) == len(scale_ratings):
        best = max(p.points for p in rules.scale)
        if overall.max_score != best * scored:
            faults.append(
                f"maximum score {overall.max_score} is not {best} x {scored} scored standards = {best * scored}"
            )
    bands = sorted(overall.bands, key=lambda b: (b.min, b.max))
    for dup in _duplicates([b.rating for b in bands]):
        faults.append(f"duplicate score band for {dup}")
    expected_start = 0
    for band in bands:
        if band.min > band.max:
            faults.append(f"score band {band.rating} runs backwards ({band.min}-{band.max})")
        if band.min > expected_start:
            faults.append(f"score bands leave a gap: {expected_start}-{band.min - 1} has no rating")
        elif band.min < expected_start:
            faults.append(f"score bands overlap at {band.min}-{min(band.max, expected_start - 1)}")
        expected_start = max(expected_start, band.max + 1)
    if expected_start <= overall.max_score:
        faults.append(f"score bands leave a gap: {expected_start}-{overall.max_score} has no rating")
    elif expected_start > overall.max_score + 1:
        faults.append(f"score bands run past the maximum score {overall.max_score}")
    by_rating = {b.rating: b for b in bands}
    if set(by_rating) == set(RATINGS):
        order = [by_rating[r].min for r in RATINGS]
        if order != sorted(order, reverse=True):
            faults.append("score bands must rise from inadequate to outstanding")
    return faults


def parse_framework(data: Any, source: str = "inline") -> Framework:
    """Validate a framework definition (already parsed from YAML or JSON) and return it."""
    try:
        framework = Framework.model_validate(data)
    except ValidationError as error:
        raise FrameworkInvalid(source, _pydantic_faults(error)) from None
    faults = rule_faults(framework)
    if faults:
        raise FrameworkInvalid(framework.id if source == "inline" else source, faults)
    return framework


def load_framework_file(path: Path) -> Framework:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise FrameworkInvalid(path.name, [f"not valid YAML: {error}"]) from None
    framework = parse_framework(data, source=path.name)
    if framework.id != path.stem:
        raise FrameworkInvalid(path.name, [f"file name does not match framework id {framework.id!r}"])
    return framework


def load_library(directory: Path = LIBRARY_DIR) -> dict[str, Framework]:
    """Every framework version in the library, by id, each validated."""
    frameworks = [load_framework_file(p) for p in sorted(directory.glob("*.yaml"))]
    return {f.id: f for f in frameworks}


@functools.cache
def library() -> dict[str, Framework]:
    """The shipped library, loaded once per process."""
    return load_library()


def content_hash(framework: Framework) -> str:
    """SHA-256 of the canonical JSON of a framework: equal content, equal hash."""
    canonical = json.dumps(framework.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
