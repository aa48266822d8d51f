"""The draw's fast paths give exactly what their plain statements give, byte for byte.

Each fast path in sampling.selection is checked here against the simple way of doing the same thing:
the fingerprint written from the strata against the frame written out, the allocation shared over all
units at once against `allocate` unit by unit, orjson against json, the response assembled in parts
against one json document, the packed sort against two stable sorts, and so on.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import asdict

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspection_shared.sampling import SampleDesign
from sampling.allocation.service import allocate
from sampling.errors import SamplingInputError
from sampling.selection.fingerprint import (
    canonical,
    fingerprint_from_strata,
    frame_fingerprint,
    strata_hold_the_frame,
)
from sampling.selection.frame import Frame, categorical, read_csv_frame, read_json_frame
from sampling.selection.keys import _ranked, byte_order, encode_refs, leading_cases
from sampling.selection.router import _allocation_json, _dumps, _wire
from sampling.selection.service import case_ref_order, checked_refs, draw_sample
from sampling.selection.strata import MISSING, _escape, _largest_remainders, form_strata

from .frames import only, synthetic_frame, to_csv

LIMIT = 500_000
ROWS = synthetic_frame(900, units=6, seed=3)


def design(**fields) -> SampleDesign:
    return SampleDesign.model_validate(fields)


def csv_of(rows: list[dict], columns: list[str]) -> bytes:
    """The rows as polars writes CSV (quoting only where needed, a missing value empty)."""
    out = io.BytesIO()
    pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema={c: pl.String for c in columns}).write_csv(out)
    return out.getvalue()


# ----------------------------------------------------------------------------------------------
# The response, byte for byte
# ----------------------------------------------------------------------------------------------


def plain_wire(draw, d: SampleDesign) -> bytes:
    """The response as one json document around polars' case lists: the way it was first written."""

    def working(w):
        if w is None:
            return None
        data = asdict(w)
        data.pop("sample_size")
        return data

    rest = {
        "allocation": draw.allocation,
        "unit_allocation": (
            None
            if draw.unit_allocation is None
            else [{**row, "working": working(row["working"])} for row in draw.unit_allocation]
        ),
        "balance": draw.balance,
        "largest_deviation": draw.largest_deviation,
        "sample_size": draw.sample_size,
        "sample_size_working": working(draw.working),
        "frame": draw.frame_summary,
        "design": d.model_copy(update={"seed": draw.seed}).model_dump(mode="json"),
        "seed": draw.seed,
        "frame_fingerprint": draw.fingerprint,
        "algorithm": draw.algorithm,
    }
    tail = json.dumps(rest, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return b"".join([
        b'{"selected":', draw.selected.write_json().encode(),
        b',"reserves":', draw.reserves.write_json().encode(),
        b",", tail[1:],
    ])


WIRE_DESIGNS = [
    {"size": 90, "unit": "pdu", "min_per_unit": 5, "strata": ["gender", "rosh"], "reserves_per_stratum": 2},
    {"precision": {"confidence": 0.8, "margin": 0.1}, "unit": "pdu", "unit_mode": "per_unit",
     "strata": ["gender", "sentence_type"], "reserve_ratio": 0.5},
    {"size": 40, "strata": ["sentence_type"], "carried": ["start_date"], "min_per_stratum": 3},
    {"size": 30, "strata": ["rosh"], "eligibility": {"column": "start_date", "start": "2024-04-01"},
     "exclude": [{"column": "gender", "values": ["F"], "reason": "test"}], "reserves_per_stratum": 1},
    {"size": 25},
]


@pytest.mark.parametrize("fields", WIRE_DESIGNS)
@pytest.mark.parametrize("source", ["csv", "json"])
def test_the_response_is_byte_for_byte_the_plain_json_document(fields, source):
    d = design(**fields, seed=11)
    columns = list(dict.fromkeys(["case_ref", *d.used_columns()]))
    rows = only(ROWS, columns)
    frame = read_csv_frame(to_csv(rows), d, LIMIT) if source == "csv" else read_json_frame(rows, d, LIMIT)
    draw = draw_sample(frame, d, 11)
    assert _wire(draw, d) == plain_wire(draw, d)


def test_a_tiny_inclusion_probability_is_written_as_json_writes_it():
    rows = [{"case_ref": f"R{i:06d}", "g": "a" if i % 10 else "b"} for i in range(60_000)]
    d = design(size=3, strata=["g"], seed=1)
    draw = draw_sample(read_csv_frame(csv_of(rows, ["case_ref", "g"]), d, LIMIT), d, 1)
    wire = _wire(draw, d)
    assert wire == plain_wire(draw, d)
    assert draw.allocation[0]["inclusion_probability"] == 3 / 54_000
    assert b'"sample":3,"reserves":0,"inclusion_probability":5.555555555555556e-05}' in wire  # Python's form


probabilities = st.one_of(
    st.just(0.0),
    st.builds(lambda n, big: n / big, st.integers(1, 10**6), st.integers(10**6, 10**9)),
    st.floats(min_value=1e-9, max_value=1.0),
)
texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "stratum": texts, "unit": st.one_of(st.none(), texts), "values": st.dictionaries(texts, texts, max_size=3),
    "population": st.integers(0, 10**6), "sample": st.integers(0, 10**6), "reserves": st.integers(0, 9),
    "inclusion_probability": probabilities,
}), max_size=20))
def test_the_allocation_table_is_written_as_json_writes_it(rows):
    assert _allocation_json(rows) == _dumps(rows)


