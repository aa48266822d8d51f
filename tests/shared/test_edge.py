"""The HTTP edge every service shares (`inspection_shared.web`, `edge`), in process: what it refuses and how,
unexpected errors, methods, readiness, clients that go away, and what reaches the logs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import httpx
import pytest
import structlog

from inspection_shared.logs import _with_request_id
from inspection_shared.request_checks import MAX_JSON_DEPTH, json_body_problem, nested_deeper_than
from inspection_shared.server import limited_protocol
from inspection_shared.settings import ServiceSettings
from inspection_shared.web import create_service_app
from rating_engine.app import create_app as create_rating_engine
from sampling.app import create_app as create_sampling
from sampling.settings import Settings as SamplingSettings
from tests.conftest import ROOT
from tests.shared.edge_app import FAILURE_MESSAGE, create_app

NUL = "holds a NUL character (U+0000)"
JSON = {"content-type": "application/json"}


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as c:
        yield c


@pytest.fixture
def logged():
    with structlog.testing.capture_logs(processors=[_with_request_id]) as entries:
        yield entries


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def requests_logged(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["event"] == "request"]


# --- 1. NUL characters in the path and the query ----------------------------------------------------


async def test_a_nul_in_the_path_is_refused_naming_the_path(client):
    body = problem(await client.get("/things/%00"), 422)
    assert body == {
        "type": "/problems/invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": "The path and the query must not hold NUL characters (U+0000): path",
        "instance": "/things/\x00",
        "errors": [{"field": "path", "message": NUL}],
    }


async def test_a_nul_in_a_query_value_or_name_is_refused_naming_the_parameter(client):
    body = problem(await client.get("/things/1?sample_type=%00&fine=1&a%00b=2"), 422)
    assert body["errors"] == [
        {"field": "query.sample_type", "message": NUL},
        {"field": "query.a\\u0000b", "message": NUL},
    ]
    both = problem(await client.get("/things/a%00?sample_type=x%00y"), 422)
    assert [e["field"] for e in both["errors"]] == ["path", "query.sample_type"]


async def test_an_encoded_percent_sign_is_not_a_nul(client):
    response = await client.get("/things/%2500", params={"q": "%00"})
    assert (response.status_code, response.json()) == (200, {"id": "%00"})


# --- 2. JSON bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "document", "field"),
    [
        ("/things/1", {"note": "a\u0000"}, "body.note"),
        ("/things/1", {"note": "ok", "overrides": [{"standard": "1.1", "reason": "\u0000"}]}, "body.overrides.0.reason"),
        ("/rows", [{"case_ref": f"X{n}"} for n in range(3)] + [{"case_ref": "X\u00003"}], "body.3.case_ref"),
        ("/imports", [{"case_ref": "X1"}, {"case_ref": "\u0000X2"}], "body.1.case_ref"),
    ],
)
async def test_a_nul_in_a_json_string_is_refused_naming_its_field(app, client, path, document, field):
    method = client.put if path.startswith("/things") else client.post
    body = problem(await method(path, json=document), 422)
    assert body["detail"] == f"Text in the body must not hold NUL characters (U+0000): {field}"
    assert body["errors"] == [{"field": field, "message": NUL}]
    assert app.state.touched == []  # neither the route nor its validation saw the body


async def test_a_nul_in_a_file_is_left_to_its_reader_but_its_nesting_is_not(client):
    # A bulk import refuses a file naming every fault, a NUL among them; the edge leaves NULs to it.
    rows = [{"case_ref": "X1"}, {"case_ref": "X\u00002"}]
    response = await client.post("/file-imports", json=rows)
    assert response.json() == {"kind": "json", "items": 2, "rows_with_nul": [1]}
    body = problem(await client.post("/file-imports", content=nested(3000), headers=JSON), 422)
    assert body["errors"] == [{"field": "body", "message": "nested deeper than 64 levels"}]


async def test_a_nul_in_a_key_names_the_object_holding_it(client):
    body = problem(await client.post("/documents", json={"answers": {"2.1\u0000": "yes"}}), 422)
    assert body["errors"] == [{"field": "body.answers", "message": f"has a key that {NUL}"}]


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client):
    response = await client.put("/things/1", content=b'{"note": "C:\\\\u0000"}', headers=JSON)
    assert (response.status_code, response.json()["note"]) == (200, "C:\\u0000")


async def test_every_json_media_type_is_checked_and_other_bodies_are_left_to_the_route(client):
    merge_patch = await client.post("/echo", content=b'{"a": "\\u0000"}',
                                    headers={"content-type": "application/merge-patch+json; charset=utf-8"})
    assert problem(merge_patch, 422)["errors"] == [{"field": "body.a", "message": NUL}]
    csv = await client.post("/echo", content=b"case_ref\nX\x001\n", headers={"content-type": "text/csv"})
    assert (csv.status_code, csv.json()["bytes"]) == (200, 13)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


@pytest.mark.parametrize("path", ["/documents", "/imports"])
async def test_json_nested_deeper_than_the_bound_is_refused(client, path):
    assert MAX_JSON_DEPTH == 64
    accepted = await client.post(path, content=nested(64), headers=JSON)
    assert accepted.status_code == 200, accepted.text
    for depth in (65, 3000):
        body = problem(await client.post(path, content=nested(depth), headers=JSON), 422)
        assert body["detail"] == "The body is nested too deeply: at most 64 levels of arrays and objects are accepted."
        assert body["errors"] == [{"field": "body", "message": "nested deeper than 64 levels"}]


async def test_brackets_inside_strings_do_not_count_as_nesting(client):
    document = {"note": "[" * 500 + '{"' * 100, "overrides": [{"standard": "1.1", "reason": "\\" * 3 + "]" * 70}]}
    response = await client.put("/things/1", json=document)
    assert response.status_code == 200, response.text


async def test_malformed_json_says_where_it_broke(client):
    body = problem(await client.put("/things/1", content=b'{"note": "a",\n  "overrides": [}', headers=JSON), 422)
    assert body["detail"] == "The body is not valid JSON: Expecting value at line 2, column 17."
    assert body["errors"] == [
        {"field": "body", "message": "Expecting value at line 2, column 17", "line": 2, "column": 17}
    ]


@pytest.mark.parametrize("path", ["/file-imports", "/imports"])
async def test_a_form_that_cannot_be_read_is_a_documented_422_not_a_400(client, path):
    # Found by schemathesis: Starlette refuses a multipart body without its boundary with a bare 400.
    response = await client.post(path, content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    body = problem(response, 422)
    assert body["detail"] == "The body could not be read: Missing boundary in multipart."
    assert body["errors"] == [{"field": "body", "message": "Missing boundary in multipart"}]
    spec = (await client.get("/openapi.json")).json()
    assert "422" in spec["paths"]["/file-imports"]["post"]["responses"]


async def test_json_that_is_not_utf8_is_refused_saying_where(client):
    for path in ("/things/1", "/imports"):
        method = client.put if path.startswith("/things") else client.post
        body = problem(await method(path, content='{"note":\n "café"}'.encode("latin-1"), headers=JSON), 422)
        assert body["detail"] == "The body is not valid JSON: byte 0xE9 is not UTF-8 at line 2, column 6."
        assert body["errors"][0] == {
            "field": "body", "message": "byte 0xE9 is not UTF-8 at line 2, column 6", "line": 2, "column": 6
        }


async def test_json_an_engine_parses_itself_is_refused_the_same_way():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_rating_engine()), base_url="http://r") as c:
        body = problem(await c.post("/v1/ratings", content=b'{"framework": ', headers=JSON), 422)
    assert body["detail"] == "The body is not valid JSON: EOF while parsing a value at line 1, column 14."
    assert body["errors"] == [
        {"field": "body", "message": "EOF while parsing a value at line 1, column 14", "line": 1, "column": 14}
    ]


async def test_a_large_body_in_parts_reaches_the_route_whole_and_is_checked_whole(app, client):
    app.state.max_body_bytes = 8 * 1024 * 1024
    rows = [{"case_ref": f"X{n:06d}", "note": "x" * 40} for n in range(50_000)]
    document = json.dumps(rows).encode()
    assert len(document) > 2 * 1024 * 1024  # checked off the event loop

    async def parts(content: bytes):
        for at in range(0, len(content), 65536):
            yield content[at:at + 65536]

    response = await client.post("/echo", content=parts(document), headers=JSON)
    assert response.json() == {"bytes": len(document), "head": document[:40].decode()}
    rows[-1]["note"] = "\u0000"
    refused = await client.post("/echo", content=parts(json.dumps(rows).encode()), headers=JSON)
    assert problem(refused, 422)["errors"] == [{"field": "body.49999.note", "message": NUL}]


def test_nesting_is_measured_outside_strings_and_escapes():
    escaped_quote = b'{"a": "[[[[", "b": [["\\"]]]]"]]}'  # the string is \"]]]]
    assert (nested_deeper_than(escaped_quote, 3), nested_deeper_than(escaped_quote, 2)) == (False, True)
    escaped_backslash = b'{"b": [["\\\\", [[1]]]]}'  # the string is \\, and its quote closes it
    assert (nested_deeper_than(escaped_backslash, 5), nested_deeper_than(escaped_backslash, 4)) == (False, True)
    assert not nested_deeper_than(b'[{"k": [1]}, [[]], {}]', 3)
    assert nested_deeper_than(b'[{"k": [1]}, [[[]]], {}]', 3)
    # Not JSON: a parser would stop at the first close, before any depth.
    assert not nested_deeper_than(b"]" + b"[" * 100, 64)
    assert nested_deeper_than(b"[" * 100, 64)


def test_the_check_of_an_ordinary_body_costs_no_parse():
    frame = json.dumps({"frame": [{"case_ref": f"X{n}", "unit": "N01"} for n in range(250_000)]}).encode()
    started = time.perf_counter()
    assert json_body_problem(frame) is None
    checked = time.perf_counter() - started
    started = time.perf_counter()
    json.loads(frame)
    parsed = time.perf_counter() - started
    assert checked < parsed / 2, (checked, parsed)


# --- 3. Unexpected errors ----------------------------------------------------------------------------


async def test_an_unexpected_error_is_a_500_problem_logged_once_without_its_message(client, logged):
    response = await client.get("/boom", headers={"X-Request-ID": "trace-500"})
    body = problem(response, 500)
    assert response.headers["x-request-id"] == "trace-500"
    assert body == {
        "type": "/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "Quote request id trace-500 when reporting this.",
        "instance": "/boom",
    }
    errors = [e for e in logged if e["event"] == "unhandled error"]
    assert len(errors) == 1
    error = errors[0]
    assert (error["log_level"], error["request_id"], error["path"], error["error"]) == (
        "error", "trace-500", "/boom", "RuntimeError"
    )
    assert "Traceback (most recent call last)" in error["traceback"] and "in fail" in error["traceback"]
    assert error["traceback"].rstrip().endswith("RuntimeError")
    assert FAILURE_MESSAGE not in repr(logged) and "X123456" not in repr(logged)
    assert [(e["status"], e["request_id"]) for e in requests_logged(logged)] == [(500, "trace-500")]


# --- 4. Methods --------------------------------------------------------------------------------------


async def test_a_405_lists_every_method_of_the_path(client):
    body = problem(await client.delete("/things/1"), 405)
    assert body["detail"] == "DELETE is not allowed on /things/1"
    response = await client.post("/things/1")
    assert response.headers["allow"] == "GET, HEAD, PUT"
    assert (await client.get("/rows")).headers["allow"] == "POST"


async def test_head_answers_as_get_without_the_body(client, logged):
    get = await client.get("/things/42")
    head = await client.head("/things/42")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "application/json"
    assert [(e["method"], e["path"], e["status"]) for e in requests_logged(logged)] == [
        ("GET", "/things/42", 200), ("HEAD", "/things/42", 200)
    ]
    missing = await client.head("/nowhere")
    assert (missing.status_code, missing.content) == (404, b"")
    not_allowed = await client.head("/rows")
    assert (not_allowed.status_code, not_allowed.headers["allow"]) == (405, "POST")


async def test_head_is_not_listed_as_an_operation(client):
    spec = (await client.get("/openapi.json")).json()
    assert set(spec["paths"]["/things/{thing_id}"]) == {"get", "put"}


# --- 6. What reaches the logs ------------------------------------------------------------------------


@pytest.mark.parametrize("encoded", ["X123456", "X%31%32%33", "X%2541BC", "X%252541", "X%20Y", "X%E2%82%AC"])
async def test_a_case_reference_in_the_path_is_masked_however_it_is_encoded(client, logged, encoded):
    response = await client.get(f"/samples/case_supervision/cases/{encoded}")
    detail = problem(response, 404)["detail"]
    case_ref = detail.removeprefix("No case ").removesuffix(" in case_supervision.")
    assert [e["path"] for e in requests_logged(logged)] == ["/samples/case_supervision/cases/{case_ref}"]
    assert case_ref not in repr(logged) and encoded not in repr(logged)


async def test_a_path_no_route_matches_is_logged_with_only_the_routes_words(client, logged):
    await client.get("/samples/case_supervision/cases/X123456/notes")
    await client.get("/samples/cs/cases/X12%00")  # refused before routing, still masked by its route
    assert [e["path"] for e in requests_logged(logged)] == [
        "/samples/{?}/cases/{?}/{?}",
        "/samples/cs/cases/{case_ref}",
    ]
    assert "X12" not in repr(logged)


def test_httpx_and_httpcore_log_nothing_below_warning():
    code = (
        "import logging\n"
        "from inspection_shared.logs import configure_logging\n"
        "configure_logging('svc', 'DEBUG')\n"
        "print(logging.getLogger('httpx').getEffectiveLevel(), logging.getLogger('httpcore').getEffectiveLevel(),"
        " logging.getLogger('httpx').isEnabledFor(logging.INFO))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["30", "30", "False"]


# --- 7. Readiness ------------------------------------------------------------------------------------


async def test_readiness_checks_are_timed_out_and_never_show_why(logged):
    async def slow() -> None:
        await asyncio.sleep(30)

    async def refused() -> None:
        raise ConnectionError("postgresql://inspector:secret@db/inspection refused")

    async def fine() -> None:
        return None

    app = create_service_app(title="t", version="1", description="d",
                             settings=ServiceSettings.model_construct(port=1, readiness_timeout_seconds=0.2),
                             readiness={"database": slow, "rating_engine": refused, "sampling": fine})
    started = time.perf_counter()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
        response = await c.get("/readyz")
    assert time.perf_counter() - started < 1.5  # the checks run side by side, each at most 0.2 s
    body = problem(response, 503)
    assert body["checks"] == {"database": "timed out", "rating_engine": "unavailable", "sampling": "ok"}
    assert body["detail"] == "A dependency is unreachable: database, rating_engine"
    failed = [(e["log_level"], e["check"], e["reason"]) for e in logged if e["event"] == "readiness check failed"]
    assert sorted(failed) == [("warning", "database", "timed out"), ("warning", "rating_engine", "ConnectionError")]
    assert "secret" not in response.text and "secret" not in repr(logged)


def test_the_edge_limits_and_the_readiness_timeout_are_settings(monkeypatch):
    defaults = SamplingSettings()
    assert (defaults.max_request_line_bytes, defaults.max_header_bytes, defaults.readiness_timeout_seconds,
            defaults.body_timeout_seconds) == (8 * 1024, 64 * 1024, 2.0, 60.0)
    state = create_service_app(title="t", version="1", description="d").state
    assert (state.readiness_timeout, state.body_timeout) == (2.0, 60.0)
    monkeypatch.setenv("SAMPLING_MAX_HEADER_BYTES", "4096")
    monkeypatch.setenv("SAMPLING_MAX_REQUEST_LINE_BYTES", "1024")
    monkeypatch.setenv("SAMPLING_READINESS_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("SAMPLING_BODY_TIMEOUT_SECONDS", "7.5")
    settings = SamplingSettings()
    protocol = limited_protocol(settings)
    assert (protocol.max_request_line_bytes, protocol.max_header_bytes) == (1024, 4096)
    assert (settings.readiness_timeout_seconds, settings.body_timeout_seconds) == (0.5, 7.5)
    with pytest.raises(ValueError):
        ServiceSettings(port=1, max_header_bytes=10)


# --- 8. Clients that go away -------------------------------------------------------------------------


async def call(app, method: str, path: str, messages: list[dict], headers: list[tuple[bytes, bytes]] = ()):
    """Call the app as a server would, the client's side being `messages` and then its going away."""
    sent: list[dict] = []
    queue = list(messages)

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "http.disconnect"}  # at once, as uvicorn answers

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"svc"), (b"x-request-id", b"gone-1"), *headers], "client": ("127.0.0.1", 5),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return sent


