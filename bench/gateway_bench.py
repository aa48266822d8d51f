"""The gateway end to end on PostgreSQL: bulk-importing 10,000 case answers, and the ratings read under load.

Everything runs as real processes on loopback: a throwaway PostgreSQL database set up as `make run` does
(`python -m gateway.cli setup`), the rating engine, the sampling service, the gateway pointed at all three,
and a bare FastAPI app (`bench.echo_app`) as the reference. The inspections are made through the public
API only: a probation-pdu-2021 inspection of a demo PDU is planned and announced, SYNTHETIC caseloads are
uploaded (invented references like X123456; no real case is in them), both samples drawn at fixed sizes,
and the inspection moved to fieldwork.

- Bulk import: one CSV of exactly 10,000 answers (760 case supervision cases x 12 key questions, 294 court
  reports x 3, less the last two), timed as a client sees it, on fresh inspections (the main figure), then
  re-imported with every answer changed (every case updated; a note). Beside it, in the same run and the
  same database, the floor of PostgreSQL itself: the same 10,000 answers inserted as rows with asyncpg
  `executemany` in one transaction. The pass criterion is the issue's goal: under 2 seconds.
- Ratings read: after judgements and a rating run, `GET /api/v1/inspections/{id}/summary` (the read a
  dashboard makes: the inspection, its unit, its ratings table and progress) under 50 concurrent clients,
  each signed in and sending its access token as a dashboard would, beside `GET /document` of the bare
  app (no sign-in), which answers the same JSON document. The two targets take turns
  in rounds so that drift on the machine touches both alike; a round of a target stops early after a time
  budget, so a slow gateway keeps the bench bounded (fewer requests are then counted). Goal: at least half
  the bare throughput. The CPU each server process spends per request is reported beside.
- Webhooks: an event from commit to webhook delivery on loopback, median and p99, beside a bare HTTP POST
  round trip to the same receiver (`bench.webhook_bench`).

- The report: `GET /api/v1/inspections/{id}/report` of the same inspection, read one request at a time
  by one client in alternating rounds beside the summary read: the JSON report's median latency against
  the summary's (goal: at most twice it), and the XLSX and HTML reports' beside the JSON one (PDF in the
  note). Each report is held built after the first read, as the summary is; XLSX, HTML and PDF are
  written from it on every request.

The load client is one asyncio loop on raw keep-alive HTTP/1.1 connections (one per client), the same for
both targets. It costs about 0.15 ms of CPU per request; httpx.AsyncClient with a pool of 50 cost about 5 ms
on the 2-core development machine, ten times the bare app's own cost, so with it the client, not the
server, would set the bare figure. Set BENCH_VERBOSE=1 to see the phases as they run.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.table import BenchRow
from bench.webhook_bench import run_webhooks
from tests.support.identity import admin_env, signed_in
from tests.support.servers import ROOT, free_port, service, stop, wait_until_healthy

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
FRAMEWORK = "probation-pdu-2021"
PDU_CODE = "N53DRBY"  # Derby City (a demo unit `gateway.cli setup` loads)
SEED = 20260112

ANSWERS = 10_000
FRAME_CASES = {"case_supervision": 2_000, "court_reports": 800}
SAMPLE_SIZES = {"case_supervision": 760, "court_reports": 294}  # 760 x 12 + 294 x 3 = 10,002 key questions
IMPORT_INSPECTIONS = 3  # fresh inspections, one first import each
REIMPORTS = 3
IMPORT_GOAL_S = 2.0

CLIENTS = 50
WARMUP = 300  # requests per target, not counted
ROUNDS = 6
PER_ROUND = 500  # requests per target per round: 3,000 each in all
WARMUP_BUDGET_S = 5.0
ROUND_BUDGET_S = 8.0  # a round of a target ends early past this: the bench stays within about 3 minutes
THROUGHPUT_GOAL = 0.5
P99_BOUND = 5.0  # p99 of the gateway at most this many times the bare app's (informational bound)
REPORT_ROUNDS = 4
REPORT_READS = {"summary": 40, "json": 40, "xlsx": 8, "html": 8, "pdf": 1}
"""Requests per round of each read of the report bench, one at a time."""
REPORT_GOAL = 2.0
JUDGEMENTS = {"1.1": "good", "1.2": "requires_improvement", "1.3": "good", "1.4": "requires_improvement"}


# --- the throwaway database --------------------------------------------------------------------------


def _admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES)


def _asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://...) as the DSN asyncpg itself takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(_admin_url()))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new, empty database on the server of TEST_DATABASE_URL; dropped at the end, whatever happens."""
    name = f"inspection_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _setup(database_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "setup"], env={**os.environ, "DATABASE_URL": database_url, **admin_env()},
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    if done.returncode != 0:
        raise RuntimeError(f"gateway.cli setup failed:\n{done.stdout}\n{done.stderr}")


