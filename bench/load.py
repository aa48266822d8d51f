"""`make load`: the gateway under a minute of inspectors' and dashboards' reads and writes at once.

The three services run as real processes on loopback, as `bench/gateway_bench.py` starts them: a throwaway
PostgreSQL database on the server of TEST_DATABASE_URL (default postgres@127.0.0.1:5432) set up with
`python -m gateway.cli setup`, the rating engine, the sampling service and the gateway pointed at them. The
load client runs in this script's own process, so it shares the machine (two cores in development) with them.

Before the clock starts, a realistic state is made through the public API only: an inspection of each of
six demo PDUs, each announced, given SYNTHETIC caseload frames of both its sample types (1,500 case
supervision and 400 court report cases, invented references like X123456: no real case is in them), both
samples drawn at the default precision (about 150 and 115 cases), moved to fieldwork, half of each sample's
cases assessed by a CSV import, the four domain-one judgements recorded, moved to rating and rated once.

Then LOAD_CLIENTS clients (default 50) work for LOAD_SECONDS (default 60), each on its own keep-alive
connection, one request at a time, choosing each time one of these (per cent of choices):

    summary                    20  GET /inspections/{id}/summary
    summary, If-None-Match     15  the same with the ETag the client last saw (200, or 304 while unchanged;
                                   a client's first summary of an inspection is a plain one)
    inspections list            8  GET /inspections, filtered by status, unit, region or year
    units list                  7  GET /units (PDUs, regions, a name search) or a region's children
    assessment read            15  GET .../samples/{type}/cases/{ref}/assessment of an assessed case
    assessment create           5  PUT of a case not yet assessed, without If-Match (201)
    assessment update          10  GET of an assessment, then PUT with its ETag in If-Match (200, or 412
                                   when another client changed it between: half of them pick one of a few
                                   cases under discussion, so such races happen)
    judgement update            6  GET of a domain-one judgement, then PUT with its ETag (200 or 412)
    rating run                  4  POST /rating-runs without Idempotency-Key (201, or 409 when the evidence
                                   moved while the engine rated it)
    rating run, new key         3  POST with a fresh Idempotency-Key, then the same POST again with the same
                                   key (counted as `rating run, repeated key`: 201 replayed, or 409 while a
                                   first request with it is still running); one repeat in four reuses the
                                   key another client sent last, which may still be in progress
    refused transition          2  POST /transitions to a phase the inspection cannot move to (409)
    bad request                 5  an invalid rating, an unknown answer, a case-based standard judged, a year
                                   out of range, a malformed inspection id (each 422)

An operation is one HTTP request and its answer; the two-request choices count as two operations, each
under its own kind (the GET before an update is an `assessment read` or `judgement read`). The table gives
operations, throughput, p50 / p95 / p99 latency overall and per kind, and the answers by status code.
The run fails (exit code 1) on any 5xx answer, any transport error (refused, reset, or no answer within
REQUEST_TIMEOUT_S), any status outside the expected ones of its kind, and any traceback or error-level line
in a service's log; each is listed with its request (method, target, body, X-Request-ID) and the gateway's
log lines for that request id. 4xx answers that are part of the mix (409, 412, the intended 422s) are
expected and counted.

The client is one asyncio loop on raw keep-alive HTTP/1.1 connections (`Connection`), not
httpx.AsyncClient, whose own CPU would dominate. Measured on the 2-core development machine against this
gateway (50 clients, 3,000 GETs of an inspection's summary, twice each): httpx.AsyncClient (a pool of 50)
cost 3.8 ms of client CPU per request and took a whole core, so the client set the figure (263 requests/s);
this client cost 0.08 ms and reached 1,800-2,000 requests/s, the gateway spending about 0.5 ms on each. In
the load run it costs about 0.3 ms per operation (choosing, JSON bodies and counting included), a few per
cent of a core; the run prints its share beside the services'. Logs are kept in var/load/.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import random
import sys
import time
import uuid
from collections import Counter, defaultdict, deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

from bench.gateway_bench import _ok, _setup, cpu_seconds, synthetic_frame, throwaway_database
from tests.support.identity import signed_in
from tests.support.servers import ROOT, RunningService, service

FRAMEWORK = "probation-pdu-2021"
PDU_CODES = ("N53DRBY", "N53LEIS", "N56BEDS", "N50BOLT", "N57SUR", "N07BRNT")
"""Six demo PDUs (`gateway.cli setup` loads them), one inspection each, in five regions."""
FRAME_CASES = {"case_supervision": 1_500, "court_reports": 400}
ASSESSED_SHARE = 0.5
"""Of each sample's cases, the share assessed before the clock starts; the rest are there to be created."""
JUDGED = ("1.1", "1.2", "1.3", "1.4")
RATINGS = ("outstanding", "good", "requires_improvement", "inadequate")
ANSWERS = ("yes", "no", "not_applicable")
UNDER_DISCUSSION = 6
"""Cases per inspection that half the assessment updates pick, so that some updates race."""
SEED = 20260301

