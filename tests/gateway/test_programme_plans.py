"""Programme plans: each rule honoured with its figures, the units at random the sampling service's choice,
the same seed and registry giving the same schedule, capacity per quarter never exceeded (a property over
random registries), suspension and re-flow, hand edits under If-Match, and a slot made a planned inspection."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.permissions import ROLE_PERMISSIONS, Grant, Permission, Role
from gateway.programme import plan_rules as rules
from gateway.statistics.periods import ProgrammeYear
from gateway.units.models import Unit
from inspection_shared.framework import RATINGS
from sampling.units.service import Unit as Candidate
from sampling.units.service import select_units
from tests.gateway.factories import make_inspection, make_unit
from tests.gateway.test_programme_capacity import no_other_pdu  # noqa: F401  (a fixture)
from tests.gateway.test_scoping import holding, nationally

PLANS = "/api/v1/programme/plans"
YEAR = "2027-28"
START = date(2027, 4, 1)
PRISONS = "HM Inspectorate of Prisons"


async def _inspected(db_session, unit, ended: date, rating: str) -> None:
    await make_inspection(db_session, unit=unit, status="published", current_rating=rating,
                          fieldwork_start=ended.replace(day=1), fieldwork_end=ended,
                          published_at=datetime(ended.year, ended.month, ended.day, tzinfo=UTC))


@pytest.fixture
async def registry(db_session, no_other_pdu):  # noqa: F811
    """Seven PDUs of one region: A rated Inadequate in June 2025, B last inspected in May 2024, C never
    inspected and small, the rest inspected lately with intelligence scores to rank them on."""
    region = await make_unit(db_session, type="region", code="PL")
    caseloads = {"A": 2000, "B": 1500, "C": 300, "D": 900, "E": 1200, "F": 800, "G": 700}
    held = {code: await make_unit(db_session, parent=region, code=f"PL{code}", caseload_size=n)
            for code, n in caseloads.items()}
    for code, ended, rating in (("A", date(2025, 6, 30), "inadequate"), ("B", date(2024, 5, 15), "good"),
                                ("D", date(2026, 1, 10), "good"), ("E", date(2026, 3, 1), "outstanding"),
                                ("F", date(2025, 10, 1), "requires_improvement"), ("G", date(2026, 2, 2), "good")):
        await _inspected(db_session, held[code], ended, rating)
    await make_inspection(db_session, unit=held["C"], status="withdrawn", current_rating="good")  # counts not
    return held


def _asked(held: dict, **changes) -> dict:
    intelligence = {"E": 0.9, "F": 0.2, "G": 0.1}
    asked = {
        "name": "Probation programme 2027-28", "programme_years": [YEAR], "seed": 7,
        "capacity": {"annual_hours": 4000, "hours_per_inspection": 400, "proportionate_hours": 200},
        "rules": {"max_interval_months": 36, "reinspect_inadequate_within_months": 24, "concern_count": 2,
                  "concern_weights": {"intelligence": 1, "last_rating": 1, "time_since_inspection": 1},
                  "joint": [{"partners": [PRISONS], "count": 1}], "proportionate_below_caseload": 500},
        "units": [{"unit_id": str(held[c].id), "intelligence": v} for c, v in intelligence.items()],
        "commissioned": [{"body": "Guernsey Probation Service", "quarter": "2027-28 Q4", "load": 300}],
    }
    for key, value in changes.items():
        if key in asked["rules"] or key in ("random_count",):
            asked["rules"][key] = value
        else:
            asked[key] = value
    return asked


def _schedule(plan: dict) -> list:
    """The plan's quarters as (quarter, used, [(unit or body, kind, partners, load, rule)])."""
    return [(q["quarter"], q["used"], [(s["unit_code"] or s["commissioned_body"], s["kind"], s["partners"], s["load"],
                                        s["reason"]["rule"]) for s in q["slots"]]) for q in plan["quarters"]]


