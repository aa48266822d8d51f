"""HEAD on every GET route of the three services: answered as the GET would be (status, headers, the
length of its body), without the body; never 405."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from fastapi.routing import iter_route_contexts

RECORD = str(uuid.uuid4())
# A value for each path parameter: a uuid names no record (404), a slug or id is read as given.
VALUES = {"framework_id": "probation-pdu-2021", "sample_type": "case_supervision", "case_ref": "X123456",
          "standard_id": "1.1"}
DIFFERENT_EACH_TIME = {"x-request-id", "date", "content-length"}


def get_paths(app) -> list[str]:
    """Every GET route of the app (those of included routers too), its parameters filled in."""
    return sorted({
        re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: VALUES.get(m.group(1), RECORD), context.path_format)
        for context in iter_route_contexts(app.routes)
        if "GET" in (context.methods or ())
    })


@pytest.fixture
async def services(gateway, gateway_app, engine_apps):
    rating_app, sampling_app = engine_apps
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=rating_app), base_url="http://rating") as rating,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sampling_app), base_url="http://sampling") as sampling,
    ):
        yield {"gateway": (gateway, gateway_app), "rating": (rating, rating_app),
               "sampling": (sampling, sampling_app)}


async def test_every_get_route_answers_head_as_its_get_without_the_body(services):
    walked = {}
    for name, (client, app) in services.items():
        paths = get_paths(app)
        assert "/healthz" in paths and "/openapi.json" in paths, name
        for path in paths:
            got = await client.get(path)
            head = await client.head(path)
            assert head.status_code == got.status_code != 405, (name, path, head.status_code, got.status_code)
            assert head.content == b"", (name, path)
            assert head.headers.get("content-type") == got.headers.get("content-type"), (name, path)
            kept = {k: v for k, v in got.headers.items() if k not in DIFFERENT_EACH_TIME}
            assert {k: v for k, v in head.headers.items() if k not in DIFFERENT_EACH_TIME} == kept, (name, path)
        walked[name] = len(paths)
    assert walked["gateway"] > 30 and walked["rating"] >= 6 and walked["sampling"] >= 5, walked