CLIENTS = int(os.environ.get("LOAD_CLIENTS", "50"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
REQUEST_TIMEOUT_S = 60.0
IDLE_RESEND_S = 4.0
LOG_DIR = ROOT / "var" / "load"

EARLIER_RUN = "139 operations/s, p50 261 ms, p99 1,556 ms (the load generator on the same two cores)"

WEIGHTS: dict[str, int] = {
    "summary": 20,
    "summary, If-None-Match": 15,
    "inspections list": 8,
    "units list": 7,
    "assessment read": 15,
    "assessment create": 5,
    "assessment update": 10,
    "judgement update": 6,
    "rating run": 4,
    "rating run, new key": 3,
    "refused transition": 2,
    "bad request": 5,
}

EXPECTED: dict[str, frozenset[int]] = {
    "summary": frozenset({200}),
    "summary, If-None-Match": frozenset({200, 304}),
    "inspections list": frozenset({200}),
    "units list": frozenset({200}),
    "assessment read": frozenset({200}),
    "assessment create": frozenset({201}),
    "assessment update": frozenset({200, 412}),
    "judgement read": frozenset({200}),
    "judgement update": frozenset({200, 412}),
    "rating run": frozenset({201, 409}),
    "rating run, new key": frozenset({201, 409}),
    "rating run, repeated key": frozenset({201, 409}),
    "refused transition": frozenset({409}),
    "bad request": frozenset({422}),
}
"""The answers each kind of operation may get; any other is a failure of the run."""

CONFLICTS = {
    "changed while this request was being worked on": "rating run: evidence moved while the engine rated",
    "still in progress": "repeated key: its first request still running",
    "cannot move to": "refused transition",
    "rated or changed by another request at the same time": "rating run: another run landed first",
}
"""What a 409's detail says, and the reason it is listed under."""

STATUS_MEANING = {
    200: "read or changed",
    201: "created (rating runs: a new snapshot, or the first one replayed for a repeated key)",
    304: "summary unchanged since the ETag sent",
    409: "refused transitions; rating runs whose evidence moved; repeated keys still in progress",
    412: "stale If-Match: changed by another client since its GET",
    422: "the intended bad requests",
}


# --- the client: raw keep-alive HTTP/1.1 ---------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive HTTP/1.1 connection: a request at a time, its whole answer read (Content-Length or
    chunked framing; none for 1xx, 204 and 304), closed and opened again when the server asks.

    A connection the server closes before answering is a transport error, except after the connection sat
    idle for IDLE_RESEND_S: then the server let it go as the request went out (uvicorn keeps an idle
    connection 5 s), read nothing of it, and the request is sent again on a new one (counted in `resent`).
    """

    resent = 0

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = time.monotonic()

    async def open(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.last_used = time.monotonic()

    async def close(self) -> None:
        if self.writer is not None:
            writer, self.reader, self.writer = self.writer, None, None
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def request(
        self, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        idle = self.writer is not None and time.monotonic() - self.last_used >= IDLE_RESEND_S
        if self.writer is None or self.reader is None or self.reader.at_eof():
            await self.open()
        assert self.reader is not None and self.writer is not None
        head = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: */*"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
        try:
            raw_head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError) as error:
            if not idle or (isinstance(error, asyncio.IncompleteReadError) and error.partial):
                raise
            await self.close()
            Connection.resent += 1
            return await self.request(method, target, body, headers)
        lines = raw_head[:-4].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        answer_headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        if status < 200 or status in (204, 304) or method == "HEAD":
            content = b""
        elif answer_headers.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked()
        elif "content-length" in answer_headers:
            content = await self.reader.readexactly(int(answer_headers["content-length"]))
        else:
            content = await self.reader.read()  # framed by the end of the connection
            answer_headers["connection"] = "close"
        self.last_used = time.monotonic()
        if answer_headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, answer_headers, content)

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await self.reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


# --- what is counted --------------------------------------------------------------------------------


@dataclass
class Failure:
    kind: str
    method: str
    target: str
    request_id: str
    request_body: str
    status: int | None  # None: a transport error
    answer: str


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[Failure] = field(default_factory=list)
    transport_errors: Counter[str] = field(default_factory=Counter)
    replayed: int = 0
    conflicts: Counter[str] = field(default_factory=Counter)

    def answered(self, kind: str, latency: float, answer: Answer) -> None:
        self.latencies[kind].append(latency)
        self.statuses[kind][answer.status] += 1
        if answer.headers.get("idempotent-replayed") == "true":
            self.replayed += 1
        if answer.status == 409:
            try:
                detail = str(answer.json().get("detail", ""))
            except ValueError:
                detail = answer.body[:100].decode(errors="replace")
            reason = next((why for phrase, why in CONFLICTS.items() if phrase in detail), f"other: {detail[:100]}")
            self.conflicts[reason] += 1

    @property
    def operations(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    @property
    def server_errors(self) -> int:
        return sum(n for counts in self.statuses.values() for status, n in counts.items() if status >= 500)

    @property
    def unexpected(self) -> list[Failure]:
        return [f for f in self.failures if f.status is not None and f.status < 500]


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank q-th percentile of values sorted ascending."""
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n q / 100), at least 1
    return ordered[int(rank) - 1]


