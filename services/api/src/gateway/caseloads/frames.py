"""Reading an uploaded caseload frame and putting it in the canonical form the sampling service is sent.

The gateway reads the frame itself, once, at upload, rather than asking the sampling service: an upload
then works while the sampling service is down, and every fault is named by the line of the file the user
sent (the sampling service would name lines of the canonical copy it is sent at the draw, which the
user has never seen). The standard `csv` module reads it: the gateway does not carry polars, and a frame
of the largest size accepted (500,000 cases) is read and written in a few seconds.

First of all, a header naming personal data the sample does not need (names, dates of birth, addresses,
postcodes, PNC, NOMIS and national insurance numbers, CRNs, phone numbers, emails and the like: see
`PERSONAL_DATA`) is refused, naming those columns: personal data the sample does not need is never taken,
not even to be refused later for another reason. A column the sample type does use is never refused as
personal data. Then everything the sampling service would refuse about a frame on its own is refused
here, so a stored frame always reads there: a header with a blank or repeated name, a missing `case_ref` column, any
column the sample type does not need (personal data sampling does not use never enters), ragged rows,
an unterminated quote, text that is not UTF-8, missing or repeated case references, and eligibility
dates that are not ISO dates (YYYY-MM-DD). What depends on the design (a size above the population, a
window that leaves no case) is the sampling service's to refuse at the draw. Values are trimmed; an
empty value is a missing one; a value may not hold control characters or line breaks and is at most
64 characters, the width the gateway stores case references, units and strata in. A column with codes
(`values`: a vocabulary's, or the unit column's) takes only values that read as one of them, and
stores the code.

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
import itertools
import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from gateway.caseloads.values import ColumnCodes
from inspection_shared.problems import FieldError, InvalidInput, Problem
from inspection_shared.wording import counted

CASE_REF = "case_ref"
DATE_COLUMN = "start_date"
"""The date a case entered the frame's window (sentence or licence start, report completed, ...)."""
MAX_CASES = 500_000
"""The sampling service's limit; a larger frame is 413."""
MAX_VALUE_LENGTH = 64
MAX_FAULTS = 20
"""Faults listed in one answer; the count of all of them is given beside."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_OUTSIDE_LINE_ENDS = re.compile(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CanonicalFrame:
    columns: list[str]
    """Column names in canonical order (by name), case_ref among them."""
    case_count: int
    content: bytes
    """The canonical CSV, gzip-compressed: what is stored, and sent to the sampling service decompressed."""
    fingerprint: str
    """SHA-256 of the canonical CSV."""


def frame_too_large(detail: str) -> Problem:
    return Problem(413, "Frame too large", detail, slug="frame-too-large", limit=MAX_CASES)


def _refuse(detail: str, faults: list[FieldError], total: int | None = None, **extensions: object) -> InvalidInput:
    total = len(faults) if total is None else total
    if total > MAX_FAULTS:
        detail += f" ({total} faults; the first {MAX_FAULTS} are listed.)"
    return InvalidInput(detail, faults[:MAX_FAULTS], **extensions)


def _not_utf8(data: bytes) -> InvalidInput:
    """The refusal of an upload that is not UTF-8, naming the line of its first byte that cannot be read."""
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return _refuse(
            f"The frame is not UTF-8 text: line {line} holds a byte that cannot be read.",
            [FieldError(field="frame", message="not UTF-8 text", line=line)],
        )
    raise AssertionError("called for text that decodes")


# What a column of personal data is called, matched on its name in lower case with everything but letters
# and digits taken out ("Date of Birth", "date_of_birth" and "DateOfBirth" are all "dateofbirth"), or on
# its words (split at anything else and at a change to capitals: "PNC No." is "pnc" and "no").
_PERSON = r"(first|fore|given|middle|last|sur|family|maiden|full|preferred|christian|birth|known|person|offender|" \
    r"client|child|youngperson|pop|serviceuser|subject|defendant|victim|parent|carer|guardian|officer|manager|" \
    r"practitioner|worker|staff)"
PERSONAL_DATA: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = tuple(
    (what, re.compile(compact), frozenset(words))
    for what, compact, words in (
        ("a name", rf"^names?\d*$|{_PERSON}names?\d*$|^(forenames?|surnames?|aliases|alias|aka|knownas)\d*$"
         r"|forename|surname|firstname|lastname|familyname|givenname|middlename|fullname|maidenname", ()),
        ("a date of birth", r"dateofbirth|birthdate|birthday|yearofbirth|dob$", ("dob", "yob")),
        ("an email address", r"email|^mail(address)?$", ()),
        ("an address", r"address|^addr\d*$|^street|streetname|housenumber|^residence", ("addr",)),
        ("a postcode", r"postcode|postalcode|zipcode|^zip$|^pcode$", ()),
        ("a PNC number", r"^pnc|policenationalcomputer", ("pnc",)),
        ("a NOMIS or prison number", r"^nomis|^noms(number|no|id)?$|prisonnumber|prisonernumber|bookingnumber",
         ("nomis", "noms")),
        ("a CRN", r"^crn(number|no|id)?$", ("crn",)),
        ("a national insurance number", r"nationalinsurance|^nino$|^ni(number|no|num)?$", ()),
        ("a phone number", r"phone|^tel(no|number|ephone)?$|^mobile(number|no)?$|^mob(no)?$", ("tel", "phone", "mobile")),
        ("an NHS number", r"^nhs(number|no|id)?$", ("nhs",)),
        ("a passport or driving licence number", r"passport|drivinglicen[cs]e|driverslicen[cs]e", ()),
        ("a CRO number", r"^cro(number|no|id)?$", ("cro",)),
    )
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def personal_data(name: str) -> str | None:
    """What personal data a column of this name holds (as "a name", "a postcode"), or None."""
    compact = re.sub(r"[^a-z0-9]", "", name.lower())
    words = {word.lower() for word in _WORD.findall(name)}
    for what, pattern, named_by in PERSONAL_DATA:
        if pattern.search(compact) or words & named_by:
            return what
    return None


def check_personal_data(names: list[str], allowed_columns: list[str], sample_type: str) -> None:
    """Refuse a header naming personal data the sample does not need, before anything else is checked."""
    found = [
        (n, what) for n in dict.fromkeys(names) if n not in allowed_columns and (what := personal_data(n)) is not None
    ]
    if not found:
        return
    refused = [n for n, _ in found]
    said = "; ".join(f"{n} holds {what}" for n, what in found)
    raise _refuse(
        f"The frame has columns of personal data that the {sample_type} sample does not need: "
        f"{', '.join(refused)} ({said}). Personal data the sample does not need is never taken: remove these "
        f"columns and upload the frame again. Columns accepted: {', '.join(allowed_columns)}.",
        [
            FieldError(
                field=n, line=1,
                message=f"holds {what}: personal data the {sample_type} sample does not need, never taken",
            )
            for n, what in found
        ],
        allowed_columns=allowed_columns,
        refused_columns=refused,
        personal_data_columns=refused,
    )


def check_header(names: list[str], allowed: Iterable[str], sample_type: str) -> None:
    """Refuse a header naming personal data the sample does not need (first of all), with a blank or
    repeated name, without case_ref, or with a column the sample does not need."""
    allowed_columns = sorted(set(allowed) | {CASE_REF})
    check_personal_data(names, allowed_columns, sample_type)
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


def read_frame(
    data: bytes, allowed: Iterable[str], sample_type: str, codes: Mapping[str, ColumnCodes] | None = None
) -> CanonicalFrame:
    """Check an uploaded CSV frame and return it in canonical form (see the module docstring), each value
    of a column in `codes` stored as its code.

    A sound frame is checked a batch of rows at a time, column by column at the speed of the C parts of
    Python, and kept as one tuple a row with its repeated values shared, so the memory it takes stays a
    small multiple of the upload's. Only a frame with a fault is read again row by row, to name the line
    of each fault.
    """
    reader = csv.reader(_text(data), strict=True)
    try:
        header = next(reader, [])
    except UnicodeDecodeError:
        raise _not_utf8(data) from None
    except csv.Error as error:
        raise _refuse(
            f"The header cannot be read: {error}.", [FieldError(field="frame", message=str(error), line=1)]
        ) from None
    names = [name.strip() for name in header]
    if not any(names):
        raise _refuse("The frame is empty: no header and no cases.", [FieldError(field="frame", message="is empty")])
    check_header(names, allowed, sample_type)
    column_codes = [(codes or {}).get(name) for name in names]
    rows = _sound_rows(reader, names, column_codes, check_control=_may_hold_control(data))
    if rows is None:
        raise _row_faults(data, names, column_codes, MAX_CASES)
    if not rows:
        raise _refuse("The frame has a header but no cases.", [FieldError(field="frame", message="has no cases")])
    order = sorted(range(len(names)), key=names.__getitem__)
    ordered_names = [names[i] for i in order]
    ref_at = names.index(CASE_REF)
    rows.sort(key=operator.itemgetter(ref_at))  # code point order = UTF-8 byte order
    pick = operator.itemgetter(*order) if len(order) > 1 else (lambda row: (row[order[0]],))
    content, fingerprint = _compressed_csv(ordered_names, map(pick, rows))
    return CanonicalFrame(ordered_names, len(rows), content, fingerprint)


_BATCH = 20_000
"""Rows checked together: large enough for the column checks' speed, small enough to hold twice."""


