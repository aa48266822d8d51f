"""The framework library: one data file per framework version, and one per frame column's vocabulary
(`vocabularies/`), validated on load.

A framework that breaks a rule of domain.md section 3, or names a frame column with no vocabulary, is
refused with every fault named, so a bad file never reaches an inspection.
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

from inspection_shared.framework import RATINGS, Framework, ScoreBand
from inspection_shared.vocabulary import Vocabulary, framework_column_faults, vocabulary_faults

LIBRARY_DIR = Path(__file__).parent / "library"
LIBRARY_SUFFIXES = (".yaml", ".yml", ".json")
VOCABULARIES = "vocabularies"
"""The folder of a library holding its vocabularies; a library without one uses the shipped ones."""


class FrameworkInvalid(ValueError):
    """A framework definition that breaks the library's rules; `faults` names each one."""

    what = "framework"

    def __init__(self, source: str, faults: list[str]):
        self.source = source
        self.faults = faults
        super().__init__(f"{self.what} {source} is invalid: " + "; ".join(faults))

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduction would call __init__ with the message alone.
        return (type(self), (self.source, self.faults))


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a repeated mapping key.

    PyYAML keeps the last of two equal keys without a word, so a doubled `key_questions:` or `max:`
    would silently drop data from a framework.
    """


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<:` merges may be overridden by the mapping's own keys
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _pydantic_faults(error: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()
    ]


def _duplicates(values: list[Any]) -> list[Any]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def _band_faults(bands: list[ScoreBand], max_score: int) -> list[str]:
    """Gaps, overlaps and misordering of the overall score bands over 0..max_score."""
    faults: list[str] = []
    for dup in _duplicates([b.rating for b in bands]):
        faults.append(f"duplicate score band for {dup}")
    missing = [r for r in RATINGS if r not in {b.rating for b in bands}]
    if missing:
        faults.append(f"no score band for {', '.join(missing)}")

    covered_to = -1  # highest score covered so far
    covered_by: ScoreBand | None = None
    for band in sorted(bands, key=lambda b: (b.min, b.max)):
        if band.min > band.max:
            faults.append(f"score band {band.rating} runs backwards ({band.min}-{band.max})")
            continue
        if band.min > covered_to + 1:
            faults.append(f"score bands leave a gap: no band covers {_span(covered_to + 1, band.min - 1)}")
        elif band.min <= covered_to and covered_by is not None:
            faults.append(
                f"score bands overlap: {_span(band.min, min(band.max, covered_to))} is in both "
                f"{covered_by.rating} and {band.rating}"
            )
        if band.max > covered_to:
            covered_to, covered_by = band.max, band
    if covered_to < max_score:
        faults.append(f"score bands leave a gap: no band covers {_span(covered_to + 1, max_score)}")
    elif covered_to > max_score:
        faults.append(f"score bands run past the maximum score {max_score}: {_span(max_score + 1, covered_to)}")

    by_rating = {b.rating: b for b in bands}
    if not missing and len(by_rating) == len(bands):
        lows = [by_rating[r].min for r in RATINGS]
        if lows != sorted(lows, reverse=True):
            faults.append("score bands must rise from inadequate to outstanding")
    return faults


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
                if owner not in standard_ids:
                    faults.append(
                        f"key question {kq.id} is under no standard: there is no standard {owner} "
                        f"(it is listed under standard {standard.id})"
                    )
                elif owner != standard.id:
                    faults.append(
                        f"key question {kq.id} is listed under standard {standard.id} but its id "
                        f"places it under standard {owner}"
                    )
                elif kq.id != f"{standard.id}.{position}":
                    faults.append(f"key question {kq.id} is at position {position} of standard {standard.id}")
                if kq.theme not in theme_ids:
                    faults.append(f"key question {kq.id} has undeclared theme {kq.theme!r}")
            if standard.kind == "case":
                if not standard.key_questions:
                    faults.append(f"case-based standard {standard.id} has no key questions")
                if standard.sample_type is None:
                    faults.append(f"case-based standard {standard.id} names no sample type")
                elif standard.sample_type not in sample_type_ids:
                    faults.append(
                        f"standard {standard.id} is assessed on unknown sample type {standard.sample_type!r}"
                    )
                if standard.case_filter is not None:
                    for condition in standard.case_filter.conditions:
                        given = (condition.equals is not None) + (condition.one_of is not None)
                        if given != 1:
                            faults.append(
                                f"case filter of standard {standard.id} on {condition.attribute!r} "
                                "must give exactly one of equals or one_of"
                            )
                        elif condition.one_of is not None and not condition.one_of:
                            faults.append(
                                f"case filter of standard {standard.id} on {condition.attribute!r} "
                                "has an empty one_of and would match no case"
                            )
                if standard.answer_scale == "outcome" and framework.rules.outcome_thresholds is None:
                    faults.append(
                        f"outcome standard {standard.id} needs the framework's rules.outcome_thresholds"
                    )
            else:
                if standard.answer_scale != "yes_no":
                    faults.append(f"judged standard {standard.id} takes no answer scale: it has no key questions")
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

    o = rules.outcome_thresholds
    if o is not None and not (o.outstanding > o.good > o.requires_improvement):
        faults.append(
            "outcome thresholds must descend: outstanding "
            f"{o.outstanding} > good {o.good} > requires_improvement {o.requires_improvement}"
        )

    overall = rules.overall
    scored = sum(s.scored for s in standards)
    best = max(p.points for p in rules.scale)
    if overall.max_score != best * scored:
        faults.append(
            f"maximum score {overall.max_score} is not {best} x {scored} scored standards = {best * scored}"
        )
    faults.extend(_band_faults(overall.bands, overall.max_score))
    return faults


def parse_framework(data: Any, source: str = "inline") -> Framework:
    """Validate a framework definition (already parsed from YAML or JSON) and return it."""
    if source == "inline" and isinstance(data, dict) and isinstance(data.get("id"), str):
        source = data["id"]
    try:
        framework = Framework.model_validate(data)
    except ValidationError as error:
        raise FrameworkInvalid(source, _pydantic_faults(error)) from None
    faults = rule_faults(framework)
    if faults:
        raise FrameworkInvalid(source, faults)
    return framework


def _read(path: Path, invalid: type[FrameworkInvalid]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        raise invalid(path.name, [f"not valid YAML: {error}"]) from None


def _library_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in LIBRARY_SUFFIXES and p.is_file())


EXTENDS = "extends"


def _merged(base: Any, changes: Any) -> Any:
    """`changes` over `base`: mappings merge key by key, anything else replaces, and `domains` are added
    after the base's."""
    if not isinstance(base, dict) or not isinstance(changes, dict):
        return changes
    merged = dict(base)
    for key, value in changes.items():
        if key == "domains" and isinstance(value, list) and isinstance(base.get(key), list):
            merged[key] = [*base[key], *value]
        else:
            merged[key] = _merged(base.get(key), value) if key in base else value
    return merged