# --- the state the clients work on --------------------------------------------------------------------


@dataclass
class LoadInspection:
    id: str
    unit_id: str
    region_id: str
    year: int
    questions: dict[str, list[str]]  # sample type -> key questions of its case-based standards
    assessed: list[tuple[str, str]]  # (sample type, case ref)
    unassessed: deque[tuple[str, str]]

    @property
    def under_discussion(self) -> list[tuple[str, str]]:
        return self.assessed[:UNDER_DISCUSSION]


@dataclass
class State:
    base: str  # /api/v1
    inspections: list[LoadInspection]
    recent_keys: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=20))
    auth: dict[str, str] = field(default_factory=dict)
    """The Authorization header every request sends (the clients act as one signed-in administrator)."""


def case_questions(framework: dict) -> dict[str, list[str]]:
    questions: dict[str, list[str]] = defaultdict(list)
    for domain in framework["domains"]:
        for standard in domain["standards"]:
            if standard["kind"] == "case":
                questions[standard["sample_type"]] += [kq["id"] for kq in standard["key_questions"]]
    return dict(questions)


def random_answers(rng: random.Random, questions: list[str], answered: float = 1.0) -> dict[str, str]:
    """Answers to the key questions (each given with probability `answered`), mostly yes, as in the field."""
    return {
        kq: rng.choices(ANSWERS, [0.68, 0.27, 0.05])[0]
        for kq in questions
        if rng.random() < answered
    }


