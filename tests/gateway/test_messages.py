"""What the three services say when they refuse: an If-Match that is not an ETag, a body that is not JSON
(where it broke), not UTF-8, or of another media type, a framework id that names none (with those that
do), counts that agree with their nouns and phases named as a sentence says them."""

from __future__ import annotations

import httpx
import pytest

from gateway.units.models import Unit
from inspection_shared.wording import counted, listed
from tests.gateway.factories import frame_units, make_inspection, make_unit

API = "/api/v1"
PROBLEM = "application/problem+json"
JSON = {"Content-Type": "application/json"}


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


@pytest.fixture
async def services(gateway, engine_apps):
    rating_app, sampling_app = engine_apps
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=rating_app), base_url="http://rating") as rating,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=sampling_app), base_url="http://sampling") as sampling,
    ):
        # A route of each that takes a JSON object.
        yield [(gateway, f"{API}/inspections"), (rating, "/v1/ratings"), (sampling, "/v1/sample-size")]


# --- If-Match ----------------------------------------------------------------------------------------


async def test_an_unquoted_if_match_is_told_to_send_the_etag_in_quotes(gateway, db_session):
    unit = await make_unit(db_session)
    path = f"{API}/units/{unit.id}"
    for sent, given in (("1", "1"), ('"1', "1"), ('"1", 2', "2")):
        body = problem(await gateway.patch(path, json={"name": "Renamed"}, headers={"If-Match": sent}), 412)
        assert body["detail"] == (
            f'If-Match {sent.split(", ")[-1] if "," in sent else sent} is not an ETag: send it in quotes, as the '
            f'ETag header gave it: If-Match: "{given}".'
        )
    assert (await db_session.get(Unit, unit.id)).name == unit.name
    stale = problem(await gateway.patch(path, json={"name": "Renamed"}, headers={"If-Match": '"7"'}), 412)
    assert stale["detail"] == 'The unit has changed since it was read (If-Match "7", now "1"); read it again and reapply the change.'
    changed = await gateway.patch(path, json={"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert (changed.status_code, changed.json()["name"], changed.headers["etag"]) == (200, "Renamed", '"2"')


# --- bodies ------------------------------------------------------------------------------------------


async def test_json_that_cannot_be_read_is_named_by_line_column_and_the_parser_s_words(services):
    for client, path in services:
        body = problem(await client.post(path, content=b'{"title": "A",\n  "lead": }', headers=JSON), 422)
        error = body["errors"][0]
        assert (error["field"], error["line"], error["column"]) == ("body", 2, 11), client.base_url
        assert body["detail"].startswith("The body is not valid JSON: ")
        assert body["detail"].endswith(" at line 2, column 11.")
        assert error["message"].lower().startswith("expect")  # "Expecting value", "expected value"
        assert "body.2" not in str(body)


async def test_json_that_is_not_utf8_is_a_problem_naming_the_byte(services):
    for client, path in services:
        for content_type in ("application/json", "application/json; charset=latin-1"):
            response = await client.post(
                path, content='{"title": "Café"}'.encode("latin-1"), headers={"Content-Type": content_type}
            )
            body = problem(response, 422)
            assert body["detail"] == "The body is not valid JSON: byte 0xE9 is not UTF-8 at line 1, column 15."
            assert body["errors"] == [
                {"field": "body", "message": "byte 0xE9 is not UTF-8 at line 1, column 15", "line": 1, "column": 15}
            ]


async def test_a_body_of_another_media_type_is_told_to_be_json(gateway, services):
    for client, path in services:
        for content_type, content in (
            ("application/x-www-form-urlencoded", b"title=Inspection&lead=Jane"),
            ("text/plain", b'{"title": "Inspection"}'),
        ):
            body = problem(await client.post(path, content=content, headers={"Content-Type": content_type}), 422)
            assert body["detail"] == f"The body must be JSON (Content-Type: application/json), not {content_type}."
            assert body["errors"] == [
                {"field": "body", "message": f"must be JSON (Content-Type: application/json), not {content_type}"}
            ]
    form = problem(await gateway.post(f"{API}/inspections", data={"title": "Inspection"}), 422)
    assert form["detail"] == (
        "The body must be JSON (Content-Type: application/json), not application/x-www-form-urlencoded."
    )


async def test_json_that_is_not_an_object_says_what_it_is(services):
    for client, path in services:
        for sent, what in ((b"[1, 2]", "an array"), (b'"plan"', "a string"), (b"3", "a number"),
                           (b"null", "empty or null"), (b"", "empty or null")):
            body = problem(await client.post(path, content=sent, headers=JSON), 422)
            assert body["detail"] == f"The body must be a JSON object ({{...}}), not {what}.", client.base_url


# --- framework ids -----------------------------------------------------------------------------------


async def held(gateway) -> str:
    return ", ".join(sorted(f["id"] for f in (await gateway.get(f"{API}/frameworks")).json()["items"]))


async def test_a_framework_id_that_names_none_lists_those_that_do(gateway, db_session):
    ids = await held(gateway)
    assert "probation-pdu-2021" in ids
    said = f"no framework 'probation-1999' (the frameworks held: {ids})"

    read = problem(await gateway.get(f"{API}/frameworks/probation-1999"), 404)
    assert read["detail"] == said[0].upper() + said[1:]

    unit = await make_unit(db_session)
    planned = problem(await gateway.post(f"{API}/inspections", json={
        "unit_id": str(unit.id), "framework_id": "probation-1999", "type": "core", "title": "T", "lead": "L",
        "fieldwork_start": "2030-03-04", "fieldwork_end": "2030-03-15",
    }), 422)
    assert {e["field"]: e["message"] for e in planned["errors"]}["body.framework_id"] == said

    listed_ = problem(await gateway.get(f"{API}/inspections", params={"framework_id": "probation-1999"}), 422)
    assert listed_["errors"] == [{"field": "query.framework_id", "message": said}]

    region = await make_unit(db_session, type="region")
    pooled = problem(
        await gateway.get(f"{API}/units/{region.id}/regional-rating", params={"framework_id": "probation-1999"}), 422
    )
    assert pooled["errors"] == [{"field": "query.framework_id", "message": said}]


# --- counts and phases -------------------------------------------------------------------------------


def test_counts_agree_with_their_nouns_and_lists_read_as_sentences():
    assert counted(1, "case reference appears", "case references appear") == "1 case reference appears"
    assert counted(2, "case reference appears", "case references appear") == "2 case references appear"
    assert (counted(0, "fault"), counted(1, "fault"), counted(1, "entry", "entries"), counted(3, "entry", "entries")) == (
        "0 faults", "1 fault", "1 entry", "3 entries"
    )
    assert [listed([]), listed(["a"]), listed(["a", "b"], "or"), listed(["a", "b", "c"])] == [
        "", "a", "a or b", "a, b and c"
    ]


@pytest.mark.parametrize("repeated, said", [(1, "1 case reference appears"), (2, "2 case references appear")])
async def test_repeated_case_references_are_counted_in_good_grammar(gateway, db_session, repeated, said):
    inspection = await make_inspection(db_session)
    code = (await frame_units(db_session, inspection))[0]
    rows = ["case_ref,unit", f"X1,{code}", f"X2,{code}", f"X1,{code}"] + ([f"X2,{code}"] if repeated == 2 else [])
    response = await gateway.put(
        f"{API}/inspections/{inspection.id}/frames/case_supervision", content="\n".join(rows) + "\n",
        headers={"Content-Type": "text/csv"},
    )
    body = problem(response, 422)
    assert body["detail"].endswith(f" {said} more than once.")
    fault_count = counted(repeated, "fault")
    assert body["detail"].startswith(f"The frame has {fault_count}, the first on line 4: ")


async def test_phases_are_named_as_a_sentence_says_them(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    moved = problem(await gateway.post(f"{API}/inspections/{inspection.id}/transitions", json={"to": "published"}), 409)
    assert moved["detail"] == (
        f"Inspection {inspection.id} is in fieldwork and cannot move to published; it may move to rating or withdrawn."
    )
    rating = await make_inspection(db_session, status="rating")
    uploaded = problem(await gateway.put(
        f"{API}/inspections/{rating.id}/frames/case_supervision", content="case_ref,unit\nX1,N01\n",
        headers={"Content-Type": "text/csv"},
    ), 409)
    assert uploaded["detail"] == (
        f"Inspection {rating.id} is in rating: frames, samples and substitutions change only while it is planned, "
        "in pre-fieldwork or in fieldwork."
    )


async def test_the_engines_count_in_good_grammar(services):
    _, (rating, _), (sampling, _) = services
    one = await sampling.post("/v1/unit-selections", json={"units": [{"id": "YOS01", "size": 10}], "k": 2,
                                                            "method": "srs", "seed": 1})
    body = problem(one, 422)
    assert body["detail"] == "k = 2 is above the 1 unit by 1."
    assert body["errors"] == [{"field": "k", "message": "is 1 more than the 1 unit"}]
