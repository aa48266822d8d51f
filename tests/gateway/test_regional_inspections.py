"""One inspection of a region, as the 2020 letter proposes: a sample per PDU (each to the precision target,
or a short capacity shared with a minimum per PDU), each PDU's figures and judgements beside the region's
ratings, and the region's case-based ratings from every PDU's cases pooled by the engine."""

from __future__ import annotations

import csv
import io
import uuid

from gateway.units.models import Unit
from gateway.units.repository import children
from tests.gateway.factories import make_assessed_sample, make_judgement, make_region_inspection, make_unit

API = "/api/v1"
FRAMEWORK = "probation-regional-2023"
KEY_QUESTIONS = [f"2.{s}.{k}" for s in range(1, 5) for k in range(1, 4)]


def pdu_codes() -> tuple[str, str, str]:
    tag = uuid.uuid4().hex[:5].upper()
    return (f"A{tag}", f"B{tag}", f"C{tag}")


def frame(sizes: dict[str, int]) -> str:
    """A frame of the region: each PDU's cases, in its unit column, with the strata the framework names."""
    genders, sentences, risks = ("male", "male", "female"), ("community_order", "licence"), ("low", "medium", "high")
    lines, number = ["case_ref,gender,rosh_level,sentence_type,unit"], 100001
    for code, size in sizes.items():
        for i in range(size):
            lines.append(f"X{number:06d},{genders[i % 3]},{risks[i % 3]},{sentences[i % 2]},{code}")
            number += 1
    return "\n".join(lines) + "\n"


async def upload(gateway, inspection, sizes: dict[str, int]) -> None:
    uploaded = await gateway.put(
        f"{API}/inspections/{inspection.id}/frames/case_supervision", content=frame(sizes),
        headers={"Content-Type": "text/csv"},
    )
    assert uploaded.status_code in (200, 201), uploaded.text


async def test_each_pdu_is_sampled_to_its_own_precision_target(gateway, db_session):
    a, b, c = pdu_codes()
    inspection = await make_region_inspection(db_session, (a, b, c), framework_id=FRAMEWORK)
    await upload(gateway, inspection, {a: 300, b: 120, c: 40})
    drawn = await gateway.post(f"{API}/inspections/{inspection.id}/samples", json={
        "sample_type": "case_supervision", "precision": {"confidence": 0.8, "margin": 0.05}, "seed": 7,
    })
    assert drawn.status_code == 201, drawn.text
    sample = drawn.json()
    # By hand: z = 1.2816, n0 = z^2 x 0.25 / 0.05^2 = 164.25, n = ceil(n0 N / (n0 + N - 1)):
    # 300 -> 106.36 -> 107, 120 -> 69.58 -> 70, 40 -> 32.32 -> 33.
    units = {u["unit"]: (u["population"], u["sample"], u["target"]) for u in sample["unit_allocation"]}
    assert units == {a: (300, 107, 107), b: (120, 70, 70), c: (40, 33, 33)}
    assert sample["sample_size"] == 210
    cases = (await gateway.get(f"{API}/samples/{sample['id']}/cases", params={"limit": 1000})).json()["items"]
    assert {code: sum(1 for case in cases if case["unit"] == code) for code in (a, b, c)} == {a: 107, b: 70, c: 33}


async def test_a_short_capacity_is_shared_with_the_minimum_per_pdu(gateway, db_session):
    a, b, c = pdu_codes()
    inspection = await make_region_inspection(db_session, (a, b, c), framework_id=FRAMEWORK)
    await upload(gateway, inspection, {a: 300, b: 120, c: 40})
    drawn = await gateway.post(f"{API}/inspections/{inspection.id}/samples", json={
        "sample_type": "case_supervision", "unit_mode": "per_unit", "capacity": 100, "min_per_unit": 25, "seed": 7,
    })
    assert drawn.status_code == 201, drawn.text
    # The PDUs' own sizes (107 + 70 + 33 = 210) exceed 100: shared in proportion (65.2, 26.1, 8.7), the
    # smallest raised to 25, then the middle one (75 x 120/420 = 21.4) too; the largest pays: 50.
    units = {u["unit"]: (u["sample"], u["target"]) for u in drawn.json()["unit_allocation"]}
    assert units == {a: (50, 107), b: (25, 70), c: (25, 33)}
    assert drawn.json()["sample_size"] == 100


