"""The app every service is built on: `create_service_app` gives it the house conventions.

Every request passes the request edge once (`edge`: request ids, the refusals of `request_checks` and
the body's limits, one log line, metrics, security headers, the answer to an unexpected error); browsers
of the origins `*_CORS_ORIGINS` names (none by default) may call the service; every error is a problem
(`problem_handlers`); and every service serves /healthz, /readyz (its dependencies checked side by side
under a timeout), /metrics, and its API documentation at /docs with nothing loaded from elsewhere
(`docs`), with stable operation ids. Logging is configured by `logs`, and a server process is run by
`server.serve`.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.middleware.cors import CORSMiddleware

from inspection_shared.docs import add_docs
from inspection_shared.edge import HttpMetrics, RequestEdgeMiddleware
from inspection_shared.logs import REQUEST_ID_HEADER, configure_logging, error_name, request_id_var
from inspection_shared.problem_handlers import (
    file_problems_under_problem_json,
    install_problem_handlers,
    problem_response,
)
from inspection_shared.problems import PROBLEM_JSON, ProblemDetail, problem_responses
from inspection_shared.settings import ServiceSettings

# What services import from here, wherever it lives.
__all__ = [
    "REQUEST_ID_HEADER",
    "ReadinessCheck",
    "configure_logging",
    "create_service_app",
    "freeze_startup_objects",
    "problem_response",
    "request_id_var",
]

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the dependency it checks is unreachable."""

DEFAULTS = ServiceSettings.model_construct(port=0)
"""The shared settings' defaults, for an app made without settings of its own."""

CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "X-Request-ID"]
CORS_RESPONSE_HEADERS = ["ETag", "Location", "Retry-After", "X-Request-ID"]

log = structlog.get_logger("http")


def freeze_startup_objects() -> None:
    """Set what start-up made (modules, routes, schemas) aside from the garbage collector, for good.

    It lives as long as the process. Left to the collector, every full collection walked all of it while
    every request in flight waited: on the gateway about 65 ms, a few times a second under load. Frozen,
    collections walk only what requests make. Called once, in the server process, before it serves.
    """
    gc.collect()  # what is garbage already is freed, not kept for good
    gc.freeze()


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
        log.warning("readiness check failed", check=name, reason=error_name(error))
        return "unavailable"
    return "ok"


def create_service_app(
    *,
    title: str,
    version: str,
    description: str,
    settings: ServiceSettings | None = None,
    readiness: dict[str, ReadinessCheck] | None = None,
    lifespan=None,
    openapi_tags: list[dict] | None = None,
) -> FastAPI:
    """A FastAPI app with the house conventions; the service adds its routers.

    From the service's `settings` (the defaults without): how long each readiness check may take
    (`app.state.readiness_timeout`), how long a client may take to send a request's body
    (`app.state.body_timeout`, a 408 past it), the bytes a body may hold (`app.state.max_body_bytes`, and
    `max_upload_bytes` on a route that takes a file; a 413 past them), and the CORS origins.
    """
    settings = settings or DEFAULTS
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        responses=problem_responses(413, 422, 500),
        # Stable operation ids: each route's handler is named for what the operation does.
        generate_unique_id_function=_operation_id,
        # FastAPI's own OpenTelemetry log records carry exception messages, which may quote case data.
        telemetry={"logs": False},
        # The documentation page is served from the service itself (`docs`); ReDoc, from a CDN, not at all.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.readiness_timeout = settings.readiness_timeout_seconds
    app.state.body_timeout = settings.body_timeout_seconds
    app.state.max_body_bytes = settings.max_body_bytes
    app.state.max_upload_bytes = settings.max_upload_bytes
    install_problem_handlers(app)
    file_problems_under_problem_json(app)
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

    add_docs(app)
    if settings.cors_origins:  # inside the edge, so that a preflight's answer has its request id and headers
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_RESPONSE_HEADERS, max_age=600,
        )
    app.add_middleware(RequestEdgeMiddleware, metrics=metrics, state=app.state)
    return app
