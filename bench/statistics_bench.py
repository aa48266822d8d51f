"""National statistics over the synthetic ten-year history on PostgreSQL, beside one hand-written query.

A throwaway database set up as `make run` does (`python -m gateway.cli setup`), the rating engine and the
gateway as real processes on loopback, and `python -m gateway.cli load-demo-history`: about 1,050
SYNTHETIC published inspections over the demo units, through the write path (how long it took is in the
note), and ANALYZE for the planner. Then `GET /api/v1/statistics/key-questions` over the whole history (each key question of each
framework pooled across every published inspection: about 20,000 rows of figures summed), timed as a
client sees it, signed in as an administrator, beside the same figures (yes, applicable, inspections,
wording, percent and 80% Wilson interval) computed by one hand-written SQL statement, sent with asyncpg
from the same client process. The two take turns, so drift on the machine touches both alike; the
medians are compared. Goal: at most 1.5 times the hand-written query.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import httpx

from bench.gateway_bench import _asyncpg_dsn, _setup, throwaway_database
from bench.table import BenchRow
from inspection_shared.normal import z_for
from tests.support.identity import signed_in
from tests.support.servers import ROOT, service

WARMUP = 5
ROUNDS = 40
GOAL = 1.5
PATH = "/api/v1/statistics/key-questions"

REFERENCE = f"""
SELECT pooled.framework_id, pooled.standard, pooled.key_question, wording.text, pooled.inspections, pooled.yes,
       pooled.applicable, 100.0 * pooled.yes / nullif(pooled.applicable, 0) AS percent,
       100 * (centre - half) / denominator AS low, 100 * (centre + half) / denominator AS high
FROM (
    SELECT inspections.framework_id, figures.standard, figures.key_question,
           sum(CASE WHEN figures.applicable > 0 THEN 1 ELSE 0 END) AS inspections,
           sum(figures.yes) AS yes, sum(figures.applicable) AS applicable
    FROM published_key_question_figures AS figures
    JOIN inspections ON inspections.id = figures.inspection_id
    WHERE inspections.status = 'published'
    GROUP BY inspections.framework_id, figures.standard, figures.key_question
) AS pooled
CROSS JOIN LATERAL (SELECT pooled.yes::float8 / nullif(pooled.applicable, 0) AS p,
                           {z_for(0.80) ** 2}::float8 AS z2, nullif(pooled.applicable, 0)::float8 AS n) AS share
CROSS JOIN LATERAL (SELECT p + z2 / (2 * n) AS centre, 1 + z2 / n AS denominator,
                           sqrt(z2) * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) AS half) AS wilson
LEFT JOIN framework_key_questions AS wording
       ON wording.framework_id = pooled.framework_id AND wording.id = pooled.key_question
ORDER BY pooled.framework_id, pooled.key_question
"""
"""The figures of the key-questions call, as one statement would give them."""


def _load_history(database_url: str, rating_engine_url: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "load-demo-history"],
        env={**os.environ, "DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": rating_engine_url},
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"gateway.cli load-demo-history failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


async def _analyze(database_url: str) -> None:
    """Statistics for the planner after the bulk load, as autovacuum would gather them in time."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _take_turns(database_url: str, http: httpx.Client, url: str) -> tuple[list[float], list[float], int, int]:
    """Milliseconds of each call and each query, in alternating rounds after a warm-up of both."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    called, queried = [], []
    try:
        for n in range(WARMUP + ROUNDS):
            started = time.perf_counter()
            response = http.get(url)
            call = time.perf_counter() - started
            response.raise_for_status()
            started = time.perf_counter()
            rows = await connection.fetch(REFERENCE)
            query = time.perf_counter() - started
            if n >= WARMUP:
                called.append(call * 1000)
                queried.append(query * 1000)
        answered = response.json()["key_questions"]
        if [(k["yes"], k["applicable"]) for k in answered] != [(r["yes"], r["applicable"]) for r in rows]:
            raise RuntimeError("the gateway and the hand-written query disagree on the figures")
        pooled = sum(k["applicable"] for k in answered)
    finally:
        await connection.close()
    return called, queried, len(answered), pooled


def run(log_dir: Path) -> list[BenchRow]:
    log_dir.mkdir(parents=True, exist_ok=True)
    with throwaway_database() as database_url, ExitStack() as stack:
        _setup(database_url)
        rating = stack.enter_context(service("rating_engine", "RATING_ENGINE_", log_dir))
        loaded_in = _load_history(database_url, rating.url)
        asyncio.run(_analyze(database_url))
        gateway = stack.enter_context(service(
            "gateway", "GATEWAY_", log_dir, {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": rating.url},
        ))
        http = stack.enter_context(httpx.Client(timeout=60, headers=signed_in(gateway.url)))
        inspections = http.get(f"{gateway.url}/api/v1/statistics/ratings").json()["inspections"]
        called, queried, key_questions, cases = asyncio.run(_take_turns(database_url, http, gateway.url + PATH))
    measured, reference = statistics.median(called), statistics.median(queried)
    return [BenchRow(
        benchmark="statistics: key questions over the 10-year synthetic history (PostgreSQL)",
        measured=measured, reference=reference, unit="ms", goal=f"<= {GOAL}x one hand-written asyncpg query",
        met=measured <= GOAL * reference,
        note=f"{inspections} published inspections, {key_questions} key questions, {cases:,} applicable cases "
             f"pooled; median of {ROUNDS} each, taking turns; history loaded in {loaded_in:.0f} s",
    )]
