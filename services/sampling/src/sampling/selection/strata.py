"""The strata of a draw: formed from the eligible frame, given their share of the sample, and the balance
of the sample over them.

Strata are the combinations of the unit and the stratification variables present in the eligible
frame; a missing value is its own level, "(missing)". A stratum is named by its values joined with "|"
(a "|" or "\\" inside a value is escaped with "\\"), or "all" when there are none, and the strata are
kept in the order of their names. A national frame has thousands of strata and hundreds of thousands
of cases, so they are formed by numbers (see `form_strata`) and shared out with numpy where no bound
can bind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from inspection_shared.sampling import SampleDesign
from inspection_shared.wording import counted
from sampling.allocation.service import allocate, largest_remainder
from sampling.errors import Fault, SamplingInputError
from sampling.selection.frame import RowValues, categorical, number_densely
from sampling.size.service import ceil_clean

MISSING = "(missing)"
ALL = "all"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


@dataclass
class Strata:
    """The strata of the eligible frame, in the order of their names, and the stratum of each row."""

    names: list[str]
    values: list[tuple[str, ...]]
    populations: np.ndarray
    of_row: np.ndarray

    def unit_codes(self, unit_at: int) -> tuple[np.ndarray, list[str]]:
        """The unit of each stratum as a number, and the units in the order they first appear."""
        index: dict[str, int] = {}
        code = [index.setdefault(vals[unit_at], len(index)) for vals in self.values]
        return np.array(code, dtype=np.int64), list(index)


def _codes(column: pl.Series) -> np.ndarray:
    """A number for each value of a column: equal values, equal numbers ("(missing)" for a missing one)."""
    if not isinstance(column.dtype, pl.Categorical):
        column = column.cast(categorical())
    return column.fill_null(MISSING).to_physical().to_numpy()


def form_strata(data: pl.DataFrame, keep: np.ndarray | None, variables: list[str],
                row_values: RowValues | None = None) -> Strata:
    """The strata of the eligible rows; `of_row` follows the eligible rows in frame order.

    A row's stratum is found by numbers: each variable's categorical code, combined into one number per
    row and counted. Only the strata table (a row per stratum) is handled as text, to name and order it.
    Given the rows numbered by their values (all of them strata variables), the strata are those of the
    few distinct values, and each row's is that of its number.
    """
    if row_values is not None and keep is None and set(row_values.values.columns) == set(variables):
        distinct = form_strata(row_values.values, None, variables)
        of_row = distinct.of_row[row_values.of_row]
        populations = np.bincount(of_row, minlength=len(distinct.names)).astype(np.int64)
        return Strata(distinct.names, distinct.values, populations, of_row)
    count = data.height if keep is None else int(keep.sum())
    if not variables:
        return Strata([ALL], [()], np.array([count], dtype=np.int64), np.zeros(count, dtype=np.int64))
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
    return Strata(names.gather(by_name).to_list(), values, sizes[by_name].astype(np.int64), rank[stratum])


# ----------------------------------------------------------------------------------------------
# The sample shared over the strata
# ----------------------------------------------------------------------------------------------


def share(total: int, populations: dict[str, int], minimum: int, *, field: str, what: str, scope: str
          ) -> dict[str, int]:
    """`total` shared over strata (or units) in proportion to their populations, each given at least
    `minimum`; a minimum the total cannot meet is refused, naming `field` and the shortfall."""
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
        said = f"{scope}the minimum of {counted(minimum, 'case')} per {what} needs {counted(needed, 'case')}, "
        raise SamplingInputError(
            said[0].upper() + said[1:] + f"{short} more than the sample of {total}.",
            [Fault(field, f"needs {counted(needed, 'case')}; the sample is {total}, short by {short}")],
            shortfall=short,
        ) from None


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


def shares_in_units(strata: Strata, unit_code: np.ndarray, units: list[str], unit_sizes: dict[str, int],
                    unit_populations: dict[str, int], minimum: int) -> list[int]:
    """Each unit's size shared over its strata; the sizes in the order of the strata."""
    totals = np.array([unit_sizes[u] for u in units], dtype=np.int64)
    available = np.array([unit_populations[u] for u in units], dtype=np.int64)
    if minimum == 0 and bool(((0 <= totals) & (totals <= available) & (available > 0)).all()):
        # What `share` gives unit by unit when no bound can bind, for all the units at once.
        return _largest_remainders(unit_code, strata.populations, totals, available).tolist()
    members: list[dict[str, int]] = [{} for _ in units]
    for h, u, n in zip(strata.names, unit_code.tolist(), strata.populations.tolist(), strict=True):
        members[u][h] = n
    sizes: dict[str, int] = {}
    for u, unit_strata in zip(units, members, strict=True):
        sizes.update(share(unit_sizes[u], unit_strata, minimum, field="design.min_per_stratum",
                           what="stratum", scope=f"In unit {u}, "))
    return [sizes[h] for h in strata.names]


def reserves_per_stratum(design: SampleDesign, samples: list[int], populations: list[int]) -> list[int]:
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


# ----------------------------------------------------------------------------------------------
# Balance
# ----------------------------------------------------------------------------------------------


def balance_table(strata: Strata, samples: list[int], variables: list[str], population: int, sample: int
                  ) -> tuple[list[dict], dict | None]:
    """Frame share against sample share of every level of every stratification variable, and the level
    whose shares differ the most."""
    rows: list[dict] = []
    counts = strata.populations.tolist()
    for i, variable in enumerate(variables):
        frame_counts: dict[str, int] = {}
        sample_counts: dict[str, int] = {}
        for values, count, n in zip(strata.values, counts, samples):
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