def went_away_and_nothing_else(logged: list[dict]) -> None:
    assert [(e["event"], e["log_level"], e["request_id"]) for e in logged if e["event"] != "request"] == [
        ("client went away", "info", "gone-1")
    ]
    assert [e["status"] for e in requests_logged(logged)] == [499]


async def test_an_engine_treats_a_client_gone_mid_body_as_normal(logged):
    sent = await call(create_rating_engine(), "POST", "/v1/ratings",
                      [{"type": "http.request", "body": b'{"framework": "probation', "more_body": True}],
                      [(b"content-type", b"application/json")])
    assert sent == []
    went_away_and_nothing_else(logged)


async def test_a_draw_whose_client_went_away_is_not_drawn(monkeypatch, logged):
    import sampling.selection.router as selection

    drawn: list[object] = []
    monkeypatch.setattr(selection, "_draw_and_wire", lambda *args: drawn.append(args))
    frame = [{"case_ref": f"X{n}", "unit": "N01"} for n in range(100)]
    document = json.dumps({"frame": frame, "design": {"size": 10, "unit": "unit", "seed": 1}}).encode()
    await call(create_sampling(), "POST", "/v1/samples",
               [{"type": "http.request", "body": document, "more_body": False}],
               [(b"content-type", b"application/json")])
    assert drawn == []
    went_away_and_nothing_else(logged)


