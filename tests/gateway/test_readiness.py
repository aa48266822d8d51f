"""An inspection's readiness for publication: every condition of its framework's publication gates, met or
not, with the figures it is judged on (answered n of N = share, applicable cases per key question,
judgements present), as a lead inspector reads it before asking for publication."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.ratings.readiness import Rated, conditions
from inspection_shared.library import library
from inspection_shared.rating import RatingRequest, RatingResult
from rating_engine.frameworks.service import resolve_framework
from rating_engine.ratings.service import rate as rate_evidence
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_publishable

INSPECTIONS = "/api/v1/inspections"


async def readiness(gateway, inspection) -> dict:
    response = await gateway.get(f"{INSPECTIONS}/{inspection.id}/readiness")
    assert response.status_code == 200, response.text
    return response.json()


async def rate(gateway, inspection) -> dict:
    run = await gateway.post(f"{INSPECTIONS}/{inspection.id}/rating-runs")
    assert run.status_code == 201, run.text
    return run.json()


def of(body: dict, condition: str, standard: str | None = None) -> dict:
    found = next(c for c in body["conditions"] if (c["condition"], c["standard"]) == (condition, standard))
    return {k: v for k, v in found.items() if k not in ("condition", "standard", "message")}


async def test_a_planned_inspection_lists_every_condition_and_none_is_met_but_its_dates(gateway, db_session):
    inspection = await make_inspection(db_session)
    body = await readiness(gateway, inspection)
    assert {k: body[k] for k in ("inspection_id", "status", "framework_id", "snapshot_sequence", "ready", "unmet")} == {
        "inspection_id": str(inspection.id), "status": "planned", "framework_id": "probation-pdu-2021",
        "snapshot_sequence": None, "ready": False, "unmet": 24,
    }
    assert body["requires"] == library()["probation-pdu-2021"].publication.model_dump(mode="json")
    per_standard = [(c["condition"], c["standard"]) for c in body["conditions"][2:]]
    assert [(c["condition"], c["met"]) for c in body["conditions"][:2]] == [
        ("fieldwork_ended", True), ("rating_snapshot", False),
    ]
    assert per_standard == [
        *((kind, f"1.{n}") for n in range(1, 5) for kind in ("standard_rated", "judgement_recorded")),
        *((kind, f"2.{n}") for n in range(1, 6) for kind in ("standard_rated", "sample_answered", "applicable_cases")),
    ]
    assert of(body, "sample_answered", "2.2") == {
        "met": False, "sample_type": "case_supervision", "answered": 0, "sample": 0, "share": None,
        "minimum_share": 0.9, "not_rated_by_panel": False,
    }
    assert of(body, "judgement_recorded", "1.1") == {"met": False, "judged": False, "not_rated_by_panel": False}


async def test_the_figures_are_those_of_the_latest_snapshot_beside_the_samples_now(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating")

    def answer(n: int, kq: str) -> str | None:
        if n >= 18:
            return None  # two cases of twenty not yet assessed at all
        if kq == "2.3.2" and n >= 15:
            return None  # 2.3.2 answered on fifteen only
        if kq == "2.2.3" and n < 9:
            return "not_applicable"  # nine not applicable: answered, but not applicable
        return "no" if kq == "2.2.1" and n < 4 else "yes"

    await make_publishable(db_session, inspection, cases=20, answer=answer, unjudged=["1.3", "1.4"])
    await rate(gateway, inspection)
    body = await readiness(gateway, inspection)
    assert (body["snapshot_sequence"], body["ready"]) == (1, False)
    assert of(body, "sample_answered", "2.2") == {
        "met": True, "sample_type": "case_supervision", "answered": 18, "sample": 20, "share": 0.9,
        "minimum_share": 0.9, "not_rated_by_panel": False,
    }
    assert of(body, "sample_answered", "2.3") | {"share": None} == {
        "met": False, "sample_type": "case_supervision", "answered": 15, "sample": 20, "share": None,
        "minimum_share": 0.9, "not_rated_by_panel": False,
    }
    assert of(body, "sample_answered", "2.3")["share"] == pytest.approx(0.75)
    assert of(body, "applicable_cases", "2.2") == {
        "met": False, "minimum_applicable": 10, "decided_by_panel": False,
        "key_questions": [
            {"key_question": "2.2.1", "applicable": 18},
            {"key_question": "2.2.2", "applicable": 18},
            {"key_question": "2.2.3", "applicable": 9},
        ],
    }
    # 14 of 18 yes on 2.2.1 (78%): Good, whatever the nine applicable cases of 2.2.3 say.
    assert of(body, "standard_rated", "2.2") == {"met": True, "rating": "good", "not_rated_by_panel": False}
    assert [(s, of(body, "judgement_recorded", s)["judged"]) for s in ("1.1", "1.2", "1.3", "1.4")] == [
        ("1.1", True), ("1.2", True), ("1.3", False), ("1.4", False),
    ]
    assert of(body, "standard_rated", "1.3") == {"met": False, "rating": None, "not_rated_by_panel": False}
    messages = {(c["condition"], c["standard"]): c["message"] for c in body["conditions"]}
    assert messages[("sample_answered", "2.2")] == (
        "2.2 Assessment: 18 of 20 cases of its case_supervision sample answered on each key question (90%), "
        "at least 90% needed."
    )
    assert messages[("standard_rated", "2.2")] == "2.2 Assessment is rated Good."
    assert messages[("judgement_recorded", "1.1")] == "1.1 Leadership is judged by the inspectors."
    assert messages[("applicable_cases", "2.3")] == "2.3 Planning: every key question has at least 10 applicable cases."

    # The judgements recorded after the run count once the evidence is rated again: publication publishes
    # the latest snapshot, and the readiness is of it.
    for standard in ("1.3", "1.4"):
        await make_judgement(db_session, inspection, standard, "good")
    assert of(await readiness(gateway, inspection), "judgement_recorded", "1.3")["judged"] is False
    await rate(gateway, inspection)
    after = await readiness(gateway, inspection)
    assert (after["snapshot_sequence"], of(after, "judgement_recorded", "1.3")["judged"]) == (2, True)
    assert sorted((c["condition"], c["standard"]) for c in after["conditions"] if not c["met"]) == [
        ("applicable_cases", "2.2"), ("sample_answered", "2.3"),
    ]


async def test_cases_outside_a_standards_case_filter_are_not_its_to_answer(gateway, db_session):
    inspection = await make_inspection(db_session, status="rating", framework_id="probation-crc-2018")
    answers = {"3.1.1": "yes", "3.1.2": "yes", "3.1.3": "yes"}
    await make_assessed_sample(db_session, inspection, "unpaid_work", [
        *({"case_ref": f"U{n:06d}", "answers": answers, "attributes": {"unpaid_work_requirement": True}}
          for n in range(12)),
        # Recorded as having no unpaid work requirement: outside 3.1's case filter.
        *({"case_ref": f"V{n:06d}", "answers": {"3.1.1": "not_applicable"},
           "attributes": {"unpaid_work_requirement": False}} for n in range(3)),
        {"case_ref": "W000001"},  # not assessed yet
    ])
    await rate(gateway, inspection)
    assert of(await readiness(gateway, inspection), "sample_answered", "3.1") == {
        "met": True, "sample_type": "unpaid_work", "answered": 12, "sample": 13, "share": pytest.approx(12 / 13),
        "minimum_share": 0.9, "not_rated_by_panel": False,
    }


async def test_a_complete_inspection_is_ready_and_stays_so_once_published(gateway, db_session):
    inspection = await make_inspection(
        db_session, status="rating", fieldwork_start=date(2026, 3, 2), fieldwork_end=date(2026, 3, 20)
    )
    await make_publishable(db_session, inspection)
    await rate(gateway, inspection)
    body = await readiness(gateway, inspection)
    assert (body["ready"], body["unmet"], len(body["conditions"])) == (True, 0, 25)
    assert of(body, "fieldwork_ended") | {"today": None} == {"met": True, "fieldwork_end": "2026-03-20", "today": None}
    assert (await gateway.post(f"{INSPECTIONS}/{inspection.id}/transitions", json={"to": "published"})).status_code == 200
    published = await readiness(gateway, inspection)
    assert (published["status"], published["ready"]) == ("published", True)


async def test_readiness_of_an_unknown_inspection_is_a_404(gateway):
    missing = "00000000-0000-4000-8000-000000000000"
    response = await gateway.get(f"{INSPECTIONS}/{missing}/readiness")
    assert (response.status_code, response.json()["detail"]) == (404, f"No inspection {missing}")


# --- the pure core, without the database ---------------------------------------------------------------


def _rated_counts(applicable: int) -> Rated:
    """Snapshot 1 of probation-pdu-2021 with 2.2 rated from counts: `applicable` yes on each key question."""
    counts = {f"2.2.{n}": {"yes": applicable, "applicable": applicable} for n in (1, 2, 3)}
    request = RatingRequest.model_validate({"framework": "probation-pdu-2021", "standards": [
        {"standard": "2.2", "counts": counts}]})
    return Rated(1, RatingResult.model_validate(rate_evidence(resolve_framework("probation-pdu-2021"), request)))


@pytest.mark.parametrize(("answered", "met"), [(27, True), (26, False)])
def test_the_share_is_compared_exactly(answered: int, met: bool):
    # 27 / 30 is 0.9 exactly, as the framework's 0.9 means: no float rounding either way.
    found = conditions(library()["probation-pdu-2021"], _rated_counts(answered), {"case_supervision": 30},
                       date(2026, 3, 20), date(2026, 3, 21))
    share = next(c for c in found if (c.condition, c.standard) == ("sample_answered", "2.2"))
    assert (share.answered, share.sample, share.met) == (answered, 30, met)


def test_a_framework_without_publication_gates_cannot_be_published():
    framework = library()["probation-pdu-2021"].model_copy(update={"publication": None})
    found = conditions(framework, _rated_counts(30), {}, date(2026, 3, 20), date(2026, 3, 21))
    assert [(c.condition, c.met) for c in found] == [
        ("fieldwork_ended", True), ("rating_snapshot", True), ("publication_gates", False),
    ]
    assert found[2].message == (
        "Framework probation-pdu-2021 states no publication gates, so nothing under it can be published."
    )
