"""What every service shares at the HTTP edge: request ids, JSON logs, problem responses, metrics, health.

Each service builds its app with `create_service_app` so the three speak the same conventions. Every
request passes `RequestEdgeMiddleware` once, which also refuses what no route should be handed: a NUL
character (U+0000) in the path, the query or a JSON body (PostgreSQL cannot store one), and a JSON body
that is not UTF-8 or is nested deeper than `MAX_JSON_DEPTH`. It answers any unexpected error itself, as
a 500 problem on a connection that stays open, and treats a client that went away as normal.

What reaches the logs is the method, the path (a case reference in it as `{case_ref}`), the status and
the timing; never a query string, a body, or an exception's message (which may quote either).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import re
import sys
import time
import traceback
import uuid
import weakref
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl

import anyio
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inspection_shared.faults import InputFault
from inspection_shared.problems import PROBLEM_JSON, FieldError, InvalidInput, Problem, ProblemDetail, problem_responses

REQUEST_ID_HEADER = "X-Request-ID"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the dependency it checks is unreachable."""

READINESS_TIMEOUT_SECONDS = 2.0
"""How long /readyz waits for each check by default (each service's `readiness_timeout_seconds`)."""

MAX_JSON_DEPTH = 64
"""Arrays and objects a JSON body may nest; no request of ours needs a tenth of it, and a parser that
recurses (the standard library's, at about a thousand levels) must never be handed a deeper one."""

CLIENT_GONE_STATUS = 499
"""The status logged (and counted) for a request whose client went away before its answer (nginx's)."""

log = structlog.get_logger("http")


def _with_request_id(_: object, __: str, event: dict) -> dict:
    request_id = request_id_var.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout for our own logs and for uvicorn's, each with the service and request id.

    Our own loggers render straight to stdout (a few microseconds a line: one is written per request);
    the standard library's (uvicorn, SQLAlchemy) go through a handler that renders them the same way.
    """
    shared = [
        _with_request_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        lambda _, __, event: {"service": service, **event},
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Our middleware logs each request once, with its id; uvicorn's access line would repeat it.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx and httpcore log every request they make at INFO with its URL, which may name a case.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def freeze_startup_objects() -> None:
    """Set what start-up made (modules, routes, schemas) aside from the garbage collector, for good.

    It lives as long as the process. Left to the collector, every full collection walked all of it while
    every request in flight waited: on the gateway about 65 ms, a few times a second under load. Frozen,
    collections walk only what requests make. Called once, in the server process, before it serves.
    """
    gc.collect()  # what is garbage already is freed, not kept for good
    gc.freeze()


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


# --- what the logs may say about a path -------------------------------------------------------------

_UNLOGGED_PATHS = frozenset(("/healthz", "/metrics"))

PERSONAL_PATH_PARAMETERS = frozenset(("case_ref",))
"""Path parameters that name a person's case: logged as their name in braces, never their value."""

UNKNOWN_SEGMENT = "{?}"
"""How a path no route matched is logged segment by segment: a segment none of the routes spells out
(an id, a case reference, a typo) is written as this."""

_PLACEHOLDER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


class _Template:
    """The path a route is served at (an including router's prefix in it), with parameters in braces."""

    __slots__ = ("format", "segments", "personal", "aligned")

    def __init__(self, path_format: str, path: str | None):
        self.format = path_format
        parts = path_format.split("/")
        self.segments = len(parts)
        # The segments holding a personal parameter, as the template writes them (`{case_ref}`).
        self.personal = tuple(
            (index, part) for index, part in enumerate(parts)
            if any(name in PERSONAL_PATH_PARAMETERS for name in _PLACEHOLDER.findall(part))
        )
        self.aligned = ":path}" not in (path or "")  # each parameter's value lies within one segment

    def masked(self, path: str, params: dict[str, Any]) -> str:
        """`path` (as the routes saw it, decoded once) with its personal parameters written as `{name}`."""
        if not self.personal:
            return path
        segments = path.split("/")
        if self.aligned and len(segments) == self.segments:
            for index, part in self.personal:
                segments[index] = part
            return "/".join(segments)
        values = {str(v): f"{{{k}}}" for k, v in params.items() if k in PERSONAL_PATH_PARAMETERS}
        return "/".join(values.get(segment, segment) for segment in segments)