# --- the bare reference app --------------------------------------------------------------------------


@contextmanager
def bare_app(log_dir: Path, document: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    log_path = log_dir / f"echo_app-{port}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.echo_app:app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "BENCH_DOCUMENT": str(document)},
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process, log_path)
        yield url, process.pid
    finally:
        stop(process)


# --- an inspection through the public API ------------------------------------------------------------


def _ok(response: httpx.Response, *expected: int) -> dict:
    if response.status_code not in expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: {response.text[:1000]}"
        )
    return response.json() if response.content else {}


def synthetic_frame(
    rng: random.Random, sample_type: str, cases: int, window_start: date, unit_code: str = PDU_CODE
) -> str:
    """A SYNTHETIC caseload of a demo PDU, shaped like national statistics; every value is invented."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    refs = rng.sample(range(100_000, 1_000_000), cases)
    if sample_type == "case_supervision":
        writer.writerow(["case_ref", "unit", "gender", "sentence_type", "rosh_level", "start_date"])
        for n in refs:
            writer.writerow([
                f"X{n}", unit_code,
                "male" if rng.random() < 0.9 else "female",
                rng.choices(["community_order", "licence", "pre_release_custody"], [0.47, 0.38, 0.15])[0],
                rng.choices(["low", "medium", "high", "very_high"], [0.25, 0.50, 0.23, 0.02])[0],
                (window_start + timedelta(days=rng.randrange(0, 180))).isoformat(),
            ])
    else:
        writer.writerow(["case_ref", "unit", "gender", "sentence_type", "start_date"])
        for n in refs:
            writer.writerow([
                f"C{n}", unit_code,
                "male" if rng.random() < 0.88 else "female",
                rng.choices(["community_order", "suspended_sentence_order", "immediate_custody"], [0.5, 0.3, 0.2])[0],
                (window_start + timedelta(days=rng.randrange(0, 90))).isoformat(),
            ])
    return out.getvalue()


@dataclass
class Prepared:
    id: str
    selected: dict[str, list[str]]  # sample type -> case refs drawn


class Api:
    def __init__(self, http: httpx.Client, base: str):
        self.http, self.base = http, base.rstrip("/") + "/api/v1"

    def move(self, inspection_id: str, to: str) -> None:
        _ok(self.http.post(f"{self.base}/inspections/{inspection_id}/transitions", json={"to": to, "note": "bench"}), 200)

    def prepare(self, rng: random.Random, unit_id: str, n: int) -> Prepared:
        """An inspection in fieldwork with both samples drawn at the fixed sizes; the nth's fieldwork follows
        the one before, as a unit is inspected by one open inspection at a time."""
        start = date.today() + timedelta(days=21 + 14 * n)
        inspection = _ok(self.http.post(f"{self.base}/inspections", json={
            "unit_id": unit_id, "framework_id": FRAMEWORK, "type": "core",
            "title": f"Bench inspection {n} (synthetic)", "lead": "Bench Lead Inspector",
            "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=11)).isoformat(),
        }), 201)
        iid = inspection["id"]
        self.move(iid, "pre_fieldwork")
        window = start - timedelta(days=200)
        selected = {}
        for sample_type, cases in FRAME_CASES.items():
            frame = synthetic_frame(rng, sample_type, cases, window)
            _ok(self.http.put(f"{self.base}/inspections/{iid}/frames/{sample_type}", content=frame,
                              headers={"Content-Type": "text/csv"}), 200, 201)
            sample = _ok(self.http.post(
                f"{self.base}/inspections/{iid}/samples",
                json={"sample_type": sample_type, "size": SAMPLE_SIZES[sample_type], "reserves_per_stratum": 2,
                      "seed": SEED + n},
            ), 201)
            selected[sample_type] = [case["case_ref"] for case in sample["selected"]]
        self.move(iid, "fieldwork")
        return Prepared(iid, selected)

    def import_answers(self, inspection_id: str, body: str) -> tuple[float, dict]:
        started = time.perf_counter()
        response = self.http.post(f"{self.base}/inspections/{inspection_id}/assessments/import", content=body,
                                  headers={"Content-Type": "text/csv"})
        elapsed = time.perf_counter() - started
        return elapsed, _ok(response, 200, 201)


def answer_rows(framework: dict, selected: dict[str, list[str]], seed: int) -> list[tuple[str, str, str, str]]:
    """Exactly ANSWERS synthetic answers: every key question of every case-based standard of each case drawn,
    case supervision first, cut at ANSWERS (the last court report is left part answered)."""
    rng = random.Random(seed)
    rows = []
    standards = [s for d in framework["domains"] for s in d["standards"] if s["kind"] == "case"]
    for sample_type in ("case_supervision", "court_reports"):
        questions = [kq["id"] for s in standards if s["sample_type"] == sample_type for kq in s["key_questions"]]
        for case_ref in selected[sample_type]:
            for kq in questions:
                roll = rng.random()
                answer = "not_applicable" if roll > 0.96 else "yes" if roll < 0.7 else "no"
                rows.append((case_ref, sample_type, kq, answer))
    if len(rows) < ANSWERS:
        raise RuntimeError(f"the samples hold {len(rows)} key questions, fewer than {ANSWERS}")
    return rows[:ANSWERS]


def changed(rows: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """The same answers, each one different: a re-import of them updates every case."""
    other = {"yes": "no", "no": "yes", "not_applicable": "yes"}
    return [(case_ref, sample_type, kq, other[answer]) for case_ref, sample_type, kq, answer in rows]


def answers_csv(rows: list[tuple[str, str, str, str]]) -> str:
    return "case_ref,sample_type,key_question,answer\n" + "".join(f"{','.join(row)}\n" for row in rows)


# --- the floor: PostgreSQL storing the same answers directly -----------------------------------------


async def _direct_inserts(database_url: str, rows: list[tuple[str, str, str, str]], times: int) -> list[float]:
    """The same answers as rows of a scratch table, `executemany` in one transaction, as often as asked."""
    connection = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        await connection.execute(
            "CREATE TABLE bench_answers (id uuid PRIMARY KEY, case_ref text NOT NULL, sample_type text NOT NULL,"
            " key_question text NOT NULL, answer text NOT NULL, UNIQUE (sample_type, case_ref, key_question))"
        )
        timings = []
        for _ in range(times):
            await connection.execute("TRUNCATE bench_answers")
            records = [(uuid.uuid4(), *row) for row in rows]
            started = time.perf_counter()
            async with connection.transaction():
                await connection.executemany(
                    "INSERT INTO bench_answers (id, case_ref, sample_type, key_question, answer)"
                    " VALUES ($1, $2, $3, $4, $5)",
                    records,
                )
            timings.append(time.perf_counter() - started)
        await connection.execute("DROP TABLE bench_answers")
        return timings
    finally:
        await connection.close()


# --- the load: raw keep-alive HTTP/1.1, one connection per client ------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection: GET a path, read the whole answer (Content-Length framed)."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None):
        self.host, self.port = host, port
        self.headers = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> tuple[int, bytes]:
        reused = self.writer is not None and self.reader is not None and not self.reader.at_eof()
        if not reused:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: */*\r\n{self.headers}\r\n".encode()
        )
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError) as error:
            # The server let an idle keep-alive connection go (uvicorn: after 5 s) as the request went out.
            if not reused or (isinstance(error, asyncio.IncompleteReadError) and error.partial):
                raise
            await self.close()
            return await self.get(path)
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                raise RuntimeError(f"{path}: the server closed the connection")
        if length is None:
            raise RuntimeError(f"{path}: an answer without Content-Length")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            writer, self.reader, self.writer = self.writer, None, None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    name: str
    url: str
    pid: int
    headers: dict[str, str] = field(default_factory=dict)
    connections: list[Connection] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    requests: int = 0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    body_bytes: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.path = parts.path
        self.connections = [
            Connection(parts.hostname or "127.0.0.1", parts.port or 80, self.headers) for _ in range(CLIENTS)
        ]

    async def burst(self, requests: int, record: bool, budget_s: float = float("inf")) -> None:
        """`requests` GETs shared by the clients, each client one request at a time on its own connection;
        no request is started after `budget_s` (a slow target answers fewer, so the bench stays bounded)."""
        left = requests
        latencies: list[float] = []
        deadline = time.perf_counter() + budget_s

        async def client(connection: Connection) -> None:
            nonlocal left
            while left > 0 and time.perf_counter() < deadline:
                left -= 1
                started = time.perf_counter()
                status, body = await connection.get(self.path)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{self.name}: {self.url} answered {status}: {body[:300]!r}")
                self.body_bytes = len(body)

        # Fresh connections for every burst, opened before the clock starts: the targets take turns, and
        # uvicorn drops keep-alive connections idle for 5 s, so both begin each burst alike.
        await asyncio.gather(*(c.connect() for c in self.connections))
        server, cpu, started = cpu_seconds(self.pid), time.process_time(), time.perf_counter()
        try:
            await asyncio.gather(*(client(c) for c in self.connections))
        finally:
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            server = cpu_seconds(self.pid) - server
            await asyncio.gather(*(c.close() for c in self.connections))
        if record:
            self.latencies += latencies
            self.wall += wall
            self.requests += len(latencies)
            self.client_cpu += cpu
            self.server_cpu += server

    @property
    def throughput(self) -> float:
        return self.requests / self.wall

    @property
    def server_cpu_ms(self) -> float:
        """The server process's CPU per request (the gateway's excludes PostgreSQL's)."""
        return self.server_cpu / self.requests * 1000

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[98] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000