async def test_each_rule_is_honoured_with_its_reasons_and_capacity_per_quarter(gateway, registry):
    made = await gateway.post(PLANS, json=_asked(registry))
    assert made.status_code == 201, made.text
    plan = made.json()
    assert made.headers["location"] == f"{PLANS}/{plan['id']}" and made.headers["etag"] == f'"{plan["version"]}"'
    assert plan["capacity"] == {"unit": "hours", "per_quarter": 1000.0, "full": 400.0, "proportionate": 200.0}
    # Q1 holds what is owed by then: A re-inspected within 24 months of June 2025 (by 30 June 2027), joint as
    # the most concerning full inspection; B 36 months after May 2024; C never inspected (its withdrawn
    # inspection does not count), proportionate below 500 cases. The two most concerning of the rest (F
    # 0.2 + 2/3 + 18/36, E 0.9 + 0 + 13/36) go where most room is left; Guernsey in the quarter asked.
    assert _schedule(plan) == [
        ("2027-28 Q1", 1000.0, [("PLA", "joint", [PRISONS], 400.0, "reinspect_inadequate"),
                                ("PLB", "full", [], 400.0, "max_interval"),
                                ("PLC", "proportionate", [], 200.0, "max_interval")]),
        ("2027-28 Q2", 400.0, [("PLF", "full", [], 400.0, "concern")]),
        ("2027-28 Q3", 400.0, [("PLE", "full", [], 400.0, "concern")]),
        ("2027-28 Q4", 300.0, [("Guernsey Probation Service", "commissioned", [], 300.0, "commissioned")]),
    ]
    assert [(q["start"], q["end"], q["available"]) for q in plan["quarters"]] == [
        ("2027-04-01", "2027-06-30", 1000.0), ("2027-07-01", "2027-09-30", 1000.0),
        ("2027-10-01", "2027-12-31", 1000.0), ("2028-01-01", "2028-03-31", 1000.0)]
    a, b, c = plan["quarters"][0]["slots"]
    assert a["reason"]["detail"] == ("rated Inadequate at its inspection of 2025-06-30: re-inspected within 24 "
                                     "months, by 2027-06-30")
    assert (a["reason"]["figures"]["deadline"], a["reason"]["figures"]["joint_with"]) == ("2027-06-30", [PRISONS])
    assert b["reason"]["detail"] == ("last inspected 2024-05-15: at most 36 months between inspections, so by "
                                     "2027-05-15")
    assert (c["reason"]["detail"], c["reason"]["figures"]["last_rating"]) == ("never inspected: due at once", None)
    f = plan["quarters"][1]["slots"][0]["reason"]
    assert f["detail"] == "ranked 1 of 4 on concern (1.367)"
    assert f["figures"]["months_since_inspection"] == 18
    assert f["figures"]["concern"] == pytest.approx(0.2 + 2 / 3 + 18 / 36)
    assert plan["quarters"][2]["slots"][0]["reason"]["figures"]["concern"] == pytest.approx(0.9 + 13 / 36)
    assert plan["not_placed"] == [] and plan["reflows"] == []


async def test_units_at_random_are_the_sampling_services_choice_and_the_seed_reproduces_the_plan(gateway, registry):
    asked = _asked(registry, random_count=2, concern_count=0, seed=2027)
    first = (await gateway.post(PLANS, json=asked)).json()
    # The sampling service draws from the units not owed (D to G), seeded.
    expected = select_units([Candidate(f"PL{c}") for c in "DEFG"], 2, method="srs", include=[], seed=2027)
    chosen = sorted(u.id for u in expected.selected)
    assert first["random_selection"] == {"asked": 2, "chosen": chosen, "seed": 2027, "algorithm": expected.algorithm}
    at_random = [s for q in first["quarters"] for s in q["slots"] if s["reason"]["rule"] == "random"]
    assert sorted(s["unit_code"] for s in at_random) == chosen
    assert {s["reason"]["detail"] for s in at_random} == {"chosen at random, one of 2"}
    again = (await gateway.post(PLANS, json=asked)).json()
    assert _schedule(again) == _schedule(first) and again["id"] != first["id"]
    listed = (await gateway.get(PLANS)).json()["items"]
    assert {p["id"] for p in listed} >= {first["id"], again["id"]}


async def test_units_owed_that_find_no_room_are_listed_not_placed_never_late(gateway, registry):
    asked = _asked(registry, capacity={"inspections_per_quarter": 1}, commissioned=[], joint=[])
    plan = (await gateway.post(PLANS, json=asked)).json()
    # A (by June 2027) and B (by May 2027) and C (now) are all owed in Q1, which holds one inspection.
    assert [s["unit_code"] for s in plan["quarters"][0]["slots"]] == ["PLC"]
    assert [(n["unit_code"], n["rule"], n["detail"].rsplit("; ", 1)[1]) for n in plan["not_placed"]] == [
        ("PLB", "max_interval", "no quarter to 2027-28 Q1 has room left"),
        ("PLA", "reinspect_inadequate", "no quarter to 2027-28 Q1 has room left"),
    ]
    assert all(q["used"] <= q["available"] for q in plan["quarters"])


