"""The gateway's typed client for the rating engine, against the engine in process."""

import httpx
import pytest

from inspection_shared.clients import EngineError, RatingEngineClient
from inspection_shared.framework import Framework
from inspection_shared.rating import (
    Override,
    PooledRatingRequest,
    PooledRatingResult,
    RatingRequest,
    RatingResult,
    StandardEvidence,
    UnitEvidence,
)
from inspection_shared.web import request_id_var
from rating_engine.app import create_app
from tests.rating.builders import cases, framework


@pytest.fixture
async def engine():
    client = RatingEngineClient("http://rating-engine", transport=httpx.ASGITransport(app=create_app()))
    yield client
    await client.aclose()


async def test_rate_returns_a_typed_result(engine):
    request = RatingRequest(
        framework="probation-crc-2018",
        standards=[
            StandardEvidence(standard="1.1", rating="good", evidence_summary="Interviews."),
            StandardEvidence(standard="2.1", cases=cases({"2.1.1": ["yes", "yes", "no"], "2.1.2": ["yes"] * 3})),
        ],
        overrides=[Override(standard="1.1", rating="outstanding", reason="Panel decision.")],
    )
    result = await engine.rate(request)
    assert isinstance(result, RatingResult)
    by_id = {s.standard: s for s in result.standards}
    assert (by_id["1.1"].computed_rating, by_id["1.1"].rating) == ("good", "outstanding")
    assert by_id["2.1"].key_questions[0].interval is not None
    assert result.overall.rating == "not_rated"


async def test_a_framework_model_can_be_sent_inline(engine):
    request = RatingRequest(framework=framework("youth-2021"), standards=[StandardEvidence(standard="1.1", rating="good")])
    result = await engine.rate(request)
    assert (result.framework_id, result.framework_source) == ("youth-2021", "inline")


async def test_rate_pooled_returns_a_typed_result(engine):
    request = PooledRatingRequest(
        framework="probation-pdu-2021",
        units=[
            UnitEvidence(unit=u, standards=[StandardEvidence(standard="2.2", cases=cases({"2.2.1": ["yes", "no"]}, prefix=u))])
            for u in ("N02", "N01")
        ],
    )
    result = await engine.rate_pooled(request)
    assert isinstance(result, PooledRatingResult)
    assert result.units == ["N01", "N02"]
    assert [u.unit for u in result.standards[0].units] == ["N01", "N02"]


async def test_refusal_arrives_as_an_engine_error_with_the_problem(engine):
    request = RatingRequest(framework="probation-crc-2018", standards=[StandardEvidence(standard="9.9", rating="good")])
    with pytest.raises(EngineError) as raised:
        await engine.rate(request)
    assert raised.value.status == 422
    assert raised.value.problem.errors[0].field == "body.standards.0.standard"


class _Recording(httpx.ASGITransport):
    def __init__(self, app):
        super().__init__(app=app)
        self.request_ids: list[str | None] = []

    async def handle_async_request(self, request):
        self.request_ids.append(request.headers.get("x-request-id"))
        return await super().handle_async_request(request)


async def test_framework_reads_pass_the_request_id_on():
    transport = _Recording(create_app())
    async with RatingEngineClient("http://rating-engine", transport=transport) as engine:
        summaries = await engine.frameworks()
        assert "youth-2021" in {s.id for s in summaries}
        token = request_id_var.set("from-the-gateway")
        try:
            detail = await engine.framework("youth-2021")
        finally:
            request_id_var.reset(token)
    assert isinstance(detail, Framework) and detail.standard("4.1").scored is False
    assert transport.request_ids == [None, "from-the-gateway"]
