"""What the edge refuses before any route is handed it, and the problems it answers with.

A NUL character (U+0000) in the path, the query or a JSON string (PostgreSQL cannot store one), a JSON
body that is not UTF-8 or nests deeper than `MAX_JSON_DEPTH`, and a body whose client takes longer than
its timeout to send it, or one over its size limit (413). Each is a check on bytes the edge sees anyway;
none parses a common body.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from inspection_shared.problems import FieldError, InvalidInput, Problem

MAX_JSON_DEPTH = 64
"""Arrays and objects a JSON body may nest; no request of ours needs a tenth of it, and a parser that
recurses (the standard library's, at about a thousand levels) must never be handed a deeper one."""

_NUL = "holds a NUL character (U+0000)"


def url_problem(scope: Scope) -> Problem | None:
    """A 422 naming where the decoded path or query holds a NUL; None (at the cost of two scans) if neither."""
    query: bytes = scope["query_string"]
    in_path = "\x00" in scope["path"]
    if not in_path and b"%00" not in query and b"\x00" not in query:
        return None
    errors = [FieldError(field="path", message=_NUL)] if in_path else []
    named: set[str] = set()
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        field = "query." + name.replace("\x00", "\\u0000")
        if ("\x00" in name or "\x00" in value) and field not in named:
            named.add(field)
            errors.append(FieldError(field=field, message=_NUL))
    if not errors:
        return None
    return InvalidInput(
        "The path and the query must not hold NUL characters (U+0000): " + ", ".join(e.field for e in errors),
        errors,
    )


def declares_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


def not_json(message: str, line: int | None = None, column: int | None = None) -> InvalidInput:
    """422: the body is not JSON, saying where it broke."""
    where = f" at line {line}, column {column}" if line is not None else ""
    return InvalidInput(
        f"The body is not valid JSON: {message}{where}.",
        [FieldError(field="body", message=f"{message}{where}", line=line, column=column)],
    )


def not_json_media(content_type: str | None) -> InvalidInput:
    """422: a route that takes JSON was sent a body of another media type (a form, say)."""
    sent = (content_type or "").split(";", 1)[0].strip() or "no Content-Type"
    reason = f"must be JSON (Content-Type: application/json), not {sent}"
    return InvalidInput(f"The body {reason}.", [FieldError(field="body", message=reason)])


# The marks that decide nesting, one byte each: "(" opens (`[`, `{`), ")" closes, '"' bounds a string.
_MARKS = bytes.maketrans(b"[{]}", b"(())")
_NOT_MARKS = bytes(set(range(256)) - set(b'[]{}"'))
_QUOTED = re.compile(rb'"[^"]*"')
_RUNS = re.compile(rb"\(+|\)+")
_ROUNDS = 8


def nested_deeper_than(body: bytes, depth: int) -> bool:
    """Whether the JSON text `body` nests arrays and objects more than `depth` deep, without parsing it.

    Byte operations (about 50 ms for a national frame of 28 MB, a quarter of a parse): the body is cut to its
    brackets outside strings, then the innermost pairs are removed a level a round, which empties a
    document of a few levels in as many rounds. What is left after eight is walked run by run: every
    pair left holds eight levels, so the runs are few and the cost stays linear in the body. For text
    that is not JSON it answers for as far as a parser would read before failing.
    """
    marks = body.translate(_MARKS, _NOT_MARKS)
    if marks.count(b"(") <= depth:
        return False
    if b"\\" in body:  # escaped backslashes, then escaped quotes, so that the quotes left bound strings
        marks = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(_MARKS, _NOT_MARKS)
    # Adjacent quotes hold no bracket between them; the strings left are those that hold one.
    marks = marks.replace(b'""', b"")
    if b'"' in marks:
        marks = _QUOTED.sub(b"", marks).replace(b'"', b"")  # a quote left over opens a string never closed
    rounds = 0
    while marks and rounds < min(_ROUNDS, depth):
        reduced = marks.replace(b"()", b"")  # each leaf pair once: the pairs this makes wait for the next round
        if len(reduced) == len(marks):
            break  # not JSON
        marks, rounds = reduced, rounds + 1
    # Whatever is left lies `rounds` levels above the deepest point of the document.
    level, most = 0, depth - rounds
    for run in _RUNS.finditer(marks):
        if marks[run.start()] == 40:  # "("
            level += run.end() - run.start()
            if level > most:
                return True
        else:
            level -= run.end() - run.start()
            if level < 0:
                return False  # a close with nothing open: a parser stops here
    return False


def _line_column(body: bytes, at: int) -> tuple[int, int]:
    line_start = body.rfind(b"\n", 0, at) + 1
    return body.count(b"\n", 0, at) + 1, len(body[line_start:at].decode("utf-8", "replace")) + 1


def _fields_with_nul(value: Any, path: str, found: list[FieldError], most: int = 20) -> None:
    if len(found) >= most:
        return
    if isinstance(value, str):
        if "\x00" in value:
            found.append(FieldError(field=path, message=_NUL))
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                found.append(FieldError(field=path, message=f"has a key that {_NUL}"))
            else:
                _fields_with_nul(item, f"{path}.{key}", found, most)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _fields_with_nul(item, f"{path}.{index}", found, most)


def json_body_problem(body: bytes, *, nul: bool = True) -> Problem | None:
    """The 422 for a JSON body no route should be handed, or None.

    Refused: bytes that are not UTF-8, nesting deeper than `MAX_JSON_DEPTH`, and (unless `nul` is false)
    U+0000 in any string, named by its dotted path (`body.overrides.0.reason`). Other faults of the JSON
    are left to the route, which parses it anyway. The common body costs a few scans of its bytes and no
    parse: a NUL can only be written `\\u0000` (or be a raw byte, which is not JSON), so the body is
    parsed here only when one might be.
    """
    if not body:
        return None
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as error:
            return not_json(f"byte 0x{body[error.start]:02X} is not UTF-8", *_line_column(body, error.start))
    if nested_deeper_than(body, MAX_JSON_DEPTH):
        return InvalidInput(
            f"The body is nested too deeply: at most {MAX_JSON_DEPTH} levels of arrays and objects are accepted.",
            [FieldError(field="body", message=f"nested deeper than {MAX_JSON_DEPTH} levels")],
        )
    if not nul or (b"\x00" not in body and (b"\\" not in body or b"\\u0000" not in body)):
        return None
    try:
        document = json.loads(body.decode("utf-8").removeprefix("\ufeff"))
    except json.JSONDecodeError as error:
        return not_json(error.msg, error.lineno, error.colno)
    except ValueError:  # an integer too long to read: the route refuses it as it reads it
        return None
    found: list[FieldError] = []
    _fields_with_nul(document, "body", found)
    if not found:  # `\\u0000`: an escaped backslash before "u0000"
        return None
    return InvalidInput(
        "Text in the body must not hold NUL characters (U+0000): " + ", ".join(e.field for e in found), found
    )


def takes_files(route: Any) -> bool:
    """Whether the route's body may be a file (CSV, or a form's file part, as well as JSON).

    Such a body is read by `inspection_shared.uploads` and its rows checked by the route's reader, which
    refuses the whole file naming every fault by line or index, a NUL among them; refused here, a NUL
    would hide the file's other faults. So the edge leaves a NUL in a file to its reader.
    """
    request_body = (getattr(route, "openapi_extra", None) or {}).get("requestBody") or {}
    content = request_body.get("content") or {}
    return "multipart/form-data" in content or "text/csv" in content


def body_too_slow(seconds: float) -> Problem:
    """408: the client took longer than `seconds` to send the request's body. The connection is closed:
    what is left of the body is not read."""
    return Problem(
        408, "Request timeout",
        f"The request's body took longer than {seconds:g} seconds to arrive; send it again on a faster connection.",
        slug="request-timeout", headers={"Connection": "close"},
    )


def describe_size(limit: int) -> str:
    for unit, name in ((1024 * 1024, "MiB"), (1024, "KiB")):
        if limit >= unit and limit % unit == 0:
            return f"{limit // unit} {name}"
    return f"{limit} bytes"


def body_too_large(limit: int, what: str = "A request's body") -> Problem:
    """413: `what` is over `limit` bytes, the most accepted (a route that takes a file has the larger limit
    of uploads). The connection is closed: what is left of the body is not read."""
    return Problem(
        413, "Content too large", f"{what} may be at most {describe_size(limit)} ({limit} bytes).",
        slug="content-too-large", headers={"Connection": "close"}, limit=limit,
    )
