"""Drawing a case sample from a frame: eligibility, strata, allocation, seeded selection, reserves, balance.

The method, named by `ALGORITHM` and stored with every sample so anyone can redraw it:

1. The frame is checked (case references present and unique, dates that are dates) and fingerprinted:
   the SHA-256 of its canonical form (rows by `case_ref`, columns by name) written as CSV, so neither
   the row order nor the way the frame came changes it (sampling.selection.fingerprint).
2. Eligibility: cases whose date lies outside the window (or is missing) leave the frame, then the
   exclusion filters remove cases in order.
3. Strata are the combinations of the unit and the stratification variables present in the eligible
   frame, a missing value being its own level; they are named and ordered as sampling.selection.strata
   says.
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

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

from inspection_shared.sampling import SampleDesign
from inspection_shared.wording import counted
from sampling.errors import Fault, SamplingInputError
from sampling.selection.fingerprint import canonical, fingerprint_from_strata, frame_fingerprint, strata_hold_the_frame
from sampling.selection.frame import CASE_REF, Frame, as_text
from sampling.selection.keys import EncodedRefs, byte_order, encode_refs, leading_cases, prn_keys
from sampling.selection.strata import (
    Strata,
    balance_table,
    form_strata,
    reserves_per_stratum,
    share,
    shares_in_units,
)
from sampling.selection.workers import DrawWorkers
from sampling.size.service import SampleSize, required_sample_size

ALGORITHM = "stratified-srswor-prn-splitmix64-v1"
_MAX_FAULTS = 10


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
# Checks
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


# ----------------------------------------------------------------------------------------------
# Sizes
# ----------------------------------------------------------------------------------------------


def _total_size(design: SampleDesign, population: int) -> tuple[int, SampleSize | None]:
    if design.size is not None:
        if design.size > population:
            raise SamplingInputError(
                f"The size {design.size} is above the {counted(population, 'eligible case')} by {design.size - population}.",
                [Fault("design.size", f"is {design.size - population} more than the {counted(population, 'eligible case')}")],
                shortfall=design.size - population,
            )
        return design.size, None
    assert design.precision is not None
    working = required_sample_size(population, **design.precision.model_dump(), at="design.precision")
    return working.sample_size, working


# ----------------------------------------------------------------------------------------------
# The draw
# ----------------------------------------------------------------------------------------------


def draw_sample(frame: Frame, design: SampleDesign, seed: int, workers: Executor | None = None) -> SampleDraw:
    """Draw the sample, its reserves and its tables from a frame (see the module docstring).

    The side work runs on `workers` (in the service, the app's `DrawWorkers`); without them the draw
    starts threads of its own and stops them once it is done. Raises SamplingInputError for a frame or
    design that cannot give a sample.
    """
    if workers is None:
        with DrawWorkers() as own:
            return draw_sample(frame, design, seed, own)
    data = frame.data
    if data.height == 0:
        raise SamplingInputError("The frame is empty: it has no cases.", [Fault("frame", "has no cases")])
    variables = design.stratum_variables()
    # Beside the draw, on the worker threads: the strata are formed (when every row is eligible: no
    # window, no exclusion), the case references sorted and checked for repeats, and the fingerprint
    # written, from the strata when they hold the frame, otherwise from the frame.
    early_strata = (
        workers.submit(form_strata, data, None, variables, frame.row_values)
        if design.eligibility is None and not design.exclude
        else None
    )
    try:
        refs = checked_refs(frame)
    except BaseException:
        if early_strata is not None:
            early_strata.cancel()
        raise
    order = workers.submit(case_ref_order, frame, refs)
    if early_strata is not None and strata_hold_the_frame(frame, variables):
        fingerprint = workers.submit(
            lambda: fingerprint_from_strata(data, order.result(), early_strata.result(), variables)
        )
    else:
        fingerprint = workers.submit(lambda: frame_fingerprint(canonical(data, order.result()), frame.plain))
    try:
        draw = _draw(frame, design, seed, variables, refs, order, early_strata, fingerprint)
        order.result()  # no draw from a frame with a repeated case reference
        return draw
    except BaseException:
        fingerprint.cancel()
        # A repeated case reference is reported before a fault found after it, as when the checks ran in turn.
        order.result()
        raise


def _draw(frame: Frame, design: SampleDesign, seed: int, variables: list[str], refs: EncodedRefs,
          order: Future[np.ndarray], early_strata: Future[Strata] | None, fingerprint: Future[str]) -> SampleDraw:
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
    strata = early_strata.result() if early_strata is not None else form_strata(data, keep, variables)
    keys = prn_keys(refs, seed)
    counts = strata.populations.tolist()
    position = {v: i for i, v in enumerate(variables)}
    total_population = summary["eligible"]

    working: SampleSize | None = None
    unit_workings: dict[str, SampleSize] = {}
    unit_sizes: dict[str, int] = {}
    if unit is None:
        total, working = _total_size(design, total_population)
        sizes = share(total, dict(zip(strata.names, counts, strict=True)), design.min_per_stratum,
                      field="design.min_per_stratum", what="stratum", scope="")
        samples = [sizes[h] for h in strata.names]
    else:
        unit_code, units = strata.unit_codes(position[unit])
        unit_counts = np.bincount(unit_code, weights=strata.populations, minlength=len(units)).astype(np.int64)
        unit_populations = dict(zip(units, unit_counts.tolist(), strict=True))
        if design.unit_mode == "overall":
            total, working = _total_size(design, total_population)
            unit_sizes = share(total, unit_populations, design.min_per_unit, field="design.min_per_unit",
                               what="unit", scope="")
        else:
            assert design.precision is not None
            precision = design.precision.model_dump()
            for u, n in unit_populations.items():
                unit_workings[u] = required_sample_size(n, **precision, at="design.precision")
                unit_sizes[u] = unit_workings[u].sample_size
            total = sum(unit_sizes.values())
            if design.capacity is not None and total > design.capacity:
                # Short of capacity: the capacity shared over the units, each at least the minimum.
                total = design.capacity
                unit_sizes = share(total, unit_populations, design.min_per_unit, field="design.min_per_unit",
                                   what="unit", scope="Held to the capacity, ")
        samples = shares_in_units(strata, unit_code, units, unit_sizes, unit_populations, design.min_per_stratum)
    reserve_counts = reserves_per_stratum(design, samples, counts)

    # Within each stratum, rank the cases by key (ties by case_ref); the first n are the sample and the
    # next r the reserves.
    n_by_cell = np.array(samples, dtype=np.int64)
    r_by_cell = np.array(reserve_counts, dtype=np.int64)
    chosen, chosen_cell, chosen_rank = leading_cases(keys, strata.of_row, strata.populations, n_by_cell + r_by_cell,
                                                     by_ref)
    in_sample = chosen_rank < n_by_cell[chosen_cell]

    names = pl.Series("stratum", strata.names, dtype=pl.String)
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
    pop_of = strata.populations[sample_cells]
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
                strata.names, strata.values, counts, samples, reserve_counts, strict=True
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
                    "target": unit_workings[u].sample_size if u in unit_workings else None,
                }
                for u in sorted(unit_sizes)
            ]
        balance, largest = balance_table(strata, samples, variables, total_population, total)
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