def answers_csv(rng: random.Random, questions: dict[str, list[str]], cases: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["case_ref", "sample_type", "key_question", "answer", "evidence_note"])
    for sample_type, case_ref in cases:
        for kq, answer in random_answers(rng, questions[sample_type]).items():
            writer.writerow([case_ref, sample_type, kq, answer, ""])
    return out.getvalue()


def prepare(http: httpx.Client, gateway_url: str, rng: random.Random) -> State:
    """Six inspections in rating, each with its samples, half its cases assessed, judged and rated once;
    made through the public API only."""
    base = gateway_url + "/api/v1"
    framework = _ok(http.get(f"{base}/frameworks/{FRAMEWORK}"), 200)
    questions = case_questions(framework)
    inspections = []
    for n, code in enumerate(PDU_CODES):
        units = _ok(http.get(f"{base}/units", params={"code": code}), 200)["items"]
        if not units:
            raise RuntimeError(f"demo unit {code} was not loaded by gateway.cli setup")
        unit = units[0]
        start = date.today() + timedelta(days=21 + n)
        inspection = _ok(http.post(f"{base}/inspections", json={
            "unit_id": unit["id"], "framework_id": FRAMEWORK, "type": "core",
            "title": f"Load test inspection of {unit['name']} (synthetic caseload)", "lead": "Load Test Lead",
            "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=11)).isoformat(),
        }), 201)
        iid = inspection["id"]

        def move(to: str) -> None:
            _ok(http.post(f"{base}/inspections/{iid}/transitions", json={"to": to, "note": "load test"}), 200)

        move("pre_fieldwork")
        selected: list[tuple[str, str]] = []
        for sample_type, cases in FRAME_CASES.items():
            frame = synthetic_frame(rng, sample_type, cases, start - timedelta(days=200), unit_code=code)
            _ok(http.put(f"{base}/inspections/{iid}/frames/{sample_type}", content=frame,
                         headers={"Content-Type": "text/csv"}), 200, 201)
            sample = _ok(http.post(
                f"{base}/inspections/{iid}/samples", json={"sample_type": sample_type, "seed": SEED + n},
                headers={"Idempotency-Key": f"load-sample-{iid}-{sample_type}"},
            ), 201)
            selected += [(sample_type, case["case_ref"]) for case in sample["selected"]]
        move("fieldwork")
        rng.shuffle(selected)
        cut = int(len(selected) * ASSESSED_SHARE)
        assessed, unassessed = selected[:cut], selected[cut:]
        report = _ok(http.post(f"{base}/inspections/{iid}/assessments/import",
                               content=answers_csv(rng, questions, assessed),
                               headers={"Content-Type": "text/csv"}), 200, 201)
        if report["cases"] != len(assessed):
            raise RuntimeError(f"the import assessed {report['cases']} cases, not {len(assessed)}: {report}")
        for standard in JUDGED:
            _ok(http.put(f"{base}/inspections/{iid}/judgements/{standard}", json={
                "rating": rng.choice(RATINGS[:3]), "evidence_summary": "Synthetic evidence for the load test.",
            }), 201)
        move("rating")
        _ok(http.post(f"{base}/inspections/{iid}/rating-runs", json={},
                      headers={"Idempotency-Key": f"load-first-run-{iid}"}), 201)
        if _ok(http.get(f"{base}/inspections/{iid}/summary"), 200)["ratings"] is None:
            raise RuntimeError(f"inspection {iid}: no ratings in its summary after the rating run")
        inspections.append(LoadInspection(
            id=iid, unit_id=unit["id"], region_id=unit["parent_id"], year=start.year, questions=questions,
            assessed=assessed, unassessed=deque(unassessed),
        ))
    return State(base="/api/v1", inspections=inspections)


# --- the clients ---------------------------------------------------------------------------------------