def _sound_rows(
    reader: Iterator[list[str]], names: list[str], codes: list[ColumnCodes | None], *, check_control: bool
) -> list[tuple[str, ...]] | None:
    """Every row, values trimmed and repeated values shared, if all are sound; None at the first fault
    (the caller reads again row by row to name it). More rows than MAX_CASES is a 413, counted whole
    but not kept."""
    rows: list[tuple[str, ...]] = []
    refs: set[str] = set()
    ref_at = names.index(CASE_REF)
    shared: dict[str, str] = {}
    try:
        while batch := [row for row in itertools.islice(reader, _BATCH) if row]:  # a blank line is no case
            if len(rows) + len(batch) > MAX_CASES:
                total = len(rows) + len(batch) + sum(1 for row in reader if row)
                raise frame_too_large(f"The frame holds {total} cases; at most {MAX_CASES} are accepted.")
            columns = _sound_columns(batch, names, codes, check_control=check_control)
            if columns is None:
                return None
            refs_before = len(refs)
            refs.update(columns[ref_at])
            if len(refs) != refs_before + len(batch):
                return None  # a reference repeated, within the batch or from an earlier one
            kept = [
                column if i == ref_at else tuple(shared.setdefault(value, value) for value in column)
                for i, column in enumerate(columns)
            ]
            rows.extend(zip(*kept))
    except (csv.Error, UnicodeDecodeError):
        return None
    return rows


