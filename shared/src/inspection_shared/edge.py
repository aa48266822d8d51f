"""The request edge: what every request passes through once, in every service.

`RequestEdgeMiddleware` accepts or generates the request's X-Request-ID, refuses what no route should be
handed (`request_checks`), a body that takes longer than the service's body timeout to come (a 408) and
one over the route's size limit, declared or counted as it streams in (a 413; both close the connection:
one place for every body, JSON or upload), logs one line and counts the request, puts the security
headers on every answer, and answers any unexpected error itself, as a 500 problem on a connection that
stays open, saying nothing of the error but the request id. A client that went away is normal, not an
error.

What reaches the logs is the method, the path (a case reference in it as `{case_ref}`), the status and
the timing; never a query string, a body, or an exception's message (which may quote either).
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from typing import NoReturn

import anyio
import structlog
from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import State
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inspection_shared.logs import (
    REQUEST_ID_HEADER,
    VALID_REQUEST_ID,
    error_name,
    request_id_var,
    traceback_without_messages,
)
from inspection_shared.paths import HEAD_AS_GET, loggable_path, served_template
from inspection_shared.problem_handlers import problem_response
from inspection_shared.problems import Problem
from inspection_shared.request_checks import (
    body_too_large,
    body_too_slow,
    declares_json,
    json_body_problem,
    takes_files,
    url_problem,
)

CLIENT_GONE_STATUS = 499
"""The status logged (and counted) for a request whose client went away before its answer (nginx's)."""

log = structlog.get_logger("http")


class HttpMetrics:
    """Request counts and durations per method, route template and status, in Prometheus form.

    Labelled by the path with its parameters as placeholders (`/api/v1/inspections/{inspection_id}`),
    never by the raw path, so the series stay few; requests no route matched count as `unmatched`.
    """

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self._requests = Counter(
            "http_requests_total", "HTTP requests answered.", ["method", "handler", "status"], registry=registry
        )
        self._durations = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "handler"],
            registry=registry,
        )
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, handler: str, status: int, seconds: float) -> None:
        key = (method, handler, status)
        series = self._series.get(key)
        if series is None:  # labels() takes a lock and builds a tuple: done once per series, not per request
            series = self._series[key] = (
                self._requests.labels(method, handler, str(status)),
                self._durations.labels(method, handler),
            )
        series[0].inc()
        series[1].observe(seconds)


_UNLOGGED_PATHS = frozenset(("/healthz", "/metrics"))

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
"""On every answer: no type sniffing, no referrer sent on, never framed."""

CONTENT_SECURITY_POLICY = b"content-security-policy"
API_POLICY = (CONTENT_SECURITY_POLICY, b"default-src 'none'; frame-ancestors 'none'")
"""An API answer is data, never a page: nothing in it may load or run. Pages (the API documentation) set their own."""

HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
"""Only on answers to requests that came over HTTPS (`scope["scheme"]`: uvicorn believes X-Forwarded-Proto from
the service's trusted proxies only, `*_TRUSTED_PROXIES`)."""

_CHECKED_IN_LOOP_BYTES = 1024 * 1024
"""JSON bodies up to this size are checked on the event loop (a millisecond or two); larger ones in a thread."""


class _BodyRefused(Exception):
    """Raised to the app reading a body the edge refuses; the edge answers the request itself."""


