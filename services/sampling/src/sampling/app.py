"""The sampling service's HTTP shell."""

from fastapi import FastAPI

from inspection_shared.web import create_service_app


def create_app() -> FastAPI:
    app = create_service_app(
        title="Sampling service",
        version="0.1.0",
        description="Stateless: caseload frame and design in, sample, reserves and balance out.",
    )
    return app