async def load_test(gateway: Target, bare: Target) -> None:
    try:
        for target in (gateway, bare):
            await target.burst(WARMUP, record=False, budget_s=WARMUP_BUDGET_S)
        for round_ in range(ROUNDS):
            for target in (gateway, bare) if round_ % 2 == 0 else (bare, gateway):
                await target.burst(PER_ROUND, record=True, budget_s=ROUND_BUDGET_S)
    finally:
        for target in (gateway, bare):
            await asyncio.gather(*(c.close() for c in target.connections))


async def report_reads(gateway_url: str, headers: dict[str, str], inspection_id: str) -> dict[str, list[float]]:
    """Latencies (s) of the summary and of the report in each format, one request at a time on one
    keep-alive connection, in alternating rounds after a warm-up that also builds the held report."""
    parts = urlsplit(gateway_url)
    connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80, headers)
    report = f"/api/v1/inspections/{inspection_id}/report"
    paths = {"summary": f"/api/v1/inspections/{inspection_id}/summary", "json": report,
             **{name: f"{report}?format={name}" for name in ("xlsx", "html", "pdf")}}
    latencies: dict[str, list[float]] = {name: [] for name in paths}

    async def read(name: str, times: int, record: bool) -> None:
        for _ in range(times):
            started = time.perf_counter()
            status, body = await connection.get(paths[name])
            if status != 200:
                raise RuntimeError(f"{paths[name]} answered {status}: {body[:300]!r}")
            if record:
                latencies[name].append(time.perf_counter() - started)

    try:
        for name in paths:
            await read(name, 2, record=False)
        for round_ in range(REPORT_ROUNDS):
            for name in paths if round_ % 2 == 0 else reversed(paths):
                await read(name, REPORT_READS[name], record=True)
    finally:
        await connection.close()
    return latencies


