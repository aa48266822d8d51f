"""Retention: the case data of inspections published more than GATEWAY_CASE_RETENTION_DAYS ago is
purged, and their published ratings, summaries and the ratings history read exactly as before."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway import retention
from gateway.assessments.models import CaseAssessment
from gateway.caseloads.models import CaseloadFrame, Sample, SampledCase, Substitution
from gateway.cli import migrate
from gateway.db import utcnow
from gateway.idempotency.models import IdempotentRequest
from gateway.inspections.models import Inspection
from gateway.ratings.models import RatingSnapshot
from tests.conftest import ROOT
from tests.gateway.inspection_run import API, read_back, run_inspection


async def published_reads(gateway, run) -> dict:
    """What the published ratings, the summary and the ratings history answer."""
    iid = run.inspection_id
    paths = [
        f"{API}/inspections/{iid}/summary",
        f"{API}/inspections/{iid}/rating-runs",
        f"{API}/inspections/{iid}/rating-runs/latest",
        f"{API}/units/{run.unit_id}/ratings-history",
        f"{API}/inspections/{iid}",
        f"{API}/inspections/{iid}/frames",
        f"{API}/inspections/{iid}/judgements",
    ]
    reads = {}
    for path in paths:
        response = await gateway.get(path)
        assert response.status_code == 200, response.text
        reads[path] = (response.headers.get("etag"), response.json())
    for snapshot_id in run.snapshot_ids:
        reads[snapshot_id] = (await gateway.get(f"{API}/rating-runs/{snapshot_id}")).json()["result"]
    return reads


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_purge_removes_case_data_past_retention_and_the_ratings_read_the_same(
    gateway, db_connection, db_session
):
    old = await run_inspection(gateway, seed=11)
    recent = await run_inspection(gateway, seed=12)
    old_id = uuid.UUID(old.inspection_id)
    await db_session.execute(
        update(Inspection).where(Inspection.id == old_id).values(published_at=utcnow() - timedelta(days=400))
    )
    before = await published_reads(gateway, old)
    samples_before = (await gateway.get(f"{API}/inspections/{old.inspection_id}/samples")).json()["items"]
    recent_before = await read_back(gateway, recent)
    sample_before = (await gateway.get(f"{API}/samples/{old.sample_ids['case_supervision']}")).json()
    sessions = async_sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    said: list[str] = []
    removed = [r for r in await retention.purge(sessions, 365, say=said.append) if old.inspection_id in r.inspection]
    assert [r.inspection.split(" (")[0] for r in removed] == [f"inspection {old.inspection_id}"]
    report = removed[0]
    assert (report.frames, report.samples, report.substitutions, report.snapshots, report.stored_answers) == (2, 2, 2, 2, 1)
    assert report.sampled_cases > 60 and report.case_assessments == report.sampled_cases - 2
    line = next(line for line in said if old.inspection_id in line)
    assert "removed the cases of 2 frames" in line and "2 substitutions" in line
    assert said[-1].startswith("purge: ") and "GATEWAY_CASE_RETENTION_DAYS=365" in said[-1]

    db_session.expunge_all()
    assert await published_reads(gateway, old) == before
    assert await read_back(gateway, recent) == recent_before
    # The substitutions are gone (the summary still counts the cases they replaced).
    samples_after = (await gateway.get(f"{API}/inspections/{old.inspection_id}/samples")).json()["items"]
    assert samples_after == [{**s, "substitutions": 0} for s in samples_before]

    # What was removed, and what stayed.
    samples = select(Sample.id).where(Sample.inspection_id == old_id)
    assert await count(db_session, CaseloadFrame, CaseloadFrame.inspection_id == old_id,
                       CaseloadFrame.content.is_not(None)) == 0
    assert await count(db_session, CaseAssessment, CaseAssessment.inspection_id == old_id) == 0
    assert await count(db_session, Substitution, Substitution.sample_id.in_(samples)) == 0
    assert await count(db_session, SampledCase, SampledCase.sample_id.in_(samples),
                       SampledCase.case_ref.is_not(None)) == 0
    assert await count(db_session, SampledCase, SampledCase.sample_id.in_(samples)) == report.sampled_cases
    sample = (await gateway.get(f"{API}/samples/{old.sample_ids['case_supervision']}")).json()
    assert (sample["selected"], sample["reserves"]) == ([], [])
    assert sample["design"]["exclude"] == []
    for kept in ("allocation", "balance", "frame", "seed", "frame_fingerprint", "sample_size"):
        assert sample[kept] == sample_before[kept], kept
    assert (await gateway.get(f"{API}/samples/{old.sample_ids['case_supervision']}/cases")).json()["items"] == []
    assert (await gateway.get(f"{API}/inspections/{old.inspection_id}/assessments")).json()["items"] == []
    a_case = sample_before["selected"][5]["case_ref"]
    gone = await gateway.get(f"{API}/inspections/{old.inspection_id}/samples/case_supervision/cases/{a_case}/assessment")
    assert gone.status_code == 404
    for snapshot in await db_session.scalars(select(RatingSnapshot).where(RatingSnapshot.inspection_id == old_id)):
        case_based = [s for s in snapshot.request["standards"] if s["standard"].startswith("2.")]
        assert case_based and all("cases" not in s and s["counts"] for s in case_based)
        record = (await gateway.get(f"{API}/rating-runs/{snapshot.id}")).json()
        assert record["request"]["standards"] == snapshot.request["standards"]
    keys = {r.key for r in await db_session.scalars(select(IdempotentRequest).where(
        IdempotentRequest.scope.contains(old.inspection_id)))}
    assert keys == {old.keys["run"], old.keys["panel"]}

    # Again: nothing more to remove.
    said.clear()
    again = [r for r in await retention.purge(sessions, 365, say=said.append) if old.inspection_id in r.inspection]
    assert not again[0].anything
    assert f"inspection {old.inspection_id}" in said[0] and said[0].endswith("no case data left to remove")
    assert await published_reads(gateway, old) == before


async def test_an_inspection_published_within_retention_keeps_its_case_data(gateway, db_connection, db_session):
    run = await run_inspection(gateway, seed=13)
    await db_session.execute(update(Inspection).where(Inspection.id == uuid.UUID(run.inspection_id))
                             .values(published_at=utcnow() - timedelta(days=300)))
    before = await read_back(gateway, run)
    sessions = async_sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    assert not [r for r in await retention.purge(sessions, 365, say=lambda _: None) if run.inspection_id in r.inspection]
    assert await read_back(gateway, run) == before
    purged = [r for r in await retention.purge(sessions, 299, say=lambda _: None) if run.inspection_id in r.inspection]
    assert purged[0].anything


def test_make_purge_and_rotate_case_key_say_what_they_did(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"
    migrate(url)
    env = {**os.environ, "DATABASE_URL": url, "GATEWAY_CASE_RETENTION_DAYS": "30"}
    purged = subprocess.run([sys.executable, "-m", "gateway.cli", "purge"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert purged.returncode == 0, purged.stderr
    assert "purge: 0 inspections published before" in purged.stdout
    assert "(GATEWAY_CASE_RETENTION_DAYS=30); case data removed from 0" in purged.stdout
    rotated = subprocess.run([sys.executable, "-m", "gateway.cli", "rotate-case-key"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0, rotated.stderr
    assert "sampled_cases.case_ref: 0 sealed again under the newest key, 0 already under it (0 rows)" in rotated.stdout
    assert "nothing to do" in rotated.stdout
