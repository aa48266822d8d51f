"""Case selection, without HTTP: reproducibility, reserves, probabilities, tables, fingerprint, fairness."""

from __future__ import annotations

import random
from collections import Counter

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from inspection_shared.sampling import SampleDesign
from sampling.errors import SamplingInputError
from sampling.selection.frame import Frame, read_csv_frame, read_json_frame
from sampling.selection.keys import encode_refs, prn_key, prn_keys
from sampling.selection.service import ALGORITHM, draw_sample
from sampling.size.service import required_sample_size

from .frames import only, synthetic_frame, to_csv

LIMIT = 500_000


def design(**fields) -> SampleDesign:
    return SampleDesign.model_validate(fields)


def draw(rows: list[dict], seed: int = 7, **fields):
    """Draw with the design, sending only the columns it uses (the service refuses the others)."""
    d = design(**fields)
    columns = ["case_ref", *d.used_columns()]
    return draw_sample(read_json_frame(only(rows, columns), d, LIMIT), d, seed)


def refs(frame: pl.DataFrame) -> list[str]:
    return frame.get_column("case_ref").to_list()


ROWS = synthetic_frame(600)
STRATIFIED = only(ROWS, ["case_ref", "pdu", "gender", "rosh"])


def test_same_seed_same_sample_whatever_the_row_order():
    shuffled = STRATIFIED[:]
    random.Random(3).shuffle(shuffled)
    fields = dict(size=90, unit="pdu", strata=["gender", "rosh"], reserves_per_stratum=2)
    a, b = draw(STRATIFIED, **fields), draw(shuffled, **fields)
    c = draw(STRATIFIED[::-1], **fields)
    assert a.selected.equals(b.selected) and a.selected.equals(c.selected)
    assert a.reserves.equals(b.reserves) and a.reserves.equals(c.reserves)
    assert a.allocation == b.allocation and a.balance == b.balance
    assert a.fingerprint == b.fingerprint == c.fingerprint
    assert a.algorithm == ALGORITHM


def test_another_seed_another_sample():
    a = draw(STRATIFIED, seed=1, size=90, strata=["gender"])
    b = draw(STRATIFIED, seed=2, size=90, strata=["gender"])
    assert set(refs(a.selected)) != set(refs(b.selected))
    assert a.allocation == b.allocation  # sizes do not depend on the seed


def test_sizes_follow_the_allocation_and_probabilities_are_n_over_N():
    result = draw(STRATIFIED, size=120, unit="pdu", strata=["gender"], reserves_per_stratum=3)
    assert result.selected.height == 120 == result.sample_size
    by_stratum = Counter(result.selected.get_column("stratum").to_list())
    for row in result.allocation:
        assert by_stratum.get(row["stratum"], 0) == row["sample"]
        assert row["inclusion_probability"] == pytest.approx(row["sample"] / row["population"])
    table = {r["stratum"]: r for r in result.allocation}
    for case in result.selected.iter_rows(named=True):
        row = table[case["stratum"]]
        assert case["inclusion_probability"] == pytest.approx(row["sample"] / row["population"])
        assert case["weight"] == pytest.approx(row["population"] / row["sample"])
        assert case["unit"] == row["unit"] and case["stratum"].startswith(case["unit"] + "|")
    # weights add up to the frame
    assert sum(result.selected.get_column("weight")) == pytest.approx(600)


def test_reserves_are_disjoint_same_stratum_and_ordered():
    result = draw(STRATIFIED, size=60, unit="pdu", strata=["gender", "rosh"], reserves_per_stratum=3)
    chosen = set(refs(result.selected))
    stratum_of = {r["case_ref"]: (r["pdu"], r["gender"], r["rosh"]) for r in STRATIFIED}
    assert not chosen & set(refs(result.reserves))
    ranks: dict[str, list[int]] = {}
    for reserve in result.reserves.iter_rows(named=True):
        assert "|".join(stratum_of[reserve["case_ref"]]) == reserve["stratum"]
        ranks.setdefault(reserve["stratum"], []).append(reserve["rank"])
    table = {r["stratum"]: r for r in result.allocation}
    for stratum, got in ranks.items():
        assert got == list(range(1, len(got) + 1))
        assert len(got) == table[stratum]["reserves"] == min(3, table[stratum]["population"] - table[stratum]["sample"])
        assert table[stratum]["sample"] > 0


def test_reserves_continue_the_same_random_order():
    # the first reserve is the case the draw would have taken next: a sample one larger takes it
    rows = [{"case_ref": f"C{i:03d}"} for i in range(100)]
    small = draw(rows, size=10, reserves_per_stratum=5)
    larger = draw(rows, size=11)
    first_reserve = small.reserves.row(0, named=True)["case_ref"]
    assert set(refs(larger.selected)) == set(refs(small.selected)) | {first_reserve}