class _Exchange:
    """One request's receive channel as the app sees it, and what the edge learns through it.

    A JSON body is checked as its last part is handed over, before the app can parse it: it is read
    once, by the app, from the server; the edge keeps only references to the parts it has seen. The
    body is due whole within the body timeout from the app's first read of it (a client trickling it in
    is refused with a 408); once the body is in, or the answer has begun, reads are not timed.
    """

    __slots__ = ("receive", "scope", "checks_json", "parts", "refusal", "gone", "responding", "answered",
                 "state", "body_due", "body_read", "declared", "limit", "received")

    def __init__(self, receive: Receive, scope: Scope, checks_json: bool, state: State, declared: int | None):
        self.receive = receive
        self.scope = scope  # the app's: routing writes the route into it before the body is read
        self.checks_json = checks_json
        self.parts: list[bytes] = []
        self.refusal: Problem | None = None
        self.gone = False  # the client went away before its answer was complete
        self.responding = False  # the answer has begun
        self.answered = False  # the answer's last part was sent
        self.state = state  # the app's: body_timeout, max_body_bytes and max_upload_bytes
        self.body_due: float | None = None  # the loop's time by which the body must be in
        self.body_read = False
        self.declared = declared  # the body's Content-Length
        self.limit = 0  # the bytes the body may hold, known once the route is
        self.received = 0

    async def __call__(self) -> Message:
        message = await (self.receive() if self.body_read or self.responding else self._receive_body())
        kind = message["type"]
        if kind == "http.request":
            if not message.get("more_body", False):
                self.body_read = True
            if self.checks_json:
                part = message.get("body", b"")
                if part:
                    self.parts.append(part)
                if not message.get("more_body", False):
                    parts, self.parts, self.checks_json = self.parts, [], False
                    body = parts[0] if len(parts) == 1 else b"".join(parts)
                    check = functools.partial(json_body_problem, nul=not takes_files(self.scope.get("route")))
                    if len(body) <= _CHECKED_IN_LOOP_BYTES:
                        self.refusal = check(body)
                    else:  # tens of milliseconds for a large frame: not on the event loop
                        self.refusal = await anyio.to_thread.run_sync(check, body)
                    if self.refusal is not None:
                        raise _BodyRefused()
        elif kind == "http.disconnect":
            self.body_read = True
            if not self.answered:
                self.gone = True
        return message

    async def _receive_body(self) -> Message:
        """The next part of the body; the 408 once it is overdue, the 413 once it is over its limit."""
        if self.body_due is None:  # the route's first read: the route, and so the body's limit, is known
            self.body_due = asyncio.get_running_loop().time() + self.state.body_timeout
            self.limit = self.state.max_upload_bytes if self._takes_files() else self.state.max_body_bytes
            if self.declared is not None and self.declared > self.limit:
                self._refuse(self._too_large())
        try:
            async with asyncio.timeout_at(self.body_due):
                message = await self.receive()
        except TimeoutError:
            self._refuse(body_too_slow(self.state.body_timeout))
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:  # a chunked body, or one longer than it said
                self._refuse(self._too_large())
        return message

    def _takes_files(self) -> bool:
        return takes_files(self.scope.get("route"))

    def _too_large(self) -> Problem:
        return body_too_large(self.limit, "A file sent to this route" if self._takes_files() else "A request's body")

    def _refuse(self, problem: Problem) -> NoReturn:
        self.refusal = problem
        raise _BodyRefused() from None


class RequestEdgeMiddleware:
    """What every request passes through once: its X-Request-ID (accepted or generated, bound to the
    logs and returned), the refusals of the edge, one log line, and the metrics; and the answer to an
    error no handler answered.

    Only method, path, status and timing are logged: bodies and query strings may hold case data and
    never are, and a case reference in the path is logged as `{case_ref}`.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, state: State):
        self.app = app
        self.metrics = metrics
        self.state = state  # the app's: the body's timeout and limits are read from it when a body is first read

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = declared = None
        checks_json = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-type":
                checks_json = declares_json(value)
            elif name == b"content-length" and value.isdigit():
                declared = int(value)
        request_id = incoming if incoming and VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        method = scope["method"]
        head = method == "HEAD"
        # Routes are declared for GET; a HEAD is answered as that GET, without its body.
        app_scope = {**scope, "method": "GET", HEAD_AS_GET: True} if head else scope
        exchange = _Exchange(receive, app_scope, checks_json, self.state, declared)
        always = (*SECURITY_HEADERS, id_header, HSTS) if scope["scheme"] == "https" else (*SECURITY_HEADERS, id_header)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                exchange.responding = True
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                if not any(h[0].lower() == CONTENT_SECURITY_POLICY for h in headers):
                    headers.append(API_POLICY)
                message["headers"] = [*headers, *always]
            elif message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    exchange.answered = True
                if head and message.get("body"):
                    message = {**message, "body": b""}
            await send(message)

        async def send_from_app(message: Message) -> None:
            if exchange.refusal is None:  # once the body is refused, the edge answers, not the app
                await send_with_id(message)

        try:
            refusal = url_problem(scope)
            if refusal is None:
                try:
                    await self.app(app_scope, exchange, send_from_app)
                except ClientDisconnect:
                    exchange.gone = True
                except asyncio.CancelledError:
                    if not exchange.gone:
                        raise
                except Exception as error:
                    if exchange.refusal is None:
                        log.error("unhandled error", path=loggable_path(app_scope), error=error_name(error),
                                  traceback=traceback_without_messages(error))
                        if exchange.responding:
                            return  # the answer is cut short; the server closes the connection
                        refusal = Problem(
                            500, "Internal error", f"Quote request id {request_id} when reporting this.",
                            slug="internal-error", headers={REQUEST_ID_HEADER: request_id},
                        )
                refusal = refusal or exchange.refusal
            if exchange.gone:
                status = CLIENT_GONE_STATUS
                log.info("client went away", path=loggable_path(app_scope))
            elif refusal is not None and not exchange.responding:
                await problem_response(Request(scope), refusal)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = served_template(app_scope)
            self.metrics.observe(method, "unmatched" if template is None else template.format, status, elapsed)
            if scope["path"] not in _UNLOGGED_PATHS:
                log.info("request", method=method, path=loggable_path(app_scope, template), status=status,
                         duration_ms=round(elapsed * 1000, 2))
            request_id_var.reset(token)

