"""The three services as real processes on loopback, talking to each other over HTTP."""

import httpx
import pytest

from tests.support.servers import stop

pytestmark = pytest.mark.e2e


def test_gateway_is_ready_through_both_engines_and_passes_the_request_id(stack):
    response = httpx.get(stack["gateway"].url + "/readyz", headers={"X-Request-ID": "e2e-ready-1"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "rating_engine": "ok", "sampling": "ok"},
    }
    assert response.headers["x-request-id"] == "e2e-ready-1"
    for engine in ("rating", "sampling"):
        assert stack[engine].wait_for_log(
            lambda line: line.get("request_id") == "e2e-ready-1" and line.get("path") == "/readyz"
        ), f"{engine} never saw the request id"


def test_gateway_frameworks_match_the_engine(stack):
    listed = httpx.get(stack["gateway"].url + "/api/v1/frameworks", timeout=10).json()["items"]
    engine_listed = httpx.get(stack["rating"].url + "/v1/frameworks", timeout=10).json()["items"]
    assert listed == engine_listed
    for summary in listed:
        ours = httpx.get(f"{stack['gateway'].url}/api/v1/frameworks/{summary['id']}", timeout=10).json()
        theirs = httpx.get(f"{stack['rating'].url}/v1/frameworks/{summary['id']}", timeout=10).json()
        assert ours == theirs


def test_readiness_fails_loudly_when_an_engine_is_down(stack):
    stop(stack["sampling"].process)
    response = httpx.get(stack["gateway"].url + "/readyz", timeout=10)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["checks"]["database"] == "ok" and body["checks"]["rating_engine"] == "ok"
    assert body["checks"]["sampling"] == "unavailable"