class Client:
    def __init__(self, number: int, connection: Connection, state: State, recorder: Recorder):
        self.number, self.connection, self.state, self.recorder = number, connection, state, recorder
        self.rng = random.Random(SEED * 1000 + number)
        self.etags: dict[str, str] = {}  # inspection id -> the summary's ETag last seen
        self.sent = 0

    async def call(
        self, kind: str, method: str, target: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer | None:
        """One operation, counted under `kind`; None after a transport error (counted as a failure)."""
        self.sent += 1
        request_id = f"load-{self.number}-{self.sent}"
        all_headers = {"X-Request-ID": request_id, **self.state.auth, **(headers or {})}
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        shown = content.decode()[:300] if content else ""
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(
                self.connection.request(method, target, content, all_headers), REQUEST_TIMEOUT_S
            )
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError) as error:
            await self.connection.close()
            self.recorder.transport_errors[type(error).__name__] += 1
            self.recorder.failures.append(
                Failure(kind, method, target, request_id, shown, None, f"{type(error).__name__}: {error}")
            )
            return None
        self.recorder.answered(kind, time.perf_counter() - started, answer)
        if answer.status not in EXPECTED[kind]:
            self.recorder.failures.append(Failure(
                kind, method, target, request_id, shown, answer.status, answer.body[:600].decode(errors="replace")
            ))
        return answer

    def inspection(self) -> LoadInspection:
        return self.rng.choice(self.state.inspections)

    def _path(self, inspection: LoadInspection, rest: str = "") -> str:
        return f"{self.state.base}/inspections/{inspection.id}{rest}"

    # --- the kinds of operation (WEIGHTS) ---

    async def summary(self) -> None:
        inspection = self.inspection()
        answer = await self.call("summary", "GET", self._path(inspection, "/summary"))
        if answer is not None and "etag" in answer.headers:
            self.etags[inspection.id] = answer.headers["etag"]

    async def summary_if_none_match(self) -> None:
        inspection = self.inspection()
        held = self.etags.get(inspection.id)
        if held is None:
            await self.summary()
            return
        answer = await self.call(
            "summary, If-None-Match", "GET", self._path(inspection, "/summary"), headers={"If-None-Match": held}
        )
        if answer is not None and "etag" in answer.headers:
            self.etags[inspection.id] = answer.headers["etag"]

    async def inspections_list(self) -> None:
        inspection = self.inspection()
        query = self.rng.choice([
            "limit=20",
            "status=rating&limit=50",
            f"unit_id={inspection.unit_id}",
            f"region_id={inspection.region_id}",
            f"year={inspection.year}&framework_id={FRAMEWORK}&status=rating&status=fieldwork",
        ])
        await self.call("inspections list", "GET", f"{self.state.base}/inspections?{query}")

    async def units_list(self) -> None:
        inspection = self.inspection()
        target = self.rng.choice([
            "/units?type=pdu&limit=50",
            "/units?type=region",
            "/units?q=ham&limit=20",
            f"/units?parent_id={inspection.region_id}",
            f"/units/{inspection.region_id}/children?type=pdu",
        ])
        await self.call("units list", "GET", self.state.base + target)

    def _case_path(self, inspection: LoadInspection, case: tuple[str, str]) -> str:
        sample_type, case_ref = case
        return self._path(inspection, f"/samples/{sample_type}/cases/{case_ref}/assessment")

    async def assessment_read(self) -> None:
        inspection = self.inspection()
        await self.call("assessment read", "GET", self._case_path(inspection, self.rng.choice(inspection.assessed)))

    def _assessment(self, inspection: LoadInspection, sample_type: str) -> dict:
        return {
            "answers": random_answers(self.rng, inspection.questions[sample_type], answered=0.9),
            "evidence_note": self.rng.choice(["", "Case notes and OASys reviewed; synthetic.", "Interview held."]),
        }

    async def assessment_create(self) -> None:
        inspection = self.inspection()
        if not inspection.unassessed:  # every case of it assessed: the inspectors go back to one
            await self.assessment_update()
            return
        case = inspection.unassessed.popleft()
        answer = await self.call(
            "assessment create", "PUT", self._case_path(inspection, case), self._assessment(inspection, case[0])
        )
        if answer is not None and answer.status == 201:
            inspection.assessed.append(case)

    async def assessment_update(self) -> None:
        inspection = self.inspection()
        pool = inspection.under_discussion if self.rng.random() < 0.5 else inspection.assessed
        case = self.rng.choice(pool)
        path = self._case_path(inspection, case)
        read = await self.call("assessment read", "GET", path)
        if read is None or read.status != 200:
            return
        await self.call("assessment update", "PUT", path, self._assessment(inspection, case[0]),
                        headers={"If-Match": read.headers["etag"]})

    async def judgement_update(self) -> None:
        inspection = self.inspection()
        path = self._path(inspection, f"/judgements/{self.rng.choice(JUDGED)}")
        read = await self.call("judgement read", "GET", path)
        if read is None or read.status != 200:
            return
        body = {"rating": self.rng.choice(RATINGS), "evidence_summary": f"Synthetic evidence, revision {self.sent}."}
        await self.call("judgement update", "PUT", path, body, headers={"If-Match": read.headers["etag"]})

    async def rating_run(self) -> None:
        await self.call("rating run", "POST", self._path(self.inspection(), "/rating-runs"), {})

    async def rating_run_new_key(self) -> None:
        inspection = self.inspection()
        key = f"load-{uuid.uuid4().hex}"
        path = self._path(inspection, "/rating-runs")
        self.state.recent_keys.append((path, key))
        await self.call("rating run, new key", "POST", path, {}, headers={"Idempotency-Key": key})
        if self.rng.random() < 0.25:
            path, key = self.state.recent_keys[-1]  # maybe another client's, maybe still running
        await self.call("rating run, repeated key", "POST", path, {}, headers={"Idempotency-Key": key})

    async def refused_transition(self) -> None:
        to = self.rng.choice(["pre_fieldwork", "planned"])  # neither is a move from rating
        await self.call("refused transition", "POST", self._path(self.inspection(), "/transitions"),
                        {"to": to, "note": "load test: refused"})

    async def bad_request(self) -> None:
        inspection = self.inspection()
        choice = self.rng.randrange(5)
        if choice == 0:
            await self.call("bad request", "PUT", self._path(inspection, "/judgements/1.2"),
                            {"rating": "excellent", "evidence_summary": "Not a rating."}, headers={"If-Match": '"1"'})
        elif choice == 1:
            case = self.rng.choice(inspection.assessed)
            await self.call("bad request", "PUT", self._case_path(inspection, case),
                            {"answers": {inspection.questions[case[0]][0]: "maybe"}}, headers={"If-Match": '"1"'})
        elif choice == 2:
            await self.call("bad request", "PUT", self._path(inspection, "/judgements/2.2"),
                            {"rating": "good", "evidence_summary": "A case-based standard is not judged."})
        elif choice == 3:
            await self.call("bad request", "GET", f"{self.state.base}/inspections?year=1850")
        else:
            await self.call("bad request", "GET", f"{self.state.base}/inspections/not-an-inspection/summary")

    async def run(self, deadline: float) -> None:
        kinds = {
            "summary": self.summary,
            "summary, If-None-Match": self.summary_if_none_match,
            "inspections list": self.inspections_list,
            "units list": self.units_list,
            "assessment read": self.assessment_read,
            "assessment create": self.assessment_create,
            "assessment update": self.assessment_update,
            "judgement update": self.judgement_update,
            "rating run": self.rating_run,
            "rating run, new key": self.rating_run_new_key,
            "refused transition": self.refused_transition,
            "bad request": self.bad_request,
        }
        choose: list[Callable[[], Awaitable[None]]] = [kinds[k] for k in WEIGHTS]
        weights = list(WEIGHTS.values())
        try:
            while time.perf_counter() < deadline:
                await self.rng.choices(choose, weights)[0]()
        finally:
            await self.connection.close()


