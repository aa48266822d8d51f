"""Reading uploads (inspection_shared.uploads): real requests through a tiny app, every refusal with its answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from inspection_shared import uploads
from inspection_shared.problems import Problem

LIMIT = 1024 * 1024


class Refused(Exception):
    """What the tiny app's own refusal raises: the arguments it was given, to answer them back."""


def refuse(limit: int, what: str, size: int | None) -> Refused:
    return Refused(limit, what, size)


app = FastAPI()


@app.exception_handler(Problem)
async def _problem(request: Request, problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body().model_dump(mode="json", exclude_none=True), status_code=problem.status)


@app.exception_handler(Refused)
async def _refused(request: Request, error: Refused) -> JSONResponse:
    return JSONResponse({"refused": list(error.args)}, status_code=413)


@app.post("/media-type")
async def _media_type(request: Request) -> dict:
    return {"media_type": uploads.media_type(request)}


@app.post("/body")
async def _body(request: Request) -> dict:
    return {"text": (await uploads.read_body(request, LIMIT, "The frame")).decode()}


@app.post("/body/refused-our-way")
async def _body_refused_our_way(request: Request) -> dict:
    return {"text": (await uploads.read_body(request, 10, "The request body", refuse=refuse)).decode()}


@app.post("/form-file")
async def _form_file(request: Request) -> dict:
    content, upload = await uploads.read_form_file(request, LIMIT, "The frame", ("frame", "file"))
    return {"text": content.decode(), "filename": upload.filename}


@app.post("/file/refused-our-way")
async def _file_refused_our_way(request: Request) -> dict:
    uploads.check_declared_size(request, 10_000, "The upload", refuse=refuse)
    async with request.form() as form:
        return {"text": (await uploads.read_file(form["frame"], 10, "The upload", refuse=refuse)).decode()}


@app.post("/import")
async def _import(request: Request) -> dict:
    kind, payload = await uploads.read_import(request, LIMIT, "The units")
    return {"kind": kind, "payload": payload}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def streamed(*chunks: bytes) -> AsyncIterator[bytes]:
    """A body sent in chunks with no Content-Length, so only reading it can tell its size."""
    for chunk in chunks:
        yield chunk


def assert_problem(response: httpx.Response, status: int, title: str, slug: str, detail: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["status"], body["title"], body["type"], body["detail"]) == (status, title, f"/problems/{slug}", detail)
    return body


async def test_the_media_type_is_the_content_type_without_its_parameters(client):
    response = await client.post("/media-type", content=b"", headers={"Content-Type": " Text/CSV ; charset=utf-8"})
    assert response.json() == {"media_type": "text/csv"}
    assert (await client.post("/media-type", content=b"")).json() == {"media_type": ""}
    assert uploads.CSV_TYPES == {"text/csv", "application/csv"}


async def test_a_body_is_read_whole_whether_declared_or_streamed(client):
    assert (await client.post("/body", content=b"case_ref\nX1\n")).json() == {"text": "case_ref\nX1\n"}
    response = await client.post("/body", content=streamed(b"case_ref\n", b"X1\n", b"X2\n"))
    assert response.json() == {"text": "case_ref\nX1\nX2\n"}
    exactly = b"x" * LIMIT
    assert len((await client.post("/body", content=exactly)).json()["text"]) == LIMIT


async def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(client):
    detail = "The frame may be at most 1 MiB (1048576 bytes)."
    assert_problem(await client.post("/body", content=b"x" * (LIMIT + 1)), 413, "Content too large",
                   "content-too-large", detail)
    over = streamed(b"x" * LIMIT, b"x")
    assert_problem(await client.post("/body", content=over), 413, "Content too large", "content-too-large", detail)


async def test_a_service_may_refuse_an_oversized_body_its_own_way(client):
    # The declared size is given when the request declares it; None when the body was found over as read.
    assert (await client.post("/body/refused-our-way", content=b"x" * 11)).json() == {
        "refused": [10, "The request body", 11]
    }
    assert (await client.post("/body/refused-our-way", content=streamed(b"x" * 6, b"x" * 6))).json() == {
        "refused": [10, "The request body", None]
    }
    assert (await client.post("/body/refused-our-way", content=b"x" * 10)).json() == {"text": "x" * 10}