class _Routes:
    """An app's routes as FastAPI serves them, each at its full path (FastAPI keeps an included
    router's routes at their own path, without the prefix it was included under)."""

    __slots__ = ("count", "contexts", "templates", "words")

    def __init__(self, app: Any):
        self.count = len(app.routes)
        self.contexts = [c for c in iter_route_contexts(app.routes) if c.path_format]
        self.templates: dict[int, _Template] = {}
        for context in self.contexts:
            self.templates.setdefault(id(context.original_route), _Template(context.path_format, context.path))
        self.words = frozenset(
            segment for context in self.contexts for segment in context.path_format.split("/")
            if segment and "{" not in segment
        )

    def matching(self, scope: Scope) -> tuple[_Template, dict[str, Any]] | None:
        """The route at the request's path, whatever its method, and the path parameters."""
        for context in self.contexts:
            match, child = context.matches(scope)
            if match is not Match.NONE:
                return _Template(context.path_format, context.path), child.get("path_params") or {}
        return None


_routes_of: weakref.WeakKeyDictionary[Any, _Routes] = weakref.WeakKeyDictionary()


def _routes(app: Any) -> _Routes:
    routes = _routes_of.get(app)
    if routes is None or routes.count != len(app.routes):
        routes = _routes_of[app] = _Routes(app)
    return routes


def _served_template(scope: Scope) -> _Template | None:
    """The template of the route that answered the request, if one did."""
    route, app = scope.get("route"), scope.get("app")
    if route is None or app is None:
        return None
    return _routes(app).templates.get(id(route))


def _loggable_path(scope: Scope, template: _Template | None = None) -> str:
    """The request's path as it may be logged: decoded as the routes saw it (however the client encoded
    it), with the values of personal path parameters written as `{name}`. A path no route matches keeps
    only the words the routes use; any other segment is written `{?}`."""
    template = template or _served_template(scope)
    params = scope.get("path_params") or {}
    if template is None:
        app = scope.get("app")
        found = _routes(app).matching(scope) if app is not None else None
        if found is None:
            words = _routes(app).words if app is not None else frozenset()
            return "/".join(s if not s or s in words else UNKNOWN_SEGMENT for s in scope["path"].split("/"))
        template, params = found
    return template.masked(scope["path"], params)