async def load(gateway_url: str, state: State, clients: int, seconds: float) -> tuple[Recorder, float, float]:
    """Run the clients for `seconds`; the recorder, the wall time to the last answer, and the client's CPU."""
    host, port = gateway_url.removeprefix("http://").split(":")
    recorder = Recorder()
    connections = [Connection(host, int(port)) for _ in range(clients)]
    await asyncio.gather(*(connection.open() for connection in connections))
    cpu, started = time.process_time(), time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(Client(n, c, state, recorder).run(deadline) for n, c in enumerate(connections)))
    return recorder, time.perf_counter() - started, time.process_time() - cpu


# --- the report ------------------------------------------------------------------------------------------


def _statuses(counts: Counter[int]) -> str:
    return ", ".join(f"{status}: {n:,}" for status, n in sorted(counts.items()))


def report_lines(recorder: Recorder) -> list[str]:
    """The table: a row per kind of operation, then all of them."""
    header = ("operation", "count", "share", "p50 ms", "p95 ms", "p99 ms", "max ms", "answers by status")
    total = recorder.operations
    rows = []
    every: list[float] = []
    overall: Counter[int] = Counter()
    kinds = [k for k in EXPECTED if k in recorder.latencies]
    for kind in kinds:
        values = sorted(recorder.latencies[kind])
        every += values
        overall.update(recorder.statuses[kind])
        rows.append((
            kind, f"{len(values):,}", f"{len(values) / total:.1%}",
            *(f"{percentile(values, q) * 1000:,.1f}" for q in (50, 95, 99)), f"{values[-1] * 1000:,.1f}",
            _statuses(recorder.statuses[kind]),
        ))
    every.sort()
    rows.append((
        "all", f"{total:,}", "100%", *(f"{percentile(every, q) * 1000:,.1f}" for q in (50, 95, 99)),
        f"{every[-1] * 1000:,.1f}" if every else "-", _statuses(overall),
    ))
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    right = {1, 2, 3, 4, 5, 6}

    def line(cells: tuple[str, ...]) -> str:
        return " | ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    separator = "-+-".join("-" * w for w in widths)
    return [line(header), separator, *(line(r) for r in rows[:-1]), separator, line(rows[-1])]