async def test_a_joint_quota_short_of_full_inspections_is_listed_not_placed(gateway, registry):
    plan = await _plan(gateway, registry, joint=[{"partners": [PRISONS], "count": 3},
                                                 {"partners": ["Ofsted"], "count": 2}])
    # Four full inspections (C is proportionate), by concern A, F, B, E: three to the first quota, one to the
    # second.
    assert sorted((s["unit_code"], s["kind"], s["partners"]) for q in plan["quarters"] for s in q["slots"]
                  if s["kind"] == "joint") == [("PLA", "joint", [PRISONS]), ("PLB", "joint", [PRISONS]),
                                               ("PLE", "joint", ["Ofsted"]), ("PLF", "joint", [PRISONS])]
    assert plan["not_placed"] == [{
        "unit_id": None, "unit_code": None, "commissioned_body": None, "rule": "joint",
        "detail": "joint quota of 2 with Ofsted: 1 full inspections placed to make joint, 1 short",
        "figures": {"partners": ["Ofsted"], "quota": 2, "joint": 1, "short": 1}}]


async def _plan(gateway, registry, **changes) -> dict:
    made = await gateway.post(PLANS, json=_asked(registry, **changes))
    assert made.status_code == 201, made.text
    return made.json()


def _slot(plan: dict, name: str) -> dict:
    return next(s for q in plan["quarters"] for s in q["slots"] if name in (s["unit_code"], s["commissioned_body"]))


async def test_a_suspended_quarter_is_re_flowed_with_its_reasons_kept(gateway, registry):
    plan = await _plan(gateway, registry, capacity={"inspections_per_quarter": 2}, max_interval_months=None,
                       reinspect_inadequate_within_months=None, concern_count=5, joint=[], commissioned=[])
    assert [[s["unit_code"] for s in q["slots"]] for q in plan["quarters"]] == [
        ["PLC", "PLE"], ["PLA"], ["PLF"], ["PLB"]]  # by concern (C, A, F, B, E), each where most room is left
    suspend = {"quarter": "2027-28 Q1", "reason": "Fieldwork postponed: pandemic restrictions."}
    assert (await gateway.post(f"{PLANS}/{plan['id']}/suspensions", json=suspend)).status_code == 428
    done = await gateway.post(f"{PLANS}/{plan['id']}/suspensions", json=suspend, headers={"If-Match": f'"{plan["version"]}"'})
    assert done.status_code == 200, done.text
    once = done.json()
    assert [[s["unit_code"] for s in q["slots"]] for q in once["quarters"]] == [[], ["PLA", "PLC"], ["PLE", "PLF"], ["PLB"]]
    assert (once["quarters"][0]["available"], once["quarters"][0]["suspended"]) == (0.0, {"reason": suspend["reason"]})
    assert _slot(once, "PLC")["reason"]["figures"]["moves"] == [
        {"from": "2027-28 Q1", "to": "2027-28 Q2", "why": f"2027-28 Q1 suspended: {suspend['reason']}"}]
    stale = await gateway.post(f"{PLANS}/{plan['id']}/suspensions", json={"quarter": "2027-28 Q3", "reason": "Why."},
                               headers={"If-Match": f'"{plan["version"]}"'})
    assert stale.status_code == 412
    twice = (await gateway.post(f"{PLANS}/{plan['id']}/suspensions", json={"quarter": "2027-28 Q3", "reason": "Strike."},
                                headers={"If-Match": done.headers["etag"]})).json()
    # Q3's two go to Q4, which has room for one: the other is listed, with why.
    assert [[s["unit_code"] for s in q["slots"]] for q in twice["quarters"]] == [[], ["PLA", "PLC"], [], ["PLB", "PLE"]]
    assert [(n["unit_code"], n["detail"]) for n in twice["not_placed"]] == [
        ("PLF", "ranked 3 of 7 on concern (1.367); in 2027-28 Q3, 2027-28 Q3 suspended: Strike.; no later quarter "
         "has room")]
    assert [(r["quarter"], r["reason"], [(m["name"], m["from_quarter"], m["to_quarter"]) for m in r["moved"]],
             [n["unit_code"] for n in r["not_placed"]]) for r in twice["reflows"]] == [
        ("2027-28 Q1", suspend["reason"], [("PLC", "2027-28 Q1", "2027-28 Q2"), ("PLE", "2027-28 Q1", "2027-28 Q3")], []),
        ("2027-28 Q3", "Strike.", [("PLE", "2027-28 Q3", "2027-28 Q4")], ["PLF"]),
    ]


