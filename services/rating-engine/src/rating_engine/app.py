"""The rating engine's HTTP shell: the framework library, ratings of one inspection, pooled ratings."""

from fastapi import FastAPI

from inspection_shared.rating import PooledRatingRequest, RatingRequest
from inspection_shared.service_token import service_token_check
from inspection_shared.web import create_service_app
from rating_engine.frameworks.router import router as frameworks_router
from rating_engine.pooled.router import router as pooled_router
from rating_engine.ratings.router import router as ratings_router
from rating_engine.ratings.service import RULES_VERSION
from rating_engine.settings import Settings
from rating_engine.wire import add_request_schemas


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    guarded = service_token_check(settings.token.get_secret_value() if settings.token else None)
    app = create_service_app(
        title="Rating engine",
        version="0.1.0",
        description=(
            "Stateless: evidence and framework rules in, ratings with their working out. "
            f"Rules version {RULES_VERSION}."
        ),
        settings=settings,
        openapi_tags=[
            {"name": "frameworks", "description": "The framework library the engine rates by."},
            {"name": "ratings", "description": "Explained ratings of one inspection, and pooled ratings."},
        ],
    )
    for router in (frameworks_router, ratings_router, pooled_router):
        app.include_router(router, prefix="/v1", dependencies=guarded)
    add_request_schemas(app, [RatingRequest, PooledRatingRequest])
    return app
