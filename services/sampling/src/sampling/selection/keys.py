"""Permanent random numbers: one seeded, uniformly distributed 64-bit key per case reference.

Within a stratum the sample is the n cases with the smallest keys, and the reserves are the next ones
in key order (`leading_cases` finds them, sorting only the cases whose keys can lead their stratum).
Because i.i.d. uniform keys put the cases in a uniformly random order, that is simple random sampling
without replacement, and the reserve list is a random order of the rest. A case's key depends only on
its reference and the seed, not on the rest of the frame or on row order, so a corrected frame (one
case added or removed) changes the sample only where that case matters.

The key is a splitmix64 chain, which anyone can recompute in a few lines (see `prn_key`):

    h = mix(seed + G)
    h = mix(h XOR byte_length(ref))
    for each 8-byte little-endian word w of the UTF-8 bytes of ref (the last zero-padded):
        h = mix((h XOR w) + G)

with G = 0x9E3779B97F4A7C15, mix the splitmix64 finaliser, and all arithmetic modulo 2^64.

Why our own: hashlib's keyed BLAKE2 is one Python call per case (half a second for a national frame
here), and the hashes polars offers are documented as unstable across its versions, which would break
redrawing a stored sample. This chain is vectorised with numpy over the whole frame and fixed forever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

GOLDEN = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB


def _mix_int(x: int) -> int:
    x = ((x ^ (x >> 30)) * _C1) & _M64
    x = ((x ^ (x >> 27)) * _C2) & _M64
    return x ^ (x >> 31)


def prn_key(ref: str, seed: int) -> int:
    """The key of one case reference: the plain statement of the method `prn_keys` vectorises."""
    data = ref.encode("utf-8")
    h = _mix_int((seed + GOLDEN) & _M64)
    h = _mix_int(h ^ len(data))
    for start in range(0, len(data), 8):
        word = int.from_bytes(data[start : start + 8].ljust(8, b"\0"), "little")
        h = _mix_int(((h ^ word) + GOLDEN) & _M64)
    return h


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser of each value, in place (x is overwritten and returned)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(_C1)
    x ^= x >> np.uint64(27)
    x *= np.uint64(_C2)
    x ^= x >> np.uint64(31)
    return x


@dataclass(frozen=True)
class EncodedRefs:
    """Case references as their UTF-8 bytes, zero-padded, in 8-byte little-endian words, with their lengths."""

    words: np.ndarray  # uint64, one row per reference
    lengths: np.ndarray  # uint64

    def take(self, rows: np.ndarray) -> EncodedRefs:
        return EncodedRefs(self.words[rows], self.lengths[rows])


_LOW_BYTES = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [_M64], dtype=np.uint64)
"""The mask of the low n bytes of a word, by n."""


def _inline_words(series: pl.Series) -> EncodedRefs | None:
    """References of at most 8 bytes, read from where polars keeps them; None if any is longer (or missing).

    polars holds text as Arrow string views: 16 bytes per value, the length in the first 4 and a value
    of up to 12 bytes in the other 12 (beyond it, the format asks for zeros; they are masked all the
    same). So a short reference's word is bytes 4 to 11 of its view, with nothing copied or padded.
    """
    array = series.to_arrow(compat_level=pl.CompatLevel.newest())
    if array.type != pa.string_view() or array.null_count or len(array) == 0:
        return None
    views = np.frombuffer(array.buffers()[1], dtype=np.uint64).reshape(-1, 2)[array.offset : array.offset + len(array)]
    lengths = views[:, 0] & np.uint64(0xFFFFFFFF)
    if int(lengths.max()) > 8:
        return None
    words = (views[:, 0] >> np.uint64(32)) | (views[:, 1] << np.uint64(32))
    words &= _LOW_BYTES[lengths]
    return EncodedRefs(words.reshape(-1, 1), lengths)


def encode_refs(refs: pl.Series | list[str]) -> EncodedRefs:
    """Encode references once, for both keying and sorting."""
    series = refs if isinstance(refs, pl.Series) else pl.Series(refs, dtype=pl.String)
    short = _inline_words(series)
    if short is not None:
        return short
    lengths = series.str.len_bytes().to_numpy().astype(np.uint64)
    longest = int(lengths.max()) if len(lengths) else 0
    width = max(8, -(-longest // 8) * 8)
    padded = series.cast(pl.Binary).to_numpy().astype(f"S{width}")  # zero-padded to `width` bytes
    return EncodedRefs(np.ascontiguousarray(padded.view("<u8").reshape(len(padded), width // 8)), lengths)


def byte_order(encoded: EncodedRefs) -> np.ndarray:
    """Row indices that sort the references by their UTF-8 bytes (for references without NUL).

    A least-significant-digit radix sort: the words, big-endian so that they compare like the bytes
    they hold, are cut into 16-bit digits and the rows sorted by each digit in turn, from the last to
    the first, with numpy's stable sort, which counts 16-bit values rather than comparing them. It is
    linear in the number of references: a national frame sorts in a third of the CPU time of the
    comparison sorts of numpy or polars.
    """
    big = encoded.words.byteswap()
    order: np.ndarray | None = None
    for j in reversed(range(big.shape[1])):
        for shift in (0, 16, 32, 48):
            digit = (big[:, j] >> np.uint64(shift)).astype(np.uint16)
            if order is not None:
                digit = digit[order]
            if len(digit) and digit.min() == digit.max():
                continue  # the same in every reference (zero padding, a common prefix): nothing to sort
            by_digit = np.argsort(digit, kind="stable")
            order = by_digit if order is None else order[by_digit]
    return np.arange(len(big)) if order is None else order


def prn_keys(refs: pl.Series | list[str] | EncodedRefs, seed: int) -> np.ndarray:
    """The keys of many case references at once (uint64), equal to `prn_key` of each."""
    encoded = refs if isinstance(refs, EncodedRefs) else encode_refs(refs)
    count = len(encoded.lengths)
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    lengths = encoded.lengths
    words = encoded.words
    word_counts = (lengths + np.uint64(7)) // np.uint64(8)
    golden = np.uint64(GOLDEN)
    shortest = int(word_counts.min())
    with np.errstate(over="ignore"):
        start = np.uint64(_mix_int((seed + GOLDEN) & _M64))
        h = _mix(lengths ^ start)
        for j in range(words.shape[1]):
            step = h ^ words[:, j]
            step += golden
            step = _mix(step)
            # Only a reference's own words count, so its key never depends on longer references.
            h = step if j < shortest else np.where(word_counts > j, step, h)
    return h


def uniform(key: int) -> float:
    """A key as a number in [0, 1)."""
    return (key >> 11) / float(1 << 53)


# ----------------------------------------------------------------------------------------------
# The cases with the smallest keys in each stratum
# ----------------------------------------------------------------------------------------------


def _ranked(keys: np.ndarray, of_row: np.ndarray, strata: int, by_ref: Callable[[], np.ndarray]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Positions ordered by stratum, then key, then case_ref; and the stratum of each, in that order.
    `by_ref` gives the positions in case_ref order; only the last, exact way asks for it.

    Usually one sort of values alone does it: the stratum number, the key's top bits and the position
    packed in 64 bits, when no two positions in a stratum share those top bits (all but certain).
    Otherwise one sort of the stratum number and more of the key's bits, argsorted, when no two of
    those packed values are equal; failing that, two stable sorts do it exactly.
    """
    count = len(keys)
    bits = max(1, (strata - 1).bit_length())
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


def leading_cases(keys: np.ndarray, of_row: np.ndarray, populations: np.ndarray, wanted: np.ndarray,
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