async def test_a_unit_owed_is_never_moved_past_its_deadlines_quarter(gateway, registry):
    plan = await _plan(gateway, registry, reinspect_inadequate_within_months=27, concern_count=3)
    # A is owed by 30 September 2027 (27 months after June 2025): Q2 is the last quarter it may take.
    assert [[s["unit_code"] for s in q["slots"]] for q in plan["quarters"]] == [
        ["PLB", "PLC"], ["PLA", "PLG"], ["PLF"], [None, "PLE"]]
    a = _slot(plan, "PLA")
    late = await gateway.patch(f"{PLANS}/{plan['id']}/slots/{a['id']}", json={"quarter": "2027-28 Q3", "note": "Asked."},
                               headers={"If-Match": f'"{plan["version"]}"'})
    assert (late.status_code, late.json()["errors"]) == (422, [
        {"field": "body.quarter", "message": "PLA is owed an inspection by 2027-09-30: it may not go after 2027-28 Q2"}])
    done = await gateway.post(f"{PLANS}/{plan['id']}/suspensions", json={"quarter": "2027-28 Q2", "reason": "Strike."},
                              headers={"If-Match": f'"{plan["version"]}"'})
    assert done.status_code == 200, done.text
    after = done.json()
    # G (chosen on concern) goes on to Q3; A would be late there, though Q3 has room: it is listed instead.
    assert [[s["unit_code"] for s in q["slots"]] for q in after["quarters"]] == [
        ["PLB", "PLC"], [], ["PLF", "PLG"], [None, "PLE"]]
    assert [(n["unit_code"], n["rule"], n["detail"], n["figures"]["deadline"]) for n in after["not_placed"]] == [(
        "PLA", "reinspect_inadequate", f"{a['reason']['detail']}; in 2027-28 Q2, 2027-28 Q2 suspended: Strike.; owed "
        "by 2027-09-30, so no later than 2027-28 Q2: no later quarter by then has room", "2027-09-30")]
    assert [([(m["name"], m["to_quarter"]) for m in r["moved"]], [n["unit_code"] for n in r["not_placed"]], r["kept"])
            for r in after["reflows"]] == [([("PLG", "2027-28 Q3")], ["PLA"], [])]


async def test_a_slot_made_an_inspection_stays_where_it_is(gateway, registry):
    plan = await _plan(gateway, registry)
    a = _slot(plan, "PLA")
    made = await gateway.post(f"{PLANS}/{plan['id']}/slots/{a['id']}/inspection", json={
        "framework_id": "probation-pdu-2021", "fieldwork_start": "2027-05-10", "fieldwork_end": "2027-05-21"})
    assert made.status_code == 201, made.text
    inspection_id = _slot(made.json(), "PLA")["inspection_id"]
    tag = {"If-Match": made.headers["etag"]}
    refusal = (f"The slot of PLA is planned as inspection {inspection_id}: it cannot be %s; change that inspection "
               "instead.")
    moved = await gateway.patch(f"{PLANS}/{plan['id']}/slots/{a['id']}", json={"quarter": "2027-28 Q2", "note": "Asked."},
                                headers=tag)
    assert (moved.status_code, moved.json()["detail"]) == (409, refusal % "changed")
    removed = await gateway.delete(f"{PLANS}/{plan['id']}/slots/{a['id']}", headers=tag)
    assert (removed.status_code, removed.json()["detail"]) == (409, refusal % "removed")
    done = await gateway.post(f"{PLANS}/{plan['id']}/suspensions", json={"quarter": "2027-28 Q1", "reason": "Floods."},
                              headers=tag)
    assert done.status_code == 200, done.text
    after = done.json()
    # A stays in Q1 with its inspection; B and C, owed by Q1, are listed; the rest stay where they were.
    q1 = after["quarters"][0]
    assert ([s["unit_code"] for s in q1["slots"]], q1["used"], q1["available"]) == (["PLA"], 400.0, 0.0)
    assert _slot(after, "PLA")["inspection_id"] == inspection_id and "moves" not in _slot(after, "PLA")["reason"]["figures"]
    assert [(n["unit_code"], n["detail"].rsplit("; ", 1)[1]) for n in after["not_placed"]] == [
        ("PLB", "owed by 2027-05-15, so no later than 2027-28 Q1: no later quarter by then has room"),
        ("PLC", "owed by 2027-04-01, so no later than 2027-28 Q1: no later quarter by then has room")]
    assert [(r["moved"], [n["unit_code"] for n in r["not_placed"]], r["kept"]) for r in after["reflows"]] == [
        ([], ["PLB", "PLC"], [{"slot_id": a["id"], "name": "PLA", "quarter": "2027-28 Q1", "inspection_id": inspection_id}])]


