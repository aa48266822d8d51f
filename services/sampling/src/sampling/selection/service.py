"""Drawing a case sample from a frame: eligibility, strata, allocation, seeded selection, reserves, balance.

The method, named by `ALGORITHM` and stored with every sample so anyone can redraw it:

1. The frame is checked (case references present and unique, dates that are dates) and put in its
   canonical form: rows sorted by the UTF-8 bytes of `case_ref`, columns by name. Its fingerprint is
   the SHA-256 of that form written as CSV (UTF-8, comma, LF line ends, header row, quotes only where
   needed, a missing value empty), so neither the row order nor the way the frame came (JSON or CSV,
   quoted or not) changes it.
2. Eligibility: cases whose date lies outside the window (or is missing) leave the frame, then the
   exclusion filters remove cases in order.
3. Strata are the combinations of the unit and the stratification variables present in the eligible
   frame; a missing value is its own level, "(missing)". A stratum is named by its values joined with
   "|" (a "|" or "\\" inside a value is escaped with "\\"), or "all" when there are none.
4. Sizes: a fixed size, or the precision target applied to the eligible frame (see sampling.size).
   With a unit column in overall mode, the size is allocated over units first (minimum per unit),
   then each unit's over its strata; in per-unit mode each unit is sized to the precision target on
   its own population. Allocation is sampling.allocation (proportional, largest remainder).
5. Selection: every eligible case gets the permanent random number of sampling.selection.keys for the
   seed; within each stratum the n cases with the smallest keys are the sample (simple random sampling
   without replacement) and the next ones, in key order, are the ordered reserve list. Ties in the key,
   vanishingly rare, go to the smaller case reference.

Inclusion probability within stratum h is n_h / N_h and the design weight N_h / n_h.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

import numpy as np
import polars as pl

from inspection_shared.sampling import SampleDesign
from sampling.allocation.service import allocate, largest_remainder
from sampling.errors import Fault, SamplingInputError
from sampling.selection.frame import CASE_REF, Frame, RowValues, as_text, categorical, number_densely
from sampling.selection.keys import EncodedRefs, byte_order, encode_refs, prn_keys
from sampling.size.service import SampleSize, ceil_clean, required_sample_size

T = TypeVar("T")
ALGORITHM = "stratified-srswor-prn-splitmix64-v1"
MISSING = "(missing)"
ALL = "all"
_MAX_FAULTS = 10
# Work a draw does beside its main line (forming the strata, sorting the case references, writing the
# fingerprint and JSON). A task waits only for tasks submitted before it, which have started by the time
# it does (the queue is first in, first out), so a small pool cannot deadlock.
_workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sampling-draw")


def in_background(fn: Callable[..., T], *args: object) -> Future[T]:
    """Run fn(*args) on the draw's worker threads (for work that releases the GIL, like polars)."""
    return _workers.submit(fn, *args)


@dataclass
class SampleDraw:
    """Everything a draw produces; the shell turns it into the wire shape."""

    selected: pl.DataFrame
    reserves: pl.DataFrame
    sample_size: int
    working: SampleSize | None
    frame_summary: dict
    seed: int
    pending_fingerprint: Future[str] = field(repr=False)
    """The frame fingerprint, still being written on another thread when the draw returns."""
    build_tables: Callable[[], _Tables] = field(repr=False, compare=False)
    """Builds the allocation and balance tables, the first time one of them is asked for."""
    algorithm: str = ALGORITHM

    @property
    def fingerprint(self) -> str:
        return self.pending_fingerprint.result()

    @cached_property
    def _tables(self) -> _Tables:
        return self.build_tables()

    @property
    def allocation(self) -> list[dict]:
        return self._tables.allocation

    @property
    def unit_allocation(self) -> list[dict] | None:
        return self._tables.unit_allocation

    @property
    def balance(self) -> list[dict]:
        return self._tables.balance

    @property
    def largest_deviation(self) -> dict | None:
        return self._tables.largest_deviation


@dataclass
class _Tables:
    allocation: list[dict]
    unit_allocation: list[dict] | None
    balance: list[dict]
    largest_deviation: dict | None


# ----------------------------------------------------------------------------------------------
# Checks and canonical form
# ----------------------------------------------------------------------------------------------


