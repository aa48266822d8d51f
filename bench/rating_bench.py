"""Rating a national year: 108 inspections of 60 cases, every key question answered.

The workload is rated twice over HTTP, against the rating engine running as a real process: once as 108
requests (one per inspection) and once as a single pooled request of all 108 units. Beside each, the same
bytes are sent to a bare FastAPI endpoint that only parses and echoes them (`bench.echo_app`), also a real
process, in the same run. Goal: rating costs at most 1.5 times that bare round trip.

The case answers are synthetic (seeded), labelled as such, and not drawn from any real caseload.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.table import BenchRow
from inspection_shared.library import library
from tests.support.servers import ROOT, free_port, service, stop, wait_until_healthy

FRAMEWORK = "probation-pdu-2021"
INSPECTIONS = 108
CASES = 60
ROUNDS = 3
POOLED_ROUNDS = 5
GOAL = 1.5


def national_year(seed: int = 2021) -> tuple[list[dict], dict]:
    """Synthetic evidence: per inspection, judged ratings and 60 cases answering every key question."""
    framework = library()[FRAMEWORK]
    rng = random.Random(seed)
    judged = [s for s in framework.standards() if s.kind == "judged"]
    case_based = [s for s in framework.standards() if s.kind == "case"]
    ratings = ["outstanding", "good", "requires_improvement", "inadequate"]
    inspections, units = [], []
    for i in range(INSPECTIONS):
        unit = f"PDU{i:03d}"
        quality = rng.uniform(0.45, 0.9)
        standards = []
        for standard in case_based:
            cases = []
            for c in range(CASES):
                answers = {}
                for kq in standard.key_questions:
                    draw = rng.random()
                    answers[kq.id] = "not_applicable" if draw < 0.08 else "yes" if draw < 0.08 + 0.92 * quality else "no"
                cases.append({"case_ref": f"S{i:03d}{c:03d}", "answers": answers})
            standards.append({"standard": standard.id, "cases": cases})
        units.append({"unit": unit, "standards": standards})
        judged_entries = [{"standard": s.id, "rating": rng.choice(ratings[:3])} for s in judged]
        inspections.append({"framework": FRAMEWORK, "standards": judged_entries + standards})
    return inspections, {"framework": FRAMEWORK, "units": units}


def _post(client: httpx.Client, url: str, payload: bytes) -> float:
    started = time.perf_counter()
    response = client.post(url, content=payload, headers={"Content-Type": "application/json"})
    elapsed = time.perf_counter() - started
    _ok(response)
    return elapsed


def _interleaved(client: httpx.Client, url: str, reference_url: str, payloads: list[bytes]) -> tuple[list[float], list[float]]:
    """Send each payload to the engine and then to the echo, so drift on the machine touches both alike."""
    measured, reference = [], []
    for payload in payloads:
        measured.append(_post(client, url, payload))
        reference.append(_post(client, reference_url, payload))
    return measured, reference


def _ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url} answered {response.status_code}: {response.text[:500]}")


def _echo_process(log_dir: Path) -> tuple[str, subprocess.Popen, Path]:
    port = free_port()
    log_path = log_dir / f"echo_app-{port}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.echo_app:app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log_path)
    except Exception:
        stop(process)
        raise
    return url, process, log_path


def run(log_dir: Path) -> list[BenchRow]:
    inspections, pooled = national_year()
    one_by_one = [json.dumps(p, separators=(",", ":")).encode() for p in inspections]
    pooled_bytes = json.dumps(pooled, separators=(",", ":")).encode()
    log_dir.mkdir(parents=True, exist_ok=True)

    echo_url, echo_process, _ = _echo_process(log_dir)
    try:
        with service("rating_engine", "RATING_ENGINE_", log_dir) as engine, \
                httpx.Client(timeout=120) as client:
            rate_url, pooled_url, echo = engine.url + "/v1/ratings", engine.url + "/v1/ratings/pooled", echo_url + "/echo"
            # Warm both processes (imports, caches, connections) before measuring.
            _interleaved(client, rate_url, echo, one_by_one[:20])
            _interleaved(client, pooled_url, echo, [pooled_bytes])
            rate_times, echo_times, pooled_times, echo_pooled_times = [], [], [], []
            for _ in range(ROUNDS):
                measured, reference = _interleaved(client, rate_url, echo, one_by_one)
                rate_times += measured
                echo_times += reference
            for _ in range(POOLED_ROUNDS):
                measured, reference = _interleaved(client, pooled_url, echo, [pooled_bytes])
                pooled_times += measured
                echo_pooled_times += reference
    finally:
        stop(echo_process)

    rows = []
    for name, measured, reference, size, how in (
        (
            f"rating: {INSPECTIONS} requests, {CASES} cases each",
            statistics.median(rate_times) * 1000,
            statistics.median(echo_times) * 1000,
            sum(map(len, one_by_one)) / INSPECTIONS,
            f"median of {len(rate_times)} requests",
        ),
        (
            f"rating: {INSPECTIONS} units pooled in 1 request",
            statistics.median(pooled_times) / INSPECTIONS * 1000,
            statistics.median(echo_pooled_times) / INSPECTIONS * 1000,
            len(pooled_bytes),
            f"median of {len(pooled_times)} requests / {INSPECTIONS}",
        ),
    ):
        rows.append(
            BenchRow(
                benchmark=name,
                measured=measured,
                reference=reference,
                unit="ms/inspection",
                goal=f"<= {GOAL}x bare echo",
                met=measured <= GOAL * reference,
                note=f"{FRAMEWORK}; {size / 1024:,.0f} KiB per request; echo of the same bytes; {how}",
            )
        )
    return rows
