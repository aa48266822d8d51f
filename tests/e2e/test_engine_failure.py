"""The rating engine stops while an inspection is being rated: the gateway answers 503 with Retry-After and
stores nothing; once the engine is back on the same port, the same request stores exactly one snapshot.

The three services run as real processes; the inspection and its evidence are written straight into the
gateway's database (the same DATABASE_URL), so the test does not depend on the routes that record them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import httpx
import pytest
from sqlalchemy import delete, func, select

from gateway.db import create_engine, create_sessionmaker
from gateway.idempotency.models import IdempotentRequest
from gateway.inspections.models import Inspection
from gateway.ratings.models import RatingSnapshot
from gateway.units.models import Unit
from tests.conftest import ROOT, TEST_ACTOR
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit
from tests.support.identity import admin_env, signed_in
from tests.support.servers import free_port, service, stop

pytestmark = pytest.mark.e2e

JUDGEMENTS = {"1.1": "good", "1.2": "good", "1.3": "outstanding", "1.4": "outstanding", "3.4": "good", "4.1": "good"}
COURT_KQS = [f"2.{s}.{k}" for s in range(1, 5) for k in range(1, 4)]


async def _prepare(database_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """A youth service's inspection in `rating`, with judgements and a court disposals sample assessed."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            unit = await make_unit(session, type="yos")
            inspection = await make_inspection(session, unit=unit, framework_id="youth-2021", status="rating")
            cases = [
                {"case_ref": f"K{i:06d}", "answers": {kq: "yes" if i < 8 else "no" for kq in COURT_KQS}}
                for i in range(10)
            ]
            await make_assessed_sample(session, inspection, "court_disposals", cases)
            for standard, rating in JUDGEMENTS.items():
                await make_judgement(session, inspection, standard, rating)
            return unit.id, inspection.id
    finally:
        await engine.dispose()


async def _held(database_url: str, inspection_id: uuid.UUID) -> tuple[int, str | None]:
    """How many snapshots the inspection has, and its current rating."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR)() as session:
            count = await session.scalar(
                select(func.count()).select_from(RatingSnapshot).where(RatingSnapshot.inspection_id == inspection_id)
            )
            rating = await session.scalar(select(Inspection.current_rating).where(Inspection.id == inspection_id))
            return count, rating
    finally:
        await engine.dispose()


async def _remove(database_url: str, unit_id: uuid.UUID, inspection_id: uuid.UUID, scope: str) -> None:
    """Leave the shared test database as it was found."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            await session.execute(delete(IdempotentRequest).where(IdempotentRequest.scope == scope))
            await session.execute(delete(Inspection).where(Inspection.id == inspection_id))
            await session.execute(delete(Unit).where(Unit.id == unit_id))
    finally:
        await engine.dispose()


@pytest.fixture
def prepared(database_url):
    setup = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "setup"], env={**os.environ, "DATABASE_URL": database_url, **admin_env()},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert setup.returncode == 0, setup.stderr
    unit_id, inspection_id = asyncio.run(_prepare(database_url))
    scope = f"POST /api/v1/inspections/{inspection_id}/rating-runs"
    yield inspection_id
    asyncio.run(_remove(database_url, unit_id, inspection_id, scope))


def test_a_run_while_the_rating_engine_is_down_is_503_and_stores_nothing_then_succeeds(
    database_url, prepared, tmp_path
):
    inspection_id = prepared
    port = free_port()
    rating_url = f"http://127.0.0.1:{port}"
    env = {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": rating_url}
    with (
        service("sampling", "SAMPLING_", tmp_path) as sampling,
        service("gateway", "GATEWAY_", tmp_path, {**env, "GATEWAY_SAMPLING_URL": sampling.url}) as gateway,
    ):
        runs = f"{gateway.url}/api/v1/inspections/{inspection_id}/rating-runs"
        key = {"Idempotency-Key": f"e2e-{inspection_id}", **signed_in(gateway.url)}

        with service("rating_engine", "RATING_ENGINE_", tmp_path, port=port) as rating:
            ready = httpx.get(gateway.url + "/readyz", timeout=10)
            assert ready.json()["checks"]["rating_engine"] == "ok"
            stop(rating.process)

            down = httpx.post(runs, headers=key, timeout=60)

        assert down.status_code == 503, down.text
        assert down.headers["content-type"] == "application/problem+json"
        assert down.headers["retry-after"] == "5"
        problem = down.json()
        assert (problem["type"], problem["engine"]) == ("/problems/engine-unavailable", "rating-engine")
        assert "nothing was saved" in problem["detail"]
        assert asyncio.run(_held(database_url, inspection_id)) == (0, None)

        with service("rating_engine", "RATING_ENGINE_", tmp_path, port=port):
            back = httpx.post(runs, headers=key, timeout=60)
            repeat = httpx.post(runs, headers=key, timeout=60)

        assert back.status_code == 201, back.text
        body = back.json()
        # 1.1-1.4 G,G,O,O; 2.1-2.4 at 80% Outstanding; 3.4 Good; 3.1-3.3 have no cases: not rated.
        assert (body["sequence"], body["kind"], body["overall_rating"]) == (1, "run", "not_rated")
        assert {s["standard"]: s["rating"] for s in body["result"]["standards"] if s["rating"]}["2.1"] == "outstanding"
        assert repeat.json() == body and repeat.headers["idempotent-replayed"] == "true"
        assert asyncio.run(_held(database_url, inspection_id)) == (1, "not_rated")