def _fault_at(frame: Frame, row: int, column: str, message: str) -> Fault:
    """A fault on one cell: the column and line of a CSV frame, or frame.<row>.<column> of a JSON one."""
    at = frame.locate(row)
    return Fault(column if frame.source == "csv" else f"{at.field}.{column}", message, at.line)


def _faults_at(frame: Frame, rows: np.ndarray, column: str, message: str) -> list[Fault]:
    return [_fault_at(frame, int(row), column, message) for row in rows[:_MAX_FAULTS]]


def _where(frame: Frame, row: int) -> str:
    at = frame.locate(row)
    return f"line {at.line}" if at.line is not None else at.field


def _refuse_missing_refs(frame: Frame) -> None:
    missing = frame.data.get_column(CASE_REF).is_null().arg_true().to_numpy()
    raise SamplingInputError(
        f"Every case needs a case_ref: {missing.size} have none, the first at {_where(frame, int(missing[0]))}.",
        _faults_at(frame, missing, CASE_REF, "case_ref is missing"),
    )


def _refuse_repeated_refs(frame: Frame) -> None:
    refs = frame.data.get_column(CASE_REF)
    groups: dict[str, list[int]] = {}
    for row in refs.is_duplicated().arg_true().to_numpy():
        groups.setdefault(refs[int(row)], []).append(int(row))
    faults, said = [], []
    for ref, rows in list(groups.items())[:_MAX_FAULTS]:
        places = [_where(frame, r) for r in rows]
        said.append(f"{ref} ({', '.join(places[:5])})")
        faults.append(_fault_at(frame, rows[1], CASE_REF, f"{ref} appears {len(rows)} times"))
    raise SamplingInputError(
        f"Case references must be unique; {len(groups)} {'appears' if len(groups) == 1 else 'appear'} more "
        f"than once: {'; '.join(said)}"
        + ("; ..." if len(groups) > _MAX_FAULTS else "."),
        faults,
        duplicates=len(groups),
    )


def checked_refs(frame: Frame) -> EncodedRefs:
    """The case references, encoded for keying and sorting; refuses missing or NUL-bearing ones (422)."""
    refs = frame.data.get_column(CASE_REF)
    if refs.null_count():
        _refuse_missing_refs(frame)
    # A CSV file without a NUL byte anywhere cannot have one in a reference: no need to look at each.
    nul_free = frame.raw is not None and frame.raw.find(b"\x00") < 0
    with_nul = (
        np.zeros(0, dtype=np.int64) if nul_free else refs.str.contains("\x00", literal=True).arg_true().to_numpy()
    )
    if with_nul.size:
        raise SamplingInputError(
            f"A case_ref cannot hold a NUL character; the first at {_where(frame, int(with_nul[0]))}.",
            _faults_at(frame, with_nul, CASE_REF, "holds a NUL character"),
        )
    return encode_refs(refs)


def case_ref_order(frame: Frame, encoded: EncodedRefs) -> np.ndarray:
    """The row order that sorts the frame by case_ref; refuses repeated references (422 naming them and their lines)."""
    order = byte_order(encoded)
    if encoded.words.shape[1] == 1:
        ordered = encoded.words[:, 0][order]
        repeated = len(ordered) > 1 and bool((ordered[1:] == ordered[:-1]).any())
    else:
        ordered = encoded.words[order]
        repeated = len(ordered) > 1 and bool((ordered[1:] == ordered[:-1]).all(axis=1).any())
    if repeated:
        _refuse_repeated_refs(frame)
    return order


def _parsed_dates(design: SampleDesign) -> pl.Expr:
    window = design.eligibility
    assert window is not None
    return pl.col(window.column).str.strptime(pl.Date, window.date_format, strict=False)


def check_dates(frame: Frame, design: SampleDesign) -> None:
    """The eligibility column holds dates in the design's format (a missing date is allowed)."""
    window = design.eligibility
    if window is None:
        return
    try:
        bad = frame.data.select(pl.col(window.column).is_not_null() & _parsed_dates(design).is_null()).to_series()
    except pl.exceptions.PolarsError:
        raise SamplingInputError(
            f"The date format {window.date_format!r} cannot be used.",
            [Fault("design.eligibility.date_format", "is not a usable date format")],
        ) from None
    rows = bad.arg_true().to_numpy()
    if rows.size:
        raise SamplingInputError(
            f"Column {window.column} is not a date column (format {window.date_format}): {rows.size} values "
            f"are not dates, the first at {_where(frame, int(rows[0]))}.",
            _faults_at(frame, rows, window.column, f"is not a date in the format {window.date_format}"),
            column=window.column,
        )


