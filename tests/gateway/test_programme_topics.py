"""Thematic inspections and research: the 2020 consultation letter's criteria as data with weights the
inspectorate changes (who and why kept), its topics, scores with rationales, and the ranking, its totals
recomputed by hand; one scoring serves thematic inspections and research."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from gateway.permissions import Role
from gateway.programme import scoring
from tests.conftest import TEST_ADMIN_ID
from tests.gateway.test_scoping import holding, nationally

PROGRAMME = "/api/v1/programme"
LETTER_CRITERIA = {
    "current_risk": ("Current level of risk", [
        "Risks to public protection / safeguarding",
        "Significant changes to policy, service delivery or caseloads",
        "Findings from other inspections",
        "Intelligence received from any source",
    ]),
    "potential_impact": ("Potential impact", [
        "Potential impact of our findings",
        "Ministerial and other key stakeholder interests",
        "Quality of current evidence",
        "Time elapsed since last inspection",
        "Development of inspection standards and/or position statements",
    ]),
    "other": ("Other", ["Suited to thematic inspection or research", "Estimated resource requirements"]),
}


async def test_the_letters_eleven_criteria_are_held_in_their_three_groups_at_weight_one(gateway):
    criteria = (await gateway.get(f"{PROGRAMME}/criteria")).json()
    assert {g["id"]: (g["name"], [c["name"] for c in g["criteria"]]) for g in criteria["groups"]} == LETTER_CRITERIA
    assert [g["id"] for g in criteria["groups"]] == ["current_risk", "potential_impact", "other"]
    assert {c["weight"] for g in criteria["groups"] for c in g["criteria"]} == {1.0}
    assert (criteria["lowest_score"], criteria["highest_score"]) == (0, 5)


async def _weigh(gateway, criterion_id: str, weight: float, reason: str = "Reason.") -> dict:
    held = await gateway.get(f"{PROGRAMME}/criteria/{criterion_id}")
    changed = await gateway.put(f"{PROGRAMME}/criteria/{criterion_id}", json={"weight": weight, "reason": reason},
                                headers={"If-Match": held.headers["etag"]})
    assert changed.status_code == 200, changed.text
    return changed.json()


async def test_a_weight_changes_with_who_and_why_kept_and_audited(gateway):
    held = await gateway.get(f"{PROGRAMME}/criteria/public-protection")
    unasked = await gateway.put(f"{PROGRAMME}/criteria/public-protection", json={"weight": 3, "reason": "Why."})
    assert unasked.status_code == 428
    why = "Public protection weighs most while the probation model changes."
    changed = await _weigh(gateway, "public-protection", 3, why)
    assert (changed["weight"], changed["updated_by"], changed["version"]) == (3.0, str(TEST_ADMIN_ID),
                                                                              held.json()["version"] + 1)
    assert [(c["weight_before"], c["weight_after"], c["reason"], c["changed_by"]) for c in changed["changes"]] == [
        (1.0, 3.0, why, str(TEST_ADMIN_ID))
    ]
    stale = await gateway.put(f"{PROGRAMME}/criteria/public-protection", json={"weight": 2, "reason": "Why."},
                              headers={"If-Match": held.headers["etag"]})
    assert stale.status_code == 412
    audit = (await gateway.get("/api/v1/audit", params={"entity": "programme_criteria", "action": "update",
                                                        "entity_id": "public-protection"})).json()["items"]
    assert [(e["action"], e["before"]["weight"], e["after"]["weight"], e["actor_id"]) for e in audit] == [
        ("update", 1.0, 3.0, str(TEST_ADMIN_ID))
    ]
    kept = (await gateway.get("/api/v1/audit", params={"entity": "programme_criterion_changes"})).json()["items"]
    assert [e["after"]["reason"] for e in kept] == [why]


async def test_bad_weights_and_unknown_criteria_are_refused(gateway):
    held = await gateway.get(f"{PROGRAMME}/criteria/resources")
    for body, field in (({"weight": -1, "reason": "x"}, "body.weight"), ({"weight": 2}, "body.reason"),
                        ({"weight": True, "reason": "x"}, "body.weight")):
        refused = await gateway.put(f"{PROGRAMME}/criteria/resources", json=body,
                                    headers={"If-Match": held.headers["etag"]})
        assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, field)
    missing = await gateway.put(f"{PROGRAMME}/criteria/nonesuch", json={"weight": 2, "reason": "x"},
                                headers={"If-Match": '"1"'})
    assert (missing.status_code, missing.json()["detail"]) == (404, "No criterion nonesuch")


async def test_the_letters_topics_are_seeded_with_names_kinds_and_groups_only(gateway):
    async def topics(year: str) -> list[dict]:
        return (await gateway.get(f"{PROGRAMME}/topics", params={"programme_year": year, "limit": 200})).json()["items"]

    planned, candidates = await topics("2020-21"), await topics("2021-22")
    thematic = sorted(t["name"] for t in planned if t["kind"] == "thematic_inspection")
    assert thematic == ["Accommodation", "Independent review of the Joseph McCann case", "Mental health",
                        "Offender Management in Custody (OMiC)", "Serious youth violence", "Substance misuse"]
    assert {t["kind"] for t in planned} == {"thematic_inspection", "primary_research", "secondary_analysis"}
    assert len([t for t in planned if t["kind"] == "primary_research"]) == 4
    assert len([t for t in planned if t["kind"] == "secondary_analysis"]) == 4
    assert len(candidates) == 21
    women = next(t for t in candidates if t["name"].startswith("Women"))
    assert (women["groups"], women["status"], women["scores"], women["lead"]) == (["adults", "cohorts"], "proposed",
                                                                                  [], None)
    assert next(t for t in planned if t["name"] == "Serious youth violence")["groups"] == ["youth"]


def _scores(**marks: int) -> list[dict]:
    return [{"criterion_id": c, "score": s, "rationale": f"Why {c} scores {s}."} for c, s in marks.items()]


async def _topic(gateway, name: str, kind: str = "thematic_inspection", **marks: int) -> dict:
    made = await gateway.post(f"{PROGRAMME}/topics", json={
        "name": name, "kind": kind, "programme_year": "2022-23", "groups": ["adults"], "scores": _scores(**marks),
    })
    assert made.status_code == 201, made.text
    return made.json()


async def test_topics_rank_by_weighted_totals_shown_part_by_part(gateway):
    await _weigh(gateway, "public-protection", 3)
    await _weigh(gateway, "resources", 0.5)
    # One scoring for both kinds: a thematic inspection and research ranked together.
    await _topic(gateway, "Women", **{"public-protection": 2, "time-since-inspection": 5, "resources": 4})
    await _topic(gateway, "Trauma", kind="primary_research", **{"public-protection": 4, "resources": 2})
    await _topic(gateway, "Facilities", **{"quality-of-evidence": 5, "suitability": 5, "intelligence": 2})
    ranking = (await gateway.get(f"{PROGRAMME}/topics/ranking", params={"programme_year": "2022-23"})).json()["items"]
    # By hand: Women 3 x 2 + 1 x 5 + 0.5 x 4 = 13; Trauma 3 x 4 + 0.5 x 2 = 13; Facilities 5 + 5 + 2 = 12.
    assert [(r["rank"], r["name"], r["kind"], r["total"]) for r in ranking] == [
        (1, "Trauma", "primary_research", 13.0), (1, "Women", "thematic_inspection", 13.0),
        (3, "Facilities", "thematic_inspection", 12.0),
    ]
    women = next(r for r in ranking if r["name"] == "Women")
    parts = {p["criterion_id"]: p for p in women["parts"]}
    assert len(parts) == 11
    assert (parts["public-protection"]["weight"], parts["public-protection"]["score"],
            parts["public-protection"]["weighted"]) == (3.0, 2, 6.0)
    assert (parts["resources"]["weighted"], parts["resources"]["rationale"]) == (2.0, "Why resources scores 4.")
    assert parts["intelligence"] == {"criterion_id": "intelligence", "group": "current_risk",
                                     "name": "Intelligence received from any source", "weight": 1.0, "score": None,
                                     "weighted": 0.0, "rationale": None}
    assert women["by_group"] == {"current_risk": 6.0, "potential_impact": 5.0, "other": 2.0}
    assert women["most"] == 5 * (3 + 8 * 1 + 1 + 0.5)
    assert len(women["unscored"]) == 8


async def test_a_changed_weight_reorders_the_ranking(gateway):
    await _topic(gateway, "Risky", **{"public-protection": 5})
    await _topic(gateway, "Timely", **{"time-since-inspection": 4})
    async def order() -> list[tuple[str, float]]:
        items = (await gateway.get(f"{PROGRAMME}/topics/ranking", params={"programme_year": "2022-23"})).json()["items"]
        return [(r["name"], r["total"]) for r in items]

    assert await order() == [("Risky", 5.0), ("Timely", 4.0)]
    await _weigh(gateway, "time-since-inspection", 1.5)
    assert await order() == [("Timely", 6.0), ("Risky", 5.0)]


async def test_a_topics_scores_and_status_change_with_if_match(gateway):
    made = await _topic(gateway, "Accredited programmes", **{"suitability": 2})
    path = f"{PROGRAMME}/topics/{made['id']}"
    held = await gateway.get(path)
    assert held.headers["etag"] == f'"{made["version"]}"'
    assert (await gateway.patch(path, json={"status": "agreed"})).status_code == 428
    changed = await gateway.patch(path, json={"status": "agreed", "scores": _scores(suitability=4, resources=1)},
                                  headers={"If-Match": held.headers["etag"]})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["status"], body["version"]) == ("agreed", made["version"] + 1)
    assert [(s["criterion_id"], s["score"], s["rationale"]) for s in body["scores"]] == [
        ("resources", 1, "Why resources scores 1."), ("suitability", 4, "Why suitability scores 4."),
    ]
    scores_only = await gateway.patch(path, json={"scores": _scores(resources=3)},
                                      headers={"If-Match": changed.headers["etag"]})
    assert scores_only.json()["version"] == made["version"] + 2  # a change of scores alone moves the version
    stale = await gateway.patch(path, json={"status": "fieldwork"}, headers={"If-Match": held.headers["etag"]})
    assert stale.status_code == 412
    assert (await gateway.patch(path, json={"status": None}, headers={"If-Match": '"*"'})).status_code == 422


async def test_bad_topics_are_refused_naming_the_field_and_nothing_is_written(gateway):
    base = {"name": "Bail", "kind": "thematic_inspection", "programme_year": "2022-23", "groups": ["youth"]}
    cases = [
        ({"scores": _scores(nonesuch=3)}, "body.scores[0].criterion_id", "no criterion nonesuch"),
        ({"scores": _scores(resources=3) * 2}, "body.scores[1].criterion_id", "resources is scored twice"),
        ({"scores": _scores(resources=6)}, "body.scores.0.score", None),
        ({"programme_year": "2022-24"}, "body.programme_year", None),
        ({"groups": ["youth", "youth"]}, "body.groups", None),
        ({"kind": "audit"}, "body.kind", None),
    ]
    for change, field, message in cases:
        refused = await gateway.post(f"{PROGRAMME}/topics", json={**base, **change})
        assert refused.status_code == 422, change
        error = refused.json()["errors"][0]
        assert error["field"] == field, (change, error)
        assert message is None or error["message"] == message
    listed = (await gateway.get(f"{PROGRAMME}/topics", params={"programme_year": "2022-23"})).json()["items"]
    assert listed == []
    assert (await gateway.post(f"{PROGRAMME}/topics", json=base)).status_code == 201
    twice = await gateway.post(f"{PROGRAMME}/topics", json=base)
    assert (twice.status_code, twice.json()["detail"]) == (409, "2022-23 already has a topic named 'Bail'.")


async def test_topics_are_staff_only_and_written_by_planners(gateway, acting_as):
    with acting_as(holding(Role.READER)):
        refused = await gateway.get(f"{PROGRAMME}/topics")
        assert (refused.status_code, refused.json()["permission"]) == (403, "programme:read")
    with acting_as(holding(Role.INSPECTOR)):
        assert (await gateway.get(f"{PROGRAMME}/topics/ranking")).status_code == 200
        refused = await gateway.post(f"{PROGRAMME}/topics", json={})
        assert (refused.status_code, refused.json()["permission"]) == (403, "programme:write")
    with acting_as(nationally(Role.LEAD_INSPECTOR)):
        made = await gateway.post(f"{PROGRAMME}/topics", json={
            "name": "Remand", "kind": "secondary_analysis", "programme_year": "2022-23", "groups": ["youth"]})
        assert (made.status_code, made.json()["created_by"]) == (201, str(nationally(Role.LEAD_INSPECTOR).id))


# --- the scoring, as a property -------------------------------------------------------------------------

_CRITERIA = [scoring.Weighting(f"c{i}", "current_risk", f"Criterion {i}", 0.0) for i in range(11)]
weights = st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=11, max_size=11)
topic_marks = st.dictionaries(st.sampled_from([c.criterion_id for c in _CRITERIA]), st.integers(0, 5))


@given(weights, st.lists(topic_marks, min_size=1, max_size=12))
def test_the_ranking_is_the_order_of_the_weighted_totals_recomputed(given_weights, topics):
    criteria = [scoring.Weighting(c.criterion_id, c.group, c.name, w) for c, w in zip(_CRITERIA, given_weights)]
    totals = [(i, scoring.total(criteria, {c: scoring.Mark(s, "") for c, s in marks.items()}, 5))
              for i, marks in enumerate(topics)]
    ranked = scoring.rank(totals, {i: f"topic {i:02d}" for i in range(len(topics))})
    by_hand = {i: math.fsum(w * marks.get(f"c{n}", 0) for n, w in enumerate(given_weights))
               for i, marks in enumerate(topics)}
    assert sorted(r.key for r in ranked) == list(range(len(topics)))
    assert [r.total.total for r in ranked] == [by_hand[r.key] for r in ranked]
    assert all(a.total.total >= b.total.total for a, b in zip(ranked, ranked[1:]))
    for a, b in zip(ranked, ranked[1:]):
        assert b.rank == (a.rank if a.total.total == b.total.total else ranked.index(b) + 1)
    assert ranked[0].rank == 1
    for r in ranked:
        assert r.total.total == math.fsum(p.weighted for p in r.total.parts)
        assert r.total.unscored == [c.criterion_id for c in criteria if c.criterion_id not in topics[r.key]]