async def test_slots_are_moved_added_and_removed_by_hand_within_capacity(gateway, registry, db_session):
    plan = await _plan(gateway, registry)
    tag = {"If-Match": f'"{plan["version"]}"'}
    f = _slot(plan, "PLF")
    full = await gateway.patch(f"{PLANS}/{plan['id']}/slots/{f['id']}", json={"quarter": "2027-28 Q1", "note": "Asked."},
                               headers=tag)
    assert (full.status_code, full.json()["errors"]) == (422, [
        {"field": "body.quarter", "message": "2027-28 Q1 has 0 hours left, not 400"}])
    moved = await gateway.patch(f"{PLANS}/{plan['id']}/slots/{f['id']}", headers=tag,
                                json={"quarter": "2027-28 Q4", "kind": "joint", "partners": ["Ofsted"], "note": "Asked."})
    assert moved.status_code == 200, moved.text
    assert (_slot(moved.json(), "PLF")["quarter"], _slot(moved.json(), "PLF")["kind"]) == ("2027-28 Q4", "joint")
    assert moved.json()["quarters"][3]["used"] == 700.0
    tag = {"If-Match": moved.headers["etag"]}
    body = {"quarter": "2027-28 Q2", "commissioned_body": "Isle of Man Probation Service", "load": 250, "note": "Asked."}
    added = await gateway.post(f"{PLANS}/{plan['id']}/slots", json=body, headers=tag)
    assert added.status_code == 200, added.text
    slot = _slot(added.json(), "Isle of Man Probation Service")
    assert (slot["kind"], slot["load"], slot["reason"]["rule"], slot["reason"]["detail"]) == (
        "commissioned", 250.0, "by_hand", "added by hand: Asked.")
    tag = {"If-Match": added.headers["etag"]}
    again = await gateway.post(f"{PLANS}/{plan['id']}/slots", headers=tag,
                               json={"quarter": "2027-28 Q2", "unit_id": str(registry["B"].id), "note": "Asked."})
    assert (again.status_code, again.json()["detail"]) == (409, "PLB is in the plan already, in 2027-28 Q1: move that "
                                                                "slot instead.")
    d = await gateway.post(f"{PLANS}/{plan['id']}/slots", headers=tag,
                           json={"quarter": "2027-28 Q2", "unit_id": str(registry["D"].id), "note": "Asked."})
    assert (d.status_code, _slot(d.json(), "PLD")["kind"]) == (200, "full")
    removed = await gateway.delete(f"{PLANS}/{plan['id']}/slots/{slot['id']}", headers={"If-Match": d.headers["etag"]})
    assert removed.status_code == 200
    assert [s["unit_code"] for s in removed.json()["quarters"][1]["slots"]] == ["PLD"]
    audit = (await gateway.get("/api/v1/audit", params={"entity": "programme_plan_slots", "action": "delete"})).json()
    assert [e["before"]["commissioned_body"] for e in audit["items"]] == ["Isle of Man Probation Service"]


async def test_a_slot_becomes_a_planned_inspection_with_the_unit_permission(gateway, registry, acting_as):
    plan = await _plan(gateway, registry)
    a = _slot(plan, "PLA")
    asked = {"framework_id": "probation-pdu-2021", "fieldwork_start": "2027-05-10", "fieldwork_end": "2027-05-21"}
    # A national planner who may plan inspections of B only.
    planner = Grant(frozenset({Permission.PROGRAMME_WRITE}), None)
    lead_of_b = Grant(ROLE_PERMISSIONS[Role.LEAD_INSPECTOR], frozenset({registry["B"].id}), Role.LEAD_INSPECTOR)
    with acting_as(nationally(Role.READER, planner, lead_of_b)):
        refused = await gateway.post(f"{PLANS}/{plan['id']}/slots/{a['id']}/inspection", json=asked)
        assert (refused.status_code, refused.json()["permission"]) == (403, "inspections:plan")
    outside = await gateway.post(f"{PLANS}/{plan['id']}/slots/{a['id']}/inspection",
                                 json={**asked, "fieldwork_start": "2027-07-01", "fieldwork_end": "2027-07-09"})
    assert [e["field"] for e in outside.json()["errors"]] == ["body.fieldwork_start", "body.fieldwork_end"]
    made = await gateway.post(f"{PLANS}/{plan['id']}/slots/{a['id']}/inspection", json=asked)
    assert made.status_code == 201, made.text
    inspection = (await gateway.get(made.headers["location"])).json()
    assert (inspection["unit_code"], inspection["status"], inspection["type"], inspection["partner_inspectorates"],
            inspection["fieldwork_start"]) == ("PLA", "planned", "joint", [PRISONS], "2027-05-10")
    assert _slot(made.json(), "PLA")["inspection_id"] == inspection["id"]
    twice = await gateway.post(f"{PLANS}/{plan['id']}/slots/{a['id']}/inspection", json=asked)
    assert twice.status_code == 409
    body = _slot(plan, "Guernsey Probation Service")
    assert (await gateway.post(f"{PLANS}/{plan['id']}/slots/{body['id']}/inspection", json=asked)).status_code == 409


