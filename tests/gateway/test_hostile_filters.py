"""Hostile values in every filter: SQL that would widen a query, LIKE wildcards, and strings far over any
limit, sent in each query parameter of each list the API offers (found in its OpenAPI document, so a new
filter is covered when it is added). Each is answered 200 or 422, never 500; a 422 names the parameter; a
200 matches nothing (the values match no record, so a filter that widened the query would show rows); and
the tables are as they were."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from gateway.audit.models import AuditEntry
from gateway.consultations.models import Consultation, ConsultationQuestion
from gateway.events.models import WebhookSubscription
from gateway.identity.models import User
from gateway.inspections.models import Inspection
from gateway.units.models import Unit
from tests.gateway.factories import make_assessed_sample, make_inspection, make_unit

HOSTILE = {
    "quote": "' OR '1'='1",
    "comment": "x'; DROP TABLE units; --",
    "union": "1 UNION SELECT email, password_hash FROM users --",
    "wildcards": "%_%",
    "backslash": "\\' OR 1=1 \\",
    "oversized": "A" * 20_000,
}


@pytest.fixture
async def records(db_session):
    region = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, parent=region)
    inspection = await make_inspection(db_session, unit=pdu, status="rating")
    cases = [{"case_ref": f"H{i:06d}", "answers": {kq: "yes" for kq in ("2.2.1", "2.2.2", "2.2.3")}} for i in range(3)]
    sample = await make_assessed_sample(db_session, inspection, "case_supervision", cases)
    webhook = WebhookSubscription(url="https://receiver.example.org/hooks", event_types=["inspection.published"],
                                  signing_key=bytes(32), considered_through=0)
    consultation = Consultation(title="Programme 2027-28", programme_years=["2027-28"], opens=date(2026, 12, 1),
                                closes=date(2027, 1, 31), deadline=date(2027, 1, 31), version=1)
    db_session.add_all([webhook, consultation])
    await db_session.flush()
    db_session.add(ConsultationQuestion(consultation_id=consultation.id, key="q1", section="core_inspections",
                                        position=0, text="Which units should be inspected first?"))
    await db_session.flush()
    return {"inspection_id": inspection.id, "unit_id": pdu.id, "region_id": region.id, "sample_id": sample.id,
            "subscription_id": webhook.id, "consultation_id": consultation.id, "year": "2024-25"}


def _filters(document: dict) -> list[tuple[str, str]]:
    """(path, parameter) for every query parameter of every GET, but the page's size and cursor."""
    return [
        (path, parameter["name"])
        for path, operations in document["paths"].items() if "get" in operations
        for parameter in operations["get"].get("parameters", [])
        if parameter["in"] == "query" and parameter["name"] not in ("limit",)
    ]


def _matched(body) -> list | None:
    """What a 200 found: a list's items, or the figures a statistics answer counted."""
    if isinstance(body, list):
        return body
    if "items" in body:
        return body["items"]
    if "current" in body:  # the annual dataset: two years of figures
        return body["current"]["standards"] + body["previous"]["standards"]
    return next((body[k] for k in ("standards", "key_questions", "years") if k in body), None)


async def _counts(session) -> dict[str, int]:
    return {model.__tablename__: await session.scalar(select(func.count()).select_from(model))
            for model in (Unit, Inspection, User)}


async def test_every_filter_answers_hostile_values_with_nothing_or_a_422_naming_it(gateway, gateway_app, records, db_session):
    filters = _filters(gateway_app.openapi())
    assert len(filters) >= 30, filters  # the lists and their filters, as the document gives them
    before = await _counts(db_session)
    audit_before = await db_session.scalar(select(func.count()).select_from(AuditEntry))
    answered: dict[int, int] = {}
    for path, name in filters:
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(records[m.group(1)]), path)
        for label, value in HOSTILE.items():
            response = await gateway.get(concrete, params={name: value})
            answered[response.status_code] = answered.get(response.status_code, 0) + 1
            where = (path, name, label)
            # A format no route writes may be refused as not acceptable (the report's formats) instead.
            refusals = (422, 406) if name == "format" else (422,)
            assert response.status_code in (200, *refusals), (where, response.status_code, response.text[:300])
            if response.status_code == 406:
                assert response.json()["type"] == "/problems/not-acceptable", where
            elif response.status_code == 422:
                body = response.json()
                assert body["type"] == "/problems/invalid-input", where
                assert any(re.fullmatch(rf"query\.{name}(\.\d+)?", error["field"]) for error in body["errors"]), (where, body)
                assert value not in response.text or len(value) < 100, where  # an oversized value is not echoed
            else:
                assert _matched(response.json()) == [], (where, response.text[:300])
    # Both kinds of answer were met: the filters that take free text match nothing, the others refuse.
    assert answered.get(200, 0) >= 40 and answered.get(422, 0) >= 200, answered
    assert await _counts(db_session) == before
    assert await db_session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


@pytest.mark.parametrize("value", ["%", "_", "\\", "%%"])
async def test_like_wildcards_in_a_units_free_text_search_match_only_themselves(gateway, db_session, value):
    await make_unit(db_session, name="Wildcard Borough PDU", code="WB1")
    answer = await gateway.get("/api/v1/units", params={"q": value})
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == []
