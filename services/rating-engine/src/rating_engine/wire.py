"""The engine's HTTP edge for large JSON bodies: parse straight from bytes, answer straight to bytes.

FastAPI's own body handling parses JSON into Python objects and then validates them; validating the raw
bytes in pydantic-core does both in one pass, about twice as fast on a pooled national request. Answers
are written by pydantic-core from the plain dicts the rating core returns. The OpenAPI document still
names the request and response models: the request schema is declared with `openapi_extra` and the
models' schemas are added to the document's components.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pydantic_core
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from inspection_shared.request_checks import declares_json, not_json_media

Model = TypeVar("Model", bound=BaseModel)

SCHEMA_REF = "#/components/schemas/{model}"


def json_body(model: type[Model]) -> Callable[[Request], Coroutine[Any, Any, Model]]:
    """A dependency that validates the raw request body as `model`; faults become the usual 422 problem."""

    async def parse(request: Request) -> Model:
        content_type = request.headers.get("content-type")
        if content_type is not None and not declares_json(content_type.encode("latin-1")):
            raise not_json_media(content_type)  # as FastAPI's own routes: no Content-Type is read as JSON
        body = await request.body()
        if not body.strip():
            raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
        try:
            return model.model_validate_json(body)
        except ValidationError as error:
            faults = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False, include_input=False)]
            # The document itself is not an object: parsed again, so that the problem says what it is instead.
            whole = any(f["loc"] == ("body",) and f["type"] == "model_type" for f in faults)
            raise RequestValidationError(faults, body=json.loads(body) if whole else None) from None

    return parse


def request_body_openapi(model: type[BaseModel], examples: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` declaring a JSON request body of `model`, with named examples."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": SCHEMA_REF.format(model=model.__name__)},
                    "examples": examples,
                }
            },
        }
    }


def add_request_schemas(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Add the request models' JSON schemas to the app's OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        _, definitions = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMA_REF)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in definitions.get("$defs", {}).items():
            components.setdefault(name, definition)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def json_response(content: Any) -> Response:
    return Response(pydantic_core.to_json(content), media_type="application/json")
