"""Reading an uploaded caseload frame and putting it in the canonical form the sampling service is sent.

The gateway reads the frame itself, once, at upload, rather than asking the sampling service: an upload
then works while the sampling service is down, and every fault is named by the line of the file the user
sent (the sampling service would name lines of the canonical copy it is sent at the draw, which the
user has never seen). The standard `csv` module reads it: the gateway does not carry polars, and a frame
of the largest size accepted (500,000 cases) is read and written in a few seconds.

Everything the sampling service would refuse about a frame on its own is refused here, so a stored
frame always reads there: a header with a blank or repeated name, a missing `case_ref` column, any
column the sample type does not need (personal data sampling does not use never enters), ragged rows,
an unterminated quote, text that is not UTF-8, missing or repeated case references, and eligibility
dates that are not ISO dates (YYYY-MM-DD). What depends on the design (a size above the population, a
window that leaves no case) is the sampling service's to refuse at the draw. Values are trimmed; an
empty value is a missing one; a value may not hold control characters or line breaks and is at most
64 characters, the width the gateway stores case references, units and strata in.

The canonical form is the sampling service's (see sampling.selection.service): rows sorted by
`case_ref`, columns by name, written as CSV (UTF-8, comma, LF, header row, quotes only where needed, a
missing value empty). It is what the gateway stores and sends, byte for byte, so its SHA-256 is the
`frame_fingerprint` the sampling service reports for every sample drawn from it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from inspection_shared.problems import FieldError, InvalidInput, Problem

CASE_REF = "case_ref"
UNIT_COLUMN = "unit"
"""The delivery unit of a case (e.g. a PDU code); the frameworks' strata call it `unit`."""
DATE_COLUMN = "start_date"
"""The date a case entered the frame's window (sentence or licence start, report completed, ...)."""
MAX_CASES = 500_000
"""The sampling service's limit; a larger frame is 413."""
MAX_BYTES = 128 * 1024 * 1024
MAX_VALUE_LENGTH = 64
MAX_FAULTS = 20
"""Faults listed in one answer; the count of all of them is given beside."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_OUTSIDE_LINE_ENDS = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CanonicalFrame:
    columns: list[str]
    """Column names in canonical order (by name), case_ref among them."""
    case_count: int
    csv: bytes
    """The canonical CSV: what the sampling service is sent."""
    fingerprint: str

    def compressed(self) -> bytes:
        return gzip.compress(self.csv, compresslevel=6, mtime=0)


def frame_too_large(detail: str) -> Problem:
    return Problem(413, "Frame too large", detail, slug="frame-too-large", limit=MAX_CASES)


def _refuse(detail: str, faults: list[FieldError], total: int | None = None, **extensions: object) -> InvalidInput:
    total = len(faults) if total is None else total
    if total > MAX_FAULTS:
        detail += f" ({total} faults; the first {MAX_FAULTS} are listed.)"
    return InvalidInput(detail, faults[:MAX_FAULTS], **extensions)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _refuse(
            f"The frame is not UTF-8 text: line {line} holds a byte that cannot be read.",
            [FieldError(field="frame", message="not UTF-8 text", line=line)],
        ) from None


def check_header(names: list[str], allowed: Iterable[str], sample_type: str) -> None:
    """Refuse a header with a blank or repeated name, without case_ref, or with a column the sample does not need."""
    allowed_columns = sorted(set(allowed) | {CASE_REF})
    blank = [i for i, name in enumerate(names, start=1) if not name]
    if blank:
        raise _refuse(
            f"The header has a column with no name (position {blank[0]}).",
            [FieldError(field="frame", message=f"column {i} of the header has no name", line=1) for i in blank],
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _refuse(
            f"The header names a column more than once: {', '.join(repeated)}.",
            [FieldError(field=n, message="appears more than once in the header", line=1) for n in repeated],
        )
    refused = [n for n in names if n not in allowed_columns]
    faults = []
    parts = []
    if CASE_REF not in names:
        faults.append(FieldError(field=CASE_REF, message="the frame has no case_ref column", line=1))
        parts.append("the required column case_ref is missing")
    if refused:
        faults += [
            FieldError(field=n, message=f"not a column the {sample_type} sample needs", line=1) for n in refused
        ]
        parts.append(f"columns the {sample_type} sample does not need were sent: {', '.join(refused)}")
    if faults:
        raise _refuse(
            "The frame's columns do not fit the sample: " + "; ".join(parts)
            + f". Columns accepted: {', '.join(allowed_columns)}.",
            faults,
            allowed_columns=allowed_columns,
            refused_columns=refused,
        )


def read_frame(data: bytes, allowed: Iterable[str], sample_type: str) -> CanonicalFrame:
    """Check an uploaded CSV frame and return it in canonical form (see the module docstring).

    A sound frame is checked column by column, at the speed of the C parts of Python; only a frame with
    a fault is read again row by row, to name the line of each fault.
    """
    max_cases = MAX_CASES
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
    except csv.Error as error:
        raise _refuse(
            f"The header cannot be read: {error}.", [FieldError(field="frame", message=str(error), line=1)]
        ) from None
    names = [name.strip() for name in header]
    if not any(names):
        raise _refuse("The frame is empty: no header and no cases.", [FieldError(field="frame", message="is empty")])
    check_header(names, allowed, sample_type)
    try:
        records = [row for row in reader if row]  # a blank line is no case
    except csv.Error:
        records = None
    if records is not None:
        if len(records) > max_cases:
            raise frame_too_large(f"The frame holds {len(records)} cases; at most {max_cases} are accepted.")
        if not records:
            raise _refuse("The frame has a header but no cases.", [FieldError(field="frame", message="has no cases")])
        columns = _sound_columns(records, names, check_control=_may_hold_control(text))
        if columns is not None:
            del records
            order = sorted(range(len(names)), key=names.__getitem__)
            ordered_names = [names[i] for i in order]
            rows = list(zip(*(columns[i] for i in order)))
            rows.sort(key=operator.itemgetter(ordered_names.index(CASE_REF)))  # code point order = UTF-8 byte order
            content = canonical_csv(ordered_names, rows)
            return CanonicalFrame(ordered_names, len(rows), content, hashlib.sha256(content).hexdigest())
    raise _row_faults(text, names, max_cases)


def _may_hold_control(text: str) -> bool:
    """Line breaks and control characters can only sit inside values if the text holds them at all."""
    return bool(_CONTROL_OUTSIDE_LINE_ENDS.search(text)) or ('"' in text and ("\n" in text or "\r" in text))


def _sound_columns(records: list[list[str]], names: list[str], *, check_control: bool) -> list[tuple[str, ...]] | None:
    """The frame's columns, values trimmed, if every row is sound; None if any is not."""
    width = len(names)
    if set(map(len, records)) != {width}:
        return None
    columns = [tuple(map(str.strip, column)) for column in zip(*records)]
    for name, column in zip(names, columns):
        if max(map(len, column)) > MAX_VALUE_LENGTH:
            return None
        if check_control and _CONTROL.search("".join(column)):
            return None
        if name == DATE_COLUMN and not all(_is_iso_date(day) for day in set(column) if day):
            return None
    refs = columns[names.index(CASE_REF)]
    if not all(refs) or len(set(refs)) != len(refs):
        return None
    return columns


