"""A rated inspection whose report figures are known by hand: samples drawn by the real sampling service
from synthetic frames, substitutions, answers chosen case by case, judgements, a rating run and a panel
decision by the real rating engine, and (if asked) publication.

The answers, for the 12 cases of the case supervision sample and the 10 of court work:

| key question | yes | no | n/a | percent | band |
|---|---|---|---|---|---|
| 2.2.1 | 11 | 1 | 0 | 91.7 | outstanding |
| 2.2.2 | 9 | 3 | 0 | 75.0 | good |
| 2.2.3 | 7 | 4 | 1 | 63.6 | requires improvement: drives 2.2; one more yes lifts it to 65% |
| 2.3.x, 2.4.x, 2.5.x | 12 | 0 | 0 | 100 | outstanding |
| 2.1.1 | 6 | 4 | 0 | 60.0 | requires improvement: drives 2.1; one more yes lifts it to 70% |
| 2.1.2, 2.1.3 | 10 | 0 | 0 | 100 | outstanding |

Judgements 1.1 good, 1.2 requires improvement, 1.3 good, 1.4 good (the panel sets it Outstanding).
Points: 2 + 1 + 2 + 3 + 1 + 1 + 3 + 3 + 3 = 19 of 27 (computed 18): Good.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from gateway.units.models import Unit
from tests.gateway.factories import make_inspection, make_judgement, make_sample, make_unit, synthetic_frame

API = "/api/v1"
CASE_SUPERVISION_COLUMNS = ["case_ref", "unit", "gender", "sentence_type", "rosh_level"]
COURT_COLUMNS = ["case_ref", "unit", "gender", "sentence_type"]
EXCLUDED_SENTENCE = "suspended_sentence_order"
ANSWERS = {
    "2.2.1": ["yes"] * 11 + ["no"],
    "2.2.2": ["yes"] * 9 + ["no"] * 3,
    "2.2.3": ["yes"] * 7 + ["no"] * 4 + ["not_applicable"],
    "2.1.1": ["yes"] * 6 + ["no"] * 4,
}
JUDGEMENTS = {"1.1": "good", "1.2": "requires_improvement", "1.3": "good", "1.4": "good"}
PANEL_REASON = "The panel weighed the interviews with partners."
SUBSTITUTION_REASON = "Moved out of the area"


@dataclass
class RatedInspection:
    inspection_id: str
    unit: Unit
    unit_code: str
    region_name: str
    eligible: dict[str, int]
    """Frame cases left after the exclusion, by sample type."""
    case_refs: set[str]
    """Every case reference of both frames."""
    replaced_ref: str


def _ok(response, *expected: int) -> dict:
    assert response.status_code in expected, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else {}


def _eligible(columns: list[str], cases: int, unit_code: str) -> tuple[int, set[str]]:
    rows = list(csv.DictReader(io.StringIO(synthetic_frame(columns, cases, units=[unit_code]))))
    return sum(row["sentence_type"] != EXCLUDED_SENTENCE for row in rows), {row["case_ref"] for row in rows}


async def rated_inspection(gateway, db_session, *, publish: bool = True) -> RatedInspection:
    region = await make_unit(db_session, type="region", name="Test region of reports")
    unit = await make_unit(db_session, parent=region, name="Test PDU of reports")
    inspection = await make_inspection(db_session, unit=unit, title="Inspection of a test PDU")
    iid = str(inspection.id)
    eligible, refs = {}, set()
    samples = {}
    for sample_type, columns, cases, size in (("case_supervision", CASE_SUPERVISION_COLUMNS, 60, 12),
                                              ("court_reports", COURT_COLUMNS, 40, 10)):
        eligible[sample_type], made = _eligible(columns, cases, unit.code)
        refs |= made
        samples[sample_type] = await make_sample(
            gateway, inspection, sample_type=sample_type, cases=cases, columns=columns, size=size, strata=["gender"],
            reserves_per_stratum=2, exclude=[{"column": "sentence_type", "values": [EXCLUDED_SENTENCE],
                                              "reason": "not in scope"}],
        )
    supervision = samples["case_supervision"]
    replaced = supervision["selected"][0]["case_ref"]
    _ok(await gateway.post(f"{API}/samples/{supervision['id']}/substitutions",
                           json={"case_ref": replaced, "reason": SUBSTITUTION_REASON}), 201)
    # A reason naming the case it is about: the report never repeats the reference.
    named = supervision["selected"][1]["case_ref"]
    _ok(await gateway.post(f"{API}/samples/{supervision['id']}/substitutions",
                           json={"case_ref": named, "reason": f"{named} died."}), 201)

    inspection.status = "fieldwork"
    await db_session.flush()
    lines = ["case_ref,sample_type,key_question,answer"]
    for sample_type, sample in samples.items():
        listed = _ok(await gateway.get(f"{API}/samples/{sample['id']}/cases", params={"limit": 100}), 200)
        in_sample = sorted(case["case_ref"] for case in listed["items"])
        questions = [f"2.{n}.{k}" for n in ((1,) if sample_type == "court_reports" else (2, 3, 4, 5))
                     for k in (1, 2, 3)]
        for i, ref in enumerate(in_sample):
            for kq in questions:
                lines.append(f"{ref},{sample_type},{kq},{ANSWERS[kq][i] if kq in ANSWERS else 'yes'}")
    _ok(await gateway.post(f"{API}/inspections/{iid}/assessments/import", content="\n".join(lines) + "\n",
                           headers={"Content-Type": "text/csv"}), 200)
    for standard, rating in JUDGEMENTS.items():
        await make_judgement(db_session, inspection, standard, rating, f"Interviews and the staff survey ({standard}).")

    inspection.status = "rating"
    await db_session.flush()
    _ok(await gateway.post(f"{API}/inspections/{iid}/rating-runs", json={}), 201)
    _ok(await gateway.post(f"{API}/inspections/{iid}/panel-decisions", json={"overrides": [
        {"standard": "1.4", "rating": "outstanding", "reason": PANEL_REASON}]}), 201)
    if publish:
        _ok(await gateway.post(f"{API}/inspections/{iid}/transitions", json={"to": "published", "note": "Report"}), 200)
    return RatedInspection(iid, unit, unit.code, region.name, eligible, refs, replaced)
