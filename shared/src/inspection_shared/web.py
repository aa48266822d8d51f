"""What every service shares at the HTTP edge: request ids, JSON logs, problem responses, metrics, health.

Each service builds its app with `create_service_app` so the three speak the same conventions.
"""

from __future__ import annotations

import gc
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from urllib.parse import unquote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inspection_shared.faults import InputFault
from inspection_shared.problems import PROBLEM_JSON, FieldError, InvalidInput, Problem, ProblemDetail, problem_responses

REQUEST_ID_HEADER = "X-Request-ID"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the dependency it checks is unreachable."""

log = structlog.get_logger("http")


def _with_request_id(_: object, __: str, event: dict) -> dict:
    request_id = request_id_var.get()
    if request_id is not None:
        event["request_id"] = request_id
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


_UNLOGGED_PATHS = frozenset(("/healthz", "/metrics"))

PERSONAL_PATH_PARAMETERS = frozenset(("case_ref",))
"""Path parameters that name a person's case: logged as their name in braces, never their value."""


def _with_placeholders(scope: Scope, names: Iterable[str]) -> str:
    """The request's path with the values of the named path parameters written as `{name}`."""
    params = scope.get("path_params") or {}
    placeholders = {value: name for name, value in params.items() if name in names}
    if not placeholders:
        return scope["path"]
    return "/".join(
        f"{{{placeholders[value]}}}" if (value := unquote(segment)) in placeholders else segment
        for segment in scope["path"].split("/")
    )


def _loggable_path(scope: Scope) -> str:
    return _with_placeholders(scope, PERSONAL_PATH_PARAMETERS)


class RequestEdgeMiddleware:
    """What every request passes through once: its X-Request-ID (accepted or generated, bound to the
    logs and returned), one log line, and the metrics.

    Only method, path, status and timing are logged: bodies may hold case data and never are, and a
    case reference in the path is logged as `{case_ref}`.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        # Kept on the request too: an unhandled error is answered outside this middleware, after the reset.
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                message["headers"] = [*(h for h in headers if h[0].lower() != b"x-request-id"), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = scope["path"]
            matched = scope.get("route") is not None
            handler = _with_placeholders(scope, scope.get("path_params") or ()) if matched else "unmatched"
            self.metrics.observe(scope["method"], handler, status, elapsed)
            if path not in _UNLOGGED_PATHS:
                log.info("request", method=scope["method"], path=_loggable_path(scope), status=status,
                         duration_ms=round(elapsed * 1000, 2))
            request_id_var.reset(token)


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body = problem.body(instance=request.url.path).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def _field_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


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
        errors = [FieldError(field=_field_path(e["loc"]), message=e["msg"]) for e in exc.errors()]
        named = ", ".join(sorted({e.field for e in errors}))
        return problem_response(
            request,
            Problem(422, "Invalid input", f"The request has invalid fields: {named}", slug="invalid-input", errors=errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(
            request, Problem(exc.status_code, title, detail, headers=dict(exc.headers or {}))
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        log.exception("unhandled error", path=_loggable_path(request.scope), request_id=request_id)
        return problem_response(
            request,
            Problem(500, "Internal error", f"Quote request id {request_id} when reporting this.",
                    slug="internal-error", headers={REQUEST_ID_HEADER: request_id}),
        )


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


def create_service_app(
    *,
    title: str,
    version: str,
    description: str,
    readiness: dict[str, ReadinessCheck] | None = None,
    lifespan=None,
    openapi_tags: list[dict] | None = None,
) -> FastAPI:
    """A FastAPI app with the house conventions; the service adds its routers."""
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        responses=problem_responses(422, 500),
        # Stable operation ids: each route's handler is named for what the operation does.
        generate_unique_id_function=_operation_id,
    )
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
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception as error:  # any failure means not ready; the reason is reported, not raised
                results[name] = f"unavailable: {type(error).__name__}: {error}"[:300]
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