# ----------------------------------------------------------------------------------------------
# The fingerprint
# ----------------------------------------------------------------------------------------------


def test_the_fingerprint_is_hashed_as_it_is_written():
    frame = pl.DataFrame({"case_ref": ["B", "A", "C"], "team": ['x, "y"', None, "z\nw"]})
    out = io.BytesIO()
    frame.write_csv(out, include_header=True, separator=",", line_terminator="\n", quote_style="necessary",
                    null_value="")
    assert frame_fingerprint(frame) == hashlib.sha256(out.getvalue()).hexdigest()
    assert frame_fingerprint(pl.DataFrame({"case_ref": ["A"]})) == hashlib.sha256(b"case_ref\nA\n").hexdigest()


levels = st.text(alphabet="ab|\\é ", min_size=1, max_size=3).filter(lambda s: s.strip() == s)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(levels, levels, levels), min_size=1, max_size=40),
    st.sampled_from([["a_unit", "zone"], ["area", "band"], ["x", "band"], ["zone"], [], ["Région", "zone 2"]]),
    st.booleans(),
    st.integers(0, 2**64 - 1),
)
def test_the_fingerprint_from_the_strata_is_the_fingerprint_of_the_frame(values, names, with_unit, seed):
    # Columns that sort before case_ref, after it, or on both sides; levels with the separator and the
    # escape character in them; a unit or not.
    rows = [
        {"case_ref": f"K{i:04d}é" if i % 5 == 0 else f"K{i:04d}", **{n: v[j] for j, n in enumerate(names)}}
        for i, v in enumerate(values)
    ]
    rows = random.Random(seed).sample(rows, len(rows))
    columns = ["case_ref", *names]
    d = design(size=1, unit=names[0], strata=names[1:]) if with_unit and names else design(size=1, strata=names)
    frame = read_csv_frame(csv_of(rows, columns), d, LIMIT)
    variables = d.stratum_variables()
    assert strata_hold_the_frame(frame, variables)
    order = case_ref_order(frame, checked_refs(frame))
    cells = form_strata(frame.data, None, variables)
    assert fingerprint_from_strata(frame.data, order, cells, variables) == frame_fingerprint(
        canonical(frame.data, order), frame.plain
    )
    assert draw_sample(frame, d, seed).fingerprint == frame_fingerprint(canonical(frame.data, order), frame.plain)


def test_the_strata_hold_the_frame_only_when_every_value_is_a_stratum_value_as_written():
    d = design(size=5, strata=["gender", "rosh"])
    variables = ["gender", "rosh"]
    plain = read_csv_frame(to_csv(only(ROWS, ["case_ref", "gender", "rosh"])), d, LIMIT)
    assert strata_hold_the_frame(plain, variables)
    with_carried = design(size=5, strata=["gender", "rosh"], carried=["start_date"])
    carried = read_csv_frame(to_csv(only(ROWS, ["case_ref", "gender", "rosh", "start_date"])), with_carried, LIMIT)
    assert not strata_hold_the_frame(carried, variables)  # start_date is not a stratum value
    missing = [dict(r) for r in only(ROWS, ["case_ref", "gender", "rosh"])]
    missing[3]["rosh"] = None  # a missing value is the stratum "(missing)" but is written empty
    assert not strata_hold_the_frame(read_csv_frame(csv_of(missing, ["case_ref", "gender", "rosh"]), d, LIMIT),
                                     variables)
    quoted = b'case_ref,gender,rosh\nA1,"M, or not",low\nA2,F,high\n'
    assert not strata_hold_the_frame(read_csv_frame(quoted, d, LIMIT), variables)
    assert not strata_hold_the_frame(read_json_frame(only(ROWS, ["case_ref", "gender", "rosh"]), d, LIMIT),
                                     variables)


