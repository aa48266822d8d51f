"""CSV for spreadsheets: a text that would run as a formula is written as plain text; everything else as is."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from inspection_shared.exports import FORMULA_STARTS, cell, csv_text


def test_formula_like_texts_are_made_plain_and_numbers_kept():
    assert [cell(v) for v in ["=1+1", "+44 20", "-2 cases", "@SUM(A1)", "\tx", "Good", "", -3, -0.5, None]] == [
        "'=1+1", "'+44 20", "'-2 cases", "'@SUM(A1)", "'\tx", "Good", "", -3, -0.5, None]


def test_the_csv_reads_back_with_each_cell_in_place():
    text = csv_text(["reason", "score"], [["=HYPERLINK(\"http://x\")", -2], ["Late, then \"fixed\"", None]],
                    before=[["DRAFT"]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["DRAFT"], ["reason", "score"], ["'=HYPERLINK(\"http://x\")", "-2"], ["Late, then \"fixed\"", ""]]


@given(st.text())
def test_no_text_cell_begins_as_a_formula_and_only_an_apostrophe_is_added(value):
    written = cell(value)
    assert not written.startswith(FORMULA_STARTS)
    assert written in (value, "'" + value)
