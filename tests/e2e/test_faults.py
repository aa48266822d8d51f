"""Single faults, with the services as real processes: the gateway degrades to clear 503/504 answers
within its timeouts, keeps serving what does not depend on the fault, recovers by itself, and loses no
write it acknowledged.

The database is made slow or unreachable through a small TCP proxy between the gateway and PostgreSQL
(`tests.support.tcp_proxy`), never by stopping the shared server; an engine is stalled with SIGSTOP.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from gateway.db import create_engine, create_sessionmaker
from gateway.inspections.models import Inspection
from gateway.ratings.models import RatingSnapshot
from gateway.units.models import Unit
from tests.conftest import TEST_ACTOR
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit
from tests.support.identity import signed_in
from tests.support.servers import free_port, service
from tests.support.tcp_proxy import tcp_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

TIMEOUTS = {
    "GATEWAY_DB_CONNECT_TIMEOUT_SECONDS": "1",
    "GATEWAY_DB_CHECKOUT_TIMEOUT_SECONDS": "1",
    "GATEWAY_DB_STATEMENT_TIMEOUT_SECONDS": "2",
}
WORST_CASE_SECONDS = 1 + 2 * (2 + 1) + 1 + 1
"""A checkout, a ping and a statement that each run out (connect, client deadline = statement + 1), and a
second of slack: no answer of a stalled database may take longer."""


def _via(database_url: str, port: int) -> str:
    return make_url(database_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _unused_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def _run(database_url: str, work):
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _units_held(database_url: str, codes: list[str]) -> set[str]:
    async def held(session):
        return set((await session.scalars(select(Unit.code).where(Unit.code.in_(codes)))).all())

    return asyncio.run(_run(database_url, held))


def _remove_units(database_url: str, prefix: str) -> None:
    async def remove(session):
        await session.execute(delete(Unit).where(Unit.code.like(f"{prefix}%")))

    asyncio.run(_run(database_url, remove))


class UnitWriter:
    """Creates units through the gateway, keeping what each answer was and how long it took."""

    def __init__(self, gateway_url: str):
        self.url = gateway_url + "/api/v1/units"
        self.auth = signed_in(gateway_url)
        self.prefix = "F" + uuid.uuid4().hex[:6].upper()
        self.acknowledged: list[str] = []
        self.answers: list[tuple[int, float, str]] = []
        self._n = 0

    def write(self) -> tuple[int, float]:
        self._n += 1
        code = f"{self.prefix}{self._n:04d}"
        started = time.monotonic()
        try:
            response = httpx.post(self.url, json={"code": code, "name": "Fault test", "type": "region",
                                                  "nation": "England"}, headers=self.auth, timeout=30)
            status, retry_after = response.status_code, response.headers.get("retry-after", "")
        except httpx.TransportError:
            status, retry_after = 0, ""
        elapsed = time.monotonic() - started
        if status == 201:
            self.acknowledged.append(code)
        self.answers.append((status, elapsed, retry_after))
        return status, elapsed

    def write_many(self, count: int, at_once: int = 8) -> list[tuple[int, float]]:
        with ThreadPoolExecutor(at_once) as pool:
            return list(pool.map(lambda _: self.write(), range(count)))


def test_a_stalled_database_is_a_503_within_the_timeouts_and_every_acknowledged_write_is_kept(database_url, tmp_path):
    server = make_url(database_url)
    with (
        tcp_proxy(server.host, server.port) as proxy,
        service("gateway", "GATEWAY_", tmp_path, {
            "DATABASE_URL": _via(database_url, proxy.port), **TIMEOUTS,
            "GATEWAY_RATING_ENGINE_URL": _unused_url(), "GATEWAY_SAMPLING_URL": _unused_url(),
        }) as gateway,
    ):
        writer = UnitWriter(gateway.url)
        try:
            before = writer.write_many(16)
            assert {status for status, _ in before} == {201}

            proxy.stall()
            stalled = writer.write_many(8)
            started = time.monotonic()
            ready = httpx.get(gateway.url + "/readyz", timeout=30)
            readiness_took = time.monotonic() - started
            assert {status for status, _ in stalled} == {503}, writer.answers
            assert max(elapsed for _, elapsed in stalled) < WORST_CASE_SECONDS
            assert all(retry for status, _, retry in writer.answers[16:] if status == 503)
            assert ready.status_code == 503 and ready.json()["checks"]["database"] != "ok"
            assert readiness_took < 4
            assert httpx.get(gateway.url + "/healthz", timeout=5).status_code == 200  # alive all along

            proxy.resume()  # recovery without restarting anything
            after = writer.write_many(16)
            assert {status for status, _ in after} == {201}
            assert len(writer.acknowledged) == 32
            assert _units_held(database_url, writer.acknowledged) == set(writer.acknowledged)
            assert "Traceback" not in gateway.log()
        finally:
            proxy.resume()
            _remove_units(database_url, writer.prefix)


def test_an_unreachable_database_is_a_503_at_once_and_the_gateway_comes_back_by_itself(database_url, tmp_path):
    server = make_url(database_url)
    with (
        tcp_proxy(server.host, server.port) as proxy,
        service("gateway", "GATEWAY_", tmp_path, {
            "DATABASE_URL": _via(database_url, proxy.port), **TIMEOUTS,
            "GATEWAY_RATING_ENGINE_URL": _unused_url(), "GATEWAY_SAMPLING_URL": _unused_url(),
        }) as gateway,
    ):
        writer = UnitWriter(gateway.url)
        try:
            assert {status for status, _ in writer.write_many(8)} == {201}
            proxy.cut()
            cut = writer.write_many(8)
            assert {status for status, _ in cut} == {503}, writer.answers
            assert max(elapsed for _, elapsed in cut) < 1 + 2 + 1
            proxy.resume()
            deadline = time.monotonic() + 10
            while writer.write()[0] != 201 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert {status for status, _ in writer.write_many(8)} == {201}
            assert _units_held(database_url, writer.acknowledged) == set(writer.acknowledged)
        finally:
            proxy.resume()
            _remove_units(database_url, writer.prefix)


# --- an engine that stops answering ------------------------------------------------------------------

BUDGET = 3
JUDGEMENTS = {"1.1": "good", "1.2": "good", "1.3": "outstanding", "1.4": "outstanding", "3.4": "good", "4.1": "good"}
COURT_KQS = [f"2.{s}.{k}" for s in range(1, 5) for k in range(1, 4)]


def _rated_inspection(database_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    async def prepare(session):
        unit = await make_unit(session, type="yos")
        inspection = await make_inspection(session, unit=unit, framework_id="youth-2021", status="rating")
        cases = [{"case_ref": f"S{i:06d}", "answers": {kq: "yes" for kq in COURT_KQS}} for i in range(10)]
        await make_assessed_sample(session, inspection, "court_disposals", cases)
        for standard, rating in JUDGEMENTS.items():
            await make_judgement(session, inspection, standard, rating)
        return unit.id, inspection.id

    return asyncio.run(_run(database_url, prepare))


def _remove_inspection(database_url: str, unit_id: uuid.UUID, inspection_id: uuid.UUID) -> None:
    async def remove(session):
        await session.execute(delete(RatingSnapshot).where(RatingSnapshot.inspection_id == inspection_id))
        await session.execute(delete(Inspection).where(Inspection.id == inspection_id))
        await session.execute(delete(Unit).where(Unit.id == unit_id))

    asyncio.run(_run(database_url, remove))


async def _runs_and_reads(gateway_url: str, inspection_id: uuid.UUID, runs: int):
    """`runs` rating runs at once, and reads of an unrelated list while they wait."""
    limits = httpx.Limits(max_connections=runs + 5)
    async with httpx.AsyncClient(base_url=gateway_url, limits=limits, timeout=60, headers=signed_in(gateway_url)) as client:

        async def run() -> tuple[int, float, str]:
            started = time.monotonic()
            response = await client.post(f"/api/v1/inspections/{inspection_id}/rating-runs")
            return response.status_code, time.monotonic() - started, response.headers.get("retry-after", "")

        async def reads() -> list[tuple[int, float]]:
            seen = []
            for _ in range(20):
                started = time.monotonic()
                status = (await client.get("/api/v1/units", params={"limit": 5})).status_code
                seen.append((status, time.monotonic() - started))
                await asyncio.sleep(0.05)
            return seen

        waiting = [asyncio.create_task(run()) for _ in range(runs)]
        await asyncio.sleep(0.3)  # the runs are all waiting on the engine by now
        seen = await reads()
        return await asyncio.gather(*waiting), seen


def test_a_stalled_engine_is_a_504_within_its_budget_while_unrelated_reads_stay_fast(database_url, tmp_path):
    unit_id, inspection_id = _rated_inspection(database_url)
    env = {"DATABASE_URL": database_url, "GATEWAY_ENGINE_TIMEOUT_SECONDS": str(BUDGET)}
    try:
        with (
            service("rating_engine", "RATING_ENGINE_", tmp_path) as rating,
            service("gateway", "GATEWAY_", tmp_path, {
                **env, "GATEWAY_RATING_ENGINE_URL": rating.url, "GATEWAY_SAMPLING_URL": _unused_url(),
            }) as gateway,
        ):
            os.kill(rating.process.pid, signal.SIGSTOP)
            try:
                runs, reads = asyncio.run(_runs_and_reads(gateway.url, inspection_id, 40))
            finally:
                os.kill(rating.process.pid, signal.SIGCONT)
            assert {status for status, _, _ in runs} == {504}
            assert max(elapsed for _, elapsed, _ in runs) < BUDGET + 1, sorted(round(e, 2) for _, e, _ in runs)
            assert {retry for _, _, retry in runs} == {"5"}
            assert {status for status, _ in reads} == {200}
            assert max(elapsed for _, elapsed in reads) < 1.0, reads
            recovered = httpx.post(f"{gateway.url}/api/v1/inspections/{inspection_id}/rating-runs", timeout=30,
                                   headers=signed_in(gateway.url))
            assert recovered.status_code == 201, recovered.text
            assert recovered.json()["sequence"] == 1  # none of the 40 stalled runs wrote anything
    finally:
        _remove_inspection(database_url, unit_id, inspection_id)
