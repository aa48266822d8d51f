"""The frame's fingerprint, stored with every sample so anyone can tell the frame it was drawn from.

The canonical form of a frame is its rows sorted by the UTF-8 bytes of `case_ref` and its columns by
name. The fingerprint is the SHA-256 of that form written as CSV (UTF-8, comma, LF line ends, header
row, quotes only where needed, a missing value empty), so neither the row order nor the way the frame
came (JSON or CSV, quoted or not) changes it. The CSV is hashed as it is written, never held whole; and
a national frame, whose values are all stratum values, is written from its strata (see
`fingerprint_from_strata`), which gives the same bytes for much less work.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from sampling.selection.frame import CASE_REF, Frame
from sampling.selection.strata import Strata


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


def strata_hold_the_frame(frame: Frame, variables: list[str]) -> bool:
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


def fingerprint_from_strata(data: pl.DataFrame, order: np.ndarray, strata: Strata, variables: list[str]) -> str:
    """`frame_fingerprint` of a frame the strata hold (see `strata_hold_the_frame`), a faster way.

    Each line of the canonical CSV is the text of the row's stratum values in the columns named before
    case_ref, its case_ref, and the text of those named after it. So the case references in case_ref
    order, beside one short text per stratum, written with polars make the same bytes as the whole
    frame would; and those texts repeat, so writing them is much cheaper.
    """
    columns = sorted(data.columns)
    at = {v: i for i, v in reversed(list(enumerate(variables)))}
    stratum = pl.Series(strata.of_row[order])

    def text(names: list[str]) -> pl.Series:
        where = [at[name] for name in names]
        texts = pl.Series([",".join([vals[i] for i in where]) for vals in strata.values], dtype=pl.String)
        return texts.gather(stratum)

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
