"""Publication gates: an inspection is published complete. Each condition its framework's publication gates
set refuses publication alone, and all of them at once are listed together; the ratings panel meets them
by marking a standard not rated or confirming its rating; fieldwork must have ended, and no two open
inspections of a unit share fieldwork days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.frameworks.service import import_frameworks
from inspection_shared.library import library
from tests.gateway.factories import make_inspection, make_publishable, make_unit

INSPECTIONS = "/api/v1/inspections"
PROBLEM = "application/problem+json"


def today() -> date:
    return datetime.now(UTC).date()


async def rate(gateway, inspection) -> dict:
    run = await gateway.post(f"{INSPECTIONS}/{inspection.id}/rating-runs")
    assert run.status_code == 201, run.text
    return run.json()


async def decide(gateway, inspection, *overrides: dict) -> dict:
    decided = await gateway.post(f"{INSPECTIONS}/{inspection.id}/panel-decisions", json={"overrides": list(overrides)})
    assert decided.status_code == 201, decided.text
    return decided.json()


async def publish(gateway, inspection):
    return await gateway.post(f"{INSPECTIONS}/{inspection.id}/transitions", json={"to": "published"})


async def readiness(gateway, inspection) -> dict:
    response = await gateway.get(f"{INSPECTIONS}/{inspection.id}/readiness")
    assert response.status_code == 200, response.text
    return response.json()


async def refused(gateway, inspection) -> dict:
    """Publication refused: the 409 problem, the inspection left in rating with nothing recorded of it."""
    response = await publish(gateway, inspection)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    read = (await gateway.get(f"{INSPECTIONS}/{inspection.id}")).json()
    assert (read["status"], read["published_at"]) == ("rating", None)
    history = (await gateway.get(f"{INSPECTIONS}/{inspection.id}/history")).json()["items"]
    assert "published" not in [change["to_status"] for change in history]
    return response.json()


def listed(body: dict) -> list[tuple[str, str | None]]:
    return [(c["condition"], c["standard"]) for c in body["conditions"]]


def one_of(body: dict, condition: str, standard: str | None = None) -> dict:
    return next(c for c in body["conditions"] if (c["condition"], c["standard"]) == (condition, standard))


async def draft_copy(db_session, framework_id: str, **gates) -> str:
    """A copy of a library version with some of its publication gates changed; its id."""
    original = library()[framework_id]
    copy = original.model_copy(update={
        "id": f"{framework_id}-gates", "status": "published",
        "publication": original.publication.model_copy(update=gates),
    })
    await import_frameworks(db_session, [copy])
    return copy.id


# --- a complete inspection ---------------------------------------------------------------------------


async def test_a_complete_inspection_is_published_with_its_ratings(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    await make_publishable(db_session, inspection)
    run = await rate(gateway, inspection)
    assert (await readiness(gateway, inspection))["ready"] is True
    published = await publish(gateway, inspection)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    history = (await gateway.get(f"{INSPECTIONS}/{inspection.id}/history")).json()["items"]
    assert history[-1]["details"] == {"snapshot_id": run["id"], "snapshot_sequence": 1, "overall_rating": "outstanding"}


# --- each gate failing alone -------------------------------------------------------------------------


async def test_publication_before_fieldwork_has_ended_is_refused(gateway, db_session):
    for last_day in (today(), today() + timedelta(days=4)):
        inspection = await make_inspection(
            db_session, status="rating", fieldwork_start=last_day - timedelta(days=11), fieldwork_end=last_day
        )
        await make_publishable(db_session, inspection)
        await rate(gateway, inspection)
        body = await refused(gateway, inspection)
        assert body["conditions"] == [{
            "condition": "fieldwork_ended", "standard": None, "met": False,
            "fieldwork_end": last_day.isoformat(), "today": today().isoformat(),
            "message": f"Fieldwork ends on {last_day.isoformat()}: an inspection is published only after its "
            "fieldwork has ended.",
        }]
        assert body["detail"] == (
            f"Inspection {inspection.id} cannot be published yet: Fieldwork ends on {last_day.isoformat()}: an "
            "inspection is published only after its fieldwork has ended."
        )
    # The day after the last day of fieldwork, it may.
    ended = await make_inspection(
        db_session, status="rating", fieldwork_start=today() - timedelta(days=12), fieldwork_end=today() - timedelta(days=1)
    )
    await make_publishable(db_session, ended)
    await rate(gateway, ended)
    assert (await publish(gateway, ended)).status_code == 200


async def test_a_scored_standard_without_a_rating_is_refused(gateway, db_session):
    # youth-2021's 3.4 is judged but outside domain one: without its judgement it is simply unrated.
    inspection = await make_inspection(db_session, status="rating", framework_id="youth-2021")
    await make_publishable(db_session, inspection, unjudged=["3.4"])
    await rate(gateway, inspection)
    body = await refused(gateway, inspection)
    assert body["conditions"] == [{
        "condition": "standard_rated", "standard": "3.4", "met": False, "rating": None, "not_rated_by_panel": False,
        "message": "3.4 Out-of-court disposal policy and provision has no rating: rate its evidence, or have the "
        "ratings panel mark it not rated with a reason.",
    }]


async def test_a_domain_one_standard_without_its_judgement_is_refused(gateway, db_session):
    # Alone only where scored standards need no rating: a framework whose gates say so.
    framework_id = await draft_copy(db_session, "probation-pdu-2021", scored_standards_rated=False)
    inspection = await make_inspection(db_session, status="rating", framework_id=framework_id, type="pilot")
    await make_publishable(db_session, inspection, unjudged=["1.2"])
    await rate(gateway, inspection)
    body = await refused(gateway, inspection)
    assert body["conditions"] == [{
        "condition": "judgement_recorded", "standard": "1.2", "met": False, "judged": False,
        "not_rated_by_panel": False,
        "message": "1.2 Staff has no inspectors' judgement in the ratings: record it and rate again, or have the "
        "ratings panel mark the standard not rated with a reason.",
    }]


async def test_a_sample_answered_below_the_minimum_share_is_refused(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    # Two of the twelve court reports unanswered on 2.1.1: 10 of 12 is 83%, under 90%.
    await make_publishable(db_session, inspection, answer=lambda n, kq: None if kq == "2.1.1" and n < 2 else "yes")
    await rate(gateway, inspection)
    body = await refused(gateway, inspection)
    assert body["conditions"] == [{
        "condition": "sample_answered", "standard": "2.1", "met": False, "sample_type": "court_reports",
        "answered": 10, "sample": 12, "share": pytest.approx(10 / 12), "minimum_share": 0.9,
        "not_rated_by_panel": False,
        "message": "2.1 Court work: 10 of 12 cases of its court_reports sample answered on each key question "
        "(83%): at least 90% are to be answered, or the ratings panel marks the standard not rated with a reason.",
    }]


async def test_a_rating_from_too_few_applicable_cases_needs_the_panel(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    # Three cases not applicable on 2.2.3: 9 applicable, under 10. The rating itself is as the rules give it.
    await make_publishable(
        db_session, inspection, answer=lambda n, kq: "not_applicable" if kq == "2.2.3" and n < 3 else "yes"
    )
    run = await rate(gateway, inspection)
    assert next(s for s in run["result"]["standards"] if s["standard"] == "2.2")["rating"] == "outstanding"
    body = await refused(gateway, inspection)
    assert body["conditions"] == [{
        "condition": "applicable_cases", "standard": "2.2", "met": False, "minimum_applicable": 10,
        "decided_by_panel": False,
        "key_questions": [
            {"key_question": "2.2.1", "applicable": 12},
            {"key_question": "2.2.2", "applicable": 12},
            {"key_question": "2.2.3", "applicable": 9},
        ],
        "message": "2.2 Assessment: key question 2.2.3 (9) has fewer than 10 applicable cases: the ratings panel "
        "confirms (or sets) the standard's rating with a reason, or marks it not rated.",
    }]


# --- all at once -------------------------------------------------------------------------------------


async def test_every_unmet_condition_is_listed_at_once(gateway, db_session):
    inspection = await make_inspection(
        db_session, status="rating", fieldwork_start=today() - timedelta(days=5), fieldwork_end=today() + timedelta(days=2)
    )

    def answer(n: int, kq: str) -> str | None:
        if kq == "2.1.1" and n < 2:
            return None
        return "not_applicable" if kq in ("2.2.3", "2.4.1") and n < 3 else "yes"

    await make_publishable(db_session, inspection, answer=answer, unjudged=["1.2"])
    await rate(gateway, inspection)
    body = await refused(gateway, inspection)
    assert listed(body) == [
        ("fieldwork_ended", None),
        ("standard_rated", "1.2"),
        ("judgement_recorded", "1.2"),
        ("sample_answered", "2.1"),
        ("applicable_cases", "2.2"),
        ("applicable_cases", "2.4"),
    ]
    assert all(c["met"] is False for c in body["conditions"])
    assert body["detail"] == (
        f"Inspection {inspection.id} cannot be published yet: Fieldwork ends on "
        f"{(today() + timedelta(days=2)).isoformat()}: an inspection is published only after its fieldwork has "
        "ended. (and 5 more, listed in `conditions`)"
    )
    # The readiness is the same function: its unmet conditions are exactly those refused.
    ready = await readiness(gateway, inspection)
    assert (ready["ready"], ready["unmet"]) == (False, 6)
    assert [c for c in ready["conditions"] if not c["met"]] == body["conditions"]


# --- the panel's ways to meet them -------------------------------------------------------------------


async def test_the_panel_marks_a_short_standard_not_rated_and_it_is_published_unrated(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    await make_publishable(db_session, inspection, answer=lambda n, kq: None if kq == "2.1.1" and n < 2 else "yes")
    await rate(gateway, inspection)
    assert listed(await refused(gateway, inspection)) == [("sample_answered", "2.1")]

    reason = "Too few court reports could be read to rate court work."
    decided = await decide(gateway, inspection, {"standard": "2.1", "rating": "not_rated", "reason": reason})
    court_work = next(s for s in decided["result"]["standards"] if s["standard"] == "2.1")
    assert (court_work["computed_rating"], court_work["rating"], court_work["overridden"]) == ("outstanding", None, True)
    assert decided["result"]["overall"]["rating"] == "not_rated"

    ready = await readiness(gateway, inspection)
    assert ready["ready"] is True
    assert {k: one_of(ready, "sample_answered", "2.1")[k] for k in ("met", "answered", "sample", "not_rated_by_panel")} == {
        "met": True, "answered": 10, "sample": 12, "not_rated_by_panel": True,
    }
    assert one_of(ready, "standard_rated", "2.1") | {"message": None} == {
        "condition": "standard_rated", "standard": "2.1", "met": True, "rating": None, "not_rated_by_panel": True,
        "message": None,
    }
    assert one_of(ready, "standard_rated", "2.1")["message"] == (
        f"2.1 Court work is marked not rated by the ratings panel: {reason}"
    )
    assert (await publish(gateway, inspection)).status_code == 200
    summary = (await gateway.get(f"{INSPECTIONS}/{inspection.id}/summary")).json()
    assert summary["ratings"]["overall"]["rating"] == "not_rated"


async def test_a_standard_without_evidence_can_only_be_marked_not_rated(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    # No court report read at all: 2.1 has no evidence.
    await make_publishable(db_session, inspection, answer=lambda n, kq: None if kq.startswith("2.1.") else "yes")
    await rate(gateway, inspection)
    assert listed(await refused(gateway, inspection)) == [
        ("standard_rated", "2.1"), ("sample_answered", "2.1"), ("applicable_cases", "2.1"),
    ]
    path = f"{INSPECTIONS}/{inspection.id}/panel-decisions"
    rating = await gateway.post(path, json={"overrides": [{"standard": "2.1", "rating": "good", "reason": "Seen."}]})
    assert rating.status_code == 422, rating.text
    assert rating.json()["errors"] == [{
        "field": "body.overrides.0.standard",
        "message": "standard 2.1 has no evidence in snapshot 1, so no computed rating to set aside; record its "
        "evidence and run the rating again, or mark it not_rated",
    }]
    await decide(gateway, inspection, {"standard": "2.1", "rating": "not_rated", "reason": "No court reports in the period."})
    # A re-run keeps the mark although 2.1 still has no evidence.
    run = await rate(gateway, inspection)
    assert [o["standard"] for o in run["carried_overrides"]] == ["2.1"]
    assert (await readiness(gateway, inspection))["ready"] is True
    assert (await publish(gateway, inspection)).status_code == 200


async def test_the_panel_confirms_a_rating_from_few_applicable_cases(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")
    await make_publishable(
        db_session, inspection, answer=lambda n, kq: "not_applicable" if kq == "2.2.3" and n < 3 else "yes"
    )
    await rate(gateway, inspection)
    assert listed(await refused(gateway, inspection)) == [("applicable_cases", "2.2")]

    reason = "Nine cases, all sufficient: the panel confirms Outstanding."
    decided = await decide(gateway, inspection, {"standard": "2.2", "rating": "outstanding", "reason": reason})
    assessment = next(s for s in decided["result"]["standards"] if s["standard"] == "2.2")
    assert (assessment["computed_rating"], assessment["rating"], assessment["override_reason"]) == (
        "outstanding", "outstanding", reason,
    )
    assert assessment["explanation"].endswith(" The ratings panel confirmed Outstanding.")
    condition = one_of(await readiness(gateway, inspection), "applicable_cases", "2.2")
    assert (condition["met"], condition["decided_by_panel"]) == (True, True)
    assert condition["message"] == (
        "2.2 Assessment: key question 2.2.3 (9) has fewer than 10 applicable cases; the ratings panel decided its "
        "rating with a reason."
    )
    # A re-run carries the confirmation forward.
    await rate(gateway, inspection)
    assert (await readiness(gateway, inspection))["ready"] is True
    assert (await publish(gateway, inspection)).status_code == 200


# --- dates: no two open inspections of a unit in the field together ----------------------------------


def plan(unit, start: str, end: str) -> dict:
    return {"unit_id": str(unit.id), "framework_id": "probation-pdu-2021", "type": "core",
            "title": "Inspection of probation services", "fieldwork_start": start, "fieldwork_end": end}


async def test_planning_fieldwork_that_overlaps_an_open_inspection_is_refused_naming_it(gateway, db_session):
    unit = await make_unit(db_session)
    open_one = await make_inspection(
        db_session, unit=unit, status="pre_fieldwork", title="Spring inspection",
        fieldwork_start=date(2027, 3, 1), fieldwork_end=date(2027, 3, 19),
    )
    response = await gateway.post(INSPECTIONS, json=plan(unit, "2027-03-19", "2027-03-26"))
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["overlapping"] == {
        "id": str(open_one.id), "title": "Spring inspection", "status": "pre_fieldwork",
        "fieldwork_start": "2027-03-01", "fieldwork_end": "2027-03-19",
    }
    assert body["detail"] == (
        f"Fieldwork from 2027-03-19 to 2027-03-26 overlaps that of inspection {open_one.id} (Spring inspection) of "
        f"{unit.code}, 2027-03-01 to 2027-03-19, which is pre_fieldwork: a unit is inspected by one open inspection "
        "at a time. Choose other dates, or withdraw that inspection."
    )
    assert body["errors"] == [{
        "field": "body.fieldwork_start", "message": f"overlaps the fieldwork of inspection {open_one.id} (Spring inspection)",
    }]
    listed_now = (await gateway.get(INSPECTIONS, params={"unit_id": str(unit.id)})).json()["items"]
    assert [i["id"] for i in listed_now] == [str(open_one.id)]

    # The day after it ends is free; so are the days of published and withdrawn inspections.
    assert (await gateway.post(INSPECTIONS, json=plan(unit, "2027-03-20", "2027-03-26"))).status_code == 201
    for status, start in (("published", date(2027, 6, 7)), ("withdrawn", date(2027, 9, 6))):
        await make_inspection(db_session, unit=unit, status=status, fieldwork_start=start,
                              fieldwork_end=start + timedelta(days=11))
        created = await gateway.post(INSPECTIONS, json=plan(unit, start.isoformat(), (start + timedelta(days=4)).isoformat()))
        assert created.status_code == 201, created.text
    # Another unit's fieldwork is no concern.
    other = await make_unit(db_session)
    assert (await gateway.post(INSPECTIONS, json=plan(other, "2027-03-01", "2027-03-19"))).status_code == 201


async def test_rescheduling_onto_an_open_inspections_fieldwork_is_refused(gateway, db_session):
    unit = await make_unit(db_session)
    first = await make_inspection(db_session, unit=unit, fieldwork_start=date(2027, 3, 1), fieldwork_end=date(2027, 3, 19))
    second = await make_inspection(db_session, unit=unit, fieldwork_start=date(2027, 5, 3), fieldwork_end=date(2027, 5, 21))
    path = f"{INSPECTIONS}/{second.id}"
    moved = await gateway.patch(path, json={"fieldwork_start": "2027-03-15", "fieldwork_end": "2027-03-31"},
                                headers={"If-Match": '"1"'})
    assert moved.status_code == 409, moved.text
    assert moved.json()["overlapping"]["id"] == str(first.id)
    after = await gateway.get(path)
    assert (after.json()["fieldwork_start"], after.headers["etag"]) == ("2027-05-03", '"1"')
    # One day moved alone is checked as the whole plan would stand: clear of the other, it moves.
    within = await gateway.patch(path, json={"fieldwork_start": "2027-05-10"}, headers={"If-Match": '"1"'})
    assert within.status_code == 200, within.text
    # Once the first is withdrawn its days are free.
    withdrawn = await gateway.post(f"{INSPECTIONS}/{first.id}/transitions", json={"to": "withdrawn", "note": "Replanned."})
    assert withdrawn.status_code == 200
    clear = await gateway.patch(path, json={"fieldwork_start": "2027-03-15", "fieldwork_end": "2027-03-31"},
                                headers={"If-Match": '"2"'})
    assert clear.status_code == 200, clear.text