async def test_capacity_needs_per_unit_mode(gateway, db_session):
    a, b, c = pdu_codes()
    inspection = await make_region_inspection(db_session, (a, b, c), framework_id=FRAMEWORK)
    await upload(gateway, inspection, {a: 30, b: 30, c: 30})
    refused = await gateway.post(f"{API}/inspections/{inspection.id}/samples", json={
        "sample_type": "case_supervision", "unit_mode": "overall", "size": 20, "capacity": 10,
    })
    assert refused.status_code == 422
    assert "capacity holds per_unit sizes" in refused.text


def cases(code: str, n: int, yes_on_211: int, no_everywhere: int = 0) -> list[dict]:
    """n assessed cases of a PDU: 2.1.1 yes in the first `yes_on_211`; every other key question yes but in the
    last `no_everywhere` cases."""
    return [
        {
            "case_ref": f"{code[0]}{uuid.uuid4().hex[:6].upper()}",
            "unit": code,
            "answers": {
                kq: ("yes" if i < yes_on_211 else "no") if kq == "2.1.1" else ("no" if i >= n - no_everywhere else "yes")
                for kq in KEY_QUESTIONS
            },
        }
        for i in range(n)
    ]


async def test_a_region_is_rated_from_its_pdus_pooled_and_reported_pdu_by_pdu(gateway, db_session):
    a, b, c = pdu_codes()
    inspection = await make_region_inspection(db_session, (a, b, c), framework_id=FRAMEWORK, status="rating")
    # A: 2.1.1 9/10 (90%), B: 6/10 (60%), C: 4/10 (40%); every other key question yes but in B's last case
    # and C's last three: A 10/10, B 9/10 (90%), C 7/10 (70%).
    await make_assessed_sample(db_session, inspection, "case_supervision",
                               cases(a, 10, 9) + cases(b, 10, 6, 1) + cases(c, 10, 4, 3))
    for standard in ("1.1", "1.2", "1.3", "1.4"):
        await make_judgement(db_session, inspection, standard, "good", "Regional leaders and staff.")
    pdus = {u.code: u.id for u in await children(db_session, inspection.unit_id)}
    judged = await gateway.put(f"{API}/inspections/{inspection.id}/units/{pdus[b]}/judgements/1.1",
                               json={"rating": "requires_improvement", "evidence_summary": "Leadership of B is stretched."})
    assert judged.status_code == 201, judged.text
    listed = (await gateway.get(f"{API}/inspections/{inspection.id}/units/{pdus[b]}/judgements")).json()
    assert [(j["unit_code"], j["standard_id"], j["rating"]) for j in listed] == [(b, "1.1", "requires_improvement")]

    run = await gateway.post(f"{API}/inspections/{inspection.id}/rating-runs")
    assert run.status_code == 201, run.text
    result = run.json()["result"]
    ratings = {s["standard"]: s["computed_rating"] for s in result["standards"]}
    # Pooled by hand: 2.1.1 19/30 = 63.3% (Requires improvement, the driver of 2.1); 2.2-2.4 each 26/30 =
    # 86.7% (Outstanding). Domain one: the region's judgements, all Good. Score 4 x 2 + 1 + 3 x 3 = 18: Good.
    assert ratings == {"1.1": "good", "1.2": "good", "1.3": "good", "1.4": "good", "2.1": "requires_improvement",
                       "2.2": "outstanding", "2.3": "outstanding", "2.4": "outstanding"}
    assert (result["overall"]["score"], result["overall"]["rating"]) == (18, "good")

    report = (await gateway.get(f"{API}/inspections/{inspection.id}/report")).json()
    region_211 = next(kq for s in report["case_standards"] for kq in s["key_questions"] if kq["key_question"] == "2.1.1")
    assert (region_211["yes"], region_211["applicable"], region_211["percent_rounded"]) == (19, 30, 63)
    by_pdu = {p["unit"]: p for p in report["pdus"]}
    assert list(by_pdu) == [a, b, c]
    figures = {
        code: {s["standard"]: (s["computed_rating"], s["cases"], [(kq["yes"], kq["applicable"], kq["percent_rounded"])
                                                                for kq in s["key_questions"]])
               for s in p["standards"]}
        for code, p in by_pdu.items()
    }
    # Each PDU by hand: 2.1 is its lowest key question's band.
    assert figures[a]["2.1"] == ("outstanding", 10, [(9, 10, 90), (10, 10, 100), (10, 10, 100)])
    assert figures[b]["2.1"] == ("requires_improvement", 10, [(6, 10, 60), (9, 10, 90), (9, 10, 90)])
    assert figures[c]["2.1"] == ("inadequate", 10, [(4, 10, 40), (7, 10, 70), (7, 10, 70)])
    assert figures[c]["2.3"] == ("good", 10, [(7, 10, 70)] * 3)
    # The PDUs' tallies add up to the region's.
    for kq in KEY_QUESTIONS:
        region = next(k for s in report["case_standards"] for k in s["key_questions"] if k["key_question"] == kq)
        pdu_kqs = [k for p in report["pdus"] for s in p["standards"] for k in s["key_questions"] if k["key_question"] == kq]
        assert (sum(k["yes"] for k in pdu_kqs), sum(k["applicable"] for k in pdu_kqs)) == (region["yes"], region["applicable"])
    assert [(j["standard"], j["rating"]) for j in by_pdu[b]["judgements"]] == [("1.1", "requires_improvement")]
    assert by_pdu[a]["judgements"] == []

    summary = (await gateway.get(f"{API}/inspections/{inspection.id}/summary")).json()
    briefs = {p["unit"]: p for p in summary["pdus"]}
    assert [s["computed_rating"] for s in briefs[c]["standards"]] == ["inadequate", "good", "good", "good"]
    assert briefs[b]["standards"][0]["key_questions"][0] == {"key_question": "2.1.1", "yes": 6, "applicable": 10,
                                                             "percent_rounded": 60}
    assert briefs[b]["judgements"] == [{"standard": "1.1", "rating": "requires_improvement"}]
    assert summary["ratings"]["overall"]["score"] == 18

    table = await gateway.get(f"{API}/inspections/{inspection.id}/report", params={"format": "csv", "table": "pdus"})
    assert table.status_code == 200, table.text
    rows = list(csv.DictReader(io.StringIO(table.text.split("\n", 1)[1])))  # after the draft line
    line = {(r["level"], r["unit"], r["key_question"] or r["standard"]): r for r in rows}
    assert line[("region", report["unit"]["code"], "2.1.1")]["percent_rounded"] == "63"
    assert (line[("pdu", b, "2.1.1")]["yes"], line[("pdu", b, "2.1.1")]["applicable"]) == ("6", "10")
    assert line[("pdu", c, "2.1.1")]["computed_rating"] == "inadequate"
    assert line[("pdu", b, "1.1")]["computed_rating"] == "requires_improvement"
    assert line[("region", report["unit"]["code"], "1.1")]["computed_rating"] == "good"

    page = (await gateway.get(f"{API}/inspections/{inspection.id}/report", params={"format": "html"})).text
    assert "Findings for each PDU" in page
    assert f'id="pdu-{c}-figures"' in page
    section = page.split(f'id="pdu-{c}-figures"')[1].split("</table>")[0]
    assert "2.1.1: 40% (4 of 10)" in section and "Inadequate" in section

    workbook = await gateway.get(f"{API}/inspections/{inspection.id}/report", params={"format": "xlsx"})
    assert workbook.status_code == 200
    from openpyxl import load_workbook
    assert "PDUs" in load_workbook(io.BytesIO(workbook.content), read_only=True).sheetnames