def _sound_columns(
    records: list[list[str]], names: list[str], codes: list[ColumnCodes | None], *, check_control: bool
) -> list[tuple[str, ...]] | None:
    """The batch's columns, values trimmed and read as their codes, if every row is sound; None if any is not."""
    width = len(names)
    if set(map(len, records)) != {width}:
        return None
    columns = [tuple(map(str.strip, column)) for column in zip(*records)]
    for at, (name, column, coded) in enumerate(zip(names, columns, codes)):
        if max(map(len, column)) > MAX_VALUE_LENGTH:
            return None
        if check_control and _CONTROL.search("".join(column)):
            return None
        if name == DATE_COLUMN and not all(_is_iso_date(day) for day in set(column) if day):
            return None
        if coded is not None:
            read = {value: coded.code_for(value) for value in set(column) if value}
            if None in read.values():
                return None
            read[""] = ""
            columns[at] = tuple(map(read.__getitem__, column))
    refs = columns[names.index(CASE_REF)]
    if not all(refs) or len(set(refs)) != len(refs):
        return None
    return columns


def _text(data: bytes) -> io.TextIOWrapper:
    """The upload as text, decoded as it is read rather than copied whole."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _may_hold_control(data: bytes) -> bool:
    """Line breaks and control characters can only sit inside values if the upload holds them at all."""
    return bool(_CONTROL_OUTSIDE_LINE_ENDS.search(data)) or (b'"' in data and (b"\n" in data or b"\r" in data))


def _row_faults(data: bytes, names: list[str], codes: list[ColumnCodes | None], max_cases: int) -> InvalidInput:
    """Read the frame row by row and name every fault by its line (the header is line 1)."""
    reader = csv.reader(_text(data), strict=True)
    next(reader)
    width = len(names)
    ref_at = names.index(CASE_REF)
    date_at = names.index(DATE_COLUMN) if DATE_COLUMN in names else None
    check_control = _may_hold_control(data)
    faults: list[FieldError] = []
    fault_count = 0
    cases = 0
    first_line: dict[str, int] = {}
    repeated: set[str] = set()
    uncoded: dict[str, tuple[str, ...]] = {}

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
        except UnicodeDecodeError:
            return _not_utf8(data)
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
            fault("frame", f"has {counted(len(row), 'field')}; the header has {width}", line)
            continue
        values = [value.strip() for value in row]
        for name, value, coded in zip(names, values, codes):
            if len(value) > MAX_VALUE_LENGTH:
                fault(name, f"is {len(value)} characters long; at most {MAX_VALUE_LENGTH} are accepted", line)
            elif check_control and _CONTROL.search(value):
                fault(name, "holds a line break or a control character", line)
            elif coded is not None and value and coded.code_for(value) is None:
                fault(name, coded.refusal(value), line)
                uncoded[name] = coded.allowed
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
    said = f"The frame has {counted(fault_count, 'fault')}, the first on line {faults[0].line}: "
    said += f"{faults[0].field} {faults[0].message}."
    if repeated:
        said += f" {counted(len(repeated), 'case reference appears', 'case references appear')} more than once."
    if uncoded:
        return _refuse(said, faults, fault_count, allowed_codes={name: list(c) for name, c in uncoded.items()})
    return _refuse(said, faults, fault_count)


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


class _Sink(io.RawIOBase):
    """Where the canonical CSV is written: hashed and compressed as it comes, never held whole."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.compressed = io.BytesIO()
        self.gzip = gzip.GzipFile(fileobj=self.compressed, mode="wb", compresslevel=6, mtime=0)

    def writable(self) -> bool:
        return True

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        self.digest.update(chunk)
        return self.gzip.write(chunk)


def _compressed_csv(columns: list[str], rows: Iterable[tuple[str, ...]]) -> tuple[bytes, str]:
    """The canonical CSV, gzip-compressed, and its SHA-256: CSV as the sampling service writes a canonical
    frame, quotes only around a comma or a quote.

    Values never hold line breaks or control characters (refused above), so the standard writer's
    minimal quoting is the sampling service's "quote where needed" exactly.
    """
    sink = _Sink()
    text = io.TextIOWrapper(io.BufferedWriter(sink, buffer_size=1 << 20), encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(rows)
    text.flush()
    sink.gzip.close()
    return sink.compressed.getvalue(), sink.digest.hexdigest()


def decompress(content: bytes) -> bytes:
    return gzip.decompress(content)
