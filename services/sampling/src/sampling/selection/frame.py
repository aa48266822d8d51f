"""Reading a caseload frame, from CSV bytes or JSON rows, into a polars frame of text columns.

CSV is parsed by polars, column by column; a plain file of case references and strata only, the usual
national frame, line by line instead (see `_read_by_lines`: its stratum values are read once per
distinct combination, not once per case). When polars refuses a file, or may have padded a short row
with nulls (it does so silently), one vectorised pass over the bytes (numpy) finds where each record
starts and how many fields it has, minding quoted fields, so a ragged row or an unterminated quote is
refused with its line number. The same pass, run only when a message needs it, maps rows to lines.

Only `case_ref` and the columns the design names (or lists as carried) may come in: any other column
is refused before the cases are read, so personal data that sampling does not need never enters.
Every value is kept as text; an empty value is a missing one. The columns only read as strata (the
unit and the stratification variables) are read as categoricals of that text, so forming the strata
compares numbers, not text.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from inspection_shared.sampling import SampleDesign
from inspection_shared.wording import counted
from sampling.errors import Fault, FrameTooLarge, SamplingInputError

CASE_REF = "case_ref"
_QUOTE, _COMMA, _NEWLINE, _CR = 34, 44, 10, 13
_WHOLE_LINE = b"\x1f"  # the unit separator: read with it as the separator, a line of a file without it is one field
_MAX_FAULTS = 10


def number_densely(codes: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes in [0, space) numbered 0, 1, ... in code order: each row's number, the rows of each number,
    and a row holding each number (to read its values from)."""
    if space <= 4 * len(codes):
        counts = np.bincount(codes, minlength=space)
        present = np.flatnonzero(counts)
        slot = np.empty(space, dtype=np.int64)
        slot[present] = np.arange(len(present))
        numbers, counts = slot[codes], counts[present]
    else:  # sparse codes: sorting them costs less than counting every code in the space
        _, numbers = np.unique(codes, return_inverse=True)
        counts = np.bincount(numbers)
    member = np.empty(len(counts), dtype=np.int64)
    member[numbers] = np.arange(len(codes))
    return numbers, counts, member


@dataclass(frozen=True)
class RowValues:
    """A frame's rows numbered by the values of their columns other than case_ref: `values` holds each
    distinct combination once, and `of_row` the number of each row's (its row in `values`)."""

    of_row: np.ndarray
    values: pl.DataFrame


@dataclass
class Frame:
    """A caseload frame: text columns, and where each row came from (for messages that name it)."""

    data: pl.DataFrame
    source: Literal["json", "csv"]
    raw: bytes | None = field(default=None, repr=False)
    """For CSV, the file as read, to find the line of a row when a message names one."""
    plain: bool = False
    """True when no value holds a comma, quote or line break, so CSV needs no quoting to write it."""
    row_values: RowValues | None = field(default=None, repr=False)
    """For a frame read by lines (see `_read_by_lines`), its rows numbered by their values."""
    _lines: np.ndarray | None = field(default=None, repr=False)

    def line(self, row: int) -> int:
        """The line of the CSV file a row starts on (the header is line 1)."""
        if self._lines is None:
            starts = _scan_csv(self.raw).starts[1:] if self.raw is not None else np.zeros(0, dtype=np.int64)
            self._lines = starts if len(starts) == self.data.height else np.arange(2, self.data.height + 2)
        return int(self._lines[row])

    def locate(self, row: int) -> Fault:
        """An empty fault pointing at a row: `frame` with its line for CSV, `frame.<index>` for JSON."""
        if self.source == "csv":
            return Fault("frame", "", self.line(row))
        return Fault(f"frame.{row}", "")


def categorical() -> pl.Categorical:
    """A categorical type with a mapping of its own, freed with the last column that uses it.

    Not the global one, whose mapping would keep every value any frame ever held.
    """
    return pl.Categorical(pl.Categories(uuid.uuid4().hex))


def strata_only_columns(design: SampleDesign) -> list[str]:
    """The unit and strata columns the design reads for nothing else (not dates, filters or carried)."""
    elsewhere = {
        *([design.eligibility.column] if design.eligibility else []),
        *(f.column for f in design.exclude),
        *design.carried,
    }
    return [c for c in design.stratum_variables() if c not in elsewhere]