def _error_name(error: BaseException) -> str:
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def traceback_without_messages(error: BaseException) -> str:
    """The traceback of `error` and of the errors it was raised from: frames and exception types only.

    An exception's message may quote what it failed on (a database error quotes the row, a KeyError the
    key), and that may be case data, so messages are left out; the frames say where it happened.
    """
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    lines: list[str] = []
    for link in reversed(chain):
        if lines:
            lines.append("\nThe above exception led to the following exception:\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(link.__traceback__))
        lines.append(f"{_error_name(link)}\n")
    return "".join(lines)


# --- what the edge refuses ---------------------------------------------------------------------------

_NUL = "holds a NUL character (U+0000)"


def _url_problem(scope: Scope) -> Problem | None:
    """A 422 naming where the decoded path or query holds a NUL; None (at the cost of two scans) if neither."""
    query: bytes = scope["query_string"]
    in_path = "\x00" in scope["path"]
    if not in_path and b"%00" not in query and b"\x00" not in query:
        return None
    errors = [FieldError(field="path", message=_NUL)] if in_path else []
    named: set[str] = set()
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        field = "query." + name.replace("\x00", "\\u0000")
        if ("\x00" in name or "\x00" in value) and field not in named:
            named.add(field)
            errors.append(FieldError(field=field, message=_NUL))
    if not errors:
        return None
    return InvalidInput(
        "The path and the query must not hold NUL characters (U+0000): " + ", ".join(e.field for e in errors),
        errors,
    )


def _declares_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def not_json(message: str, line: int | None = None, column: int | None = None) -> InvalidInput:
    """422: the body is not JSON, saying where it broke."""
    where = f" at line {line}, column {column}" if line is not None else ""
    return InvalidInput(
        f"The body is not valid JSON: {message}{where}.",
        [FieldError(field="body", message=f"{message}{where}", line=line, column=column)],
    )


# The marks that decide nesting, one byte each: "(" opens (`[`, `{`), ")" closes, '"' bounds a string.
_MARKS = bytes.maketrans(b"[{]}", b"(())")
_NOT_MARKS = bytes(set(range(256)) - set(b'[]{}"'))
_QUOTED = re.compile(rb'"[^"]*"')
_RUNS = re.compile(rb"\(+|\)+")
_ROUNDS = 8


def nested_deeper_than(body: bytes, depth: int) -> bool:
    """Whether the JSON text `body` nests arrays and objects more than `depth` deep, without parsing it.

    Byte operations (about 50 ms for a national frame of 28 MB, a quarter of a parse): the body is cut to its
    brackets outside strings, then the innermost pairs are removed a level a round, which empties a
    document of a few levels in as many rounds. What is left after eight is walked run by run: every
    pair left holds eight levels, so the runs are few and the cost stays linear in the body. For text
    that is not JSON it answers for as far as a parser would read before failing.
    """
    marks = body.translate(_MARKS, _NOT_MARKS)
    if marks.count(b"(") <= depth:
        return False
    if b"\\" in body:  # escaped backslashes, then escaped quotes, so that the quotes left bound strings
        marks = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(_MARKS, _NOT_MARKS)
    # Adjacent quotes hold no bracket between them; the strings left are those that hold one.
    marks = marks.replace(b'""', b"")
    if b'"' in marks:
        marks = _QUOTED.sub(b"", marks).replace(b'"', b"")  # a quote left over opens a string never closed
    rounds = 0
    while marks and rounds < min(_ROUNDS, depth):
        reduced = marks.replace(b"()", b"")  # each leaf pair once: the pairs this makes wait for the next round
        if len(reduced) == len(marks):
            break  # not JSON
        marks, rounds = reduced, rounds + 1
    # Whatever is left lies `rounds` levels above the deepest point of the document.
    level, most = 0, depth - rounds
    for run in _RUNS.finditer(marks):
        if marks[run.start()] == 40:  # "("
            level += run.end() - run.start()
            if level > most:
                return True
        else:
            level -= run.end() - run.start()
            if level < 0:
                return False  # a close with nothing open: a parser stops here
    return False


def _line_column(body: bytes, at: int) -> tuple[int, int]:
    line_start = body.rfind(b"\n", 0, at) + 1
    return body.count(b"\n", 0, at) + 1, len(body[line_start:at].decode("utf-8", "replace")) + 1


def _fields_with_nul(value: Any, path: str, found: list[FieldError], most: int = 20) -> None:
    if len(found) >= most:
        return
    if isinstance(value, str):
        if "\x00" in value:
            found.append(FieldError(field=path, message=_NUL))
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                found.append(FieldError(field=path, message=f"has a key that {_NUL}"))
            else:
                _fields_with_nul(item, f"{path}.{key}", found, most)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _fields_with_nul(item, f"{path}.{index}", found, most)


def json_body_problem(body: bytes, *, nul: bool = True) -> Problem | None:
    """The 422 for a JSON body no route should be handed, or None.

    Refused: bytes that are not UTF-8, nesting deeper than `MAX_JSON_DEPTH`, and (unless `nul` is false)
    U+0000 in any string, named by its dotted path (`body.overrides.0.reason`). Other faults of the JSON
    are left to the route, which parses it anyway. The common body costs a few scans of its bytes and no
    parse: a NUL can only be written `\\u0000` (or be a raw byte, which is not JSON), so the body is
    parsed here only when one might be.
    """
    if not body:
        return None
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as error:
            return not_json(f"byte 0x{body[error.start]:02X} is not UTF-8", *_line_column(body, error.start))
    if nested_deeper_than(body, MAX_JSON_DEPTH):
        return InvalidInput(
            f"The body is nested too deeply: at most {MAX_JSON_DEPTH} levels of arrays and objects are accepted.",
            [FieldError(field="body", message=f"nested deeper than {MAX_JSON_DEPTH} levels")],
        )
    if not nul or (b"\x00" not in body and (b"\\" not in body or b"\\u0000" not in body)):
        return None
    try:
        document = json.loads(body.decode("utf-8").removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        return not_json(error.msg, error.lineno, error.colno)
    except ValueError:  # an integer too long to read: the route refuses it as it reads it
        return None
    found: list[FieldError] = []
    _fields_with_nul(document, "body", found)
    if not found:  # `\\u0000`: an escaped backslash before "u0000"
        return None
    return InvalidInput(
        "Text in the body must not hold NUL characters (U+0000): " + ", ".join(e.field for e in found), found
    )


_CHECKED_IN_LOOP_BYTES = 1024 * 1024
"""JSON bodies up to this size are checked on the event loop (a millisecond or two); larger ones in a thread."""


class _BodyRefused(Exception):
    """Raised to the app reading a body the edge refuses; the edge answers the request itself."""


def _takes_files(route: Any) -> bool:
    """Whether the route's body may be a file (CSV, or a form's file part, as well as JSON).

    Such a body is read by `inspection_shared.uploads` and its rows checked by the route's reader, which
    refuses the whole file naming every fault by line or index, a NUL among them; refused here, a NUL
    would hide the file's other faults. So the edge leaves a NUL in a file to its reader.
    """
    request_body = (getattr(route, "openapi_extra", None) or {}).get("requestBody") or {}
    content = request_body.get("content") or {}
    return "multipart/form-data" in content or "text/csv" in content


class _Exchange:
    """One request's receive channel as the app sees it, and what the edge learns through it.

    A JSON body is checked as its last part is handed over, before the app can parse it: it is read
    once, by the app, from the server; the edge keeps only references to the parts it has seen.
    """

    __slots__ = ("receive", "scope", "checks_json", "parts", "refusal", "gone", "answered")

    def __init__(self, receive: Receive, scope: Scope, checks_json: bool):
        self.receive = receive
        self.scope = scope  # the app's: routing writes the route into it before the body is read
        self.checks_json = checks_json
        self.parts: list[bytes] = []
        self.refusal: Problem | None = None
        self.gone = False  # the client went away before its answer was complete
        self.answered = False  # the answer's last part was sent

    async def __call__(self) -> Message:
        message = await self.receive()
        kind = message["type"]
        if kind == "http.request":
            if self.checks_json:
                part = message.get("body", b"")
                if part:
                    self.parts.append(part)
                if not message.get("more_body", False):
                    parts, self.parts, self.checks_json = self.parts, [], False
                    body = parts[0] if len(parts) == 1 else b"".join(parts)
                    check = functools.partial(json_body_problem, nul=not _takes_files(self.scope.get("route")))
                    if len(body) <= _CHECKED_IN_LOOP_BYTES:
                        self.refusal = check(body)
                    else:  # tens of milliseconds for a large frame: not on the event loop
                        self.refusal = await anyio.to_thread.run_sync(check, body)
                    if self.refusal is not None:
                        raise _BodyRefused()
        elif kind == "http.disconnect" and not self.answered:
            self.gone = True
        return message


_HEAD_AS_GET = "inspection_shared.head"
"""Scope key marking a HEAD request passed to the routes as a GET (its answer is sent without a body)."""


class RequestEdgeMiddleware:
    """What every request passes through once: its X-Request-ID (accepted or generated, bound to the
    logs and returned), the refusals of the edge, one log line, and the metrics; and the answer to an
    error no handler answered.

    Only method, path, status and timing are logged: bodies and query strings may hold case data and
    never are, and a case reference in the path is logged as `{case_ref}`.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        checks_json = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-type":
                checks_json = _declares_json(value)
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        method = scope["method"]
        head = method == "HEAD"
        # Routes are declared for GET; a HEAD is answered as that GET, without its body.
        app_scope = {**scope, "method": "GET", _HEAD_AS_GET: True} if head else scope
        exchange = _Exchange(receive, app_scope, checks_json)
        started = time.perf_counter()
        status = 500
        responding = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responding
            if message["type"] == "http.response.start":
                status = message["status"]
                responding = True
                headers = message.get("headers", [])
                message["headers"] = [*(h for h in headers if h[0].lower() != b"x-request-id"), id_header]
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
            refusal = _url_problem(scope)
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
                        log.error("unhandled error", path=_loggable_path(app_scope), error=_error_name(error),
                                  traceback=traceback_without_messages(error))
                        if responding:
                            return  # the answer is cut short; the server closes the connection
                        refusal = Problem(
                            500, "Internal error", f"Quote request id {request_id} when reporting this.",
                            slug="internal-error", headers={REQUEST_ID_HEADER: request_id},
                        )
                refusal = refusal or exchange.refusal
            if exchange.gone:
                status = CLIENT_GONE_STATUS
                log.info("client went away", path=_loggable_path(app_scope))
            elif refusal is not None and not responding:
                await problem_response(Request(scope), refusal)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = _served_template(app_scope)
            self.metrics.observe(method, "unmatched" if template is None else template.format, status, elapsed)
            if scope["path"] not in _UNLOGGED_PATHS:
                log.info("request", method=method, path=_loggable_path(app_scope, template), status=status,
                         duration_ms=round(elapsed * 1000, 2))
            request_id_var.reset(token)


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body = problem.body(instance=request.url.path).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def _field_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


_PYDANTIC_JSON_POSITION = re.compile(r"^(?P<message>.*) at line (?P<line>\d+) column (?P<column>\d+)$")


def _json_invalid(error: dict[str, Any], document: Any) -> InvalidInput:
    """The 422 for a body its route could not parse as JSON, from FastAPI's `json_invalid` error (whose
    location is the character offset into the document) or pydantic-core's (which names line and column)."""
    message = str((error.get("ctx") or {}).get("error") or error.get("msg") or "unreadable")
    loc = error.get("loc", ())
    if len(loc) == 2 and isinstance(loc[1], int) and isinstance(document, str):
        at = loc[1]
        return not_json(message, document.count("\n", 0, at) + 1, at - document.rfind("\n", 0, at))
    position = _PYDANTIC_JSON_POSITION.match(message)
    if position:
        return not_json(position["message"], int(position["line"]), int(position["column"]))
    return not_json(message)


def _allowed_methods(request: Request) -> str:
    """Every method some route at the request's path answers (Starlette names only the first route's)."""
    methods: set[str] = set()
    for context in _routes(request.app).contexts:
        if context.methods and context.matches(request.scope)[0] is not Match.NONE:
            methods |= context.methods
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def _install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(InputFault)
    async def _input_fault(request: Request, exc: InputFault) -> JSONResponse:
        # The detail and the faults only: an InputFault's facts are for code in the process, not the client.
        errors = [FieldError(field=f.field, message=f.message, line=f.line) for f in exc.faults]
        return problem_response(request, InvalidInput(exc.detail, errors=errors or None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        faults = exc.errors()
        unreadable = next((e for e in faults if e.get("type") == "json_invalid"), None)
        if unreadable is not None:
            return problem_response(request, _json_invalid(unreadable, exc.body))
        errors = [FieldError(field=_field_path(e["loc"]), message=e["msg"]) for e in faults]
        named = ", ".join(sorted({e.field for e in errors}))
        return problem_response(
            request,
            Problem(422, "Invalid input", f"The request has invalid fields: {named}", slug="invalid-input", errors=errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}"
        elif exc.status_code == 405:
            method = "HEAD" if request.scope.get(_HEAD_AS_GET) else request.method
            detail = f"{method} is not allowed on {request.url.path}"
            headers["Allow"] = _allowed_methods(request)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(request, Problem(exc.status_code, title, detail, headers=headers))


def _file_problems_under_problem_json(app: FastAPI) -> None:
    """Error responses are application/problem+json; FastAPI would also list them as application/json."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    for response in operation.get("responses", {}).values():
                        content = response.get("content", {})
                        if PROBLEM_JSON in content:
                            content.pop("application/json", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operation_id(route: APIRoute) -> str:
    return route.endpoint.__name__


async def _readiness(name: str, check: ReadinessCheck, timeout: float) -> str:
    """What /readyz says of one check: ok, timed out or unavailable. Why is logged, by the exception's
    type only: its message may hold a connection string."""
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        log.warning("readiness check failed", check=name, reason="timed out", timeout_s=timeout)
        return "timed out"
    except Exception as error:  # any failure means not ready; the reason is logged, not answered
        log.warning("readiness check failed", check=name, reason=_error_name(error))
        return "unavailable"
    return "ok"


def create_service_app(
    *,
    title: str,
    version: str,
    description: str,
    readiness: dict[str, ReadinessCheck] | None = None,
    readiness_timeout: float = READINESS_TIMEOUT_SECONDS,
    lifespan=None,
    openapi_tags: list[dict] | None = None,
) -> FastAPI:
    """A FastAPI app with the house conventions; the service adds its routers.

    `readiness_timeout` bounds each readiness check (`app.state.readiness_timeout`; `server.serve` sets it
    from the service's settings).
    """
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        responses=problem_responses(422, 500),
        # Stable operation ids: each route's handler is named for what the operation does.
        generate_unique_id_function=_operation_id,
        # FastAPI's own OpenTelemetry log records carry exception messages, which may quote case data.
        telemetry={"logs": False},
    )
    app.state.readiness_timeout = readiness_timeout
    _install_problem_handlers(app)
    _file_problems_under_problem_json(app)
    checks = readiness or {}

    @app.get("/healthz", tags=["health"], operation_id="healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        operation_id="readyz",
        summary="Every dependency is reachable",
        responses=problem_responses(503),
    )
    async def readyz(request: Request) -> JSONResponse:
        timeout = request.app.state.readiness_timeout
        outcomes = await asyncio.gather(*(_readiness(name, check, timeout) for name, check in checks.items()))
        results = dict(zip(checks, outcomes))
        ready = all(v == "ok" for v in results.values())
        body = {"status": "ready" if ready else "not_ready", "checks": results}
        if ready:
            return JSONResponse(body)
        problem = ProblemDetail(
            type="/problems/not-ready", title="Not ready", status=503,
            detail="A dependency is unreachable: " + ", ".join(k for k, v in results.items() if v != "ok"),
            checks=results,
        )
        return JSONResponse(problem.model_dump(exclude_none=True), status_code=503, media_type=PROBLEM_JSON,
                            headers={"Retry-After": "5"})

    metrics = HttpMetrics(CollectorRegistry())

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestEdgeMiddleware, metrics=metrics)
    return app
