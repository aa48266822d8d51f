"""The dashboard's HTTP shell: the pages, their static files, and the gateway client they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dashboard.inspections.router import router as inspections_router
from dashboard.national.router import router as national_router
from dashboard.pages import install_page_errors
from dashboard.progress.router import router as progress_router
from dashboard.sessions import SessionStore
from dashboard.settings import Settings
from dashboard.signin.router import router as signin_router
from dashboard.units.router import router as units_router
from inspection_shared.clients.gateway import GatewayClient
from inspection_shared.web import create_service_app

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, gateway: GatewayClient | None = None) -> FastAPI:
    settings = settings or Settings()
    client = gateway or GatewayClient(settings.gateway_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    async def gateway_ready() -> None:
        await client.ready()

    app = create_service_app(
        title="Inspection dashboard",
        version="0.1.0",
        description="Pages for inspectors, managers and analysts, read from the gateway's public API as the "
        "person signed in. The pages are HTML; this document lists the service's own endpoints.",
        settings=settings,
        readiness={"gateway": gateway_ready},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.gateway = client
    app.state.sessions = SessionStore(
        idle_seconds=settings.session_idle_minutes * 60, lifetime_seconds=settings.session_hours * 3600,
        most=settings.max_sessions,
    )
    install_page_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (signin_router, units_router, inspections_router, progress_router, national_router):
        app.include_router(router)
    return app