# ----------------------------------------------------------------------------------------------
# Strata, allocation and the draw order
# ----------------------------------------------------------------------------------------------


def test_strata_names_are_escaped_and_ordered_as_python_does():
    values = ["a|b", "a\\b", "a\\|b", "|", "\\", "b", "é", "a b", "\u2603", "(missing)"]
    rng = random.Random(2)
    rows = [{"case_ref": f"C{i}", "s": rng.choice(values), "t": rng.choice(values)} for i in range(300)]
    cells = form_strata(pl.DataFrame(rows), None, ["s", "t"])
    expected = sorted({f"{_escape(r['s'])}|{_escape(r['t'])}" for r in rows})
    assert cells.names == expected
    for row, cell in zip(rows, cells.of_row.tolist(), strict=True):
        assert cells.values[cell] == (row["s"], row["t"])
    assert cells.populations.sum() == len(rows)


def plain_cells(rows: list[dict], keep: list[bool], variables: list[str]) -> tuple[list, list, list, list]:
    """The strata as their definition states them: names, values, populations, and each eligible row's."""
    values = [tuple(MISSING if r[v] is None else r[v] for v in variables) for r, k in zip(rows, keep) if k]
    name = {t: "|".join(_escape(x) for x in t) if variables else "all" for t in values}
    names = sorted(set(name.values()))
    value_of = {name[t]: t for t in values}
    of_row = [names.index(name[t]) for t in values]
    return names, [value_of[n] for n in names], [of_row.count(i) for i in range(len(names))], of_row


def assert_cells_as_defined(data: pl.DataFrame, rows: list[dict], keep: list[bool] | None, variables: list[str]):
    cells = form_strata(data, None if keep is None else np.array(keep), variables)
    names, values, populations, of_row = plain_cells(rows, keep or [True] * len(rows), variables)
    assert cells.names == names
    assert cells.values == values
    assert cells.populations.tolist() == populations
    assert cells.of_row.tolist() == of_row


level_or_missing = st.one_of(st.none(), st.sampled_from(["a", "b", "a|b", "\\", "é", "(missing)", "B", "a "]))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(level_or_missing, level_or_missing, level_or_missing), min_size=1, max_size=60),
    st.sampled_from([[], ["s"], ["s", "t"], ["u", "s", "t"], ["t", "u"]]),
    st.one_of(st.none(), st.lists(st.booleans(), min_size=60, max_size=60)),
    st.booleans(),
)
def test_strata_formed_by_numbers_are_the_strata_as_defined(values, variables, keep, categorical_columns):
    # Text columns (a JSON frame) and categorical ones (a CSV frame), all rows or only some, missing
    # values beside a real "(missing)", names that need escaping.
    rows = [{"case_ref": f"C{i}", "s": s, "t": t, "u": u} for i, (s, t, u) in enumerate(values)]
    data = pl.DataFrame(rows, schema={c: pl.String for c in ["case_ref", "s", "t", "u"]})
    if categorical_columns:
        data = data.with_columns(pl.col(c).cast(categorical()) for c in ["s", "t", "u"])
    keep = None if keep is None or not any(keep[: len(rows)]) else keep[: len(rows)]
    assert_cells_as_defined(data, rows, keep, variables)


def test_strata_of_many_variables_with_many_levels_are_renumbered_before_they_overflow():
    # 2,000 levels in each of six columns: 2,000^6 combinations do not fit in 64 bits.
    rng = random.Random(5)
    variables = ["v1", "v2", "v3", "v4", "v5", "v6"]
    rows = [
        {"case_ref": f"C{i}", **{v: str(rng.randrange(2_000)) if i % 97 else None for v in variables}}
        for i in range(3_000)
    ]
    data = pl.DataFrame(rows, schema={c: pl.String for c in ["case_ref", *variables]})
    assert_cells_as_defined(data, rows, None, variables)
    keep = [i % 3 != 0 for i in range(len(rows))]
    assert_cells_as_defined(data, rows, keep, variables)