def test_reserve_ratio_rounds_up():
    result = draw(STRATIFIED, size=100, strata=["gender"], reserve_ratio=0.25)
    for row in result.allocation:
        assert row["reserves"] == min(-(-row["sample"] // 4), row["population"] - row["sample"])


def test_balance_table_compares_frame_and_sample_shares():
    result = draw(STRATIFIED, size=100, unit="pdu", strata=["gender"])
    women = sum(r["gender"] == "F" for r in STRATIFIED)
    row = next(r for r in result.balance if r["variable"] == "gender" and r["level"] == "F")
    assert row["frame_count"] == women and row["frame_share"] == pytest.approx(women / 600)
    assert row["sample_share"] == pytest.approx(row["sample_count"] / 100)
    assert row["deviation"] == pytest.approx(row["sample_share"] - row["frame_share"])
    assert {r["variable"] for r in result.balance} == {"pdu", "gender"}
    largest = max(result.balance, key=lambda r: abs(r["deviation"]))
    assert result.largest_deviation == {k: largest[k] for k in ("variable", "level", "deviation")}
    assert abs(result.largest_deviation["deviation"]) < 0.01  # proportional allocation mirrors the frame


def test_overall_mode_honours_the_minimum_per_unit():
    rows = [{"case_ref": f"R{i:04d}", "pdu": "big" if i < 950 else "small"} for i in range(1000)]
    result = draw(rows, size=100, unit="pdu", min_per_unit=20)
    units = {u["unit"]: u["sample"] for u in result.unit_allocation}
    assert units == {"big": 80, "small": 20}
    assert Counter(result.selected.get_column("unit").to_list()) == {"big": 80, "small": 20}


def test_per_unit_mode_sizes_each_unit_to_its_own_precision():
    result = draw(STRATIFIED, precision={"confidence": 0.8, "margin": 0.05}, unit="pdu", unit_mode="per_unit",
                  strata=["gender"])
    for unit in result.unit_allocation:
        expected = required_sample_size(unit["population"])
        assert unit["sample"] == expected.sample_size
        assert unit["working"].after_finite_population_correction == expected.after_finite_population_correction
    assert result.sample_size == sum(u["sample"] for u in result.unit_allocation) == result.selected.height


def test_per_unit_mode_within_capacity_keeps_each_units_own_size():
    result = draw(STRATIFIED, precision={"confidence": 0.8, "margin": 0.05}, unit="pdu", unit_mode="per_unit",
                  capacity=10_000, min_per_unit=5)
    for unit in result.unit_allocation:
        assert unit["sample"] == unit["target"] == required_sample_size(unit["population"]).sample_size


def test_per_unit_mode_short_of_capacity_shares_it_with_the_minimum_per_unit():
    # 950 cases in one PDU, 50 in the other: their own sizes (141 + 39) exceed a capacity of 100, so the
    # capacity is shared in proportion, the small PDU raised to its minimum of 30 and paid for by the large.
    rows = [{"case_ref": f"R{i:04d}", "pdu": "big" if i < 950 else "small"} for i in range(1000)]
    result = draw(rows, precision={"confidence": 0.8, "margin": 0.05}, unit="pdu", unit_mode="per_unit",
                  capacity=100, min_per_unit=30)
    units = {u["unit"]: (u["sample"], u["target"]) for u in result.unit_allocation}
    assert units == {"big": (70, required_sample_size(950).sample_size), "small": (30, required_sample_size(50).sample_size)}
    assert result.sample_size == 100 == result.selected.height


def test_capacity_is_for_per_unit_mode():
    with pytest.raises(ValueError, match="capacity holds per_unit sizes"):
        design(size=10, unit="pdu", capacity=5)


def test_precision_sizes_the_sample_from_the_eligible_frame():
    result = draw(STRATIFIED, precision={"confidence": 0.8, "margin": 0.05}, strata=["gender"])
    assert result.sample_size == required_sample_size(600).sample_size == result.selected.height
    assert result.working.sample_size == result.sample_size


def test_eligibility_window_and_exclusions():
    rows = [dict(r, status=("transferred" if i % 10 == 0 else "active")) for i, r in enumerate(ROWS)]
    rows[5]["start_date"] = None
    result = draw(
        only(rows, ["case_ref", "gender", "start_date", "status"]),
        size=50,
        strata=["gender"],
        eligibility={"column": "start_date", "start": "2024-03-01", "end": "2024-08-31"},
        exclude=[{"column": "status", "values": ["transferred"], "reason": "transferred out"}],
    )
    in_window = [r for r in rows if r["start_date"] and "2024-03-01" <= r["start_date"] <= "2024-08-31"]
    eligible = {r["case_ref"] for r in in_window if r["status"] == "active"}
    assert result.frame_summary["rows"] == 600
    assert result.frame_summary["outside_window"] == 600 - len(in_window)
    assert result.frame_summary["excluded"] == [
        {"column": "status", "reason": "transferred out", "excluded": len(in_window) - len(eligible)}
    ]
    assert result.frame_summary["eligible"] == len(eligible)
    assert set(refs(result.selected)) <= eligible
    assert sum(r["population"] for r in result.allocation) == len(eligible)


def test_missing_values_are_their_own_level():
    rows = [{"case_ref": f"R{i:03d}", "rosh": None if i % 5 == 0 else "high"} for i in range(100)]
    result = draw(rows, size=10, strata=["rosh"])
    assert {r["stratum"]: r["sample"] for r in result.allocation} == {"(missing)": 2, "high": 8}


def test_stratum_names_escape_the_separator():
    rows = [{"case_ref": f"R{i}", "a": "x|y" if i % 2 else "x", "b": "z" if i % 2 else "y|z"} for i in range(10)]
    result = draw(rows, size=4, strata=["a", "b"])
    assert sorted(r["stratum"] for r in result.allocation) == ["x\\|y|z", "x|y\\|z"]


def test_carried_columns_come_back_with_each_case():
    rows = [dict(r, manager=f"M{i % 7}") for i, r in enumerate(only(ROWS, ["case_ref", "gender"]))]
    result = draw(rows, size=20, strata=["gender"], carried=["manager"], reserves_per_stratum=1)
    manager = {r["case_ref"]: r["manager"] for r in rows}
    for case in result.selected.iter_rows(named=True):
        assert case["carried"] == {"manager": manager[case["case_ref"]]}
    assert result.reserves.get_column("carried").to_list()[0]["manager"].startswith("M")


def test_fingerprint_is_the_sha256_of_the_canonical_csv():
    import hashlib

    rows = [{"case_ref": "B2", "gender": "M"}, {"case_ref": "A1", "gender": "F"}, {"case_ref": "C3", "gender": None}]
    expected = hashlib.sha256(b"case_ref,gender\nA1,F\nB2,M\nC3,\n").hexdigest()
    assert draw(rows, size=1, strata=["gender"]).fingerprint == expected


def test_fingerprint_is_the_same_for_json_and_csv_and_changes_with_any_value():
    d = design(size=30, strata=["gender"], unit="pdu")
    rows = only(ROWS, ["case_ref", "pdu", "gender"])
    from_json = draw_sample(read_json_frame(rows, d, LIMIT), d, 1)
    from_csv = draw_sample(read_csv_frame(to_csv(rows), d, LIMIT), d, 1)
    quoted = to_csv(rows).replace(b"\nX", b'\n"X').replace(b",N0", b'",N0')  # same values, quoted refs
    from_quoted = draw_sample(read_csv_frame(quoted, d, LIMIT), d, 1)
    assert from_json.fingerprint == from_csv.fingerprint == from_quoted.fingerprint
    assert from_json.selected.equals(from_csv.selected)
    changed = [dict(r) for r in rows]
    changed[17]["gender"] = "F" if changed[17]["gender"] == "M" else "M"
    assert draw_sample(read_json_frame(changed, d, LIMIT), d, 1).fingerprint != from_json.fingerprint


def test_values_with_commas_and_quotes_keep_a_faithful_fingerprint():
    rows = [{"case_ref": "A1", "team": 'North, "East"'}, {"case_ref": "A2", "team": "South"}]
    d = design(size=1, strata=["team"])
    csv = b'case_ref,team\nA2,South\nA1,"North, ""East"""\n'
    from_csv = draw_sample(read_csv_frame(csv, d, LIMIT), d, 1)
    assert from_csv.fingerprint == draw_sample(read_json_frame(rows, d, LIMIT), d, 1).fingerprint


def test_keys_are_the_documented_chain():
    values = ["X123456", "", "é" * 9, "a" * 8, "a" * 17, "ab\u2603"]
    assert [int(k) for k in prn_keys(values, 99)] == [prn_key(v, 99) for v in values]
    assert [int(k) for k in prn_keys(encode_refs(values), 2**64 - 1)] == [prn_key(v, 2**64 - 1) for v in values]
    # a reference's key never depends on the other references
    assert int(prn_keys(["A1", "A" * 40], 5)[0]) == int(prn_keys(["A1"], 5)[0]) == prn_key("A1", 5)


def test_every_case_in_a_stratum_is_equally_likely():
    # 40 cases in a stratum, 8 drawn, 800 seeds: each case should be chosen 160 times
    rows = [{"case_ref": f"Q{i:03d}", "g": "a" if i < 40 else "b"} for i in range(100)]
    d = design(size=20, strata=["g"])
    frame = read_json_frame(rows, d, LIMIT)
    counts = Counter()
    for seed in range(800):
        chosen = draw_sample(frame, d, seed).selected
        counts.update(chosen.filter(pl.col("stratum") == "a").get_column("case_ref").to_list())
    observed = [counts[f"Q{i:03d}"] for i in range(40)]
    assert sum(observed) == 800 * 8
    assert chisquare(observed).pvalue > 0.001


def test_each_reserve_rank_is_equally_likely_to_go_to_any_case():
    rows = [{"case_ref": f"Q{i:03d}"} for i in range(30)]
    d = design(size=5, reserves_per_stratum=1)
    frame = read_json_frame(rows, d, LIMIT)
    first = Counter(draw_sample(frame, d, seed).reserves.row(0, named=True)["case_ref"] for seed in range(600))
    assert chisquare([first[f"Q{i:03d}"] for i in range(30)]).pvalue > 0.001


frames = st.lists(
    st.tuples(st.sampled_from("ABC"), st.sampled_from("xy")), min_size=1, max_size=60
).map(lambda cells: [{"case_ref": f"K{i:03d}", "s": s, "t": t} for i, (s, t) in enumerate(cells)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames, st.data())
def test_properties_of_any_draw(rows, data):
    size = data.draw(st.integers(1, len(rows)))
    reserves = data.draw(st.integers(0, 4))
    seed = data.draw(st.integers(0, 2**64 - 1))
    result = draw(rows, seed=seed, size=size, strata=["s", "t"], reserves_per_stratum=reserves)
    chosen = refs(result.selected)
    assert len(chosen) == len(set(chosen)) == size
    stratum = {r["case_ref"]: f"{r['s']}|{r['t']}" for r in rows}
    assert not set(chosen) & set(refs(result.reserves))  # disjoint
    for case in result.selected.iter_rows(named=True):
        assert stratum[case["case_ref"]] == case["stratum"]
    for case in result.reserves.iter_rows(named=True):
        assert stratum[case["case_ref"]] == case["stratum"]  # same stratum
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    again = draw(shuffled, seed=seed, size=size, strata=["s", "t"], reserves_per_stratum=reserves)
    assert again.selected.equals(result.selected) and again.reserves.equals(result.reserves)


def test_size_above_the_population_says_by_how_much():
    with pytest.raises(SamplingInputError) as caught:
        draw(STRATIFIED, size=700)
    assert "above the 600 eligible cases by 100" in caught.value.detail
    assert caught.value.faults[0].field == "design.size"


def test_minimum_per_unit_that_cannot_be_met():
    with pytest.raises(SamplingInputError) as caught:
        draw(STRATIFIED, size=30, unit="pdu", min_per_unit=10)
    assert caught.value.detail == "The minimum of 10 cases per unit needs 40 cases, 10 more than the sample of 30."
    assert caught.value.faults[0].field == "design.min_per_unit"


def test_a_frame_object_can_be_built_directly():
    frame = Frame(pl.DataFrame({"case_ref": ["b", "a"]}), "json")
    result = draw_sample(frame, design(size=1), 3)
    assert result.selected.height == 1 and result.selected.row(0, named=True)["stratum"] == "all"


def test_the_packed_sort_and_the_exact_sort_agree():
    import numpy as np

    from sampling.selection.keys import _ranked

    rng = np.random.default_rng(4)
    keys = rng.integers(0, 2**63, 5_000, dtype=np.uint64) * np.uint64(2)
    cells = rng.integers(0, 300, 5_000)
    by_ref = rng.permutation(5_000)
    fast = _ranked(keys, cells, 300, lambda: by_ref)[0]
    exact = by_ref[np.argsort(keys[by_ref], kind="stable")]
    exact = exact[np.argsort(cells[exact], kind="stable")]
    assert (fast == exact).all()
    # equal keys in a stratum: the exact path breaks the tie by case_ref order
    tied = np.zeros(4, dtype=np.uint64)
    in_ref_order = np.array([2, 0, 3, 1])
    assert _ranked(tied, np.zeros(4, dtype=np.int64), 1, lambda: in_ref_order)[0].tolist() == [2, 0, 3, 1]