async def test_work_cancelled_because_its_client_went_away_is_not_an_error(app, logged):
    sent = await call(app, "POST", "/wait-for-client", [{"type": "http.request", "body": b"", "more_body": False}])
    assert (sent, app.state.touched) == ([], ["cancelled"])
    went_away_and_nothing_else(logged)


# --- 9. Bodies too slow to come ----------------------------------------------------------------------


def trickled(parts: list[bytes], pause: float):
    async def body():
        for part in parts:
            yield part
            await asyncio.sleep(pause)

    return body()


SLOW_BODIES = {
    "a JSON body a route's model reads": ("/things/1", "application/json", [b'{"note": "a', b'b"}']),
    "a CSV upload read by uploads": ("/imports", "text/csv", [b"case_ref\n", b"X1\n"]),
    "a form's file": ("/file-imports", "multipart/form-data; boundary=b",
                      [b'--b\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\ncase_ref\n',
                       b"X1\n\r\n--b--\r\n"]),
}


@pytest.mark.parametrize("path, media, parts", SLOW_BODIES.values(), ids=SLOW_BODIES)
async def test_a_body_too_slow_to_come_is_a_408_problem_that_closes_the_connection(app, client, logged, path, media,
                                                                                  parts):
    app.state.body_timeout = 0.3
    started = time.perf_counter()
    response = await client.request("PUT" if path.startswith("/things") else "POST", path,
                                    content=trickled(parts, 5), headers={"content-type": media})
    assert time.perf_counter() - started < 2
    body = problem(response, 408)
    assert body["type"] == "/problems/request-timeout"
    assert body["detail"] == (
        "The request's body took longer than 0.3 seconds to arrive; send it again on a faster connection."
    )
    assert response.headers["connection"] == "close"
    assert app.state.touched == []  # no handler ran on half a body
    assert [e["status"] for e in requests_logged(logged)] == [408]