def _extended(data: Any, path: Path) -> Any:
    """A file that `extends` another version of its folder is that version's definition with its own
    changes over it (`_merged`), so a draft that adds a standard to a published version repeats nothing
    of it. The base may not extend another in turn."""
    if not isinstance(data, dict) or EXTENDS not in data:
        return data
    own = {k: v for k, v in data.items() if k != EXTENDS}
    name = data[EXTENDS]
    found = [path.parent / f"{name}{suffix}" for suffix in LIBRARY_SUFFIXES] if isinstance(name, str) else []
    base_path = next((p for p in found if p.is_file() and p != path), None)
    if base_path is None:
        raise FrameworkInvalid(path.name, [f"extends: no framework {name!r} in the library to extend"])
    base = _read(base_path, FrameworkInvalid)
    if isinstance(base, dict) and EXTENDS in base:
        raise FrameworkInvalid(path.name, [f"extends: {name} extends another version in turn; extend a whole one"])
    return _merged(base, own)


def load_framework_file(path: Path) -> Framework:
    """Read, validate and return one library file; its name must be the framework id."""
    framework = parse_framework(_extended(_read(path, FrameworkInvalid), path), source=path.name)
    faults = []
    if framework.id != path.stem:
        faults.append(f"file name does not match framework id {framework.id!r}")
    if framework.publication is None:
        faults.append("publication: a version in the library states what publication requires")
    if faults:
        raise FrameworkInvalid(path.name, faults)
    return framework


class VocabularyInvalid(FrameworkInvalid):
    """A vocabulary file that breaks the library's rules; `faults` names each one."""

    what = "vocabulary"


def load_vocabulary_file(path: Path) -> Vocabulary:
    """Read, validate and return one vocabulary file; its name must be the column's."""
    try:
        vocabulary = Vocabulary.model_validate(_read(path, VocabularyInvalid))
    except ValidationError as error:
        raise VocabularyInvalid(path.name, _pydantic_faults(error)) from None
    faults = vocabulary_faults(vocabulary)
    if vocabulary.column != path.stem:
        faults.append(f"file name does not match column {vocabulary.column!r}")
    if faults:
        raise VocabularyInvalid(path.name, faults)
    return vocabulary


def load_vocabularies(directory: Path = LIBRARY_DIR / VOCABULARIES) -> dict[str, Vocabulary]:
    """Every frame column's vocabulary in the folder, by column, each validated."""
    return {v.column: v for v in map(load_vocabulary_file, _library_files(directory))}


def load_library(directory: Path = LIBRARY_DIR) -> dict[str, Framework]:
    """Every framework version in the library, by id, each validated, and each column its sample types
    and case filters name held in the library's vocabularies (the shipped ones if it has none)."""
    held = directory / VOCABULARIES
    vocabularies = load_vocabularies(held if held.is_dir() else LIBRARY_DIR / VOCABULARIES)
    frameworks: dict[str, Framework] = {}
    files: dict[str, str] = {}
    for path in _library_files(directory):
        framework = load_framework_file(path)
        if framework.id in frameworks:
            raise FrameworkInvalid(
                path.name, [f"duplicate framework id {framework.id} (also in {files[framework.id]})"]
            )
        faults = framework_column_faults(framework, vocabularies)
        if faults:
            raise FrameworkInvalid(path.name, faults)
        frameworks[framework.id] = framework
        files[framework.id] = path.name
    return frameworks


@functools.cache
def library() -> dict[str, Framework]:
    """The shipped library, loaded once per process."""
    return load_library()


@functools.cache
def vocabularies() -> dict[str, Vocabulary]:
    """The shipped vocabularies, by column, loaded once per process."""
    return load_vocabularies()


def content_hash(framework: Framework) -> str:
    """SHA-256 of the canonical JSON of what a framework rates by: equal content, equal hash.

    Fields left at their defaults are not part of the hash, so adding an optional field to the
    framework model does not change the hash of every version already published. Nor are the
    publication gates: they say when a rating may be published, not what it is, so setting them on a
    published version leaves what its inspections were rated against, and its hash, as they were.
    """
    canonical = json.dumps(
        framework.model_dump(mode="json", exclude_defaults=True, exclude={"publication"}),
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