async def test_plans_are_staff_only(gateway, anonymous, registry, acting_as):
    assert (await anonymous.get(PLANS)).status_code == 401
    with acting_as(holding(Role.READER)):
        refused = await gateway.get(PLANS)
        assert (refused.status_code, refused.json()["permission"]) == (403, "programme:read")
    with acting_as(holding(Role.INSPECTOR)):
        refused = await gateway.post(PLANS, json=_asked(registry))
        assert (refused.status_code, refused.json()["permission"]) == (403, "programme:write")


@pytest.mark.parametrize(("change", "field"), [
    ({"programme_years": ["2027-29"]}, "body.programme_years.0"),
    ({"programme_years": ["2027-28", "2029-30"]}, "body.programme_years"),
    ({"capacity": {"annual_hours": 4000}}, "body.capacity"),
    ({"capacity": {"annual_hours": 4000, "hours_per_inspection": 400, "proportionate_hours": 401}},
     "body.capacity.proportionate_hours"),
    ({"capacity": {"inspections_per_quarter": 2, "annual_hours": 10}}, "body.capacity"),
    ({"random_count": -1}, "body.rules.random_count"),
    ({"units": [{"unit_id": str(uuid.uuid4())}]}, "body.units[0].unit_id"),
    ({"commissioned": [{"body": "Jersey", "quarter": "2028-29 Q1"}]}, "body.commissioned[0].quarter"),
    ({"commissioned": [{"body": "Jersey", "quarter": "2027-28 Q1", "load": 1001}]}, "body.commissioned[0].quarter"),
    ({"seed": "7"}, "body.seed"),
])
async def test_bad_input_is_refused_naming_the_field(gateway, registry, change, field):
    refused = await gateway.post(PLANS, json=_asked(registry, **change))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == field


async def test_programme_years_follow_one_another_and_a_proportionate_inspection_is_no_bigger(gateway, registry):
    gap = await gateway.post(PLANS, json=_asked(registry, programme_years=["2029-30", "2027-28"]))
    assert (gap.status_code, [(e["field"], e["message"]) for e in gap.json()["errors"]]) == (422, [
        ("body.programme_years", "Value error, the programme years of a plan follow one another: 2028-29 missing")])
    big = await gateway.post(PLANS, json=_asked(registry, capacity={
        "annual_hours": 4000, "hours_per_inspection": 400, "proportionate_hours": 400.5}))
    assert [(e["field"], e["message"]) for e in big.json()["errors"]] == [(
        "body.capacity.proportionate_hours",
        "Value error, a proportionate inspection takes no more than a full one's 400 hours")]
    two = await _plan(gateway, registry, programme_years=["2028-29", "2027-28"],
                      capacity={"annual_hours": 4000, "hours_per_inspection": 400, "proportionate_hours": 400})
    assert (two["programme_years"], len(two["quarters"]), two["capacity"]["proportionate"]) == (
        ["2027-28", "2028-29"], 8, 400.0)


@pytest.mark.parametrize(("rating", "part"), [
    ("inadequate", Fraction(1)), ("requires_improvement", Fraction(2, 3)), ("good", Fraction(1, 3)),
    ("outstanding", Fraction(0)), ("not_rated", Fraction(1)), (None, Fraction(1)),
])
def test_the_stored_rating_codes_set_the_concern_and_the_inadequate_rule(rating, part):
    unit = rules.RegistryUnit(uuid.UUID(int=1), "U01", "Unit 1", 1000, date(2026, 4, 1), rating)
    plan_rules = rules.Rules(reinspect_inadequate_within_months=12)
    score, parts = rules.concern(unit, plan_rules, START)  # weights of 1, no intelligence, 12 months of 36
    assert (score, parts["last_rating"], parts["rating_concern"]) == (part + Fraction(1, 3), rating, float(part))
    owed = rules.due([unit], plan_rules, rules.quarters([ProgrammeYear(2027)]))
    assert [(d.rule, d.deadline, d.last_quarter) for d in owed] == (
        [("reinspect_inadequate", date(2027, 4, 1), 0)] if rating == "inadequate" else [])


