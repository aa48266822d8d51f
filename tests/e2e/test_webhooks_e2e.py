"""Webhooks with gateways as real processes on PostgreSQL: two gateways deliver each event once, and a
gateway killed between the commit of a change and the delivery of its event delivers it after a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import delete

from gateway.db import create_engine, create_sessionmaker
from gateway.inspections.models import Inspection
from tests.conftest import ROOT, TEST_ACTOR
from tests.support.identity import admin_env, signed_in
from tests.support.receiver import receiver
from tests.support.servers import service

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

TIMEOUT_SECONDS = 2
CLAIM_SECONDS = 3 * TIMEOUT_SECONDS + 5
"""How long a killed gateway's claim on a delivery lasts (`DeliveryPolicy.claim`)."""


@pytest.fixture(scope="module")
def gateway_env(database_url):
    setup = subprocess.run([sys.executable, "-m", "gateway.cli", "setup"],
                           env={**os.environ, "DATABASE_URL": database_url, **admin_env()},
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    return {
        "DATABASE_URL": database_url, "GATEWAY_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "GATEWAY_WEBHOOK_POLL_SECONDS": "0.2", "GATEWAY_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "GATEWAY_WEBHOOK_RETRY_FIRST_SECONDS": "0.2", "GATEWAY_WEBHOOK_RETRY_LONGEST_SECONDS": "1",
    }


def ok(response: httpx.Response, *statuses: int) -> dict:
    assert response.status_code in statuses, response.text
    return response.json() if response.content else {}


def _remove(database_url: str, inspection_ids: list[str]) -> None:
    async def remove() -> None:
        engine = create_engine(database_url)
        try:
            async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
                await session.execute(delete(Inspection).where(Inspection.id.in_([uuid.UUID(i) for i in inspection_ids])))
        finally:
            await engine.dispose()

    asyncio.run(remove())


def _plan(http: httpx.Client, api: str, title: str) -> str:
    unit = ok(http.get(f"{api}/units", params={"code": "N53DRBY"}), 200)["items"][0]
    start = date.today() + timedelta(days=30)
    return ok(http.post(f"{api}/inspections", json={
        "unit_id": unit["id"], "framework_id": "probation-pdu-2021", "type": "core", "title": title,
        "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=10)).isoformat(),
    }), 201)["id"]


def test_two_gateways_deliver_each_event_once(gateway_env, database_url, tmp_path):
    planned: list[str] = []
    with (
        receiver() as hooks,
        service("gateway", "GATEWAY_", tmp_path, gateway_env) as one,
        service("gateway", "GATEWAY_", tmp_path, gateway_env) as two,
        httpx.Client(timeout=30, headers=signed_in(one.url)) as http,
    ):
        apis = [f"{one.url}/api/v1", f"{two.url}/api/v1"]
        made = ok(http.post(f"{apis[0]}/webhooks", json={"url": hooks.url,
                                                         "event_types": ["inspection.phase_changed"]}), 201)
        try:
            for n in range(12):  # each planned through one gateway and withdrawn through the other: 24 events
                planned.append(_plan(http, apis[n % 2], f"Two deliverers {n}"))
                ok(http.post(f"{apis[(n + 1) % 2]}/inspections/{planned[-1]}/transitions",
                             json={"to": "withdrawn", "note": "A test of deliveries."}), 200)
            received = hooks.wait_for(24)
            threading.Event().wait(2 * CLAIM_SECONDS / 3)  # time for any second delivery to show
            received = list(hooks.received)
            events = [json.loads(r.body) for r in received]
            assert len(received) == 24
            assert Counter(r.headers["webhook-id"] for r in received).most_common(1)[0][1] == 1
            assert Counter((e["inspection_id"], e["data"]["to"]) for e in events) == Counter(
                {**{(i, "planned"): 1 for i in planned}, **{(i, "withdrawn"): 1 for i in planned}})
            listed = ok(http.get(f"{apis[1]}/webhooks/{made['id']}/deliveries", params={"limit": 100}), 200)["items"]
            assert len(listed) == 24
            assert {(d["status"], len(d["attempts"])) for d in listed} == {("delivered", 1)}
        finally:
            ok(http.delete(f"{apis[0]}/webhooks/{made['id']}"), 204)
            _remove(database_url, planned)


def test_a_gateway_killed_before_its_delivery_is_recorded_delivers_after_a_restart(gateway_env, database_url,
                                                                                    tmp_path):
    release = threading.Event()

    def hold_the_first(request) -> None:
        if not release.is_set():
            release.wait(30)  # the gateway is killed meanwhile: this answer reaches no one

    planned: list[str] = []
    with receiver(hold=hold_the_first) as hooks:
        with service("gateway", "GATEWAY_", tmp_path, gateway_env) as first:
            headers = signed_in(first.url)
            with httpx.Client(timeout=30, headers=headers) as http:
                made = ok(http.post(f"{first.url}/api/v1/webhooks",
                                    json={"url": hooks.url, "event_types": ["inspection.phase_changed"]}), 201)
                planned.append(_plan(http, f"{first.url}/api/v1", "Killed before its delivery"))  # committed
            hooks.wait_for(1)  # sent, and held unanswered
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(10)
        release.set()
        try:
            with (
                service("gateway", "GATEWAY_", tmp_path, gateway_env) as again,
                httpx.Client(timeout=30, headers=signed_in(again.url)) as http,
            ):
                received = hooks.wait_for(2, timeout=CLAIM_SECONDS + 15)
                first_body, second_body = json.loads(received[0].body), json.loads(received[1].body)
                assert second_body == first_body and second_body["inspection_id"] == planned[0]
                assert received[1].headers["webhook-id"] == received[0].headers["webhook-id"]
                listed = ok(http.get(f"{again.url}/api/v1/webhooks/{made['id']}/deliveries"), 200)["items"]
                # The killed gateway's attempt was never recorded; the one after the restart was.
                assert [(d["status"], [(a["number"], a["status_code"]) for a in d["attempts"]]) for d in listed] == [
                    ("delivered", [(1, 204)])]
                ok(http.delete(f"{again.url}/api/v1/webhooks/{made['id']}"), 204)
        finally:
            _remove(database_url, planned)
