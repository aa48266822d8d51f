"""What the three services take in a JSON body is what their OpenAPI documents say: a field documented
as nullable takes null and no other field does, numbers and flags are taken only as JSON numbers and
booleans (`"seed": false` is not seed 0), and every constraint is written as JSON Schema."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ValidationError

from tests.conftest import TEST_ADMIN

ANY_ID = str(uuid.uuid4())


@pytest.fixture
async def engines(engine_apps):
    rating_app, sampling_app = engine_apps
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=rating_app), base_url="http://rating") as rating,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sampling_app), base_url="http://sampling") as sampling,
    ):
        yield {"rating-engine": rating, "sampling": sampling}


async def services(gateway, engines) -> dict[str, httpx.AsyncClient]:
    return {"gateway": gateway, **engines}


def refused_fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    return {error["field"] for error in response.json()["errors"]}


def _schemas_of(node, found: list[dict]) -> list[dict]:
    if isinstance(node, dict):
        if "type" in node:
            found.append(node)
        for value in node.values():
            _schemas_of(value, found)
    elif isinstance(node, list):
        for value in node:
            _schemas_of(value, found)
    return found


async def test_no_document_holds_a_constraint_json_schema_does_not_know(gateway, engines):
    # pydantic writes a constraint it cannot place on the type (one after a validator) under its own name.
    for name, client in (await services(gateway, engines)).items():
        document = (await client.get("/openapi.json")).json()
        unknown = [s for s in _schemas_of(document, []) if {"ge", "gt", "le", "lt"} & set(s)]
        assert unknown == [], name


def _nullable(schema: dict) -> bool:
    return schema.get("type") == "null" or any(option.get("type") == "null" for option in schema.get("anyOf", []))


def test_a_field_documented_as_nullable_takes_null_and_no_other_field_does(_gateway_app_once, engine_apps):
    checked = 0
    for app in (_gateway_app_once, *engine_apps):
        document = app.openapi()
        for context in iter_route_contexts(app.routes):
            body = getattr(context.original_route, "body_field", None)  # None: the route reads its body itself
            model = body.field_info.annotation if body is not None else None
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            for method in context.methods or ():
                operation = document["paths"][context.path_format][method.lower()]
                content = operation["requestBody"]["content"]  # JSON, or a form (whose fields are text)
                reference = next(iter(content.values()))["schema"]["$ref"]
                properties = document["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]
                for name, field in model.model_fields.items():
                    key = field.alias or name
                    try:
                        model.model_validate({key: None})
                        refused = False
                    except ValidationError as error:
                        refused = any(e["loc"][:1] == (key,) for e in error.errors())
                    assert refused != _nullable(properties[key]), (method, context.path_format, key)
                    checked += 1
    assert checked > 80


async def test_a_seed_size_or_flag_sent_as_another_json_type_is_refused(gateway, engines):
    sampling, rating = engines["sampling"], engines["rating-engine"]
    units = [{"id": f"U{n}", "size": 10} for n in range(4)]
    assert refused_fields(await sampling.post("/v1/unit-selections", json={"units": units, "k": 2, "seed": False})) == {
        "body.seed"
    }
    assert refused_fields(await sampling.post("/v1/unit-selections", json={"units": units, "k": True})) == {"body.k"}
    assert refused_fields(await sampling.post(
        "/v1/allocations", json={"total": 10, "populations": {"A": 40}, "std_devs": {"A": True}, "method": "neyman"}
    )) == {"body.std_devs.A"}
    assert refused_fields(await sampling.post("/v1/sample-size", json={"population": "500"})) == {"body.population"}
    counts = {"2.1.1": {"yes": True, "applicable": 1}}
    assert refused_fields(await rating.post(
        "/v1/ratings", json={"framework": "probation-pdu-2021", "standards": [{"standard": "2.1", "counts": counts}]}
    )) == {"body.standards.0.counts.2.1.1.yes"}

    draw = await gateway.post(f"/api/v1/inspections/{ANY_ID}/samples",
                              json={"sample_type": "case_supervision", "size": 8, "seed": False})
    assert refused_fields(draw) == {"body.seed"}
    unit = {"code": "X1", "name": "A unit", "type": "region", "nation": "England", "synthetic": 1}
    assert refused_fields(await gateway.post("/api/v1/units", json=unit)) == {"body.synthetic"}
    assert refused_fields(await gateway.patch(f"/api/v1/users/{TEST_ADMIN}", json={"active": 0},
                                              headers={"If-Match": '"1"'})) == {"body.active"}


async def test_whole_numbers_may_be_written_with_a_zero_fraction(engines):
    units = [{"id": f"U{n}", "size": 10} for n in range(4)]
    chosen = await engines["sampling"].post("/v1/unit-selections", json={"units": units, "k": 2.0, "seed": 7.0})
    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["k"], chosen.json()["seed"]) == (2, 7)
