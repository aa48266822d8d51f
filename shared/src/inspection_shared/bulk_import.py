"""What every all-or-nothing import of rows shares, whether it comes as CSV or as a JSON array: where a
fault is (`RowRef`), the header check, the refusal of a file that is not CSV, and the one refusal that
lists every fault.

A CSV fault names the column and the line (the header is line 1); a JSON fault names the path in the
body (`body.3.answers.2.1.1`) and the index of the item.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.wording import counted


@dataclass(frozen=True)
class RowRef:
    """Where a row came from: a line of a CSV file (the header is line 1) or an item of a JSON array."""

    line: int | None = None
    index: int | None = None

    @property
    def position(self) -> int:
        return self.line if self.line is not None else self.index  # type: ignore[return-value]

    def describe(self) -> str:
        return f"line {self.line}" if self.line is not None else f"item {self.index}"

    def error(self, column: str | None, message: str, **facts: Any) -> FieldError:
        """A fault of this row in `column` (a CSV column, or a dotted path in a JSON item; None: the whole
        row); the facts given a value (such as the case's reference) go with it."""
        given = {name: value for name, value in facts.items() if value}
        if self.line is not None:
            return FieldError(field=column or "row", message=message, line=self.line, **given)
        field = f"body.{self.index}" + (f".{column}" if column else "")
        return FieldError(field=field, message=message, index=self.index, **given)


def read_header(reader: Iterator[list[str]], *, known: Sequence[str], required: Sequence[str], unknown: str,
                what: str) -> list[str]:
    """The columns the first line names (trimmed, in lower case), or a 422 naming every fault in it:
    a column not in `known` (told why by `unknown`), a column named twice, a required one missing."""
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise InvalidInput(
            "The file is empty: the first line must name the columns.",
            [FieldError(field="header", message="no header line", line=1)],
        )
    columns = [cell.strip().lower() for cell in header]
    faults = [
        FieldError(field=name or f"column {i}", message=unknown, line=1)
        for i, name in enumerate(columns, start=1)
        if name not in known
    ]
    faults += [
        FieldError(field=name, message="column appears more than once", line=1)
        for name in sorted({c for c in columns if columns.count(c) > 1 and c in known})
    ]
    faults += [FieldError(field=name, message="required column is missing", line=1) for name in required if name not in columns]
    if faults:
        raise InvalidInput(f"The header line does not name the {what} columns.", faults)
    return columns


@contextmanager
def readable_csv(reader: Any) -> Iterator[None]:
    """Refuse a file the CSV reader cannot read, naming the line it stopped at."""
    try:
        yield
    except csv.Error as error:
        raise InvalidInput(
            f"The file is not readable as CSV at line {reader.line_num}: {error}.",
            [FieldError(field="row", message=f"not readable as CSV: {error}", line=reader.line_num)],
        ) from error


def nothing_imported(errors: list[FieldError], most: int) -> InvalidInput:
    """The refusal of a whole import: its faults in the order of the file, the first `most` of them listed."""
    errors = sorted(errors, key=lambda e: e.line if e.line is not None else getattr(e, "index", 0) or 0)
    more = f" (the first {most} are listed)" if len(errors) > most else ""
    return InvalidInput(
        f"Nothing was imported: {counted(len(errors), 'fault')} in the import{more}.",
        errors[:most],
        error_count=len(errors),
    )