def check_columns(columns: Sequence[str], design: SampleDesign) -> None:
    """Refuse a frame that lacks case_ref or a column the design names, or has a column it does not use."""
    used = design.used_columns()
    faults = []
    if CASE_REF not in columns:
        faults.append(Fault(CASE_REF, "the frame has no case_ref column"))
    missing = [c for c in used if c not in columns]
    faults += [Fault(c, "the design names this column but the frame does not have it") for c in missing]
    allowed = {CASE_REF, *used}
    unknown = [c for c in columns if c not in allowed]
    faults += [
        Fault(c, "the design does not use this column; remove it, or list it in design.carried")
        for c in unknown
    ]
    if faults:
        parts = []
        if CASE_REF not in columns:
            parts.append("the required column case_ref is missing")
        if missing:
            parts.append(f"columns named by the design are missing: {', '.join(missing)}")
        if unknown:
            parts.append(
                f"columns the design does not use were sent: {', '.join(unknown)} "
                "(remove them, or list them in design.carried)"
            )
        raise SamplingInputError("The frame's columns do not fit the design: " + "; ".join(parts) + ".", faults)


# ----------------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------------


@dataclass
class _CsvLayout:
    records: int  # header included
    starts: np.ndarray  # line number each record starts on


def _line_of(newlines: np.ndarray, position: int) -> int:
    return int(np.searchsorted(newlines, position)) + 1


def _scan_csv(data: bytes) -> _CsvLayout:
    """Record boundaries and field counts, minding quotes; raises on a ragged row or an open quote."""
    raw = np.frombuffer(data, dtype=np.uint8)
    all_newlines = np.flatnonzero(raw == _NEWLINE)
    if data.find(b'"') >= 0:
        quotes = raw == _QUOTE
        inside = np.bitwise_xor.accumulate(quotes.view(np.uint8))  # 1 after an opening quote
        del quotes
        if inside[-1]:
            opening = np.flatnonzero((raw == _QUOTE) & (inside == 1))
            line = _line_of(all_newlines, int(opening[-1]))
            raise SamplingInputError(
                f"The CSV frame cannot be parsed: the quote opened on line {line} is never closed.",
                [Fault("frame", "unterminated quoted field", line)],
            )
        outside = inside == 0
        del inside
        ends = np.flatnonzero((raw == _NEWLINE) & outside)
        commas = np.flatnonzero((raw == _COMMA) & outside)
        del outside
    else:
        ends = all_newlines
        commas = np.flatnonzero(raw == _COMMA)
    if ends.size == 0 or ends[-1] != len(data) - 1:
        ends = np.append(ends, len(data))  # the last record has no newline after it
    fields = np.diff(np.searchsorted(commas, ends), prepend=0) + 1
    starts = np.concatenate(([0], ends[:-1] + 1))
    start_lines = np.searchsorted(all_newlines, starts) + 1
    ragged = np.flatnonzero(fields != fields[0])
    if ragged.size:
        faults = [
            Fault("frame", f"has {counted(int(fields[i]), 'field')}; the header has {counted(int(fields[0]), 'field')}", int(start_lines[i]))
            for i in ragged[:_MAX_FAULTS]
        ]
        first = faults[0]
        raise SamplingInputError(
            f"The CSV frame cannot be parsed: line {first.line} {first.message}"
            + (f" ({ragged.size} such rows)." if ragged.size > 1 else "."),
            faults,
        )
    return _CsvLayout(records=len(ends), starts=start_lines)


def _header(data: bytes) -> list[str]:
    end = data.find(b"\n")
    first = data if end < 0 else data[:end]
    text = first.decode("utf-8-sig", errors="strict").rstrip("\r")
    try:
        return next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as error:
        raise SamplingInputError(
            f"The CSV header cannot be read: {error}.", [Fault("frame", "the header cannot be read", 1)]
        ) from None


def _utf8_fault(data: bytes) -> SamplingInputError | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return SamplingInputError(
            f"The CSV frame cannot be parsed: line {line} is not UTF-8 text.",
            [Fault("frame", "not UTF-8 text", line)],
        )
    return None


