"""The sampling service's HTTP shell: the routers, and the faults of the cores as problem responses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema

from inspection_shared.problems import Problem
from inspection_shared.sampling import SampleRequest
from inspection_shared.service_token import service_token_check
from inspection_shared.web import create_service_app, problem_response
from sampling.allocation.router import router as allocation_router
from sampling.errors import FrameTooLarge
from sampling.selection.router import router as selection_router
from sampling.selection.workers import DrawWorkers
from sampling.settings import Settings
from sampling.size.router import router as size_router
from sampling.units.router import router as units_router

TAGS = [
    {"name": "sample size", "description": "Cases needed for a precision target, with the working."},
    {"name": "allocation", "description": "Sharing a sample over strata or units."},
    {"name": "samples", "description": "Stratified, seeded case samples with ordered reserves."},
    {"name": "unit selections", "description": "Units chosen at random for a programme."},
]


def _add_body_schemas(app: FastAPI) -> None:
    """Put the schemas of bodies a route reads itself (JSON frames) into the OpenAPI components."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        _, defs = models_json_schema([(SampleRequest, "validation")], ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The draw workers' threads stop when the app stops (they start with its first draw)."""
    try:
        yield
    finally:
        app.state.draw_workers.shutdown()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        title="Sampling service",
        version="0.1.0",
        description="Stateless: caseload frame and design in, sample, reserves and balance out. "
        "Sample sizes, allocation, stratified seeded selection with ordered reserves, and unit selection.",
        settings=settings,
        openapi_tags=TAGS,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.draw_turns = asyncio.Semaphore(app.state.settings.max_concurrent_draws)
    app.state.draw_workers = DrawWorkers()

    # The cores' faults: a frame too large is answered here; a SamplingInputError, being an InputFault,
    # by the shared edge (inspection_shared.web) as the 422 every service gives.
    @app.exception_handler(FrameTooLarge)
    async def _too_large(request: Request, error: FrameTooLarge) -> JSONResponse:
        return problem_response(
            request, Problem(413, "Frame too large", error.detail, slug="frame-too-large", limit=error.limit)
        )

    token = app.state.settings.token
    guarded = service_token_check(token.get_secret_value() if token else None)
    for router in (size_router, allocation_router, selection_router, units_router):
        app.include_router(router, prefix="/v1", dependencies=guarded)
    _add_body_schemas(app)
    return app