def test_only_the_unit_and_strata_columns_read_for_nothing_else_are_categorical():
    d = design(
        size=2,
        unit="pdu",
        strata=["gender", "rosh", "start_date"],
        eligibility={"column": "start_date", "start": "2024-01-01"},
        exclude=[{"column": "rosh", "values": ["very_high"], "reason": "held elsewhere"}],
        carried=["tier"],
    )
    body = (b"case_ref,pdu,gender,rosh,start_date,tier\n"
            b"A1,N1,M,low,2024-02-01,1\nA2,N1,F,high,2024-03-01,2\nA3,N2,M,,2024-04-01,\n")
    frame = read_csv_frame(body, d, LIMIT)
    assert {c: type(t).__name__ for c, t in frame.data.schema.items()} == {
        "case_ref": "String", "pdu": "Categorical", "gender": "Categorical",
        "rosh": "String", "start_date": "String", "tier": "String",
    }
    assert frame.data.get_column("gender").cast(pl.String).to_list() == ["M", "F", "M"]
    assert frame.data.get_column("rosh").to_list() == ["low", "high", None]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(1, 400), min_size=1, max_size=12), min_size=1, max_size=8), st.data())
def test_shares_over_all_units_at_once_are_allocate_unit_by_unit(units, data):
    group = np.repeat(np.arange(len(units)), [len(u) for u in units])
    weights = np.array([n for u in units for n in u], dtype=np.int64)
    available = np.array([sum(u) for u in units], dtype=np.int64)
    totals = np.array([data.draw(st.integers(0, int(a))) for a in available], dtype=np.int64)
    sizes = _largest_remainders(group, weights, totals, available).tolist()
    names = [f"h{i:03d}" for i in range(len(weights))]  # in name order, as the strata are
    expected = []
    for u, members in enumerate(units):
        first = sum(len(m) for m in units[:u])
        pops = {names[first + j]: n for j, n in enumerate(members)}
        expected += list(allocate(int(totals[u]), pops).sizes.values())
    assert sizes == expected


def test_the_packed_value_sort_falls_back_when_keys_share_their_top_bits():
    rng = np.random.default_rng(8)
    count = 3_000
    cells = rng.integers(0, 40, count)
    by_ref = rng.permutation(count)
    for keys in (
        rng.integers(0, 2**63, count, dtype=np.uint64) * np.uint64(2),  # distinct: the value sort
        (rng.integers(0, 2**20, count, dtype=np.uint64) << np.uint64(44)) | np.uint64(5),  # top bits shared
        np.full(count, 7, dtype=np.uint64),  # all equal: case_ref order decides
    ):
        exact = by_ref[np.argsort(keys[by_ref], kind="stable")]
        exact = exact[np.argsort(cells[exact], kind="stable")]
        assert (_ranked(keys, cells, 40, lambda: by_ref)[0] == exact).all()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FFFF, exclude_categories=["Cs"]),
                    max_size=30),
            st.from_regex(r"[A-Z][0-9]{6}", fullmatch=True),
            st.just(""),
        ),
        unique=True,
        max_size=300,
    )
)
def test_references_sort_by_their_utf8_bytes(refs):
    # Short and long references, ASCII and not, common prefixes, the empty reference.
    order = byte_order(encode_refs(refs))
    assert [refs[i] for i in order] == sorted(refs, key=lambda r: r.encode("utf-8"))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 2_000),
    st.integers(1, 60),
    st.sampled_from(["uniform", "top bits shared", "all equal", "all large"]),
    st.integers(0, 2**32 - 1),
)
def test_the_leading_cases_of_each_stratum_are_those_of_the_whole_sort(count, strata, keys_are, seed):
    # Keys as the draw makes them (uniform), and keys no bound can guess: shared top bits, all equal
    # (case_ref order decides), all near the top of the range (every stratum is left short).
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, strata, count)
    cells[:strata] = np.arange(strata)[: min(strata, count)]  # every stratum has a case
    strata = len(np.unique(cells))
    cells = np.unique(cells, return_inverse=True)[1]
    keys = {
        "uniform": rng.integers(0, 2**63, count, dtype=np.uint64) * np.uint64(2),
        "top bits shared": (rng.integers(0, 2**8, count, dtype=np.uint64) << np.uint64(56)) | np.uint64(5),
        "all equal": np.full(count, 7, dtype=np.uint64),
        "all large": np.uint64(2**64 - 2**40) + rng.integers(0, 2**39, count, dtype=np.uint64),
    }[keys_are]
    by_ref = rng.permutation(count)
    populations = np.bincount(cells, minlength=strata)
    wanted = rng.integers(0, populations + 3)  # sometimes more than a stratum holds
    exact = by_ref[np.argsort(keys[by_ref], kind="stable")]
    exact = exact[np.argsort(cells[exact], kind="stable")]
    rank = np.arange(count) - np.concatenate(([0], np.cumsum(populations)[:-1]))[cells[exact]]
    take = rank < wanted[cells[exact]]
    positions, stratum, ranks = leading_cases(keys, cells, populations, wanted, lambda: by_ref)
    assert positions.tolist() == exact[take].tolist()
    assert stratum.tolist() == cells[exact[take]].tolist()
    assert ranks.tolist() == rank[take].tolist()


