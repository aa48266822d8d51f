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
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from inspection_shared.sampling import SampleDesign
from sampling.allocation.service import allocate
from sampling.errors import Fault, SamplingInputError
from sampling.selection.frame import CASE_REF, Frame, as_text
from sampling.selection.keys import EncodedRefs, byte_order, encode_refs, prn_keys
from sampling.size.service import SampleSize, ceil_clean, required_sample_size

ALGORITHM = "stratified-srswor-prn-splitmix64-v1"
MISSING = "(missing)"
ALL = "all"
_MAX_FAULTS = 10
# A working column name no frame column can take.
_ROW = "\0row"
_workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sampling-fingerprint")


@dataclass
class SampleDraw:
    """Everything a draw produces; the shell turns it into the wire shape."""

    selected: pl.DataFrame
    reserves: pl.DataFrame
    allocation: list[dict]
    unit_allocation: list[dict] | None
    balance: list[dict]
    largest_deviation: dict | None
    sample_size: int
    working: SampleSize | None
    frame_summary: dict
    seed: int
    fingerprint: str
    algorithm: str = ALGORITHM


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


def case_ref_order(frame: Frame) -> tuple[np.ndarray, EncodedRefs]:
    """The row order that sorts the frame by case_ref, and the encoded references (in row order).

    Refuses missing, repeated or NUL-bearing references (422 naming them and their lines).
    """
    refs = frame.data.get_column(CASE_REF)
    if refs.null_count():
        _refuse_missing_refs(frame)
    with_nul = refs.str.contains("\x00", literal=True).arg_true().to_numpy()
    if with_nul.size:
        raise SamplingInputError(
            f"A case_ref cannot hold a NUL character; the first at {_where(frame, int(with_nul[0]))}.",
            _faults_at(frame, with_nul, CASE_REF, "holds a NUL character"),
        )
    encoded = encode_refs(refs)
    order = byte_order(encoded)
    ordered = encoded.words[order]
    if ordered.shape[1] == 1:
        ordered = ordered[:, 0]
        repeated = len(ordered) > 1 and bool((ordered[1:] == ordered[:-1]).any())
    else:
        repeated = len(ordered) > 1 and bool((ordered[1:] == ordered[:-1]).all(axis=1).any())
    if repeated:
        _refuse_repeated_refs(frame)
    return order, encoded


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
    buffer = io.BytesIO()
    canonical_frame.write_csv(buffer, include_header=True, separator=",", line_terminator="\n",
                              quote_style="never" if plain else "necessary", null_value="")
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


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
    working = required_sample_size(population, **design.precision.model_dump())
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


def _cells(data: pl.DataFrame, keep: np.ndarray | None, variables: list[str]) -> _Cells:
    """The strata of the eligible rows; `of_row` follows the eligible rows in frame order."""
    count = data.height if keep is None else int(keep.sum())
    if not variables:
        return _Cells([ALL], [()], np.array([count], dtype=np.int64), np.zeros(count, dtype=np.int64))
    columns = data.select(pl.col(v).fill_null(MISSING) for v in variables)
    if keep is not None:
        columns = columns.filter(pl.Series(keep))
    groups = (
        columns.with_row_index(_ROW)
        .group_by(variables)
        .agg(pl.col(_ROW))
    )
    values = groups.select(variables).rows()
    escaped = {v: _escape(v) for vals in set(values) for v in vals}
    names = ["|".join([escaped[v] for v in vals]) for vals in values]
    by_name = sorted(range(len(names)), key=names.__getitem__)
    number = np.empty(len(names), dtype=np.int64)
    number[by_name] = np.arange(len(names))
    members = groups.get_column(_ROW)
    sizes = members.list.len().to_numpy()
    of_row = np.empty(count, dtype=np.int64)
    of_row[members.explode().to_numpy()] = np.repeat(number, sizes)
    return _Cells(
        [names[g] for g in by_name], [values[g] for g in by_name], sizes[by_name].astype(np.int64), of_row
    )