# --- the bench ---------------------------------------------------------------------------------------


_T0 = time.perf_counter()


def _progress(what: str) -> None:
    if os.environ.get("BENCH_VERBOSE"):
        print(f"  [{time.perf_counter() - _T0:6.1f} s] {what}", file=sys.stderr, flush=True)


def _loadavg() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _inside_ms(gateway_log: Path, path: str) -> list[float]:
    """Durations the gateway logged for requests to `path` (its own time, without the network)."""
    found = []
    for line in gateway_log.read_text(errors="replace").splitlines():
        if line.startswith("{") and f'"{path}"' in line:
            found.append(json.loads(line)["duration_ms"])
    return found


def run(log_dir: Path) -> list[BenchRow]:
    log_dir.mkdir(parents=True, exist_ok=True)
    load_before = _loadavg()
    rng = random.Random(SEED)
    with throwaway_database() as database_url, ExitStack() as stack:
        _progress("database created")
        _setup(database_url)
        _progress("database set up")
        rating = stack.enter_context(service("rating_engine", "RATING_ENGINE_", log_dir))
        sampling = stack.enter_context(service("sampling", "SAMPLING_", log_dir))
        gateway = stack.enter_context(service(
            "gateway", "GATEWAY_", log_dir,
            {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": rating.url,
             "GATEWAY_SAMPLING_URL": sampling.url, "GATEWAY_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"},
        ))
        auth = signed_in(gateway.url)
        http = stack.enter_context(httpx.Client(timeout=120, headers=auth))
        _progress("services started; signed in")
        api = Api(http, gateway.url)
        units = _ok(http.get(f"{api.base}/units", params={"code": PDU_CODE}), 200)["items"]
        if not units:
            raise RuntimeError(f"demo unit {PDU_CODE} was not loaded by gateway.cli setup")
        framework = _ok(http.get(f"{api.base}/frameworks/{FRAMEWORK}"), 200)

        # Bulk import: first imports on fresh inspections, then re-imports that change every case.
        inspections = [api.prepare(rng, units[0]["id"], n) for n in range(IMPORT_INSPECTIONS)]
        _progress("inspections prepared")
        first_rows = [answer_rows(framework, p.selected, SEED + n) for n, p in enumerate(inspections)]
        first, reports = [], []
        for prepared, rows in zip(inspections, first_rows):
            elapsed, report = api.import_answers(prepared.id, answers_csv(rows))
            if report["answers"] != ANSWERS or report["created"] != report["cases"]:
                raise RuntimeError(f"unexpected first import report: {report}")
            first.append(elapsed)
            reports.append(report)
        again = []
        for n in range(REIMPORTS):
            prepared, rows = inspections[n % len(inspections)], first_rows[n % len(inspections)]
            elapsed, report = api.import_answers(prepared.id, answers_csv(changed(rows) if n // len(inspections) % 2 == 0 else rows))
            if report["answers"] != ANSWERS or report["updated"] != report["cases"]:
                raise RuntimeError(f"unexpected re-import report: {report}")
            again.append(elapsed)
        import_inside = _inside_ms(gateway.log_path, f"/api/v1/inspections/{inspections[0].id}/assessments/import")
        _progress("imports done")
        direct = asyncio.run(_direct_inserts(database_url, first_rows[0], IMPORT_INSPECTIONS))

        # The ratings read: judgements, a rating run, then the summary under load beside the bare app.
        _progress("direct inserts done")
        rated = inspections[0].id
        for standard, rating_given in JUDGEMENTS.items():
            _ok(http.put(f"{api.base}/inspections/{rated}/judgements/{standard}",
                         json={"rating": rating_given, "evidence_summary": "Synthetic evidence for the bench."}),
                200, 201)
        api.move(rated, "rating")
        _ok(http.post(f"{api.base}/inspections/{rated}/rating-runs", json={},
                      headers={"Idempotency-Key": f"bench-{rated}"}), 201)
        summary_path = f"/api/v1/inspections/{rated}/summary"
        summary = http.get(gateway.url + summary_path)
        _ok(summary, 200)
        if summary.json()["ratings"] is None:
            raise RuntimeError("the summary holds no ratings table after the rating run")
        document = log_dir / f"gateway-bench-document-{os.getpid()}.json"
        document.write_bytes(summary.content)
        try:
            bare_url, bare_pid = stack.enter_context(bare_app(log_dir, document))
            gateway_target = Target("gateway", gateway.url + summary_path, gateway.process.pid, auth)
            bare_target = Target("bare", bare_url + "/document", bare_pid)
            _progress("rated; load test")
            asyncio.run(load_test(gateway_target, bare_target))
            _progress("load test done")
        finally:
            document.unlink(missing_ok=True)
        summary_inside = _inside_ms(gateway.log_path, summary_path)[-gateway_target.requests:]
        webhooks = run_webhooks(http, api.base, units[0]["id"])
        _progress("webhook deliveries done")
        _progress("report reads")
        reads = asyncio.run(report_reads(gateway.url, signed_in(gateway.url), rated))
        report_bytes = {name: len(http.get(f"{api.base}/inspections/{rated}/report", params={"format": name}).content)
                        for name in ("json", "xlsx", "html", "pdf")}
    load_after = _loadavg()

    measured_import, reference_import = statistics.median(first), statistics.median(direct)
    ratio = gateway_target.throughput / bare_target.throughput
    cpu_share = lambda t: t.client_cpu / t.wall  # noqa: E731
    load_note = f"load avg {load_before} -> {load_after} (1/5/15 min, 2 cores)"
    cases = reports[0]["cases"]
    median_ms = {name: statistics.median(times) * 1000 for name, times in reads.items()}
    report_note = (f"one client, one request at a time, {REPORT_ROUNDS} alternating rounds; "
                   f"JSON {report_bytes['json']:,} B, XLSX {report_bytes['xlsx']:,} B, HTML {report_bytes['html']:,} B")
    rows = [
        BenchRow(
            benchmark="gateway report as JSON: median latency",
            measured=median_ms["json"],
            reference=median_ms["summary"],
            unit="ms",
            goal=f"<= {REPORT_GOAL:g}x the summary read",
            met=median_ms["json"] <= REPORT_GOAL * median_ms["summary"],
            note=f"GET /inspections/{{id}}/report vs GET /inspections/{{id}}/summary of the same rated inspection "
            f"({cases} cases), {len(reads['json'])} / {len(reads['summary'])} requests; {report_note}",
        ),
        *(
            BenchRow(
                benchmark=f"gateway report as {name.upper()}: median latency",
                measured=median_ms[name],
                reference=median_ms["json"],
                unit="ms",
                goal="beside the JSON report (informational)",
                met=True,
                note=f"{len(reads[name])} requests, written from the held report on each; the reference is the JSON "
                f"report's" + (f"; PDF (WeasyPrint, {report_bytes['pdf']:,} B) median {median_ms['pdf']:.0f} ms of "
                               f"{len(reads['pdf'])}" if name == "html" else ""),
            )
            for name in ("xlsx", "html")
        ),
    ]
    return rows + [
        BenchRow(
            benchmark=f"gateway ratings read, {CLIENTS} clients: throughput",
            measured=gateway_target.throughput,
            reference=bare_target.throughput,
            unit="req/s",
            goal=f">= {THROUGHPUT_GOAL}x bare",
            met=ratio >= THROUGHPUT_GOAL,
            note=f"GET /inspections/{{id}}/summary ({gateway_target.body_bytes:,} B), signed in (a bearer access "
            f"token on every request), vs bare FastAPI GET of the same "
            f"document ({bare_target.body_bytes:,} B); {gateway_target.requests:,} / {bare_target.requests:,} requests "
            f"in {ROUNDS} alternating rounds (each at most {PER_ROUND} or {ROUND_BUDGET_S:g} s) after a warm-up; "
            f"server process CPU {gateway_target.server_cpu_ms:.2f} / {bare_target.server_cpu_ms:.2f} ms per request; "
            f"client CPU {cpu_share(gateway_target):.0%} / {cpu_share(bare_target):.0%} of a core; {load_note}",
        ),
        BenchRow(
            benchmark=f"gateway ratings read, {CLIENTS} clients: p99 latency",
            measured=gateway_target.p99_ms,
            reference=bare_target.p99_ms,
            unit="ms",
            goal=f"<= {P99_BOUND:g}x bare (informational)",
            met=gateway_target.p99_ms <= P99_BOUND * bare_target.p99_ms,
            note=f"median {gateway_target.median_ms:.1f} ms vs {bare_target.median_ms:.1f} ms; inside the gateway "
            f"median {statistics.median(summary_inside):.1f} ms, p99 "
            f"{statistics.quantiles(summary_inside, n=100, method='inclusive')[98]:.1f} ms (its own log)",
        ),
        BenchRow(
            benchmark=f"bulk import {ANSWERS:,} answers (PostgreSQL)",
            measured=measured_import,
            reference=reference_import,
            unit="s",
            goal=f"< {IMPORT_GOAL_S:g} s",
            met=measured_import < IMPORT_GOAL_S,
            note=f"one CSV POST, {cases} cases, median of {len(first)} first imports on fresh inspections "
            f"({', '.join(f'{t:.2f}' for t in first)} s; {import_inside[0] / 1000:.2f} s of the first inside the "
            f"gateway); re-import changing every answer {statistics.median(again):.2f} s (median of {len(again)}); "
            f"reference: the same {ANSWERS:,} answers as rows, asyncpg executemany in one transaction "
            f"(median of {len(direct)}); pass criterion the {IMPORT_GOAL_S:g} s goal",
        ),
        webhooks,
    ]


if __name__ == "__main__":
    from bench.table import print_table

    print_table(run(ROOT / "var" / "bench"))