# ----------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [b"", b"\n", b"\n\n", b"\r\n", b"\r\n\r\n", b"\n\r\n", b"\r"])
def test_line_ends_at_the_end_of_the_file_read_as_none(ending):
    d = design(size=2, strata=["gender"])
    body = b"case_ref,gender\nA1,M\nA2,F\nA3,M"
    frame = read_csv_frame(body + ending, d, LIMIT)
    assert frame.data.cast(pl.String).equals(read_csv_frame(body, d, LIMIT).data.cast(pl.String))
    assert [frame.line(i) for i in range(3)] == [2, 3, 4]
    ragged = b"case_ref,gender\nA1,M\nA2\nA3,M"
    with pytest.raises(SamplingInputError) as caught:
        draw_sample(read_csv_frame(ragged + ending, d, LIMIT), d, 1)
    with pytest.raises(SamplingInputError) as plain:
        draw_sample(read_csv_frame(ragged, d, LIMIT), d, 1)
    assert caught.value.detail == plain.value.detail and caught.value.faults == plain.value.faults


def usual_read(body: bytes) -> pl.DataFrame:
    """The frame as polars reads the CSV column by column, every value as text."""
    return pl.read_csv(io.BytesIO(body), infer_schema=False)


def cases_and_strata(refs: list[str], values: list[tuple], strata: list[str], unit: str | None
                     ) -> tuple[list[dict], list[str]]:
    """A frame of case references and the s, t, u columns the design reads, as rows and as CSV lines
    (case_ref first, a missing value empty)."""
    columns = [c for c in ["u", "s", "t"] if c in strata or c == unit]
    rows = [
        {"case_ref": ref, **{c: v for c, v in zip(["s", "t", "u"], triple, strict=True) if c in columns}}
        for ref, triple in zip(refs, values, strict=True)
    ]
    lines = [",".join(["case_ref", *columns])] + [",".join([r["case_ref"], *(r[c] or "" for c in columns)]) for r in rows]
    return rows, lines


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.tuples(level_or_missing, level_or_missing, level_or_missing), min_size=1, max_size=60),
    st.sampled_from([(["s"], None), (["s", "t"], None), (["t", "u"], "s"), (["u", "s", "t"], None)]),
    st.integers(2, 9),
    st.sampled_from(["R", "É"]),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
)
def test_a_frame_read_by_lines_is_the_frame_read_by_columns(values, layout, width, letter, newline, ends_with_one):
    # References of one width (in characters, not always in bytes), strata with missing values beside a
    # real "(missing)", text that needs escaping in a stratum name, either line end, with or without one
    # at the end of the file.
    strata, unit = layout
    refs = [letter + f"{i % 10 ** (width - 1):0{width - 1}d}" for i in range(len(values))]
    _, lines = cases_and_strata(refs, values, strata, unit)
    body = newline.join(line.encode() for line in lines) + (newline if ends_with_one else b"")
    d = design(size=1, strata=strata, unit=unit)
    frame = read_csv_frame(body, d, LIMIT)
    assert frame.row_values is not None and frame.plain
    assert frame.data.cast(pl.String).equals(usual_read(body))
    variables = d.stratum_variables()
    by_values = form_strata(frame.data, None, variables, frame.row_values)
    by_columns = form_strata(frame.data, None, variables)
    assert (by_values.names, by_values.values) == (by_columns.names, by_columns.values)
    assert by_values.populations.tolist() == by_columns.populations.tolist()
    assert by_values.of_row.tolist() == by_columns.of_row.tolist()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(level_or_missing, level_or_missing, level_or_missing), min_size=1, max_size=60),
    st.sampled_from([(["s"], None), (["s", "t"], None), (["t", "u"], "s"), (["u", "s", "t"], None)]),
    st.integers(3, 9),
    st.integers(0, 2**32),
)
def test_a_draw_from_a_frame_read_by_lines_is_the_draw_from_the_same_frame_sent_as_json(values, layout, width, seed):
    strata, unit = layout
    rows, lines = cases_and_strata([f"R{i:0{width - 1}d}" for i in range(len(values))], values, strata, unit)
    body = "\n".join(lines).encode()
    d = design(size=min(5, len(rows)), strata=strata, unit=unit, reserves_per_stratum=1)
    by_lines = read_csv_frame(body, d, LIMIT)
    assert by_lines.row_values is not None
    from_csv, from_json = draw_sample(by_lines, d, seed), draw_sample(read_json_frame(rows, d, LIMIT), d, seed)
    assert from_csv.fingerprint == from_json.fingerprint
    assert from_csv.selected.equals(from_json.selected) and from_csv.reserves.equals(from_json.reserves)
    assert (from_csv.allocation, from_csv.balance) == (from_json.allocation, from_json.balance)


