"""The conventions every service shares: health, readiness, metrics, OpenAPI, request ids, problem bodies."""

import subprocess
import sys

import httpx
import pytest

from dashboard.app import create_app as create_dashboard
from gateway.app import create_app as create_gateway
from gateway.settings import Settings
from inspection_shared.web import create_service_app
from rating_engine.app import create_app as create_rating_engine
from sampling.app import create_app as create_sampling

APPS = {
    "gateway": lambda: create_gateway(Settings(database_url="sqlite+aiosqlite:///:memory:")),
    "rating-engine": create_rating_engine,
    "sampling": create_sampling,
    "dashboard": create_dashboard,
}


@pytest.fixture(params=sorted(APPS))
async def client(request):
    app = APPS[request.param]()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
        yield c


async def test_health_is_plain_ok(client):
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_unknown_path_is_a_404_problem(client):
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "No resource at /no/such/thing",
        "instance": "/no/such/thing",
    }


async def test_wrong_method_is_a_405_problem(client):
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "DELETE is not allowed on /healthz"


async def test_request_id_is_returned_or_generated(client):
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"


async def test_openapi_and_docs_are_served(client):
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    operation_ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert "healthz" in operation_ids and "readyz" in operation_ids
    assert len(operation_ids) == len(set(operation_ids)), "operation ids must be unique"
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text.lower()


async def test_metrics_are_prometheus_text(client):
    await client.get("/no/such/thing")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert "http_requests_total" in metrics.text


async def test_engines_are_ready_with_no_dependencies():
    for factory in (create_rating_engine, create_sampling):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=factory()), base_url="http://svc") as c:
            response = await c.get("/readyz")
            assert response.json() == {"status": "ready", "checks": {}}


async def test_validation_errors_name_the_field():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sampling()), base_url="http://svc") as c:
        response = await c.post("/v1/sample-size", json={"population": 100, "confidence": 1.5})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert any(e["field"].endswith("confidence") for e in body["errors"])


async def test_error_responses_are_documented_as_problem_json(client):
    spec = (await client.get("/openapi.json")).json()
    readyz = spec["paths"]["/readyz"]["get"]["responses"]["503"]["content"]
    assert list(readyz) == ["application/problem+json"]
    assert readyz["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}
    assert "ProblemDetail" in spec["components"]["schemas"]


@pytest.mark.parametrize("module", ["gateway", "rating_engine", "sampling", "dashboard"])
def test_each_service_serves_with_its_start_up_objects_set_aside_from_the_collector(module):
    # Full collections walked the whole start-up heap while every request in flight waited (about 65 ms
    # on the gateway, a few times a second under load): each server process freezes it before serving.
    code = (
        "import gc, uvicorn\n"
        "uvicorn.run = lambda app, **options: print(type(app).__name__, gc.get_freeze_count())\n"
        f"from {module}.__main__ import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    app, frozen = out.split()[-2:]
    assert app == "FastAPI" and int(frozen) > 10_000


@pytest.mark.parametrize("sent", [None, "trace-7"])
async def test_an_unhandled_error_is_a_500_problem_that_quotes_the_request_id(sent):
    app = create_service_app(title="t", version="1", description="d")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as c:
        response = await c.get("/boom", headers={"X-Request-ID": sent} if sent else {})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    request_id = response.headers["x-request-id"]
    assert request_id == sent or (sent is None and len(request_id) == 32)
    body = response.json()
    assert body["type"] == "/problems/internal-error" and body["instance"] == "/boom"
    assert body["detail"] == f"Quote request id {request_id} when reporting this."
