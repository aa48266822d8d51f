"""The hardening every service shares: body size limits (declared and streamed, a larger one for uploads),
security headers, the CORS allow-list, the API documentation served whole by the service with a strict
policy, no trace of an error in any answer, and settings (secrets among them) from the environment or
files it names."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

import httpx
import pytest

from gateway.app import create_app as create_gateway
from gateway.settings import Settings as GatewaySettings
from inspection_shared.settings import MAX_BODY_BYTES, MAX_UPLOAD_BYTES, load_or_exit
from rating_engine import frameworks
from rating_engine.app import create_app as create_rating_engine
from rating_engine.settings import Settings as RatingEngineSettings
from sampling.app import create_app as create_sampling
from sampling.settings import Settings as SamplingSettings
from sampling.size import router as sample_size_router
from tests.shared.edge_app import Settings, create_app

JSON = {"content-type": "application/json"}
SERVICES = {
    "gateway": lambda: create_gateway(GatewaySettings(database_url="sqlite+aiosqlite:///:memory:")),
    "rating-engine": create_rating_engine,
    "sampling": create_sampling,
}


def client_of(app, base_url: str = "http://svc") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


@pytest.fixture
async def small():
    """The edge test app with small limits: 2 KiB for a body, 8 KiB for a file."""
    app = create_app(Settings(max_body_bytes=2048, max_upload_bytes=8192))
    async with client_of(app) as client:
        yield client


@pytest.fixture(params=sorted(SERVICES))
async def service(request):
    async with client_of(SERVICES[request.param]()) as client:
        yield client


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


async def chunks(content: bytes, size: int = 512):
    for at in range(0, len(content), size):
        yield content[at:at + size]


# --- 1. Body size limits -----------------------------------------------------------------------------


def test_the_limits_are_settings_of_every_service(monkeypatch):
    assert (MAX_BODY_BYTES, MAX_UPLOAD_BYTES) == (1024 * 1024, 64 * 1024 * 1024)
    assert (GatewaySettings().max_body_bytes, GatewaySettings().max_upload_bytes) == (MAX_BODY_BYTES, MAX_UPLOAD_BYTES)
    assert RatingEngineSettings().max_body_bytes == 64 * 1024 * 1024  # a national pooled request
    assert SamplingSettings().max_upload_bytes == 256 * 1024 * 1024  # a national frame
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("SAMPLING_MAX_UPLOAD_BYTES", "65536")
    assert GatewaySettings().max_body_bytes == 4096 and SamplingSettings().max_upload_bytes == 65536
    app = create_sampling(SamplingSettings())
    assert (app.state.max_body_bytes, app.state.max_upload_bytes) == (MAX_BODY_BYTES, 65536)


async def test_a_body_declared_over_the_limit_is_413_naming_it_before_the_route_reads_it(small):
    body = problem(await small.post("/echo", content=b"x" * 2049), 413)
    assert body == {
        "type": "/problems/content-too-large", "title": "Content too large", "status": 413,
        "detail": "A request's body may be at most 2 KiB (2048 bytes).", "instance": "/echo", "limit": 2048,
    }
    assert (await small.post("/echo", content=b"x" * 2048)).json()["bytes"] == 2048


async def test_a_streamed_body_is_counted_as_it_comes(small):
    response = await small.post("/echo", content=chunks(b"x" * 5000))  # chunked: no Content-Length
    assert problem(response, 413)["limit"] == 2048
    assert response.headers["connection"] == "close"  # the rest of the body is not read
    put = await small.put("/things/1", content=chunks(b'{"note": "' + b"x" * 3000 + b'"}'), headers=JSON)
    assert problem(put, 413)["detail"] == "A request's body may be at most 2 KiB (2048 bytes)."
    fine = await small.post("/echo", content=chunks(b"y" * 2000))
    assert fine.json() == {"bytes": 2000, "head": "y" * 40}


async def test_a_route_that_takes_files_has_the_upload_limit(small):
    rows = json.dumps([{"case_ref": f"X{n:07d}"} for n in range(250)]).encode()
    assert 2048 < len(rows) < 8192  # over the body limit, within the upload limit
    taken = await small.post("/file-imports", content=rows, headers=JSON)
    assert taken.json() == {"kind": "json", "items": 250, "rows_with_nul": []}
    as_form = await small.post("/file-imports", files={"file": ("rows.json", rows, "application/json")})
    assert as_form.json()["items"] == 250
    over = json.dumps([{"case_ref": f"X{n:07d}"} for n in range(400)]).encode()
    body = problem(await small.post("/file-imports", content=over, headers=JSON), 413)
    assert body["detail"] == "A file sent to this route may be at most 8 KiB (8192 bytes)." and body["limit"] == 8192
    streamed = problem(await small.post("/file-imports", content=chunks(over), headers=JSON), 413)
    assert streamed["limit"] == 8192
    # A route that reads its body itself but does not declare files has the body limit.
    assert problem(await small.post("/imports", content=rows, headers=JSON), 413)["limit"] == 2048


async def test_every_operation_documents_the_413(service):
    spec = (await service.get("/openapi.json")).json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert operations and all("413" in op["responses"] for op in operations)


# --- 2. Security headers -----------------------------------------------------------------------------


async def test_every_answer_carries_the_security_headers_and_an_api_answer_a_policy_of_none(service):
    for response in (await service.get("/healthz"), await service.get("/no/such/thing"),
                     await service.post("/healthz")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_hsts_only_over_https(small):
    app = small._transport.app
    async with client_of(app, "https://svc") as secure:
        response = await secure.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in (await small.get("/healthz")).headers


# --- 3. CORS -----------------------------------------------------------------------------------------


async def test_no_cors_headers_unless_the_origin_is_allowed():
    origin = {"Origin": "https://dashboard.justice.example"}
    async with client_of(create_app()) as closed:
        assert "access-control-allow-origin" not in (await closed.get("/healthz", headers=origin)).headers
        preflight = await closed.options("/things/1", headers={**origin, "Access-Control-Request-Method": "PUT"})
        assert "access-control-allow-origin" not in preflight.headers
    listed = Settings(cors_origins="https://dashboard.justice.example, https://reports.justice.example")
    assert listed.cors_origins == ["https://dashboard.justice.example", "https://reports.justice.example"]
    async with client_of(create_app(listed)) as opened:
        answer = await opened.get("/things/1", headers=origin)
        assert answer.headers["access-control-allow-origin"] == "https://dashboard.justice.example"
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
        preflight = await opened.options("/things/1", headers={
            **origin, "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        })
        assert preflight.status_code == 200
        assert "PUT" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["x-request-id"] and preflight.headers["x-content-type-options"] == "nosniff"
        stranger = await opened.get("/things/1", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in stranger.headers


# --- 4. The API documentation, offline ---------------------------------------------------------------


async def test_the_docs_page_loads_everything_from_the_service_under_a_strict_policy(service):
    page = await service.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy and "http" not in policy
    assert "<script>" not in page.text  # no inline script: the policy allows none
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(referenced) == 4  # the icon, the style sheet, Swagger UI and the script that starts it
    for reference in referenced:
        assert reference.startswith("/docs/assets/"), reference  # no other host
        asset = await service.get(urljoin("http://svc/docs", reference))
        assert asset.status_code == 200 and len(asset.content) > 0, reference
    bundle = await service.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript") and len(bundle.content) > 1_000_000
    start = (await service.get("/docs/assets/start.js")).text
    assert "SwaggerUIBundle(" in start and "openapi.json" in start
    assert (await service.get("/redoc")).status_code == 404  # ReDoc only comes from a CDN: not served
    assert (await service.get("/docs/oauth2-redirect")).status_code == 404


# --- 5. No trace of an error in any answer -----------------------------------------------------------

ERROR = 'File "/srv/app/src/service.py", line 12: case X123456 at postgresql://inspector:secret@db/inspection'


def _boom(*args, **kwargs):
    raise RuntimeError(ERROR)


@pytest.mark.parametrize(
    ("service_name", "method", "path", "json"),
    [
        ("rating-engine", "GET", "/v1/frameworks", None),
        ("sampling", "POST", "/v1/sample-size", {"population": 100}),
    ],
)
async def test_an_error_in_a_route_is_a_500_with_no_trace_of_it(monkeypatch, service_name, method, path, json):
    monkeypatch.setattr(frameworks.router, "library", _boom)
    monkeypatch.setattr(sample_size_router, "required_sample_size", _boom)
    async with client_of(SERVICES[service_name]()) as client:
        response = await client.request(method, path, json=json)
    assert_no_trace(response)


def assert_no_trace(response: httpx.Response) -> None:
    body = problem(response, 500)
    request_id = response.headers["x-request-id"]
    assert body == {"type": "/problems/internal-error", "title": "Internal error", "status": 500,
                    "detail": f"Quote request id {request_id} when reporting this.", "instance": body["instance"]}
    for trace in ("Traceback", "RuntimeError", "X123456", "secret", "/srv/", ".py", "line 12"):
        assert trace not in response.text


# --- 6. Settings and secrets from the environment or files it names ----------------------------------


def test_an_engines_token_may_come_from_a_file(tmp_path, monkeypatch):
    (tmp_path / "rating").write_text("rating-token-from-a-file\n")
    (tmp_path / "sampling").write_text("sampling-token-from-a-file")
    monkeypatch.setenv("RATING_ENGINE_TOKEN_FILE", str(tmp_path / "rating"))
    monkeypatch.setenv("SAMPLING_TOKEN_FILE", str(tmp_path / "sampling"))
    assert RatingEngineSettings().token.get_secret_value() == "rating-token-from-a-file"
    assert SamplingSettings().token.get_secret_value() == "sampling-token-from-a-file"
    # Only secrets are read from files: another setting's _FILE is no setting at all.
    monkeypatch.setenv("SAMPLING_PORT_FILE", str(tmp_path / "sampling"))
    assert SamplingSettings().port == 8002


def test_a_secret_given_twice_or_from_a_file_that_cannot_be_read_stops_the_service(tmp_path, monkeypatch, capsys):
    (tmp_path / "token").write_text("from-a-file")
    monkeypatch.setenv("SAMPLING_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("SAMPLING_TOKEN", "from-the-environment")
    with pytest.raises(SystemExit) as stopped:
        load_or_exit(SamplingSettings, "sampling")
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        "sampling: the settings cannot be used:\n"
        "  - SAMPLING_TOKEN and SAMPLING_TOKEN_FILE are both set: set one of them.\n"
    )
    monkeypatch.delenv("SAMPLING_TOKEN")
    (tmp_path / "token").unlink()
    with pytest.raises(SystemExit):
        load_or_exit(SamplingSettings, "sampling")
    assert "SAMPLING_TOKEN_FILE names " in capsys.readouterr().err


def test_a_setting_that_is_not_valid_stops_the_service_naming_it_and_never_its_value(monkeypatch, capsys):
    monkeypatch.setenv("RATING_ENGINE_MAX_BODY_BYTES", "lots-and-lots")
    with pytest.raises(SystemExit) as stopped:
        load_or_exit(RatingEngineSettings, "rating_engine")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("rating_engine: the settings cannot be used:\n  - RATING_ENGINE_MAX_BODY_BYTES: ")
    assert "lots-and-lots" not in err