def canonical(data: pl.DataFrame, order: np.ndarray | None = None) -> pl.DataFrame:
    """The frame with rows sorted by case_ref (in `order` when known) and columns by name."""
    columns = data.select(sorted(data.columns))
    return columns.sort(CASE_REF) if order is None else columns[order]


def frame_fingerprint(canonical_frame: pl.DataFrame, plain: bool = False) -> str:
    """SHA-256 (hex) of the canonical frame written as CSV (see the module docstring).

    `plain` says no value holds a comma, quote or line break; quoting only where needed then quotes
    nothing, and the faster writer that never quotes gives the same bytes.
    """
    digest = _Sha256Writer()  # hashed as it is written, so the CSV is never held whole
    canonical_frame.write_csv(digest, include_header=True, separator=",", line_terminator="\n",
                              quote_style="never" if plain else "necessary", null_value="")
    return digest.sha256.hexdigest()


class _Sha256Writer:
    """A binary file that only hashes what is written to it."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return len(data)

    def flush(self) -> None:
        pass


# ----------------------------------------------------------------------------------------------
# Eligibility
# ----------------------------------------------------------------------------------------------


def _eligible(data: pl.DataFrame, design: SampleDesign) -> tuple[np.ndarray | None, dict]:
    """Which rows are eligible (None: all), and the counts of the frame summary."""
    rows = data.height
    keep: np.ndarray | None = None
    outside = 0
    if design.eligibility is not None:
        window = design.eligibility
        dates = _parsed_dates(design)
        inside = dates.is_not_null()
        if window.start is not None:
            inside = inside & (dates >= window.start)
        if window.end is not None:
            inside = inside & (dates <= window.end)
        keep = data.select(inside.fill_null(False)).to_series().to_numpy()
        outside = rows - int(keep.sum())
    excluded = []
    for rule in design.exclude:
        texts = [t for t in (as_text(v) for v in rule.values) if t is not None]
        match = pl.col(rule.column).is_in(texts)
        if any(as_text(v) is None for v in rule.values):
            match = match | pl.col(rule.column).is_null()
        hit = data.select(match.fill_null(False)).to_series().to_numpy()
        before = rows if keep is None else int(keep.sum())
        keep = ~hit if keep is None else keep & ~hit
        excluded.append({"column": rule.column, "reason": rule.reason, "excluded": before - int(keep.sum())})
    eligible = rows if keep is None else int(keep.sum())
    return keep, {"rows": rows, "outside_window": outside, "excluded": excluded, "eligible": eligible}


# ----------------------------------------------------------------------------------------------
# Sizes
# ----------------------------------------------------------------------------------------------


def _share(total: int, populations: dict[str, int], minimum: int, *, field: str, what: str, scope: str) -> dict[str, int]:
    available = sum(populations.values())
    if minimum == 0 and 0 <= total <= available and available > 0:
        # What `allocate` does when no bound can bind (proportional, no minimum), without its tables.
        return largest_remainder({h: total * n for h, n in populations.items()}, available, total, populations)
    try:
        return allocate(total, populations, minimum=minimum).sizes
    except SamplingInputError as error:
        short = error.facts.get("shortfall")
        if short is None:
            raise
        needed = total + short
        said = f"{scope}the minimum of {minimum} cases per {what} needs {needed} cases, "
        raise SamplingInputError(
            said[0].upper() + said[1:] + f"{short} more than the sample of {total}.",
            [Fault(field, f"needs {needed} cases; the sample is {total}, short by {short}")],
            shortfall=short,
        ) from None


def _total_size(design: SampleDesign, population: int) -> tuple[int, SampleSize | None]:
    if design.size is not None:
        if design.size > population:
            raise SamplingInputError(
                f"The size {design.size} is above the {population} eligible cases by {design.size - population}.",
                [Fault("design.size", f"is {design.size - population} more than the {population} eligible cases")],
                shortfall=design.size - population,
            )
        return design.size, None
    assert design.precision is not None
    working = required_sample_size(population, **design.precision.model_dump(), at="design.precision")
    return working.sample_size, working


# ----------------------------------------------------------------------------------------------
# The draw
# ----------------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


@dataclass
class _Cells:
    """The strata of the eligible frame, in the order of their names, and the stratum of each row."""

    names: list[str]
    values: list[tuple[str, ...]]
    populations: np.ndarray
    of_row: np.ndarray


def _codes(column: pl.Series) -> np.ndarray:
    """A number for each value of a column: equal values, equal numbers ("(missing)" for a missing one)."""
    if not isinstance(column.dtype, pl.Categorical):
        column = column.cast(categorical())
    return column.fill_null(MISSING).to_physical().to_numpy()


def _cells(data: pl.DataFrame, keep: np.ndarray | None, variables: list[str], row_values: RowValues | None = None
           ) -> _Cells:
    """The strata of the eligible rows; `of_row` follows the eligible rows in frame order.

    A row's stratum is found by numbers: each variable's categorical code, combined into one number per
    row and counted. Only the strata table (a row per stratum) is handled as text, to name and order it.
    Given the rows numbered by their values (all of them strata variables), the strata are those of the
    few distinct values, and each row's is that of its number.
    """
    if row_values is not None and keep is None and set(row_values.values.columns) == set(variables):
        distinct = _cells(row_values.values, None, variables)
        of_row = distinct.of_row[row_values.of_row]
        populations = np.bincount(of_row, minlength=len(distinct.names)).astype(np.int64)
        return _Cells(distinct.names, distinct.values, populations, of_row)
    count = data.height if keep is None else int(keep.sum())
    if not variables:
        return _Cells([ALL], [()], np.array([count], dtype=np.int64), np.zeros(count, dtype=np.int64))
    combined = np.zeros(count, dtype=np.int64)
    space = 1
    for v in variables:
        codes = _codes(data.get_column(v))
        if keep is not None:
            codes = codes[keep]
        levels = int(codes.max()) + 1
        if space * levels >= 1 << 62:  # renumber the combinations so far, densely, before they overflow
            _, combined = np.unique(combined, return_inverse=True)
            space = int(combined.max()) + 1
        combined *= levels
        combined += codes
        space *= levels
    stratum, sizes, member = number_densely(combined, space)
    if keep is not None:
        member = np.flatnonzero(keep)[member]
    # The strata table: name and order it, escaping as `_escape`.
    table = data.select(variables)[member].select(pl.col(v).fill_null(MISSING).cast(pl.String) for v in variables)
    escaped = [
        pl.col(v).str.replace_all("\\", "\\\\", literal=True).str.replace_all("|", "\\|", literal=True)
        for v in variables
    ]
    names = table.select(pl.concat_str(escaped, separator="|")).to_series()
    by_name = names.arg_sort().to_numpy()  # by the UTF-8 bytes of the name: by its code points, as Python sorts
    rank = np.empty(len(sizes), dtype=np.int64)
    rank[by_name] = np.arange(len(sizes))
    ordered = table[by_name]
    values = list(zip(*(ordered.get_column(v).to_list() for v in variables)))
    return _Cells(names.gather(by_name).to_list(), values, sizes[by_name].astype(np.int64), rank[stratum])


def _reserves(design: SampleDesign, samples: list[int], populations: list[int]) -> list[int]:
    """Reserves of each stratum: none for a stratum with no sample, and never more than the rest of it."""
    if design.reserves_per_stratum is not None:
        wanted = design.reserves_per_stratum
        return [min(wanted, big - n) if n else 0 for n, big in zip(samples, populations, strict=True)]
    if design.reserve_ratio is not None:
        ratio = design.reserve_ratio
        return [
            min(ceil_clean(ratio * n), big - n) if n else 0 for n, big in zip(samples, populations, strict=True)
        ]
    return [0] * len(samples)


def _balance(cells: _Cells, samples: list[int], variables: list[str], population: int, sample: int
             ) -> tuple[list[dict], dict | None]:
    """Frame share against sample share of every level of every stratification variable."""
    rows: list[dict] = []
    counts = cells.populations.tolist()
    for i, variable in enumerate(variables):
        frame_counts: dict[str, int] = {}
        sample_counts: dict[str, int] = {}
        for values, count, n in zip(cells.values, counts, samples):
            level = values[i]
            frame_counts[level] = frame_counts.get(level, 0) + count
            sample_counts[level] = sample_counts.get(level, 0) + n
        for level in sorted(frame_counts):
            frame_share = frame_counts[level] / population
            sample_share = sample_counts[level] / sample if sample else 0.0
            rows.append({
                "variable": variable,
                "level": level,
                "frame_count": frame_counts[level],
                "frame_share": frame_share,
                "sample_count": sample_counts[level],
                "sample_share": sample_share,
                "deviation": sample_share - frame_share,
            })
    largest = max(rows, key=lambda r: abs(r["deviation"]), default=None)
    if largest is None:
        return rows, None
    return rows, {"variable": largest["variable"], "level": largest["level"], "deviation": largest["deviation"]}


def _ranked(keys: np.ndarray, of_row: np.ndarray, cells: int, by_ref: Callable[[], np.ndarray]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Positions ordered by stratum, then key, then case_ref; and the stratum of each, in that order.
    `by_ref` gives the positions in case_ref order; only the last, exact way asks for it.

    Usually one sort of values alone does it: the stratum number, the key's top bits and the position
    packed in 64 bits, when no two positions in a stratum share those top bits (all but certain).
    Otherwise one sort of the stratum number and more of the key's bits, argsorted, when no two of
    those packed values are equal; failing that, two stable sorts do it exactly.
    """
    count = len(keys)
    bits = max(1, (cells - 1).bit_length())
    position_bits = max(1, (count - 1).bit_length())
    key_bits = 64 - bits - position_bits
    with np.errstate(over="ignore"):
        if key_bits >= 24:
            packed = of_row.astype(np.uint64)
            packed <<= np.uint64(64 - bits)
            top = keys >> np.uint64(64 - key_bits)
            top <<= np.uint64(position_bits)
            packed |= top
            packed |= np.arange(count, dtype=np.uint64)
            packed = pl.Series(packed).sort().to_numpy()  # polars: a few times numpy's speed here
            head = packed >> np.uint64(position_bits)
            if not (head[1:] == head[:-1]).any():
                positions = packed & np.uint64((1 << position_bits) - 1)
                return positions.view(np.int64), (head >> np.uint64(key_bits)).view(np.int64)
        if bits < 32:
            packed = (of_row.astype(np.uint64) << np.uint64(64 - bits)) | (keys >> np.uint64(bits))
            order = np.argsort(packed)
            ordered = packed[order]
            if not (ordered[1:] == ordered[:-1]).any():
                return order, of_row[order]
    in_ref_order = by_ref()  # only needed here, so only asked for here
    by_key = in_ref_order[np.argsort(keys[in_ref_order], kind="stable")]  # ties in the key: by case_ref
    order = by_key[np.argsort(of_row[by_key], kind="stable")]
    return order, of_row[order]