async def test_a_pdu_judgement_is_for_a_pdu_of_the_inspected_region(gateway, db_session):
    a, b, c = pdu_codes()
    inspection = await make_region_inspection(db_session, (a, b, c), framework_id=FRAMEWORK, status="fieldwork")
    other = await make_region_inspection(db_session, pdu_codes(), framework_id=FRAMEWORK)
    region = await db_session.get(Unit, inspection.unit_id)
    youth_service = await make_unit(db_session, type="yos", parent=region)
    for unit_id in (other.unit_id, youth_service.id):  # another region's unit; a unit of this one, not a PDU
        refused = await gateway.put(f"{API}/inspections/{inspection.id}/units/{unit_id}/judgements/1.1",
                                    json={"rating": "good", "evidence_summary": "Elsewhere."})
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["path.unit_id"]


async def test_publication_waits_for_each_pdus_domain_one_judgements(gateway, db_session):
    a, b, c = pdu_codes()
    inspection = await make_region_inspection(db_session, (a, b, c), framework_id=FRAMEWORK, status="rating")
    # C has no case in the sample: it is still a PDU of the region, to be judged as the others are.
    await make_assessed_sample(db_session, inspection, "case_supervision", cases(a, 10, 9) + cases(b, 10, 6, 1))
    for standard in ("1.1", "1.2", "1.3", "1.4"):
        await make_judgement(db_session, inspection, standard, "good", "Regional leaders and staff.")
    pdus = {u.code: u.id for u in await children(db_session, inspection.unit_id)}
    for standard in ("1.1", "1.2", "1.3", "1.4"):  # A is judged on each standard, B on one, C on none
        judged = await gateway.put(f"{API}/inspections/{inspection.id}/units/{pdus[a]}/judgements/{standard}",
                                   json={"rating": "good", "evidence_summary": "A's leadership and staff."})
        assert judged.status_code == 201, judged.text
    await gateway.put(f"{API}/inspections/{inspection.id}/units/{pdus[b]}/judgements/1.3",
                      json={"rating": "good", "evidence_summary": "B's services."})
    assert (await gateway.post(f"{API}/inspections/{inspection.id}/rating-runs")).status_code == 201

    def pdu_conditions(readiness: dict) -> dict[str, tuple[bool, list[str]]]:
        return {c["unit"]: (c["met"], c["missing"]) for c in readiness["conditions"]
                if c["condition"] == "pdu_judgements_recorded"}

    readiness = (await gateway.get(f"{API}/inspections/{inspection.id}/readiness")).json()
    assert pdu_conditions(readiness) == {a: (True, []), b: (False, ["1.1", "1.2", "1.4"]),
                                         c: (False, ["1.1", "1.2", "1.3", "1.4"])}
    refused = await gateway.post(f"{API}/inspections/{inspection.id}/transitions", json={"to": "published"})
    assert refused.status_code == 409
    assert {(c["condition"], c.get("unit")) for c in refused.json()["conditions"]} >= {
        ("pdu_judgements_recorded", b), ("pdu_judgements_recorded", c)}

    for code, standards in ((b, ("1.1", "1.2", "1.4")), (c, ("1.1", "1.2", "1.3", "1.4"))):
        for standard in standards:
            judged = await gateway.put(f"{API}/inspections/{inspection.id}/units/{pdus[code]}/judgements/{standard}",
                                       json={"rating": "good", "evidence_summary": f"{code}'s leadership."})
            assert judged.status_code == 201, judged.text
    readiness = (await gateway.get(f"{API}/inspections/{inspection.id}/readiness")).json()
    assert pdu_conditions(readiness) == {a: (True, []), b: (True, []), c: (True, [])}
