"""Writers racing for one inspection get the answers PostgreSQL gives on either database: one wins, the
others are told why (409), never that the database is down (503) and never a 500. On SQLite, the
embedded default, writers wait their turn for the write lock instead of failing at once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import delete, select

from gateway.inspections.models import Inspection
from gateway.ratings.models import RatingSnapshot
from gateway.units.models import Unit
from tests.e2e.test_faults import COURT_KQS, JUDGEMENTS, _run
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit
from tests.support.identity import signed_in
from tests.support.servers import service

pytestmark = pytest.mark.e2e


def _inspections(database_url: str, count: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    async def prepare(session):
        units, inspections = [], []
        for _ in range(count):
            unit = await make_unit(session, type="yos")
            inspection = await make_inspection(session, unit=unit, framework_id="youth-2021", status="rating")
            cases = [{"case_ref": f"W{i:06d}", "answers": {kq: "yes" for kq in COURT_KQS}} for i in range(8)]
            await make_assessed_sample(session, inspection, "court_disposals", cases)
            for standard, rating in JUDGEMENTS.items():
                await make_judgement(session, inspection, standard, rating)
            units.append(unit.id)
            inspections.append(inspection.id)
        return units, inspections

    return asyncio.run(_run(database_url, prepare))


def _remove(database_url: str, units: list[uuid.UUID], inspections: list[uuid.UUID]) -> None:
    async def remove(session):
        # make_unit gives a PDU a region of its own: it goes too, or it is left in the run's database.
        parents = (await session.scalars(select(Unit.parent_id).where(Unit.id.in_(units)))).all()
        await session.execute(delete(RatingSnapshot).where(RatingSnapshot.inspection_id.in_(inspections)))
        await session.execute(delete(Inspection).where(Inspection.id.in_(inspections)))
        await session.execute(delete(Unit).where(Unit.id.in_(units)))
        await session.execute(delete(Unit).where(Unit.id.in_([p for p in parents if p is not None])))

    asyncio.run(_run(database_url, remove))


async def _race(gateway_url: str, auth: dict[str, str], inspections: list[uuid.UUID], per_inspection: int) -> Counter:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60, limits=httpx.Limits(max_connections=64),
                                 headers=auth) as client:
        posts = [
            client.post(f"/api/v1/inspections/{inspection_id}/rating-runs")
            for inspection_id in inspections
            for _ in range(per_inspection)
        ]
        return Counter(response.status_code for response in await asyncio.gather(*posts))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_rating_runs_racing_for_an_inspection_win_once_and_the_rest_are_told_why(database_url, tmp_path):
    units, inspections = _inspections(database_url, 3)
    try:
        with (
            service("rating_engine", "RATING_ENGINE_", tmp_path) as rating,
            service("gateway", "GATEWAY_", tmp_path, {
                "DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": rating.url,
                "GATEWAY_SAMPLING_URL": rating.url,
            }) as gateway,
        ):
            auth = signed_in(gateway.url)
            statuses = asyncio.run(_race(gateway.url, auth, inspections, 10))
            assert set(statuses) <= {201, 409}, statuses
            assert statuses[201] >= len(inspections)
            assert "Traceback" not in gateway.log()
            # Each inspection's snapshots are numbered 1, 2, ... without a gap or a repeat.
            for inspection_id in inspections:
                runs = httpx.get(f"{gateway.url}/api/v1/inspections/{inspection_id}/rating-runs", timeout=30,
                                 headers=auth).json()
                sequences = sorted(run["sequence"] for run in runs["items"])
                assert sequences == list(range(1, len(sequences) + 1))
            assert sum(
                len(httpx.get(f"{gateway.url}/api/v1/inspections/{i}/rating-runs", timeout=30,
                              headers=auth).json()["items"])
                for i in inspections
            ) == statuses[201]
    finally:
        _remove(database_url, units, inspections)


def _planned(database_url: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A planned inspection of a new PDU: the PDU, the region made for it, and the inspection."""
    async def prepare(session):
        unit = await make_unit(session)
        inspection = await make_inspection(session, unit=unit)
        return unit.id, unit.parent_id, inspection.id

    return asyncio.run(_run(database_url, prepare))


FRAME = "case_ref,gender\n" + "".join(f"D{n:06d},{'MF'[n % 2]}\n" for n in range(300))


async def _draws(gateway_url: str, inspection_id: uuid.UUID, headers: dict[str, str], count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=60, limits=httpx.Limits(max_connections=32)) as client:
        body = {"sample_type": "case_supervision", "size": 40, "seed": 7}
        return await asyncio.gather(
            *(client.post(f"/api/v1/inspections/{inspection_id}/samples", json=body, headers=headers) for _ in range(count))
        )


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_draws_racing_for_a_frame_draw_it_once(database_url, tmp_path):
    pdu, region, inspection_id = _planned(database_url)
    other_pdu, other_region, keyed = _planned(database_url)
    try:
        with (
            service("sampling", "SAMPLING_", tmp_path) as sampling,
            service("gateway", "GATEWAY_", tmp_path, {
                "DATABASE_URL": database_url, "GATEWAY_SAMPLING_URL": sampling.url,
                "GATEWAY_RATING_ENGINE_URL": sampling.url,
            }) as gateway,
        ):
            auth = signed_in(gateway.url)
            for target in (inspection_id, keyed):
                put = httpx.put(f"{gateway.url}/api/v1/inspections/{target}/frames/case_supervision", content=FRAME,
                                headers={"Content-Type": "text/csv", **auth}, timeout=30)
                assert put.status_code == 201, put.text

            statuses = Counter(r.status_code for r in asyncio.run(_draws(gateway.url, inspection_id, auth, 10)))
            assert statuses == Counter({201: 1, 409: 9}), statuses

            # With one Idempotency-Key: one draw, and every other answer is that draw again or "in progress".
            answers = asyncio.run(_draws(gateway.url, keyed, {"Idempotency-Key": "race-1", **auth}, 10))
            drawn = {r.json()["id"] for r in answers if r.status_code == 201}
            in_progress = [r for r in answers if r.status_code == 409]
            assert len(drawn) == 1 and len(in_progress) + sum(r.status_code == 201 for r in answers) == 10
            assert all("still in progress" in r.json()["detail"] and r.headers["retry-after"] for r in in_progress)
            again = httpx.post(f"{gateway.url}/api/v1/inspections/{keyed}/samples", timeout=30,
                               json={"sample_type": "case_supervision", "size": 40, "seed": 7},
                               headers={"Idempotency-Key": "race-1", **auth})
            assert (again.status_code, again.json()["id"], again.headers["idempotent-replayed"]) == (201, *drawn, "true")
            assert "Traceback" not in gateway.log()
    finally:
        _remove(database_url, [pdu, other_pdu], [inspection_id, keyed])
        _remove(database_url, [region, other_region], [])  # once no PDU is under them