def _leading(keys: np.ndarray, of_row: np.ndarray, populations: np.ndarray, wanted: np.ndarray,
             by_ref: Callable[[], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first wanted[h] positions of each stratum h in key order (ties by case_ref), by stratum then
    key; with the stratum of each and its rank in the stratum (from 0).

    Only the cases whose key lies below a bound are sorted. Every key below the bound is kept, so when a
    stratum has at least wanted[h] of them, its first wanted[h] are among them. Keys are uniform over
    [0, 2^64), so a bound three standard deviations above the expected wanted[h]-th key almost always
    leaves enough; a stratum left short is sorted whole.
    """
    wanted = np.minimum(wanted, populations)
    share = (wanted + 3 * np.sqrt(wanted) + 4) / populations
    bound = np.full(len(populations), np.iinfo(np.uint64).max, dtype=np.uint64)
    part = share < 0.5  # most of a stratum would be sorted anyway: sort it whole
    bound[part] = (share[part] * 2.0**64).astype(np.uint64)
    candidate = keys <= bound[of_row]
    short = np.bincount(of_row[candidate], minlength=len(populations)) < wanted
    if short.any():
        bound[short] = np.iinfo(np.uint64).max
        candidate = keys <= bound[of_row]
    positions = np.flatnonzero(candidate)

    def candidates_by_ref() -> np.ndarray:
        in_ref_order = by_ref()
        return np.searchsorted(positions, in_ref_order[candidate[in_ref_order]])

    ranked, cell_sorted = _ranked(keys[positions], of_row[positions], len(populations), candidates_by_ref)
    starts = np.concatenate(([0], np.cumsum(np.bincount(cell_sorted, minlength=len(populations)))[:-1]))
    rank = np.arange(len(ranked)) - starts[cell_sorted]
    take = rank < wanted[cell_sorted]
    return positions[ranked[take]], cell_sorted[take], rank[take]


def _unit_codes(cells: _Cells, unit_at: int) -> tuple[np.ndarray, list[str]]:
    """The unit of each stratum as a number, and the units in the order they first appear."""
    index: dict[str, int] = {}
    code = [index.setdefault(vals[unit_at], len(index)) for vals in cells.values]
    return np.array(code, dtype=np.int64), list(index)


def _largest_remainders(group: np.ndarray, weights: np.ndarray, totals: np.ndarray, group_weights: np.ndarray
                        ) -> np.ndarray:
    """`largest_remainder` of the quotas totals[g] * w_h / W_g within every group g at once.

    The strata are given in name order; ties in the remainder go to the larger stratum, then to the
    one whose name sorts first, as there.
    """
    numerators = totals[group] * weights
    denominators = group_weights[group]
    sizes = numerators // denominators
    remainders = numerators - sizes * denominators
    left = totals - np.bincount(group, weights=sizes, minlength=len(totals)).astype(np.int64)
    position = np.arange(len(group))
    order = np.lexsort((position, -weights, -remainders, group))
    ordered_group = group[order]
    first = np.searchsorted(ordered_group, np.arange(len(totals)))
    sizes[order[position - first[ordered_group] < left[ordered_group]]] += 1
    return sizes


def _shares_in_units(cells: _Cells, unit_code: np.ndarray, units: list[str], unit_sizes: dict[str, int],
                     unit_populations: dict[str, int], minimum: int) -> list[int]:
    """Each unit's size shared over its strata; the sizes in the order of the strata."""
    totals = np.array([unit_sizes[u] for u in units], dtype=np.int64)
    available = np.array([unit_populations[u] for u in units], dtype=np.int64)
    if minimum == 0 and bool(((0 <= totals) & (totals <= available) & (available > 0)).all()):
        # What `_share` gives unit by unit when no bound can bind, for all the units at once.
        return _largest_remainders(unit_code, cells.populations, totals, available).tolist()
    members: list[dict[str, int]] = [{} for _ in units]
    for h, u, n in zip(cells.names, unit_code.tolist(), cells.populations.tolist(), strict=True):
        members[u][h] = n
    sizes: dict[str, int] = {}
    for u, unit_cells in zip(units, members, strict=True):
        sizes.update(_share(unit_sizes[u], unit_cells, minimum, field="design.min_per_stratum",
                            what="stratum", scope=f"In unit {u}, "))
    return [sizes[h] for h in cells.names]


def _strata_hold_the_frame(frame: Frame, variables: list[str]) -> bool:
    """Whether every value of a row but its case_ref is a value of its stratum, written as it is.

    That is: a plain CSV frame (nothing to quote) whose other columns are all unit or strata
    variables, with no value missing (a stratum names a missing value "(missing)").
    """
    data = frame.data
    others = [c for c in data.columns if c != CASE_REF]
    return (
        frame.plain
        and all(c in variables for c in others)
        and not any(data.get_column(c).null_count() for c in others)
    )


def _fingerprint_from_strata(data: pl.DataFrame, order: np.ndarray, cells: _Cells, variables: list[str]) -> str:
    """`frame_fingerprint` of a frame the strata hold (see `_strata_hold_the_frame`), a faster way.

    Each line of the canonical CSV is the text of the row's stratum values in the columns named before
    case_ref, its case_ref, and the text of those named after it. So the case references in case_ref
    order, beside one short text per stratum, written with polars make the same bytes as the whole
    frame would; and those texts repeat, so writing them is much cheaper.
    """
    columns = sorted(data.columns)
    at = {v: i for i, v in reversed(list(enumerate(variables)))}
    cell = pl.Series(cells.of_row[order])

    def text(names: list[str]) -> pl.Series:
        where = [at[name] for name in names]
        return pl.Series([",".join([vals[i] for i in where]) for vals in cells.values], dtype=pl.String).gather(cell)

    split = columns.index(CASE_REF)
    parts = [data.get_column(CASE_REF).gather(pl.Series(order)).alias(CASE_REF)]
    if split > 0:
        parts.insert(0, text(columns[:split]).alias("before"))
    if split < len(columns) - 1:
        parts.append(text(columns[split + 1:]).alias("after"))
    digest = _Sha256Writer()
    # A plain frame's column names hold no comma, quote or line break either (they are in its file).
    digest.write((",".join(columns) + "\n").encode())
    pl.DataFrame(parts).write_csv(digest, include_header=False, separator=",", line_terminator="\n",
                                  quote_style="never", null_value="")
    return digest.sha256.hexdigest()


def draw_sample(frame: Frame, design: SampleDesign, seed: int) -> SampleDraw:
    """Draw the sample, its reserves and its tables from a frame (see the module docstring).

    Raises SamplingInputError for a frame or design that cannot give a sample.
    """
    data = frame.data
    if data.height == 0:
        raise SamplingInputError("The frame is empty: it has no cases.", [Fault("frame", "has no cases")])
    variables = design.stratum_variables()
    # Beside the draw, on the worker threads: the strata are formed (when every row is eligible: no
    # window, no exclusion), the case references sorted and checked for repeats, and the fingerprint
    # written, from the strata when they hold the frame, otherwise from the frame.
    early_cells = (
        _workers.submit(_cells, data, None, variables, frame.row_values)
        if design.eligibility is None and not design.exclude
        else None
    )
    try:
        refs = checked_refs(frame)
    except BaseException:
        if early_cells is not None:
            early_cells.cancel()
        raise
    order = _workers.submit(case_ref_order, frame, refs)
    if early_cells is not None and _strata_hold_the_frame(frame, variables):
        fingerprint = _workers.submit(
            lambda: _fingerprint_from_strata(data, order.result(), early_cells.result(), variables)
        )
    else:
        fingerprint = _workers.submit(lambda: frame_fingerprint(canonical(data, order.result()), frame.plain))
    try:
        draw = _draw(frame, design, seed, variables, refs, order, early_cells, fingerprint)
        order.result()  # no draw from a frame with a repeated case reference
        return draw
    except BaseException:
        fingerprint.cancel()
        # A repeated case reference is reported before a fault found after it, as when the checks ran in turn.
        order.result()
        raise


def _draw(frame: Frame, design: SampleDesign, seed: int, variables: list[str], refs: EncodedRefs,
          order: Future[np.ndarray], early_cells: Future[_Cells] | None, fingerprint: Future[str]) -> SampleDraw:
    data = frame.data
    unit = design.unit
    check_dates(frame, design)
    keep, summary = _eligible(data, design)
    if summary["eligible"] == 0:
        raise SamplingInputError(
            f"No case of the {summary['rows']} in the frame is eligible: {summary['outside_window']} fall outside "
            f"the window and {sum(e['excluded'] for e in summary['excluded'])} are excluded.",
            [Fault("design", "leaves no eligible case")],
        )
    # The draw works on the eligible rows in frame order ("positions"); rows_of maps them to frame rows
    # (None when every row is eligible: a position is then its row).
    if keep is None:
        rows_of = None

        def by_ref() -> np.ndarray:
            return order.result()
    else:
        rows_of = np.flatnonzero(keep)
        refs = refs.take(rows_of)

        def by_ref() -> np.ndarray:
            position_of_row = np.full(data.height, -1, dtype=np.int64)
            position_of_row[rows_of] = np.arange(len(rows_of))
            in_order = order.result()
            return position_of_row[in_order[keep[in_order]]]
    cells = early_cells.result() if early_cells is not None else _cells(data, keep, variables)
    keys = prn_keys(refs, seed)
    counts = cells.populations.tolist()
    position = {v: i for i, v in enumerate(variables)}
    total_population = summary["eligible"]

    working: SampleSize | None = None
    unit_workings: dict[str, SampleSize] = {}
    unit_sizes: dict[str, int] = {}
    if unit is None:
        total, working = _total_size(design, total_population)
        sizes = _share(total, dict(zip(cells.names, counts, strict=True)), design.min_per_stratum,
                       field="design.min_per_stratum", what="stratum", scope="")
        samples = [sizes[h] for h in cells.names]
    else:
        unit_code, units = _unit_codes(cells, position[unit])
        unit_counts = np.bincount(unit_code, weights=cells.populations, minlength=len(units)).astype(np.int64)
        unit_populations = dict(zip(units, unit_counts.tolist(), strict=True))
        if design.unit_mode == "overall":
            total, working = _total_size(design, total_population)
            unit_sizes = _share(total, unit_populations, design.min_per_unit, field="design.min_per_unit",
                                what="unit", scope="")
        else:
            assert design.precision is not None
            precision = design.precision.model_dump()
            for u, n in unit_populations.items():
                unit_workings[u] = required_sample_size(n, **precision, at="design.precision")
                unit_sizes[u] = unit_workings[u].sample_size
            total = sum(unit_sizes.values())
        samples = _shares_in_units(cells, unit_code, units, unit_sizes, unit_populations, design.min_per_stratum)
    reserve_counts = _reserves(design, samples, counts)

    # Within each stratum, rank the cases by key (ties by case_ref); the first n are the sample and the
    # next r the reserves.
    n_by_cell = np.array(samples, dtype=np.int64)
    r_by_cell = np.array(reserve_counts, dtype=np.int64)
    chosen, chosen_cell, chosen_rank = _leading(keys, cells.of_row, cells.populations, n_by_cell + r_by_cell, by_ref)
    in_sample = chosen_rank < n_by_cell[chosen_cell]

    names = pl.Series("stratum", cells.names, dtype=pl.String)
    carried = list(design.carried)
    columns = list(dict.fromkeys([CASE_REF, *([unit] if unit else []), *carried]))
    picked = data.select(columns)

    def cases(rows: np.ndarray, cell: np.ndarray) -> pl.DataFrame:
        part = picked[rows if rows_of is None else rows_of[rows]]
        out = [
            part.get_column(CASE_REF).alias("case_ref"),
            (part.get_column(unit).cast(pl.String) if unit else pl.Series([None] * len(rows), dtype=pl.String)
             ).alias("unit"),
            names.gather(cell),
        ]
        frame_out = pl.DataFrame(out)
        if carried:
            frame_out = frame_out.with_columns(part.select(pl.struct(carried).alias("carried")))
        return frame_out

    sample_rows, sample_cells = chosen[in_sample], chosen_cell[in_sample]
    in_ref_order = byte_order(refs.take(sample_rows))
    by_stratum = in_ref_order[np.argsort(sample_cells[in_ref_order], kind="stable")]  # by stratum, then case_ref
    sample_rows, sample_cells = sample_rows[by_stratum], sample_cells[by_stratum]
    n_of = n_by_cell[sample_cells]
    pop_of = cells.populations[sample_cells]
    selected = cases(sample_rows, sample_cells).with_columns(
        pl.Series("inclusion_probability", n_of / pop_of),
        pl.Series("weight", pop_of / n_of),
    ).select(["case_ref", "unit", "stratum", "inclusion_probability", "weight", *(["carried"] if carried else [])])
    reserve_rows, reserve_cells = chosen[~in_sample], chosen_cell[~in_sample]  # already by stratum, then rank
    reserve_list = cases(reserve_rows, reserve_cells).with_columns(
        pl.Series("rank", chosen_rank[~in_sample] - n_by_cell[reserve_cells] + 1)
    ).select(["case_ref", "unit", "stratum", "rank", *(["carried"] if carried else [])])

    def tables() -> _Tables:
        strata_at = [(v, position[v]) for v in design.strata]
        unit_at = position[unit] if unit else None
        allocation = [
            {
                "stratum": h,
                "unit": None if unit_at is None else vals[unit_at],
                "values": {v: vals[i] for v, i in strata_at},
                "population": population,
                "sample": n,
                "reserves": r,
                "inclusion_probability": n / population,
            }
            for h, vals, population, n, r in zip(
                cells.names, cells.values, counts, samples, reserve_counts, strict=True
            )
        ]
        unit_allocation = None
        if unit is not None:
            unit_reserves = np.bincount(unit_code, weights=r_by_cell, minlength=len(units)).astype(np.int64).tolist()
            reserves_of = dict(zip(units, unit_reserves, strict=True))
            unit_allocation = [
                {
                    "unit": u,
                    "population": unit_populations[u],
                    "sample": unit_sizes[u],
                    "reserves": reserves_of[u],
                    "working": unit_workings.get(u),
                }
                for u in sorted(unit_sizes)
            ]
        balance, largest = _balance(cells, samples, variables, total_population, total)
        return _Tables(allocation, unit_allocation, balance, largest)

    return SampleDraw(
        selected=selected,
        reserves=reserve_list,
        sample_size=total,
        working=working,
        frame_summary=summary,
        seed=seed,
        pending_fingerprint=fingerprint,
        build_tables=tables,
    )
