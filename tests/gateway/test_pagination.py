"""Keyset pagination, the one helper every list uses: pages in order through ties and missing values,
cursors that only the list could have issued, and page sizes each list declares."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.inspections.repository import NEWEST_FIRST, InspectionFilters, list_inspections
from gateway.pagination import Key, PageQuery, decode_cursor, encode_cursor
from gateway.units.models import Unit
from inspection_shared.problems import InvalidInput
from tests.conftest import TEST_ACTOR
from tests.gateway.factories import make_inspection, make_unit


def _raw(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_a_cursor_carries_its_key_in_the_columns_types():
    moment_id = uuid.uuid4()
    cursor = encode_cursor([date(2026, 3, 2), moment_id])
    assert decode_cursor(cursor, NEWEST_FIRST) == [date(2026, 3, 2), moment_id]
    assert decode_cursor(encode_cursor([None, moment_id]), NEWEST_FIRST) == [None, moment_id]


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        _raw(["2026-03-02"]),  # too short
        _raw(["2026-03-02", str(uuid.uuid4()), 1]),  # too long
        _raw({"start": "2026-03-02"}),  # not a key
        _raw(["2026-13-01", str(uuid.uuid4())]),  # not a date
        _raw(["2026-03-02", "not-a-uuid"]),
        _raw(["2026-03-02", None]),  # only a nullable column may be null
        _raw([20260302, str(uuid.uuid4())]),
    ],
)
def test_a_cursor_the_list_did_not_issue_is_a_422_naming_the_parameter(cursor):
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(cursor, NEWEST_FIRST)
    assert [(e.field, e.message) for e in refused.value.errors] == [("query.cursor", "not a cursor from this list")]


@pytest.mark.parametrize("value", ["N53\x00", "tab\there", True, 53])
def test_text_keys_refuse_control_characters_and_other_types(value):
    with pytest.raises(InvalidInput):
        decode_cursor(_raw([value]), (Key(Unit.code),))


def test_each_list_declares_its_own_page_sizes():
    sized = PageQuery.sized(20, 100)
    assert sized().limit == 20 and sized(limit=100).limit == 100
    with pytest.raises(ValidationError):
        sized(limit=101)
    with pytest.raises(ValidationError):
        sized(limit=0)
    with pytest.raises(ValidationError):
        sized(unexpected=1)
    assert PageQuery.sized(20, 100) is sized  # one model per size, not one per use
    assert PageQuery().limit == 50


DAYS = st.lists(st.one_of(st.none(), st.integers(0, 3).map(lambda n: date(2026, 1, 5) + timedelta(days=n))),
                min_size=0, max_size=9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=DAYS, limit=st.integers(1, 4))
async def test_pages_put_together_are_the_whole_list_in_order(db_session, days, limit):
    """Newest fieldwork first, undated last, ties broken by id: every row once, whatever the page size."""
    unit = await make_unit(db_session)
    made = [
        await make_inspection(db_session, unit=unit, fieldwork_start=day, fieldwork_end=day) for day in days
    ]
    expected = sorted(made, key=lambda i: (i.fieldwork_start is None, -(i.fieldwork_start or date.min).toordinal(),
                                           [-b for b in i.id.bytes]))
    seen, cursor = [], None
    for _ in range(len(made) + 1):
        page = await list_inspections(
            db_session, InspectionFilters(unit_id=unit.id), PageQuery(limit=limit, cursor=cursor), lambda i: i.id,
            visible_to=TEST_ACTOR,
        )
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(page.items) == limit
    assert seen == [i.id for i in expected]
