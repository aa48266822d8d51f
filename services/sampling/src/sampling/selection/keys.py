"""Permanent random numbers: one seeded, uniformly distributed 64-bit key per case reference.

Within a stratum the sample is the n cases with the smallest keys, and the reserves are the next ones
in key order. Because i.i.d. uniform keys put the cases in a uniformly random order, that is simple
random sampling without replacement, and the reserve list is a random order of the rest. A case's key
depends only on its reference and the seed, not on the rest of the frame or on row order, so a
corrected frame (one case added or removed) changes the sample only where that case matters.

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