def _row_faults(text: str, names: list[str], max_cases: int) -> InvalidInput:
    """Read the frame row by row and name every fault by its line (the header is line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next(reader)
    width = len(names)
    ref_at = names.index(CASE_REF)
    date_at = names.index(DATE_COLUMN) if DATE_COLUMN in names else None
    check_control = _may_hold_control(text)
    faults: list[FieldError] = []
    fault_count = 0
    cases = 0
    first_line: dict[str, int] = {}
    repeated: set[str] = set()

    def fault(field: str, message: str, line: int) -> None:
        nonlocal fault_count
        fault_count += 1
        if len(faults) < MAX_FAULTS:
            faults.append(FieldError(field=field, message=message, line=line))

    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            return _refuse(
                f"The frame cannot be read from line {line}: {error}.",
                [FieldError(field="frame", message=f"cannot be read: {error}", line=line)],
            )
        if not row:
            continue
        cases += 1
        if cases > max_cases:
            raise frame_too_large(f"The frame holds more than {max_cases} cases, the most accepted.")
        if len(row) != width:
            fault("frame", f"has {len(row)} fields; the header has {width}", line)
            continue
        values = [value.strip() for value in row]
        for name, value in zip(names, values):
            if len(value) > MAX_VALUE_LENGTH:
                fault(name, f"is {len(value)} characters long; at most {MAX_VALUE_LENGTH} are accepted", line)
            elif check_control and _CONTROL.search(value):
                fault(name, "holds a line break or a control character", line)
        ref = values[ref_at]
        if not ref:
            fault(CASE_REF, "case_ref is missing", line)
        elif ref in first_line:
            repeated.add(ref)
            fault(CASE_REF, f"{ref} appears again (first on line {first_line[ref]})", line)
        else:
            first_line[ref] = line
        if date_at is not None and values[date_at] and not _is_iso_date(values[date_at]):
            fault(DATE_COLUMN, f"{values[date_at]!r} is not a date in the form YYYY-MM-DD", line)

    if not fault_count:
        return _refuse("The frame cannot be read.", [FieldError(field="frame", message="cannot be read")])
    said = f"The frame has {fault_count} fault{'s' if fault_count > 1 else ''}, the first on line {faults[0].line}: "
    said += f"{faults[0].field} {faults[0].message}."
    if repeated:
        said += f" {len(repeated)} case reference{'s' if len(repeated) > 1 else ''} appear more than once."
    return _refuse(said, faults, fault_count)


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def canonical_csv(columns: list[str], rows: list[tuple[str | None, ...]]) -> bytes:
    """CSV as the sampling service writes a canonical frame: quotes only around a comma or a quote.

    Values never hold line breaks or control characters (refused above), so the standard writer's
    minimal quoting is the sampling service's "quote where needed" exactly.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def decompress(content: bytes) -> bytes:
    return gzip.decompress(content)
