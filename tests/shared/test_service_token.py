"""The engines' service token: given one, an engine refuses every API call without it (401) and keeps its
health, readiness and documents open; the gateway's clients send it."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from gateway.engines import engine_clients
from gateway.settings import Settings as GatewaySettings
from inspection_shared.clients import RatingEngineClient, SamplingClient
from inspection_shared.sampling import SampleSizeRequest
from rating_engine.app import create_app as create_rating_engine
from rating_engine.settings import Settings as RatingSettings
from sampling.app import create_app as create_sampling
from sampling.settings import Settings as SamplingSettings

TOKEN = "a-long-random-service-token"


@pytest.fixture(params=["rating", "sampling"])
def guarded(request):
    if request.param == "rating":
        return create_rating_engine(RatingSettings(token=SecretStr(TOKEN))), "/v1/frameworks"
    return create_sampling(SamplingSettings(token=SecretStr(TOKEN))), "/v1/sample-size"


async def test_an_engine_with_a_token_refuses_calls_without_it(guarded):
    app, path = guarded
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://engine") as client:
        for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": TOKEN}):
            refused = await client.request("GET" if "frameworks" in path else "POST", path, headers=headers,
                                           json={"population": 100})
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
            assert refused.json()["type"] == "/problems/service-token-required"
        for open_path in ("/healthz", "/openapi.json", "/metrics"):
            assert (await client.get(open_path)).status_code == 200


async def test_the_gateways_clients_send_the_token_and_are_answered():
    settings = GatewaySettings(rating_engine_token=SecretStr(TOKEN), sampling_token=SecretStr(TOKEN))
    for client in engine_clients(settings):
        assert client._http.headers["authorization"] == f"Bearer {TOKEN}"
        await client.aclose()
    guarded_rating = create_rating_engine(RatingSettings(token=SecretStr(TOKEN)))
    guarded_sampling = create_sampling(SamplingSettings(token=SecretStr(TOKEN)))
    async with (
        RatingEngineClient("http://r", transport=httpx.ASGITransport(app=guarded_rating), token=TOKEN) as r,
        SamplingClient("http://s", transport=httpx.ASGITransport(app=guarded_sampling), token=TOKEN) as s,
    ):
        assert len(await r.frameworks()) >= 5
        assert (await s.sample_size(SampleSizeRequest())).sample_size == 165


async def test_an_engine_without_a_token_is_open():
    app = create_rating_engine(RatingSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://engine") as client:
        assert (await client.get("/v1/frameworks")).status_code == 200
