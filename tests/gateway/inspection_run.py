"""A whole inspection through the gateway's public API, as the demo runs it and more: every place a case
reference is stored gets one (frames, a frame replaced, draws with and without an Idempotency-Key, an
exclusion filter naming cases, substitutions, one case's answers and the bulk import of the rest,
judgements, a rating run and a panel decision with keys, fieldwork ended and publication), and what it
read back."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

API = "/api/v1"
FRAMEWORK = "probation-pdu-2021"
PREFIX = "QZ"
"""Case references are QZ and six digits: nothing else stored looks like one."""
JUDGED = ("1.1", "1.2", "1.3", "1.4")


@dataclass
class InspectionRun:
    inspection_id: str
    unit_id: str
    uploaded_refs: set[str] = field(default_factory=set)
    """Every case reference of every frame uploaded, replaced ones included."""
    replaced_refs: set[str] = field(default_factory=set)
    """Those of the frame uploaded and then replaced."""
    sample_ids: dict[str, str] = field(default_factory=dict)
    snapshot_ids: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    """Idempotency-Key by what it was sent with."""


def _ok(response: httpx.Response, *expected: int) -> dict:
    assert response.status_code in expected, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else {}


def _frame(rng: random.Random, unit: str, refs: list[str], sample_type: str) -> str:
    lines = ["case_ref,unit,gender,sentence_type,rosh_level,start_date" if sample_type == "case_supervision"
             else "case_ref,unit,gender,sentence_type,start_date"]
    for ref in refs:
        row = [ref, unit, rng.choice(["male", "male", "female"]), rng.choice(["community_order", "licence"])]
        if sample_type == "case_supervision":
            row.append(rng.choice(["low", "medium", "high"]))
        row.append((date(2025, 6, 1) + timedelta(days=rng.randrange(150))).isoformat())
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


async def run_inspection(client: httpx.AsyncClient, *, seed: int = 11) -> InspectionRun:
    rng = random.Random(seed)
    numbers = iter(rng.sample(range(100000, 999999), 1200))
    tag = uuid.uuid4().hex[:6].upper()
    region = _ok(await client.post(f"{API}/units", json={
        "code": f"R{tag}", "name": f"Region {tag}", "type": "region", "nation": "England"}), 201)
    unit = _ok(await client.post(f"{API}/units", json={
        "code": f"P{tag}", "name": f"PDU {tag}", "type": "pdu", "nation": "England", "parent_id": region["id"]}), 201)
    start = date.today() + timedelta(days=21)
    inspection = _ok(await client.post(f"{API}/inspections", json={
        "unit_id": unit["id"], "framework_id": FRAMEWORK, "type": "core", "title": f"Case data run {tag}",
        "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=11)).isoformat()}), 201)
    iid = inspection["id"]
    run = InspectionRun(iid, unit["id"])

    async def move(to: str) -> None:
        _ok(await client.post(f"{API}/inspections/{iid}/transitions", json={"to": to, "note": "case data run"}), 200)

    def refs(n: int) -> list[str]:
        made = [f"{PREFIX}{next(numbers)}" for _ in range(n)]
        run.uploaded_refs.update(made)
        return made

    await move("pre_fieldwork")
    # A frame uploaded and then replaced before any draw: its cases are kept nowhere either.
    for n, (sample_type, cases) in enumerate((("case_supervision", 250), ("case_supervision", 400),
                                              ("court_reports", 200))):
        made = refs(cases)
        if n == 0:
            run.replaced_refs.update(made)
        _ok(await client.put(f"{API}/inspections/{iid}/frames/{sample_type}",
                             content=_frame(rng, unit["code"], made, sample_type), headers={"Content-Type": "text/csv"}),
            200, 201)
    frame_refs = sorted(r for r in run.uploaded_refs)
    excluded = frame_refs[-3:]  # refs of the replaced frame may be among them: the filter names them all the same
    samples = {}
    run.keys["draw"] = f"draw-{tag}"
    samples["case_supervision"] = _ok(await client.post(
        f"{API}/inspections/{iid}/samples",
        json={"sample_type": "case_supervision", "size": 40, "seed": 5, "reserves_per_stratum": 2,
              "exclude": [{"column": "case_ref", "values": excluded, "reason": "transferred out"}]},
        headers={"Idempotency-Key": run.keys["draw"]}), 201)
    samples["court_reports"] = _ok(await client.post(
        f"{API}/inspections/{iid}/samples", json={"sample_type": "court_reports", "size": 20, "seed": 6}), 201)
    run.sample_ids = {t: s["id"] for t, s in samples.items()}

    supervision = samples["case_supervision"]
    replaced = []
    for case in supervision["selected"][:2]:
        made = _ok(await client.post(f"{API}/samples/{supervision['id']}/substitutions",
                                     json={"case_ref": case["case_ref"], "reason": "Moved out of the area"}), 201)
        replaced.append(made["reserve_case_ref"])

    await move("fieldwork")
    framework = _ok(await client.get(f"{API}/frameworks/{FRAMEWORK}"), 200)
    standards = [s for d in framework["domains"] for s in d["standards"] if s["kind"] == "case"]
    in_sample: dict[str, list[str]] = {}
    for sample_type, sample_id in run.sample_ids.items():
        listed = _ok(await client.get(f"{API}/samples/{sample_id}/cases", params={"limit": 1000}), 200)
        in_sample[sample_type] = [c["case_ref"] for c in listed["items"]]
    # One case recorded on its own (a reserve brought in), the rest in one import.
    one = replaced[0]
    kqs = [kq["id"] for s in standards if s["sample_type"] == "case_supervision" for kq in s["key_questions"]]
    _ok(await client.put(f"{API}/inspections/{iid}/samples/case_supervision/cases/{one}/assessment",
                         json={"answers": {kq: "yes" for kq in kqs}, "evidence_note": "Case file, March."}), 201)
    lines = ["case_ref,sample_type,key_question,answer"]
    for standard in standards:
        for ref in in_sample[standard["sample_type"]]:
            if ref == one:
                continue
            for kq in standard["key_questions"]:
                lines.append(f"{ref},{standard['sample_type']},{kq['id']},{rng.choice(['yes', 'yes', 'no'])}")
    _ok(await client.post(f"{API}/inspections/{iid}/assessments/import", content="\n".join(lines) + "\n",
                          headers={"Content-Type": "text/csv"}), 200)
    for standard_id in JUDGED:
        _ok(await client.put(f"{API}/inspections/{iid}/judgements/{standard_id}",
                             json={"rating": "good", "evidence_summary": "Interviews and the staff survey."}), 201)

    await move("rating")
    run.keys["run"], run.keys["panel"] = f"run-{tag}", f"panel-{tag}"
    first = _ok(await client.post(f"{API}/inspections/{iid}/rating-runs", json={},
                                  headers={"Idempotency-Key": run.keys["run"]}), 201)
    decided = _ok(await client.post(f"{API}/inspections/{iid}/panel-decisions", json={"overrides": [
        {"standard": "1.4", "rating": "outstanding", "reason": "The panel weighed the interviews."}]},
        headers={"Idempotency-Key": run.keys["panel"]}), 201)
    run.snapshot_ids = [first["id"], decided["id"]]
    # Fieldwork has ended before publication: its dates moved into the past, as no clock is waited on.
    held = await client.get(f"{API}/inspections/{iid}")
    ended = {"fieldwork_start": (date.today() - timedelta(days=14)).isoformat(),
             "fieldwork_end": (date.today() - timedelta(days=3)).isoformat()}
    _ok(await client.patch(f"{API}/inspections/{iid}", json=ended, headers={"If-Match": held.headers["etag"]}), 200)
    assert _ok(await client.get(f"{API}/inspections/{iid}/readiness"), 200)["ready"] is True
    await move("published")
    return run


async def read_back(client: httpx.AsyncClient, run: InspectionRun) -> dict[str, object]:
    """Everything the API answers about the run's inspection, by what was asked."""
    iid = run.inspection_id
    paths = [
        f"{API}/inspections/{iid}",
        f"{API}/inspections/{iid}/summary",
        f"{API}/inspections/{iid}/frames",
        f"{API}/inspections/{iid}/samples",
        f"{API}/inspections/{iid}/rating-runs",
        f"{API}/inspections/{iid}/rating-runs/latest",
        f"{API}/inspections/{iid}/judgements",
        f"{API}/units/{run.unit_id}/ratings-history",
        *(f"{API}/rating-runs/{s}" for s in run.snapshot_ids),
    ]
    for sample_id in run.sample_ids.values():
        paths += [f"{API}/samples/{sample_id}", f"{API}/samples/{sample_id}/substitutions"]
    answers: dict[str, object] = {path: _ok(await client.get(path), 200) for path in paths}
    for sample_id in run.sample_ids.values():
        answers[f"cases of {sample_id}"] = await _all(client, f"{API}/samples/{sample_id}/cases",
                                                      {"limit": 7, "include_replaced": "true"})
    answers["assessments"] = await _all(client, f"{API}/inspections/{iid}/assessments", {"limit": 9})
    return answers


async def _all(client: httpx.AsyncClient, path: str, params: dict) -> list[dict]:
    items, cursor = [], None
    while True:
        page = _ok(await client.get(path, params={**params, **({"cursor": cursor} if cursor else {})}), 200)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