async def test_the_body_is_due_whole_within_the_timeout_however_steadily_its_parts_come(app, client):
    app.state.body_timeout = 0.5
    parts = [b'{"note": "', *[b"a"] * 8, b'"}']
    steady = await client.put("/things/1", content=trickled(parts, 0.1), headers=JSON)
    assert steady.status_code == 408
    app.state.body_timeout = 5
    in_time = await client.put("/things/1", content=trickled(parts, 0.01), headers=JSON)
    assert (in_time.status_code, in_time.json()["note"]) == (200, "a" * 8)


async def test_the_body_timeout_counts_from_the_routes_first_read_of_it(app, client):
    # The gateway reads the database before it reads an upload: that time is not the client's.
    app.state.body_timeout = 0.3
    response = await client.post("/late-reads", params={"after": 0.5}, content=trickled([b"x" * 10], 0.05))
    assert response.json() == {"bytes": 10}


async def test_every_operation_that_takes_a_body_documents_the_408(client):
    spec = (await client.get("/openapi.json")).json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    with_body = [op for op in operations if "requestBody" in op]
    assert {op["operationId"] for op in with_body} == {"put_thing", "post_rows", "post_document", "import_file"}
    assert all(op["responses"]["408"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
    } for op in with_body)
    assert not any("408" in op["responses"] for op in operations if "requestBody" not in op)