@pytest.mark.parametrize(
    "body, why",
    [
        (b"case_ref,g\nA1,M\nA22,F\nA3,M\n", "references of different widths"),
        (b"g,case_ref\nM,A1\nF,A2\n", "case_ref is not the first column"),
        (b"case_ref,g\nA1,M\nA2,\"F\"\n", "a quoted value"),
        (b"case_ref,g\nA1,M\nA2,F\x1fG\n", "the byte the lines are read by"),
        (b"case_ref,g,tier\nA1,M,1\nA2,F,2\n", "a carried column"),
    ],
)
def test_a_frame_of_another_shape_is_read_by_columns(body, why):
    d = design(size=1, strata=["g"], carried=["tier"] if b"tier" in body else [])
    frame = read_csv_frame(body, d, LIMIT)
    assert frame.row_values is None, why
    expected = usual_read(body)
    if why == "a quoted value":
        expected = expected.with_columns(pl.col("g").str.replace_all('"', ""))
    assert frame.data.cast(pl.String).equals(expected.select(frame.data.columns))


@pytest.mark.parametrize(
    "body, line, message",
    [
        # The second case's reference is one character longer and its line one field short: cut at the
        # first case's width, that line would look whole.
        (b"case_ref,g,h\nA1,M,x\nA22,F\nA3,M,y\n", 3, "has 2 fields; the header has 3 fields"),
        (b"case_ref,g,h\nA1,M,x\nA2,F,y,z\nA3,M,y\n", 3, "has 4 fields; the header has 3 fields"),
        # Cut at the first case's width, the third line's rest looks whole; its reference holds a comma.
        (b"case_ref,g,h\nA11,M,x\nA,1,M,x\nA33,M,y\n", 3, "has 4 fields; the header has 3 fields"),
        (b"case_ref,g,h\nA1,M,x\nA2,F\nA3,M,y\n", 3, "has 2 fields; the header has 3 fields"),
        (b"case_ref,g,h\nA1\nA2,F,y\n", 2, "has 1 field; the header has 3 fields"),  # no width to cut at
        (b"case_ref,g,h\nA1,M,x\n\nA2,F,y\n", 3, "has 1 field; the header has 3 fields"),  # a blank line
    ],
)
def test_a_line_out_of_the_ordinary_in_a_frame_of_cases_and_strata_is_refused_with_its_line(body, line, message):
    d = design(size=1, strata=["g", "h"])
    with pytest.raises(SamplingInputError) as caught:
        draw_sample(read_csv_frame(body, d, LIMIT), d, 1)
    assert caught.value.faults[0].line == line and message in caught.value.faults[0].message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12),
                min_size=1, max_size=50))