# --- every rule, over random registries ----------------------------------------------------------------

STORED_RATINGS = st.sampled_from([None, *RATINGS, "not_rated"])  # as inspections store them
registries = st.lists(st.tuples(st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2027, 3, 31))), STORED_RATINGS,
                                st.one_of(st.none(), st.integers(0, 3000)), st.integers(0, 10)),
                      min_size=1, max_size=25)


def _registry(drawn) -> list[rules.RegistryUnit]:
    return [rules.RegistryUnit(uuid.UUID(int=i), f"U{i:02d}", f"Unit {i}", caseload, last,
                               rating if last else None, Fraction(intelligence, 10))
            for i, (last, rating, caseload, intelligence) in enumerate(drawn)]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(registries, st.integers(0, 2**32), st.integers(0, 8), st.integers(1, 6), st.sampled_from([None, 12, 24, 36]),
       st.sampled_from([None, 6, 12]), st.integers(0, 4), st.sampled_from([None, 800]), st.booleans())
def test_every_rule_holds_and_the_seed_reproduces_the_plan(drawn, seed, random_count, per_quarter, interval,
                                                            inadequate, joint, below, two_years):
    registry = _registry(drawn)
    years = [ProgrammeYear(2027), ProgrammeYear(2028)] if two_years else [ProgrammeYear(2027)]
    held = rules.quarters(years)
    loads = rules.Loads(Fraction(per_quarter * 4), Fraction(4), Fraction(3))
    plan_rules = rules.Rules(max_interval_months=interval, reinspect_inadequate_within_months=inadequate,
                             random_count=random_count, joint=(rules.JointQuota(("Ofsted",), joint),),
                             proportionate_below_caseload=below)
    commissioned = [rules.Commissioned("Guernsey", held[1].label, Fraction(4))] if per_quarter > 1 else []

    def plan() -> rules.Schedule:
        owed = {d.unit.code for d in rules.due(registry, plan_rules, held)}
        pool = [Candidate(u.code) for u in registry if u.code not in owed]
        k = min(random_count, len(pool))
        chosen = [u.id for u in select_units(pool, k, method="srs", include=[], seed=seed).selected] if k else []
        return rules.schedule(registry, plan_rules, held, loads, commissioned, chosen), chosen

    made, chosen = plan()
    assert plan() == (made, chosen)  # the same seed and registry: the same schedule
    labels = [q.label for q in held]
    used = {label: sum((s.load for s in made.slots if s.quarter == label), Fraction(0)) for label in labels}
    assert all(used[label] <= loads.per_quarter for label in labels)  # capacity never exceeded
    placed = {s.unit.code: s for s in made.slots if s.unit}
    assert len(placed) == len([s for s in made.slots if s.unit])  # a unit once at most
    unplaced = {u.unit.code: u for u in made.unplaced if u.unit}
    for owed in rules.due(registry, plan_rules, held):
        code = owed.unit.code
        if code in placed:  # in its deadline's quarter or before, which its figures carry
            assert labels.index(placed[code].quarter) <= owed.last_quarter
            assert placed[code].rule == owed.rule
            assert rules.deadline_quarter(placed[code].rule, placed[code].figures, held) == owed.last_quarter
        else:  # else no quarter up to it had room for it
            assert unplaced[code].rule == owed.rule
            load = loads.proportionate if rules.kind_of(owed.unit, plan_rules) == "proportionate" else loads.full
            assert all(used[label] + load > loads.per_quarter for label in labels[:owed.last_quarter + 1])
    for unit in registry:  # the inadequate and interval rules, checked from the registry itself
        deadlines = []
        if inadequate and unit.last_rating == "inadequate":
            deadlines.append(rules.add_months(unit.last_inspected, inadequate))
        if interval:
            deadlines.append(rules.add_months(unit.last_inspected, interval) if unit.last_inspected else held[0].start)
        deadline = min(deadlines, default=None)
        if deadline is not None and deadline <= held[-1].end:
            assert unit.code in placed or unit.code in unplaced
            if unit.code in placed:
                assert next(q for q in held if q.label == placed[unit.code].quarter).start <= max(deadline, held[0].start)
    lasts = [rules.deadline_quarter(s.rule, s.figures, held) for s in made.slots]
    for move in rules.reflow([rules.Placed(i, s.quarter, s.load, lasts[i]) for i, s in enumerate(made.slots)],
                             held, loads, [labels[0]]):  # the first quarter suspended: none owed put late
        assert move.to_quarter is None or lasts[move.key] is None or labels.index(move.to_quarter) <= lasts[move.key]
    owed_count = len(rules.due(registry, plan_rules, held))
    assert len(chosen) == min(random_count, len(registry) - owed_count)  # the random count
    random = {s.unit.code for s in made.slots if s.rule == "random"} | {u.unit.code for u in made.unplaced
                                                                        if u.rule == "random"}
    assert random == set(chosen)
    for slot in made.slots:
        if slot.unit is None:
            continue
        small = below is not None and slot.unit.caseload is not None and slot.unit.caseload < below
        assert (slot.kind == "proportionate") == small  # proportionate below the caseload, and only then
        assert slot.load == (loads.proportionate if small else loads.full)
    full = [s for s in made.slots if s.kind in ("full", "joint")]
    assert len([s for s in made.slots if s.kind == "joint"]) == min(joint, len(full))  # the quota
    assert [u.figures["short"] for u in made.unplaced if u.rule == "joint"] == (
        [joint - len(full)] if joint > len(full) else [])  # and its shortfall
    assert all(s.partners == ("Ofsted",) for s in made.slots if s.kind == "joint")
    assert [s.quarter for s in made.slots if s.kind == "commissioned"] == [c.quarter for c in commissioned]


