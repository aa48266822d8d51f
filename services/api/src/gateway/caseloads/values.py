"""What each column of a caseload frame may hold, and the code each value is stored as.

A column with a vocabulary in the library (gender, sentence type, risk of serious harm level, ...) holds
its codes: a value is read whatever its case and punctuation and stored as the code it spells (`M`,
`Male` and `male` are all stored `male`), so each stratum is one group however the export wrote it. The
unit column holds the code of the inspected unit or of a unit below it, stored as the tree spells it.
Anything else is refused, naming the value and what the column takes. A draw's exclusion filters name
values as the frame holds them: their spellings are read as codes too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.sampling import ExclusionFilter
from inspection_shared.vocabulary import UNIT_COLUMN, Vocabulary, code_of_filter_value, spelling_key

SHOWN_UNITS = 20
"""Unit codes listed in a refusal; a larger tree is named by its top unit alone."""


@dataclass(frozen=True)
class ColumnCodes:
    """The codes one frame column may hold, and how a value is read as one."""

    column: str
    allowed: tuple[str, ...]
    _codes: dict[str, str]
    _key: Callable[[str], str]
    _expected: str

    def code_for(self, value: str) -> str | None:
        """The code `value` stands for, or None if it stands for none."""
        return self._codes.get(self._key(value))

    def refusal(self, value: str) -> str:
        """Why `value` cannot be taken in this column."""
        return f"{value!r} is not {self._expected}"


def vocabulary_codes(vocabulary: Vocabulary) -> ColumnCodes:
    return ColumnCodes(
        vocabulary.column,
        tuple(vocabulary.allowed()),
        vocabulary.lookup,
        spelling_key,
        f"a {vocabulary.name.lower()} code or a spelling of one: expected one of {', '.join(vocabulary.allowed())}",
    )


def unit_codes(inspected: str, below: Iterable[str]) -> ColumnCodes:
    """The unit column of a frame of the unit coded `inspected`, with the codes of every unit below it."""
    codes = sorted({inspected, *below})
    expected = f"the inspected unit {inspected} or a unit below it"
    if 1 < len(codes) <= SHOWN_UNITS:
        expected += f": expected one of {', '.join(codes)}"
    return ColumnCodes(UNIT_COLUMN, tuple(codes), {c.casefold(): c for c in codes}, str.casefold, expected)


def frame_codes(
    columns: Iterable[str], vocabularies: dict[str, Vocabulary], units: ColumnCodes
) -> dict[str, ColumnCodes]:
    """The codes of each of these columns that has them: the unit column's, and each vocabulary's."""
    found: dict[str, ColumnCodes] = {}
    for column in columns:
        if column == UNIT_COLUMN:
            found[column] = units
        elif column in vocabularies:
            found[column] = vocabulary_codes(vocabularies[column])
    return found


def coded_exclusions(exclusions: list[ExclusionFilter], vocabularies: Mapping[str, Vocabulary]) -> list[ExclusionFilter]:
    """The draw's exclusion filters with each value of a column with a vocabulary given as its code, as the
    frame holds it; a value that is no code of its column is refused (it would exclude nothing)."""
    faults: list[FieldError] = []
    allowed: dict[str, list[str]] = {}
    coded: list[ExclusionFilter] = []
    for i, rule in enumerate(exclusions):
        vocabulary = vocabularies.get(rule.column)
        if vocabulary is None:
            coded.append(rule)
            continue
        codes = vocabulary_codes(vocabulary)
        values: list[str | None] = []
        for j, value in enumerate(rule.values):
            code = None if value is None else codes.code_for(code_of_filter_value(value))
            if value is not None and code is None:
                faults.append(FieldError(field=f"body.exclude.{i}.values.{j}", message=codes.refusal(str(value))))
                allowed[rule.column] = list(codes.allowed)
            values.append(code)
        coded.append(rule.model_copy(update={"values": values}))
    if faults:
        raise InvalidInput(
            "The exclusion filters name values no case of the frame can hold: "
            + "; ".join(f"{f.field}: {f.message}" for f in faults) + ".",
            faults,
            allowed_codes=allowed,
        )
    return coded
