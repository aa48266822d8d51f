"""The vocabulary of a caseload frame's columns: the codes each column may hold, their labels, and the
spellings case-management exports use for each (`M`, `Male` and `male` are all `male`).

Vocabularies are library data (`library/vocabularies/`, one file per column), validated on load like
the frameworks: a spelling that would read as two codes is refused, and so is a framework whose sample
types or case filters name a column with no vocabulary. The `unit` column is the exception: its codes
are the units of inspection themselves, checked against the tree of units when a frame is uploaded.

A value is read by its `spelling_key`: case and the characters between words (spaces, `-`, `_`, `/`,
brackets, full stops) do not count, so `Very-High`, `very high` and `VERY_HIGH` read alike.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inspection_shared.framework import Framework, Slug

UNIT_COLUMN = "unit"
"""The delivery unit of a case (e.g. a PDU code): its codes are the units below the inspected one."""

_BETWEEN_WORDS = re.compile(r"[^0-9a-z]+")


def spelling_key(value: str) -> str:
    """How a spelling is compared: lower case, words and digits only, one space between them."""
    return _BETWEEN_WORDS.sub(" ", value.casefold()).strip()


def code_of_filter_value(value: str | int | bool) -> str:
    """The code a case filter's value stands for: `true`/`false` for a flag, else the value as written."""
    return str(value).lower() if isinstance(value, bool) else str(value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VocabularyCode(_Model):
    code: Slug = Field(description="What the frame stores, and what strata and case filters name.")
    label: str = Field(min_length=1, description="The code in words.")
    spellings: list[str] = Field(
        default_factory=list,
        description="Other ways an export writes it, read whatever their case and punctuation; the code and "
        "its label are always read as well.",
    )


class Vocabulary(_Model):
    """The codes one frame column may hold."""

    column: Slug
    name: str = Field(min_length=1)
    description: str = ""
    source: str = ""
    codes: list[VocabularyCode] = Field(min_length=1)

    @functools.cached_property
    def lookup(self) -> dict[str, str]:
        """Spelling key -> code (see `vocabulary_faults` for the rule that each key reads as one code)."""
        return {key: code for key, code, _ in self.readings()}

    def readings(self) -> list[tuple[str, str, str]]:
        """(spelling key, code, spelling as written) of every way each code is read."""
        return [
            (spelling_key(spelling), entry.code, spelling)
            for entry in self.codes
            for spelling in (entry.code, entry.label, *entry.spellings)
        ]

    def code_for(self, value: str) -> str | None:
        """The code a frame's value stands for, or None if it is none of the vocabulary's spellings."""
        return self.lookup.get(spelling_key(value))

    def allowed(self) -> list[str]:
        return [entry.code for entry in self.codes]


def vocabulary_faults(vocabulary: Vocabulary) -> list[str]:
    """Codes repeated, and spellings that would read as more than one code."""
    faults: list[str] = []
    codes = vocabulary.allowed()
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        faults.append(f"code {code} is listed more than once")
    read_as: dict[str, tuple[str, str]] = {}
    for key, code, spelling in vocabulary.readings():
        if not key:
            faults.append(f"spelling {spelling!r} of {code} has no letters or digits")
            continue
        held = read_as.setdefault(key, (code, spelling))
        if held[0] != code:
            faults.append(
                f"spelling {spelling!r} of {code} reads as {held[1]!r} of {held[0]}: a value spelled so would "
                "map to two codes"
            )
    return faults


def framework_column_faults(framework: Framework, vocabularies: dict[str, Vocabulary]) -> list[str]:
    """Columns the framework's sample types and case filters name with no vocabulary, and case filter
    values that are not codes of their column."""
    faults: list[str] = []
    for sample_type in framework.sample_types:
        for column in sample_type.strata:
            if column != UNIT_COLUMN and column not in vocabularies:
                faults.append(f"sample type {sample_type.id} is stratified on {column}, which has no vocabulary")
    for standard in framework.standards():
        for condition in standard.case_filter.conditions if standard.case_filter else ():
            vocabulary = vocabularies.get(condition.attribute)
            if vocabulary is None:
                faults.append(
                    f"case filter of standard {standard.id} reads {condition.attribute}, which has no vocabulary"
                )
                continue
            compared: list[Any] = [condition.equals] if condition.equals is not None else []
            for value in [*compared, *(condition.one_of or [])]:
                if code_of_filter_value(value) not in vocabulary.allowed():
                    faults.append(
                        f"case filter of standard {standard.id} compares {condition.attribute} with {value!r}, "
                        f"not one of its codes ({', '.join(vocabulary.allowed())})"
                    )
    return faults