async def test_a_published_plan_is_the_programme_readers_read_without_its_reasons(gateway, registry, acting_as):
    plan = await _plan(gateway, registry)
    path = f"{PLANS}/{plan['id']}"
    topics = {}
    for name, status in (("Women on licence", "agreed"), ("Remand", "proposed")):
        made = await gateway.post("/api/v1/programme/topics", json={
            "name": f"{name} {plan['id'][:8]}", "kind": "thematic_inspection", "programme_year": YEAR,
            "groups": ["adults"], "status": status})
        assert made.status_code == 201, made.text
        topics[status] = made.json()["id"]
    with acting_as(holding(Role.READER)):
        assert (await gateway.get(f"/api/v1/programme/published/{plan['id']}")).status_code == 404  # a draft
    assert (await gateway.post(f"{path}/publish")).status_code == 428
    etag = (await gateway.get(path)).headers["etag"]
    published = await gateway.post(f"{path}/publish", headers={"If-Match": etag})
    assert published.status_code == 200, published.text
    assert published.json()["published_at"] is not None
    again = await gateway.post(f"{path}/publish", headers={"If-Match": published.headers["etag"]})
    assert again.status_code == 409

    with acting_as(holding(Role.READER)):
        listed = (await gateway.get("/api/v1/programme/published", params={"limit": 200})).json()["items"]
        assert plan["id"] in [p["id"] for p in listed]
        read = await gateway.get(f"/api/v1/programme/published/{plan['id']}")
        assert (await gateway.get(path)).status_code == 403  # the plan itself, with its reasons, is staff's
    assert read.status_code == 200, read.text
    programme = read.json()
    staff = {(q["quarter"], s["unit_code"], s["commissioned_body"], s["kind"], tuple(s["partners"]))
             for q in plan["quarters"] for s in q["slots"]}
    public = {(q["quarter"], i["unit_code"], i["commissioned_body"], i["kind"], tuple(i["partners"]))
              for q in programme["quarters"] for i in q["inspections"]}
    assert public == staff
    assert "reason" not in read.text and "intelligence" not in read.text and "seed" not in programme
    assert [t["id"] for t in programme["topics"] if t["id"] in topics.values()] == [topics["agreed"]]


async def test_a_pdu_inspected_within_its_regions_inspection_was_inspected_then(gateway, registry, db_session):
    before = {s["unit_code"]: s["reason"]["rule"] for q in (await _plan(gateway, registry))["quarters"]
              for s in q["slots"]}
    assert (before["PLA"], before["PLC"]) == ("reinspect_inadequate", "max_interval")  # Inadequate; never inspected
    # The region inspected as the letter proposes, every PDU within it, after A's Inadequate.
    region = await db_session.get(Unit, registry["A"].parent_id)
    await _inspected(db_session, region, date(2026, 6, 30), "requires_improvement")
    after = {s["unit_code"]: s["reason"] for q in (await _plan(gateway, registry))["quarters"] for s in q["slots"]}
    assert after.get("PLA", {}).get("rule") != "reinspect_inadequate"
    assert after.get("PLC", {}).get("rule") != "max_interval"