def _reserves(design: SampleDesign, sample: int, population: int) -> int:
    if sample == 0:
        return 0
    if design.reserves_per_stratum is not None:
        wanted = design.reserves_per_stratum
    elif design.reserve_ratio is not None:
        wanted = ceil_clean(design.reserve_ratio * sample)
    else:
        wanted = 0
    return min(wanted, population - sample)


def _balance(cells: _Cells, sizes: dict[str, int], variables: list[str], population: int, sample: int
             ) -> tuple[list[dict], dict | None]:
    """Frame share against sample share of every level of every stratification variable."""
    rows: list[dict] = []
    for i, variable in enumerate(variables):
        frame_counts: dict[str, int] = {}
        sample_counts: dict[str, int] = {}
        for name, values, count in zip(cells.names, cells.values, cells.populations.tolist()):
            level = values[i]
            frame_counts[level] = frame_counts.get(level, 0) + count
            sample_counts[level] = sample_counts.get(level, 0) + sizes[name]
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


def _draw_order(keys: np.ndarray, of_row: np.ndarray, cells: int, by_ref: np.ndarray) -> np.ndarray:
    """Positions ordered by stratum, then key, then case_ref.

    One sort of the stratum number and the key's top bits packed in 64 bits does it when no two
    packed values are equal, which is all but certain; otherwise two stable sorts do it exactly.
    """
    bits = max(1, (cells - 1).bit_length())
    if bits < 32:
        with np.errstate(over="ignore"):
            packed = (of_row.astype(np.uint64) << np.uint64(64 - bits)) | (keys >> np.uint64(bits))
        order = np.argsort(packed)
        ordered = packed[order]
        if not (ordered[1:] == ordered[:-1]).any():
            return order
    by_key = by_ref[np.argsort(keys[by_ref], kind="stable")]  # ties in the key: by case_ref
    return by_key[np.argsort(of_row[by_key], kind="stable")]


