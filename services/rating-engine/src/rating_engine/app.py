"""The rating engine's HTTP shell."""

from fastapi import FastAPI

from inspection_shared.web import create_service_app
from rating_engine.frameworks.router import router as frameworks_router


def create_app() -> FastAPI:
    app = create_service_app(
        title="Rating engine",
        version="0.1.0",
        description="Stateless: evidence and framework rules in, ratings with their working out.",
    )
    app.include_router(frameworks_router, prefix="/v1")
    return app
