"""A database that cannot be reached: every route answers a 503 problem with Retry-After, never a 500."""

import uuid

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.identity import TEST_SIGNING_KEY_PEM
from tests.support.servers import free_port

PROBLEM = "application/problem+json"


@pytest.fixture
async def gateway_without_database():
    # A PostgreSQL URL on a loopback port nothing listens on: every connection is refused.
    app = create_app(Settings(database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/inspection",
                              jwt_private_key=TEST_SIGNING_KEY_PEM))
    async with app.router.lifespan_context(app):
        # A valid token: who it names is read from the database, which cannot be reached.
        token = app.state.identity.tokens.issue(uuid.uuid4(), uuid.uuid4(), 0)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway",
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            yield client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/units", None),
        ("GET", "/api/v1/inspections/7d1c7c1e-3f0e-4a53-9a63-2f4a1c9b0a11/summary", None),
        ("POST", "/api/v1/units", {"code": "X1", "name": "Somewhere", "type": "region", "nation": "England"}),
    ],
)
async def test_every_route_answers_503_with_retry_after(gateway_without_database, method, path, body):
    response = await gateway_without_database.request(method, path, json=body)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "5"
    problem = response.json()
    assert (problem["type"], problem["title"], problem["instance"]) == (
        "/problems/database-unavailable", "Database unavailable", path,
    )
