"""An event from commit to webhook delivery on loopback, through a gateway run as a real process.

The gateway of `gateway_bench` (allowed to deliver to loopback) is told of a receiver (`tests.support.
receiver`, a small HTTP server in this process) subscribed to phase changes; each of `EVENTS` inspections is
then planned through the API, one at a time. The latency of one event runs from the answer to the POST that
planned it (the change, and its event, committed by then) to the delivery's arrival at the receiver, both
on this process's clock. Reference: a bare HTTP POST round trip from this process to the same receiver.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta

import httpx

from bench.table import BenchRow
from tests.support.receiver import receiver

EVENTS = 100
FRAMEWORK = "probation-pdu-2021"


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _ok(response: httpx.Response, status: int) -> dict:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def run_webhooks(http: httpx.Client, api: str, unit_id: str) -> BenchRow:
    start = date.today() + timedelta(days=30)
    plan = {"unit_id": unit_id, "framework_id": FRAMEWORK, "type": "core",
            "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=10)).isoformat()}
    with receiver() as hooks, httpx.Client(timeout=10) as bare:
        _ok(http.post(f"{api}/webhooks", json={"url": hooks.url, "event_types": ["inspection.phase_changed"]}), 201)
        latencies = []
        for n in range(EVENTS):
            _ok(http.post(f"{api}/inspections", json={**plan, "title": f"Webhook bench {n}"}), 201)
            committed = time.perf_counter()
            delivered = hooks.wait_for(n + 1, timeout=30)[n].at
            latencies.append((delivered - committed) * 1000)
        round_trips = []
        for _ in range(EVENTS):
            started = time.perf_counter()
            bare.post(hooks.url, content=b"{}", headers={"content-type": "application/json"})
            round_trips.append((time.perf_counter() - started) * 1000)
    median, reference = statistics.median(latencies), statistics.median(round_trips)
    return BenchRow(
        benchmark="event from commit to webhook delivery (loopback): median",
        measured=median,
        reference=reference,
        unit="ms",
        goal="reported",
        met=True,
        note=f"p99 {_p99(latencies):.1f} ms (reference p99 {_p99(round_trips):.1f} ms); {EVENTS} inspections "
        "planned one at a time, each a phase change delivered, signed, to a receiver on loopback; from the answer "
        "to the POST that committed it to the delivery's arrival; reference: a bare HTTP POST round trip to the "
        "same receiver",
    )
