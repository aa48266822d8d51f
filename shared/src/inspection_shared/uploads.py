"""Reading an uploaded file, whichever way it comes: a CSV or JSON body, or a multipart form's file.

One implementation for every service. Sizes are checked while reading, so an oversized upload is refused
without being held whole in memory; a route that takes a file reads it within the service's upload limit
(`upload_limit`, `*_MAX_UPLOAD_BYTES`), which the edge enforces too, for a route declaring that it takes
files (`request_checks.takes_files`). By default an upload over its limit is the 413 `too_large`; a
service that answers it another way (the sampling service's 413 names the limit in bytes) passes its own
`Refusal`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from fastapi import Request
from starlette.datastructures import UploadFile

from inspection_shared.problems import FieldError, InvalidInput, Problem
from inspection_shared.request_checks import body_too_large

CSV_TYPES = frozenset({"text/csv", "application/csv"})

Refusal = Callable[[int, str, int | None], Exception]
"""What to raise for an upload over the limit, given the limit in bytes, what the upload is ("The frame")
and its size in bytes when known (declared or counted), None when it was found over the limit as read."""


def too_large(max_bytes: int, what: str, size: int | None = None) -> Problem:
    """413: `what` may be at most `max_bytes` (the default `Refusal`), as the edge says of any body."""
    return body_too_large(max_bytes, what)


def unsupported(kind: str, what: str, accepted: str, *, untyped: str = "no type") -> Problem:
    """415 for an upload of media type `kind` (`untyped` says a missing one), naming the types `accepted`."""
    return Problem(
        415, "Unsupported media type", f"Send {what.lower()} as {accepted}, not {kind or untyped}.",
        slug="unsupported-media-type",
    )


def decode_text(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            "The upload is not UTF-8 text.",
            [FieldError(field="body", message=f"not UTF-8: byte {error.start} cannot be decoded")],
        ) from error


def decode_json(content: bytes) -> Any:
    try:
        return json.loads(decode_text(content))
    except json.JSONDecodeError as error:
        raise InvalidInput(
            "The body is not valid JSON.",
            [FieldError(field="body", message=f"{error.msg} at line {error.lineno}, column {error.colno}")],
        ) from error


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def upload_limit(request: Request) -> int:
    """The bytes a file sent to this service may hold (`*_MAX_UPLOAD_BYTES`)."""
    return request.app.state.max_upload_bytes


def check_declared_size(request: Request, max_bytes: int, what: str, *, refuse: Refusal = too_large) -> None:
    """Refuse a request whose Content-Length already says it is over `max_bytes`, before reading any of it."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise refuse(max_bytes, what, int(declared))


async def read_body(request: Request, max_bytes: int, what: str, *, refuse: Refusal = too_large) -> bytes:
    """The request body, refused as soon as it is known to be over `max_bytes`: declared, or as it streams in."""
    check_declared_size(request, max_bytes, what, refuse=refuse)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise refuse(max_bytes, what, None)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_file(upload: UploadFile, max_bytes: int, what: str, *, refuse: Refusal = too_large) -> bytes:
    """The bytes of a form's file part, refused when over `max_bytes`."""
    if upload.size is not None and upload.size > max_bytes:
        raise refuse(max_bytes, what, upload.size)
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise refuse(max_bytes, what, None)
    return content


async def read_form_file(
    request: Request, max_bytes: int, what: str, field_names: tuple[str, ...]
) -> tuple[bytes, UploadFile]:
    """The bytes of the form's file part named by one of `field_names` (the first is the documented one)."""
    async with request.form(max_files=1, max_fields=10, max_part_size=max_bytes) as form:
        upload = next((form[name] for name in field_names if isinstance(form.get(name), UploadFile)), None)
        if upload is None:
            raise InvalidInput(
                "The form has no file.",
                [FieldError(field=f"body.{field_names[0]}", message=f"attach {what.lower()} as '{field_names[0]}'")],
            )
        return await read_file(upload, max_bytes, what), upload


async def read_import(request: Request, max_bytes: int, what: str) -> tuple[Literal["csv", "json"], Any]:
    """("csv", text) or ("json", document), from the body or from the form's `file`."""
    kind = media_type(request)
    if kind in CSV_TYPES:
        return "csv", decode_text(await read_body(request, max_bytes, what))
    if kind == "application/json":
        return "json", decode_json(await read_body(request, max_bytes, what))
    if kind == "multipart/form-data":
        content, upload = await read_form_file(request, max_bytes, what, ("file",))
        if (upload.filename or "").lower().endswith(".json") or (upload.content_type or "").startswith(
            "application/json"
        ):
            return "json", decode_json(content)
        return "csv", decode_text(content)
    raise unsupported(kind, what, "text/csv, application/json or multipart/form-data")


def import_body(description: str, csv_example: str, item_schema: dict[str, Any], json_example: list[Any]) -> dict:
    """The OpenAPI `requestBody` of a route that reads with `read_import`: CSV, a JSON array, or a form's file."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": csv_example},
                "application/json": {"schema": {"type": "array", "items": item_schema}, "example": json_example},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": "A .csv file, or a .json file holding an array.",
                            }
                        },
                        "required": ["file"],
                    }
                },
            },
        }
    }