def test_references_are_encoded_as_their_utf8_bytes_in_little_endian_words(refs):
    # Short references are read from polars' string views, longer ones padded; both as defined here.
    encoded = encode_refs(refs)
    width = encoded.words.shape[1]
    assert width == max(1, -(-max(len(r.encode()) for r in refs) // 8))
    for ref, words, length in zip(refs, encoded.words, encoded.lengths, strict=True):
        data = ref.encode()
        assert int(length) == len(data)
        assert [int(w) for w in words] == [
            int.from_bytes(data.ljust(8 * width, b"\0")[8 * j : 8 * j + 8], "little") for j in range(width)
        ]
    sliced = pl.Series(["xx" + r for r in refs]).str.slice(2)  # views that start inside another value
    assert np.array_equal(encode_refs(sliced).words, encoded.words)


@pytest.mark.parametrize("body", [b"", b"\n", b"\r\n\r\n", b" \n\t"])
def test_a_blank_file_is_empty(body):
    with pytest.raises(SamplingInputError, match="The frame is empty: no header and no cases"):
        read_csv_frame(body, design(size=1), LIMIT)


def test_a_nul_in_a_case_ref_is_refused_with_its_line_and_elsewhere_is_not():
    d = design(size=1, strata=["gender"])
    with pytest.raises(SamplingInputError, match="cannot hold a NUL character; the first at line 3") as caught:
        draw_sample(read_csv_frame(b"case_ref,gender\nA1,M\nA\x002,F\n", d, LIMIT), d, 1)
    assert caught.value.faults[0].line == 3
    assert draw_sample(read_csv_frame(b"case_ref,gender\nA1,M\nA2,F\x00\n", d, LIMIT), d, 1).sample_size == 1
    with pytest.raises(SamplingInputError, match="cannot hold a NUL character; the first at frame.1"):
        draw_sample(read_json_frame([{"case_ref": "A1", "gender": "M"}, {"case_ref": "A\x002", "gender": "F"}],
                                    d, LIMIT), d, 1)


def test_a_frame_built_directly_draws_with_no_fast_path():
    frame = Frame(pl.DataFrame({"case_ref": ["b", "a", "c"], "g": ["x", "y", "x"]}), "json")
    d = design(size=2, strata=["g"])
    draw = draw_sample(frame, d, 3)
    assert draw.fingerprint == hashlib.sha256(b"case_ref,g\na,y\nb,x\nc,x\n").hexdigest()
    assert _wire(draw, d) == plain_wire(draw, d)


# ----------------------------------------------------------------------------------------------
# The process
# ----------------------------------------------------------------------------------------------


def jemalloc_settings(env: dict[str, str]) -> dict[str, str]:
    """The allocator settings the service starts with; polars puts its defaults first, and the last wins."""
    code = "import os, sampling.__main__; print(os.environ['_RJEM_MALLOC_CONF'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    return dict(option.split(":") for option in out.strip().split(","))


def test_the_service_keeps_freed_memory_for_a_while_unless_told_otherwise():
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    assert jemalloc_settings(env) == {"dirty_decay_ms": "10000", "muzzy_decay_ms": "10000"}
    chosen = jemalloc_settings({**env, "_RJEM_MALLOC_CONF": "dirty_decay_ms:0"})
    assert chosen["dirty_decay_ms"] == "0"


def test_the_service_keeps_memory_malloc_frees_for_the_next_request_unless_told_otherwise():
    # Twenty 10 MB blocks, one after another, as a request's body and buffers come and go: with the
    # tuning they reuse the same pages instead of faulting 2,442 fresh ones in each time.
    code = (
        "import resource, sampling.__main__ as m\n"
        "tuned = m.keep_freed_memory()\n"
        "def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "block = bytearray(10_000_000); del block\n"
        "before = faults()\n"
        "for _ in range(20):\n"
        "    block = bytearray(10_000_000); del block\n"
        "print(tuned, faults() - before)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    tuned, faults = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True).stdout.split()
    assert tuned == "True" and int(faults) < 100
    chosen = subprocess.run([sys.executable, "-c", code], env={**env, "GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"},
                            capture_output=True, text=True, check=True).stdout.split()
    assert chosen[0] == "False"