async def test_a_form_file_is_read_from_the_first_field_named(client):
    response = await client.post("/form-file", files={"frame": ("caseload.csv", b"case_ref\nX1\n", "text/csv")})
    assert response.json() == {"text": "case_ref\nX1\n", "filename": "caseload.csv"}
    response = await client.post("/form-file", files={"file": ("other.csv", b"case_ref\nX2\n", "text/csv")})
    assert response.json() == {"text": "case_ref\nX2\n", "filename": "other.csv"}


async def test_a_form_without_the_file_is_422_naming_the_documented_field(client):
    response = await client.post("/form-file", files={"answers": ("a.csv", b"case_ref\n", "text/csv")})
    body = assert_problem(response, 422, "Invalid input", "invalid-input", "The form has no file.")
    assert body["errors"] == [{"field": "body.frame", "message": "attach the frame as 'frame'"}]
    response = await client.post("/form-file", data={"frame": "not a file"})
    assert response.json()["errors"][0]["field"] == "body.frame"


async def test_a_form_file_over_the_limit_is_413(client):
    response = await client.post("/form-file", files={"frame": ("big.csv", b"x" * (LIMIT + 1), "text/csv")})
    assert_problem(response, 413, "Content too large", "content-too-large", "The frame may be at most 1 MiB (1048576 bytes).")


async def test_a_service_may_refuse_an_oversized_form_its_own_way(client):
    response = await client.post("/file/refused-our-way", files={"frame": ("f.csv", b"x" * 11, "text/csv")})
    assert response.json() == {"refused": [10, "The upload", 11]}
    response = await client.post("/file/refused-our-way", files={"frame": ("f.csv", b"x" * 10_001, "text/csv")})
    declared = int(response.request.headers["content-length"])
    assert response.json() == {"refused": [10_000, "The upload", declared]}
    response = await client.post("/file/refused-our-way", files={"frame": ("f.csv", b"x" * 10, "text/csv")})
    assert response.json() == {"text": "x" * 10}


async def test_an_import_comes_as_csv_or_json_in_the_body_or_a_form(client):
    csv = await client.post("/import", content="\ufeffunit\nN01\n".encode(), headers={"Content-Type": "application/csv"})
    assert csv.json() == {"kind": "csv", "payload": "unit\nN01\n"}  # the byte-order mark is dropped
    document = [{"unit": "N01"}]
    assert (await client.post("/import", json=document)).json() == {"kind": "json", "payload": document}
    as_json_file = await client.post("/import", files={"file": ("units.JSON", json.dumps(document).encode(), "")})
    assert as_json_file.json() == {"kind": "json", "payload": document}
    typed_json = await client.post("/import", files={"file": ("units", b"[]", "application/json; charset=utf-8")})
    assert typed_json.json() == {"kind": "json", "payload": []}
    as_csv_file = await client.post("/import", files={"file": ("units.txt", b"unit\nN01\n", "text/plain")})
    assert as_csv_file.json() == {"kind": "csv", "payload": "unit\nN01\n"}


async def test_an_import_of_another_type_is_415_naming_the_types_accepted(client):
    response = await client.post("/import", content=b"<units/>", headers={"Content-Type": "application/xml"})
    assert_problem(response, 415, "Unsupported media type", "unsupported-media-type",
                   "Send the units as text/csv, application/json or multipart/form-data, not application/xml.")
    response = await client.post("/import", content=b"unit\n")
    assert response.json()["detail"].endswith(", not no type.")


def test_a_missing_type_may_be_named_another_way():
    problem = uploads.unsupported("", "The frame", "text/csv", untyped="no content type")
    assert problem.detail == "Send the frame as text/csv, not no content type."


async def test_an_import_that_is_not_utf8_or_not_json_is_422_with_where(client):
    response = await client.post("/import", content=b"unit\n\xff\n", headers={"Content-Type": "text/csv"})
    body = assert_problem(response, 422, "Invalid input", "invalid-input", "The upload is not UTF-8 text.")
    assert body["errors"] == [{"field": "body", "message": "not UTF-8: byte 5 cannot be decoded"}]
    response = await client.post("/import", content=b'[{"unit": }]', headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "Invalid input", "invalid-input", "The body is not valid JSON.")
    assert body["errors"] == [{"field": "body", "message": "Expecting value at line 1, column 11"}]