def _without_trailing_line_ends(data: bytes) -> bytes:
    """The file without the line ends at its end, as `data.rstrip(b"\\r\\n")`.

    A file ending in one LF (the usual case) is kept as it is, not copied: polars and the line scan
    read the LF that ends the last record exactly as they read its absence.
    """
    end = len(data)
    while end and data[end - 1] in (_NEWLINE, _CR):
        end -= 1
    if end == len(data) or (0 < end == len(data) - 1 and data[end] == _NEWLINE):
        return data
    return data[:end]


def read_csv_frame(data: bytes, design: SampleDesign, max_rows: int) -> Frame:
    """Parse a CSV frame (header row, comma-separated, UTF-8, RFC 4180 quoting) into a Frame."""
    data = _without_trailing_line_ends(data)
    if not data or data.isspace():  # as `not data.strip()`, without copying the file
        raise SamplingInputError("The frame is empty: no header and no cases.", [Fault("frame", "is empty")])
    try:
        names = _header(data)
    except UnicodeDecodeError:
        raise _utf8_fault(data) from None
    blank = [i + 1 for i, n in enumerate(names) if not n.strip()]
    if blank:
        raise SamplingInputError(
            f"The CSV header has a column with no name (position {blank[0]}).",
            [Fault("frame", f"column {i} of the header has no name", 1) for i in blank],
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SamplingInputError(
            f"The CSV header names a column more than once: {', '.join(repeated)}.",
            [Fault(n, "appears more than once in the header", 1) for n in repeated],
        )
    check_columns(names, design)
    # An unquoted CSV file cannot hold a value with a comma, quote or line break, nor an empty string
    # (polars reads an empty unquoted field as missing already).
    unquoted = data.find(b'"') < 0
    plain = unquoted and (data.find(b"\r") < 0 or data.count(b"\r") == data.count(b"\r\n"))
    by_lines = _read_by_lines(data, names, design, max_rows) if plain else None
    if by_lines is not None:
        frame, row_values = by_lines
    else:
        row_values = None
        try:
            frame = pl.read_csv(
                io.BytesIO(data),
                has_header=True,
                infer_schema=False,
                schema_overrides={c: categorical() for c in strata_only_columns(design)},
                truncate_ragged_lines=False,
                n_rows=max_rows + 1,
            )
        except pl.exceptions.PolarsError as error:
            _scan_csv(data)  # names the line of a ragged row or an open quote
            raise (_utf8_fault(data) or SamplingInputError(
                "The CSV frame cannot be parsed: " + str(error).splitlines()[0], [Fault("frame", "cannot be parsed")]
            )) from None
    if frame.height > max_rows:
        raise FrameTooLarge(f"The frame holds more than {max_rows} cases, the most accepted.", max_rows)
    if frame.height == 0:
        raise SamplingInputError("The frame is empty: it has a header but no cases.", [Fault("frame", "has no cases")])
    if row_values is None and len(names) > 1 and frame.get_column(frame.columns[-1]).null_count():
        _scan_csv(data)  # polars pads a short row with nulls: refuse it, with its line
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))  # polars strips a byte-order mark
    if not unquoted:
        frame = _blank_is_missing(frame)
    # One chunk per column: gathers (sorting by case_ref, picking cases) are many times faster on it.
    return Frame(frame.rechunk(), "csv", raw=data, plain=plain, row_values=row_values)


