"""A whole inspection through the gateway's public API, with the three services as real processes:
`make demo` plans, samples, records, rates, lets the panel decide, publishes and corrects; then a report
reads both published versions."""

import asyncio
import os
import re
import subprocess
import sys
import uuid

import httpx
import pytest
from sqlalchemy import delete

from gateway.db import create_engine, create_sessionmaker
from gateway.idempotency.models import IdempotentRequest
from gateway.inspections.models import Inspection
from gateway.ratings.models import PublishedVersion, RatingSnapshot
from tests.conftest import ROOT, TEST_ACTOR
from tests.support.identity import ADMIN_EMAIL, admin_env, signed_in

pytestmark = pytest.mark.e2e


async def _remove(database_url: str, inspection_id: uuid.UUID) -> None:
    """Leave the run's shared database as the demo found it."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            await session.execute(delete(IdempotentRequest).where(IdempotentRequest.key.like("demo-%")))
            await session.execute(delete(PublishedVersion).where(PublishedVersion.inspection_id == inspection_id))
            for kind in ("correction", "override"):  # each based on the one before
                await session.execute(
                    delete(RatingSnapshot).where(RatingSnapshot.inspection_id == inspection_id, RatingSnapshot.kind == kind)
                )
            await session.execute(delete(RatingSnapshot).where(RatingSnapshot.inspection_id == inspection_id))
            await session.execute(delete(Inspection).where(Inspection.id == inspection_id))
    finally:
        await engine.dispose()


def test_the_demo_inspection_runs_end_to_end_and_reads_back_as_published(stack, database_url):
    gateway = stack["gateway"].url
    demo = subprocess.run(
        [sys.executable, "scripts/demo.py"], env={**os.environ, "GATEWAY_URL": gateway, **admin_env()},
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    inspection_id = uuid.UUID(re.search(r"Planned inspection ([0-9a-f-]{36})", demo.stdout).group(1))
    http = httpx.Client(headers=signed_in(gateway), timeout=30)
    try:
        # The report the demo printed, from the seeded synthetic data.
        assert "1.4 Information and facilities" in demo.stdout
        assert re.search(r"Overall: Good, score 15/27 \(score bands provisional\)", demo.stdout), demo.stdout

        # Version 1, as published.
        summary = http.get(f"{gateway}/api/v1/inspections/{inspection_id}/summary", params={"version": 1}).json()
        assert summary["inspection"]["status"] == "published"
        assert summary["unit"]["code"] == "N53DRBY"
        table = summary["ratings"]
        assert table["published"] is True and table["kind"] == "override" and table["version"] == 1
        standards = {s["standard"]: s for s in table["standards"]}
        assert standards["1.4"]["rating"] == "good" and standards["1.4"]["computed_rating"] == "requires_improvement"
        assert standards["1.4"]["override_reason"].startswith("The panel found")
        assert (table["overall"]["score"], table["overall"]["max_score"], table["overall"]["rating"]) == (15, 27, "good")
        samples = {s["sample_type"]: s for s in summary["samples"]}
        assert samples["case_supervision"]["in_sample"] == 151  # 80% / 5 points on 1,850 cases

        # Published complete: fieldwork over and every case of every sample answered.
        assert "fieldwork over" in demo.stdout and "ready for publication: all " in demo.stdout
        readiness = http.get(f"{gateway}/api/v1/inspections/{inspection_id}/readiness").json()
        # Read after the correction: its snapshot (3) follows the run (1) and the panel's decision (2).
        assert (readiness["ready"], readiness["unmet"], readiness["snapshot_sequence"]) == (True, 0, 3)
        answered = [(c["standard"], c["answered"], c["sample"]) for c in readiness["conditions"]
                    if c["condition"] == "sample_answered"]
        assert [standard for standard, _, _ in answered] == ["2.1", "2.2", "2.3", "2.4", "2.5"]
        assert all(n == sample > 0 for _, n, sample in answered), answered
        assert {s: n for s, n, _ in answered if s != "2.1"} == dict.fromkeys(["2.2", "2.3", "2.4", "2.5"], 151)
        assert summary["assessments"]["recorded"] == summary["assessments"]["cases_sampled"]
        assert summary["judgements"]["missing"] == []
        team = http.get(f"{gateway}/api/v1/inspections/{inspection_id}/team").json()["members"]
        assert [(m["email"], m["role"]) for m in team] == [(ADMIN_EMAIL, "lead_inspector")]

        # Version 2, the correction, is the default: 1.2 judged Good, one point more, and said why.
        assert "Correction, published as version 2: The factual accuracy check" in demo.stdout
        assert re.search(r"Version 1 \(as first published\): Good, score 15/27", demo.stdout), demo.stdout
        assert re.search(r"Version 2 \(latest, corrected\): Good, score 16/27", demo.stdout), demo.stdout
        latest = http.get(f"{gateway}/api/v1/inspections/{inspection_id}/summary").json()
        assert (latest["ratings"]["version"], latest["ratings"]["kind"]) == (2, "correction")
        assert {s["standard"]: s["rating"] for s in latest["ratings"]["standards"]}["1.2"] == "good"
        assert latest["ratings"]["overall"]["score"] == 16
        publication = latest["publication"]
        assert (publication["corrected"], publication["withdrawn"], publication["latest_version"]) == (True, False, 2)
        assert publication["corrections"][0]["reason"].startswith("The factual accuracy check")

        # The programme: every demo PDU sized by the sampling service, per PDU and per region.
        assert "Programme: how often can every PDU be inspected?" in demo.stdout
        assert re.search(r"per_pdu\s+109 inspections, .* shortest cycle \d+ year", demo.stdout), demo.stdout
        assert re.search(r"per_region\s+12 inspections, .* shortest cycle 1 year\n", demo.stdout), demo.stdout

        runs = http.get(f"{gateway}/api/v1/inspections/{inspection_id}/rating-runs").json()["items"]
        assert [r["kind"] for r in runs] == ["correction", "override", "run"]
        frozen = http.post(f"{gateway}/api/v1/inspections/{inspection_id}/rating-runs")
        assert frozen.status_code == 409
        assert frozen.headers["content-type"] == "application/problem+json"

        # No case reference of the inspection reached the log of any service.
        case_refs = set()
        for listed in http.get(f"{gateway}/api/v1/inspections/{inspection_id}/samples").json()["items"]:
            sample = http.get(f"{gateway}/api/v1/samples/{listed['id']}").json()
            case_refs |= {case["case_ref"] for case in [*sample["selected"], *sample["reserves"]]}
        assert len(case_refs) > 250
        for name in ("gateway", "rating", "sampling"):
            log = stack[name].log()
            assert '"event": "request"' in log, name
            assert [ref for ref in case_refs if ref in log] == [], name
    finally:
        http.close()
        asyncio.run(_remove(database_url, inspection_id))
