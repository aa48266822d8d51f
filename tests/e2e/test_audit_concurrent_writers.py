"""Concurrent writers through two real gateway processes on one database leave one audit chain: every
change recorded once, entries numbered without a gap, and `audit-verify` finds the chain intact."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import httpx
import pytest
from sqlalchemy import delete, select

from gateway.audit.models import AuditEntry
from gateway.units.models import Unit
from tests.conftest import ROOT
from tests.e2e.test_faults import _run
from tests.support.identity import sign_in
from tests.support.servers import service

pytestmark = pytest.mark.e2e

UNITS = 24


async def _write_at_once(urls: list[str], prefix: str, auth: dict[str, str]) -> list[int]:
    """Create units through both gateways at once, then rename each with its ETag, again all at once."""
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64), headers=auth) as client:
        created = await asyncio.gather(*(
            client.post(f"{urls[n % 2]}/api/v1/units", json={
                "code": f"{prefix}{n:03d}", "name": f"Audited {n}", "type": "region", "nation": "England"})
            for n in range(UNITS)
        ))
        renamed = await asyncio.gather(*(
            client.patch(f"{urls[(n + 1) % 2]}/api/v1/units/{response.json()['id']}", json={"name": f"Renamed {n}"},
                         headers={"If-Match": response.headers["etag"]})
            for n, response in enumerate(created) if response.status_code == 201
        ))
        return [r.status_code for r in created] + [r.status_code for r in renamed]


def _entries_about(database_url: str, prefix: str) -> list[AuditEntry]:
    async def read(session):
        ids = [str(i) for i in (await session.scalars(select(Unit.id).where(Unit.code.like(f"{prefix}%")))).all()]
        return list((await session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "units", AuditEntry.entity_id.in_(ids))
        )).all())

    return asyncio.run(_run(database_url, read))


def _remove(database_url: str, prefix: str) -> None:
    async def remove(session):
        await session.execute(delete(Unit).where(Unit.code.like(f"{prefix}%")))

    asyncio.run(_run(database_url, remove))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_parallel_requests_through_two_gateways_leave_one_valid_chain(database_url, tmp_path):
    prefix = "AU" + uuid.uuid4().hex[:5].upper()
    env = {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": "http://127.0.0.1:9",
           "GATEWAY_SAMPLING_URL": "http://127.0.0.1:9"}
    try:
        with service("gateway", "GATEWAY_", tmp_path, env) as one, service("gateway", "GATEWAY_", tmp_path, env) as two:
            auth = {"Authorization": f"Bearer {sign_in(one.url)['access_token']}"}  # honoured by both gateways
            admin_id = httpx.get(f"{two.url}/api/v1/me", headers=auth, timeout=30).json()["id"]
            statuses = asyncio.run(_write_at_once([one.url, two.url], prefix, auth))
            assert statuses == [201] * UNITS + [200] * UNITS, statuses
            assert "Traceback" not in one.log() + two.log()

        entries = _entries_about(database_url, prefix)
        assert sorted(e.action for e in entries) == ["insert"] * UNITS + ["update"] * UNITS
        assert all(e.request_id and e.actor_id == admin_id for e in entries)
        ids = sorted(e.id for e in entries)  # nothing else wrote meanwhile: one run of the chain, no gap
        assert ids == list(range(ids[0], ids[0] + 2 * UNITS))
        verified = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "audit-verify"], env={**os.environ, "DATABASE_URL": database_url},
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith("audit log intact: ")
    finally:
        _remove(database_url, prefix)