def draw_sample(frame: Frame, design: SampleDesign, seed: int) -> SampleDraw:
    """Draw the sample, its reserves and its tables from a frame (see the module docstring).

    Raises SamplingInputError for a frame or design that cannot give a sample.
    """
    data = frame.data
    if data.height == 0:
        raise SamplingInputError("The frame is empty: it has no cases.", [Fault("frame", "has no cases")])
    order, refs = case_ref_order(frame)
    check_dates(frame, design)
    # The fingerprint is written on another thread while the draw goes on.
    fingerprint = _workers.submit(lambda: frame_fingerprint(canonical(data, order), frame.plain))

    keep, summary = _eligible(data, design)
    if summary["eligible"] == 0:
        fingerprint.cancel()
        raise SamplingInputError(
            f"No case of the {summary['rows']} in the frame is eligible: {summary['outside_window']} fall outside "
            f"the window and {sum(e['excluded'] for e in summary['excluded'])} are excluded.",
            [Fault("design", "leaves no eligible case")],
        )
    # The draw works on the eligible rows in frame order ("positions"); rows_of maps them to frame rows.
    if keep is None:
        rows_of = np.arange(data.height)
        by_ref = order
    else:
        rows_of = np.flatnonzero(keep)
        position_of_row = np.full(data.height, -1, dtype=np.int64)
        position_of_row[rows_of] = np.arange(len(rows_of))
        by_ref = position_of_row[order[keep[order]]]
        refs = refs.take(rows_of)
    ref_rank = np.empty(len(by_ref), dtype=np.int64)
    ref_rank[by_ref] = np.arange(len(by_ref))

    unit = design.unit
    variables = [*([unit] if unit else []), *design.strata]
    cells = _cells(data, keep, variables)
    populations = dict(zip(cells.names, (int(n) for n in cells.populations), strict=True))
    position = {v: i for i, v in enumerate(variables)}
    unit_of = {h: vals[position[unit]] for h, vals in zip(cells.names, cells.values)} if unit else {}
    total_population = summary["eligible"]

    working: SampleSize | None = None
    unit_workings: dict[str, SampleSize] = {}
    sizes: dict[str, int] = {}
    unit_sizes: dict[str, int] = {}
    by_unit: dict[str, dict[str, int]] = {}
    if unit is None:
        total, working = _total_size(design, total_population)
        sizes = _share(total, populations, design.min_per_stratum, field="design.min_per_stratum",
                       what="stratum", scope="")
    else:
        for h, n in populations.items():
            by_unit.setdefault(unit_of[h], {})[h] = n
        unit_populations = {u: sum(c.values()) for u, c in by_unit.items()}
        if design.unit_mode == "overall":
            total, working = _total_size(design, total_population)
            unit_sizes = _share(total, unit_populations, design.min_per_unit, field="design.min_per_unit",
                                what="unit", scope="")
        else:
            assert design.precision is not None
            precision = design.precision.model_dump()
            for u, n in unit_populations.items():
                unit_workings[u] = required_sample_size(n, **precision)
                unit_sizes[u] = unit_workings[u].sample_size
            total = sum(unit_sizes.values())
        for u, unit_cells in by_unit.items():
            sizes.update(_share(unit_sizes[u], unit_cells, design.min_per_stratum, field="design.min_per_stratum",
                                what="stratum", scope=f"In unit {u}, "))
    reserves = {h: _reserves(design, sizes[h], populations[h]) for h in populations}

    # Within each stratum, rank the cases by key (ties by case_ref); the first n are the sample and the
    # next r the reserves.
    n_by_cell = np.array([sizes[h] for h in cells.names], dtype=np.int64)
    r_by_cell = np.array([reserves[h] for h in cells.names], dtype=np.int64)
    keys = prn_keys(refs, seed)
    ranked = _draw_order(keys, cells.of_row, len(cells.names), by_ref)
    cell_sorted = cells.of_row[ranked]
    starts = np.concatenate(([0], np.cumsum(cells.populations)[:-1]))
    rank = np.arange(len(ranked)) - starts[cell_sorted]
    take = rank < (n_by_cell + r_by_cell)[cell_sorted]
    chosen, chosen_cell, chosen_rank = ranked[take], cell_sorted[take], rank[take]
    in_sample = chosen_rank < n_by_cell[chosen_cell]

    names = np.array(cells.names, dtype=object)
    carried = list(design.carried)
    columns = list(dict.fromkeys([CASE_REF, *([unit] if unit else []), *carried]))
    picked = data.select(columns)

    def cases(rows: np.ndarray, cell: np.ndarray) -> pl.DataFrame:
        part = picked[rows_of[rows]]
        out = [
            part.get_column(CASE_REF).alias("case_ref"),
            (part.get_column(unit) if unit else pl.Series([None] * len(rows), dtype=pl.String)).alias("unit"),
            pl.Series("stratum", names[cell], dtype=pl.String),
        ]
        frame_out = pl.DataFrame(out)
        if carried:
            frame_out = frame_out.with_columns(part.select(pl.struct(carried).alias("carried")))
        return frame_out

    sample_rows, sample_cells = chosen[in_sample], chosen_cell[in_sample]
    by_stratum = np.lexsort((ref_rank[sample_rows], sample_cells))  # by stratum, then case_ref
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

    strata_at = [position[v] for v in design.strata]
    allocation = [
        {
            "stratum": h,
            "unit": unit_of.get(h),
            "values": {v: vals[i] for v, i in zip(design.strata, strata_at)},
            "population": populations[h],
            "sample": sizes[h],
            "reserves": reserves[h],
            "inclusion_probability": sizes[h] / populations[h],
        }
        for h, vals in zip(cells.names, cells.values)
    ]
    unit_allocation = None
    if unit is not None:
        unit_allocation = [
            {
                "unit": u,
                "population": sum(by_unit[u].values()),
                "sample": unit_sizes[u],
                "reserves": sum(reserves[h] for h in by_unit[u]),
                "working": unit_workings.get(u),
            }
            for u in sorted(unit_sizes)
        ]
    balance, largest = _balance(cells, sizes, variables, total_population, total)
    return SampleDraw(
        selected=selected,
        reserves=reserve_list,
        allocation=allocation,
        unit_allocation=unit_allocation,
        balance=balance,
        largest_deviation=largest,
        sample_size=total,
        working=working,
        frame_summary=summary,
        seed=seed,
        fingerprint=fingerprint.result(),
    )