def _log_findings(services: list[RunningService]) -> list[str]:
    """Tracebacks and error-level lines in the services' logs, with a little context."""
    found = []
    for running in services:
        lines = running.log().splitlines()
        for number, text in enumerate(lines):
            serious = "Traceback" in text or "Exception in ASGI" in text
            if text.startswith("{"):
                try:
                    event = json.loads(text)
                except ValueError:
                    event = {}
                serious = event.get("level") in ("error", "critical", "exception") or int(event.get("status") or 0) >= 500
            if serious:
                found.append(f"{running.log_path.name}:{number + 1}: " + "\n    ".join(lines[number:number + 30]))
    return found


def _lines_for(services: list[RunningService], request_id: str) -> list[str]:
    """What the services logged under a request id (the gateway passes it on to the engines)."""
    return [f"{s.name}: {line}" for s in services for line in s.log().splitlines() if f'"{request_id}"' in line]


def main() -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    print(f"load test: {CLIENTS} clients for {SECONDS:g} s against the gateway on a throwaway PostgreSQL database",
          flush=True)
    with throwaway_database() as database_url, ExitStack() as stack:
        _setup(database_url)
        rating = stack.enter_context(service("rating_engine", "RATING_ENGINE_", LOG_DIR))
        sampling = stack.enter_context(service("sampling", "SAMPLING_", LOG_DIR))
        gateway = stack.enter_context(service(
            "gateway", "GATEWAY_", LOG_DIR,
            {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": rating.url,
             "GATEWAY_SAMPLING_URL": sampling.url},
        ))
        services = [gateway, rating, sampling]
        auth = signed_in(gateway.url)
        http = stack.enter_context(httpx.Client(timeout=120, headers=auth))
        started = time.perf_counter()
        state = prepare(http, gateway.url, rng)
        state.auth = auth
        cases = sum(len(i.assessed) + len(i.unassessed) for i in state.inspections)
        assessed = sum(len(i.assessed) for i in state.inspections)
        print(f"prepared in {time.perf_counter() - started:.1f} s: {len(state.inspections)} inspections in rating "
              f"({', '.join(PDU_CODES)}), {cases:,} sampled cases, {assessed:,} of them assessed, judged, rated once",
              flush=True)
        server_cpu = {s.name: cpu_seconds(s.process.pid) for s in services}
        machine = _machine_cpu()
        recorder, wall, client_cpu = asyncio.run(load(gateway.url, state, CLIENTS, SECONDS))
        machine_busy = _machine_share(machine, _machine_cpu())
        server_cpu = {s.name: cpu_seconds(s.process.pid) - server_cpu[s.name] for s in services}
        findings = _log_findings(services)
        failure_logs = {f.request_id: _lines_for(services, f.request_id) for f in recorder.failures[:10]}
        created = sum(len(i.assessed) for i in state.inspections) - assessed

    operations = recorder.operations
    print()
    for text in report_lines(recorder):
        print(text)
    print()
    print(f"total operations {operations:,} in {wall:.1f} s: {operations / wall:,.1f} operations/s "
          f"({CLIENTS} clients, each one request at a time on its own keep-alive connection)")
    print("earlier outside run, for comparison: " + EARLIER_RUN)
    overall: Counter[int] = Counter()
    for counts in recorder.statuses.values():
        overall.update(counts)
    print("answers by status code:")
    for status, n in sorted(overall.items()):
        print(f"  {status}: {n:,}  {STATUS_MEANING.get(status, 'NOT EXPECTED' if status >= 500 else '')}")
    for reason, n in recorder.conflicts.most_common():
        print(f"       409 {reason}: {n:,}")
    print(f"  ({recorder.replayed:,} rating runs answered as replays of a first request with the same key; "
          f"{created:,} cases assessed for the first time during the run)")
    cores = os.cpu_count() or 1
    print(f"CPU over the run ({cores} cores): load client {client_cpu / wall:.0%} of a core "
          f"({client_cpu / max(operations, 1) * 1000:.2f} ms per operation); "
          + ", ".join(f"{name} {seconds / wall:.0%}" for name, seconds in server_cpu.items())
          + f"; the whole machine {machine_busy:.0%} busy (PostgreSQL and anything else is the rest)")

    failed = False
    if recorder.server_errors:
        failed = True
        print(f"\n5xx SEEN: {recorder.server_errors:,} answers with a 5xx status")
    else:
        print("\nno 5xx seen")
    if recorder.transport_errors:
        failed = True
        print(f"TRANSPORT ERRORS: {sum(recorder.transport_errors.values()):,} ({_statuses(recorder.transport_errors)})")
    else:
        print("no transport errors")
    if Connection.resent:
        print(f"{Connection.resent:,} requests sent again after the server let an idle keep-alive connection go")
    if recorder.unexpected:
        failed = True
        print(f"UNEXPECTED ANSWERS: {len(recorder.unexpected):,} outside the expected statuses of their kind")
    for failure in recorder.failures[:10]:
        print(f"\n  {failure.kind}: {failure.method} {failure.target} (X-Request-ID {failure.request_id})")
        if failure.request_body:
            print(f"    body: {failure.request_body}")
        print(f"    answer: {failure.status if failure.status is not None else 'none'} {failure.answer}")
        for text in failure_logs.get(failure.request_id, [])[:10]:
            print(f"    log {text[:2000]}")
    if findings:
        failed = True
        print(f"\nSERVICE LOGS: {len(findings)} tracebacks or error-level lines (logs in {LOG_DIR})")
        for finding in findings[:10]:
            print("  " + finding[:4000])
    else:
        print("no traceback or error-level line in the services' logs")
    print(f"\nlogs: {LOG_DIR}")
    print("FAILED" if failed else "passed")
    return 1 if failed else 0


def _machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (Linux)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _machine_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total else 0.0


if __name__ == "__main__":
    sys.exit(main())