def _read_by_lines(data: bytes, names: list[str], design: SampleDesign, max_rows: int
                   ) -> tuple[pl.DataFrame, RowValues] | None:
    """A plain file whose first column is case_ref and whose others only name strata, read a faster way.

    Such a line is a case reference and its stratum values, and the values repeat: there are far fewer
    distinct rests of lines than lines. So each line is read whole (the separator is a byte the file
    does not hold), cut after the width of the first case reference, and the rests are read as one
    categorical; only the distinct rests are split into columns, which are then gathered for every row.

    The cut is right on every line when every distinct rest starts with a comma and holds as many as
    the header, and the file holds no more commas than that per line (so no case reference holds one).
    None when the file is not of this shape, or anything in it is out of the ordinary (a line with too
    few or too many fields, a missing case reference, references of different widths, text that is not
    UTF-8); the usual reader then reads it, and names any fault.
    """
    strata_only = set(strata_only_columns(design))
    if len(names) < 2 or names[0] != CASE_REF or not all(n in strata_only for n in names[1:]):
        return None
    first = data.find(b"\n") + 1
    comma, end = data.find(b",", first), data.find(b"\n", first)
    if first == 0 or comma <= first or 0 <= end < comma or data.find(_WHOLE_LINE) >= 0:
        return None
    try:
        width = len(data[first:comma].decode("utf-8"))  # in characters, as polars cuts text
    except UnicodeDecodeError:
        return None
    try:
        lines = pl.read_csv(io.BytesIO(data), has_header=True, infer_schema=False, separator=_WHOLE_LINE.decode(),
                            quote_char=None, n_rows=max_rows + 1)
    except pl.exceptions.PolarsError:
        return None
    fields = len(names) - 1  # after the case reference; each is preceded by a comma
    if lines.width != 1 or not 0 < lines.height <= max_rows or lines.null_count().item() \
            or np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == _COMMA) != fields * (lines.height + 1):
        return None
    line = pl.first()
    parts = lines.select(
        line.str.slice(0, width).alias(CASE_REF), line.str.slice(width).cast(categorical()).alias("rest")
    )
    rest = parts.get_column("rest")
    codes = rest.to_physical().to_numpy()
    of_row, _, member = number_densely(codes, int(codes.max()) + 1)
    texts = rest.gather(member).cast(pl.String)
    if not (texts.str.starts_with(",") & (texts.str.count_matches(",", literal=True) == fields)).all():
        return None
    table = texts.str.slice(1).str.split_exact(",", fields - 1).struct.unnest()
    table = table.select(
        pl.when(pl.col(c) != "").then(pl.col(c)).cast(categorical()).alias(name)
        for c, name in zip(table.columns, names[1:], strict=True)
    )
    row_values = RowValues(of_row, table)
    return pl.concat([parts.select(CASE_REF), table[row_values.of_row]], how="horizontal"), row_values


def _blank_is_missing(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns
    )


# ----------------------------------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------------------------------


def as_text(value: object) -> str | None:
    """A JSON scalar as frame text: strings as they are, numbers as written, booleans as true/false."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    raise TypeError(type(value).__name__)


def read_json_frame(rows: object, design: SampleDesign, max_rows: int) -> Frame:
    """A frame sent as a list of JSON objects, one per case."""
    if not isinstance(rows, list):
        raise SamplingInputError("The frame must be a list of objects, one per case.", [Fault("frame", "is not a list")])
    if len(rows) > max_rows:
        raise FrameTooLarge(f"The frame holds {len(rows)} cases; at most {max_rows} are accepted.", max_rows)
    not_objects = [i for i, row in enumerate(rows) if type(row) is not dict]
    if not_objects:
        raise SamplingInputError(
            f"Each case in the frame must be an object; frame.{not_objects[0]} is not.",
            [Fault(f"frame.{i}", "is not an object") for i in not_objects[:_MAX_FAULTS]],
        )
    columns: dict[str, None] = {}
    for row in rows:
        if len(row) != len(columns) or any(k not in columns for k in row):
            columns.update(dict.fromkeys(row))
    names = list(columns)
    if not rows:
        check_columns([CASE_REF, *design.used_columns()], design)
        raise SamplingInputError("The frame is empty: it has no cases.", [Fault("frame", "has no cases")])
    check_columns(names, design)
    data = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            data[name] = [v if type(v) is str and v else as_text(v) for v in values]
        except TypeError:
            bad = [i for i, v in enumerate(values) if isinstance(v, (dict, list))]
            raise SamplingInputError(
                f"Frame values must be text, numbers, booleans or null; frame.{bad[0]}.{name} is not.",
                [Fault(f"frame.{i}.{name}", "must be text, a number, a boolean or null") for i in bad[:_MAX_FAULTS]],
            ) from None
    return Frame(pl.DataFrame(data, schema={n: pl.String for n in names}), "json")
