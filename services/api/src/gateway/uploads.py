"""Reading an uploaded file, whichever way it comes: a CSV or JSON body, or a multipart form's file.

Sizes are checked while reading, so an oversized upload is refused without being held whole in memory.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import Request
from starlette.datastructures import UploadFile

from inspection_shared.problems import FieldError, InvalidInput, Problem

CSV_TYPES = frozenset({"text/csv", "application/csv"})


def too_large(max_bytes: int, what: str) -> Problem:
    return Problem(
        413, "Content too large", f"{what} may be at most {max_bytes // (1024 * 1024)} MB.", slug="content-too-large"
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


async def read_body(request: Request, max_bytes: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes, what)
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > max_bytes:
            raise too_large(max_bytes, what)
    return bytes(content)


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
        if upload.size is not None and upload.size > max_bytes:
            raise too_large(max_bytes, what)
        content = await upload.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise too_large(max_bytes, what)
        return content, upload


def unsupported(kind: str, what: str, accepted: str) -> Problem:
    return Problem(
        415, "Unsupported media type", f"Send {what.lower()} as {accepted}, not {kind or 'no type'}.",
        slug="unsupported-media-type",
    )


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
