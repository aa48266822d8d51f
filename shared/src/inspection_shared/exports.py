"""CSV written for people to open in a spreadsheet.

A text that begins as a formula would (=, +, -, @, a tab or a carriage return) is run by a spreadsheet when
the file is opened: a reason, a summary or a name typed into the service could then compute, or reach out.
Such a cell is written with a leading apostrophe, which spreadsheets show as text and do not compute (the
OWASP advice on CSV injection). Numbers are written as numbers, a negative one included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value as a spreadsheet should read it: a formula-like text made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(
    header: Sequence[str], rows: Iterable[Sequence[Any]], before: Iterable[Sequence[str]] = (), line_end: str = "\n"
) -> str:
    """CSV of `rows` under `header` (after any `before` lines, such as a draft's note), each text cell safe
    to open in a spreadsheet, None written empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerows(before)
    writer.writerow(header)
    writer.writerows([["" if value is None else cell(value) for value in row] for row in rows])
    return out.getvalue()
