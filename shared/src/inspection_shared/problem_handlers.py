"""Every error answered as an RFC 9457 problem (`application/problem+json`), and documented as one.

A raised `Problem` is answered as itself; an engine core's `InputFault` and a request FastAPI could not
validate as a 422 naming each field (a body that is not JSON, with its line and column, of another
media type than JSON, or a form that cannot be read); a 404 or 405 of the router as a problem too, the 405 with an `Allow` header naming every
method of the path.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from inspection_shared.faults import InputFault
from inspection_shared.paths import HEAD_AS_GET, allowed_methods
from inspection_shared.problems import PROBLEM_JSON, FieldError, InvalidInput, Problem
from inspection_shared.request_checks import not_json, not_json_media


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body = problem.body(instance=request.url.path).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def unreadable_body(reason: str | None) -> InvalidInput:
    """422: the body could not be read as its media type (a form without its boundary, a part cut short)."""
    reason = (reason or "unreadable").rstrip(".")
    return InvalidInput(f"The body could not be read: {reason}.", [FieldError(field="body", message=reason)])


def _field_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


_PYDANTIC_JSON_POSITION = re.compile(r"^(?P<message>.*) at line (?P<line>\d+) column (?P<column>\d+)$")


def _json_invalid(error: dict[str, Any], document: Any) -> InvalidInput:
    """The 422 for a body its route could not parse as JSON, from FastAPI's `json_invalid` error (whose
    location is the character offset into the document) or pydantic-core's (which names line and column)."""
    message = str((error.get("ctx") or {}).get("error") or error.get("msg") or "unreadable")
    loc = error.get("loc", ())
    if len(loc) == 2 and isinstance(loc[1], int) and isinstance(document, str):
        at = loc[1]
        return not_json(message, document.count("\n", 0, at) + 1, at - document.rfind("\n", 0, at))
    position = _PYDANTIC_JSON_POSITION.match(message)
    if position:
        return not_json(position["message"], int(position["line"]), int(position["column"]))
    return not_json(message)


def _not_an_object(request: Request, body: Any) -> InvalidInput:
    """The 422 for a route that takes a JSON object and was sent something else: a body of another media
    type (FastAPI hands the route its bytes), or JSON that is not an object."""
    if isinstance(body, bytes | bytearray):
        return not_json_media(request.headers.get("content-type"))
    if body is None:  # FastAPI reads an empty body and JSON null alike
        reason = "must be a JSON object ({...}), not empty or null"
    else:
        reason = f"must be a JSON object ({{...}}), not {_JSON_TYPES.get(type(body), 'a JSON value')}"
    return InvalidInput(f"The body {reason}.", [FieldError(field="body", message=reason)])


# pydantic's words for a body that is not an object: validating Python (FastAPI), or JSON text (the
# rating engine's bytes), or nothing at all.
_NOT_AN_OBJECT = frozenset({"model_attributes_type", "model_type", "missing"})
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
               type(None): "null"}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(InputFault)
    async def _input_fault(request: Request, exc: InputFault) -> JSONResponse:
        # The detail and the faults only: an InputFault's facts are for code in the process, not the client.
        errors = [FieldError(field=f.field, message=f.message, line=f.line) for f in exc.faults]
        return problem_response(request, InvalidInput(exc.detail, errors=errors or None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        faults = exc.errors()
        unreadable = next((e for e in faults if e.get("type") == "json_invalid"), None)
        if unreadable is not None:
            return problem_response(request, _json_invalid(unreadable, exc.body))
        if any(tuple(e["loc"]) == ("body",) and e.get("type") in _NOT_AN_OBJECT for e in faults):
            return problem_response(request, _not_an_object(request, exc.body))
        errors = [FieldError(field=_field_path(e["loc"]), message=e["msg"]) for e in faults]
        named = ", ".join(sorted({e.field for e in errors}))
        return problem_response(
            request,
            Problem(422, "Invalid input", f"The request has invalid fields: {named}", slug="invalid-input", errors=errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 400:
            # Only the framework raises these (our code raises problems): a body it could not read, such as a
            # form without its boundary. Like JSON that cannot be read, that is the documented 422.
            return problem_response(request, unreadable_body(detail))
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}"
        elif exc.status_code == 405:
            method = "HEAD" if request.scope.get(HEAD_AS_GET) else request.method
            detail = f"{method} is not allowed on {request.url.path}"
            headers["Allow"] = allowed_methods(request.app, request.scope)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem_response(request, Problem(exc.status_code, title, detail, headers=headers))


def file_problems_under_problem_json(app: FastAPI) -> None:
    """Error responses are application/problem+json; FastAPI would also list them as application/json.
    An operation that takes a body also lists the edge's 408, for a body too slow to come."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    if "requestBody" in operation and "408" not in responses:
                        responses["408"] = {
                            "description": "The body took longer than the service's body timeout to arrive.",
                            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
                        }
                    for response in responses.values():
                        content = response.get("content", {})
                        if PROBLEM_JSON in content:
                            content.pop("application/json", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

