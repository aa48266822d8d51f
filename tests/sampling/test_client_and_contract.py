"""The typed client, the OpenAPI document, a real process, and bad input that must never be a 500."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspection_shared.clients import EngineError, SamplingClient
from inspection_shared.sampling import (
    AllocationRequest,
    SampleDesign,
    SampleSizeRequest,
    UnitCandidate,
    UnitSelectionRequest,
)
from sampling.app import create_app
from tests.support.servers import service

from .frames import only, synthetic_frame, to_csv

FRAME = only(synthetic_frame(300), ["case_ref", "pdu", "gender"])
DESIGN = SampleDesign(size=40, unit="pdu", strata=["gender"], reserves_per_stratum=1, seed=5)


@pytest.fixture(scope="module")
async def sampling_client():
    transport = httpx.ASGITransport(app=create_app())
    async with SamplingClient("http://test", transport=transport) as c:
        yield c


async def test_client_speaks_every_endpoint(sampling_client):
    size = await sampling_client.sample_size(SampleSizeRequest(population=1000))
    assert size.sample_size == 142 and size.working.n0 == pytest.approx(164.2374415)
    allocation = await sampling_client.allocate(AllocationRequest(total=142, populations={"A": 333, "B": 333, "C": 334}))
    assert allocation.allocation == {"A": 47, "B": 47, "C": 48}
    from_json = await sampling_client.draw_sample(FRAME, DESIGN)
    from_csv = await sampling_client.draw_sample_csv(to_csv(FRAME), DESIGN)
    assert len(from_json.selected) == 40 and from_json.seed == 5
    assert from_csv.selected == from_json.selected and from_csv.frame_fingerprint == from_json.frame_fingerprint
    units = await sampling_client.select_units(
        UnitSelectionRequest(units=[UnitCandidate(id=f"U{i}", size=i + 1) for i in range(8)], k=3, method="pps", seed=1)
    )
    assert len(units.selected) == 3 and units.seed == 1


async def test_client_idempotency_key_gives_the_same_draw(sampling_client):
    design = DESIGN.model_copy(update={"seed": None})
    a = await sampling_client.draw_sample(FRAME, design, idempotency_key="retry-me")
    b = await sampling_client.draw_sample_csv(to_csv(FRAME), design, idempotency_key="retry-me")
    assert a.seed == b.seed and a.selected == b.selected


async def test_client_raises_the_problem(sampling_client):
    with pytest.raises(EngineError) as caught:
        await sampling_client.draw_sample(FRAME, DESIGN.model_copy(update={"size": 999}))
    assert caught.value.status == 422 and "by 699" in caught.value.problem.detail


def test_openapi_document():
    schema = create_app().openapi()
    operations = {
        (path, method): op for path, item in schema["paths"].items() for method, op in item.items()
    }
    expected = {
        ("/v1/sample-size", "post"): "compute_sample_size",
        ("/v1/allocations", "post"): "allocate_sample",
        ("/v1/samples", "post"): "draw_sample",
        ("/v1/unit-selections", "post"): "select_units",
    }
    for key, operation_id in expected.items():
        op = operations[key]
        assert op["operationId"] == operation_id
        assert "422" in op["responses"] and "200" in op["responses"]
        assert op["responses"]["422"]["content"].get("application/problem+json") is not None
        assert "example" in op["responses"]["200"]["content"]["application/json"]
    samples = operations[("/v1/samples", "post")]
    assert set(samples["requestBody"]["content"]) == {"application/json", "text/csv", "multipart/form-data"}
    assert {"413", "415"} <= set(samples["responses"])
    assert "SampleRequest" in schema["components"]["schemas"] and "SampleDesign" in schema["components"]["schemas"]
    assert "examples" in schema["components"]["schemas"]["SampleRequest"]
    description = operations[("/v1/sample-size", "post")]["description"]
    assert description.index("design effect") < description.index("finite population") < description.index("response rate")


@pytest.mark.parametrize(
    ("path", "request_schema"),
    [("/v1/samples", "SampleRequest"), ("/v1/sample-size", "SampleSizeRequest"),
     ("/v1/allocations", "AllocationRequest"), ("/v1/unit-selections", "UnitSelectionRequest")],
)
async def test_documented_examples_are_what_the_service_answers(client, path, request_schema):
    schema = create_app().openapi()
    request = schema["components"]["schemas"][request_schema]["examples"][0]
    documented = schema["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["example"]
    response = await client.post(path, json=request)
    assert response.status_code == 200

    def without_nulls(value):  # the OpenAPI document leaves null members out
        if isinstance(value, dict):
            return {k: without_nulls(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [without_nulls(v) for v in value]
        return value

    assert without_nulls(response.json()) == without_nulls(documented)


def test_a_real_process_takes_a_csv_upload(tmp_path: Path):
    with service("sampling", "SAMPLING_", tmp_path) as running:
        response = httpx.post(
            running.url + "/v1/samples",
            content=to_csv(FRAME),
            params={"design": DESIGN.model_dump_json()},
            headers={"Content-Type": "text/csv", "X-Request-ID": "sample-test-1"},
            timeout=30,
        )
        assert response.status_code == 200 and response.headers["x-request-id"] == "sample-test-1"
        assert len(response.json()["selected"]) == 40
        bad = httpx.post(running.url + "/v1/samples", content=b"case_ref\nA\nA\n",
                         params={"design": '{"size": 1}'}, headers={"Content-Type": "text/csv"}, timeout=30)
        assert bad.status_code == 422
    log = running.log()
    assert "sample-test-1" in log
    for row in FRAME[:50]:  # case contents never reach the logs
        assert row["case_ref"] not in log


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=8))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
designs = st.fixed_dictionaries(
    {},
    optional={
        "size": st.integers(-2, 30),
        "precision": st.fixed_dictionaries({}, optional={"confidence": st.floats(-1, 2), "margin": st.floats(-1, 1)}),
        "strata": st.lists(st.sampled_from(["g", "h", "case_ref", "zz"]), max_size=3),
        "unit": st.sampled_from(["g", "h", "u"]),
        "unit_mode": st.sampled_from(["overall", "per_unit", "other"]),
        "min_per_unit": st.integers(-1, 20),
        "min_per_stratum": st.integers(0, 20),
        "reserves_per_stratum": st.integers(-1, 5),
        "reserve_ratio": st.floats(-1, 3),
        "seed": st.integers(-3, 2**65),
        "eligibility": st.fixed_dictionaries({"column": st.sampled_from(["d", "g"])},
                                             optional={"start": st.sampled_from(["2024-01-01", "bad"]),
                                                       "end": st.sampled_from(["2023-01-01", "2025-01-01"])}),
        "exclude": st.lists(st.fixed_dictionaries({"column": st.sampled_from(["g", "h"]), "values": st.lists(scalars, max_size=3)}), max_size=2),
    },
)
frame_rows = st.lists(
    st.fixed_dictionaries(
        {"case_ref": st.one_of(st.sampled_from(["A", "B", "C", "D", "E", "F"]), st.none(), st.integers(0, 9))},
        optional={"g": scalars, "h": st.sampled_from(["x", "y"]), "d": st.sampled_from(["2024-05-01", "nope", None]),
                  "u": st.sampled_from(["N1", "N2"])},
    ),
    max_size=12,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(st.fixed_dictionaries({"frame": frame_rows, "design": designs}), json_values))
async def test_json_garbage_is_never_a_500(client, body):
    response = await client.post("/v1/samples", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 413, 415, 422), response.text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | st.text(alphabet='case_ref,gdh"\n\r 12-AB', max_size=120).map(str.encode), designs)
async def test_csv_garbage_is_never_a_500(client, data, design):
    response = await client.post("/v1/samples", content=data, params={"design": json.dumps(design)},
                                 headers={"Content-Type": "text/csv"})
    assert response.status_code in (200, 413, 422), response.text
