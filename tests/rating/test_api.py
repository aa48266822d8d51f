"""The engine over HTTP (in process): the framework library, the rating contract, and every refusal."""

import pytest

from inspection_shared.library import content_hash, library
from tests.rating.builders import cases, counts, small_framework, table

PROBLEM = "application/problem+json"


# --------------------------------------------------------------------------------------------------------
# GET /v1/frameworks


async def test_framework_list_names_every_library_version(client):
    response = await client.get("/v1/frameworks")
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert sorted(item["id"] for item in body["items"]) == sorted(library())
    youth = next(item for item in body["items"] if item["id"] == "youth-2021")
    assert (youth["standards"], youth["scored_standards"]) == (13, 12)


async def test_framework_detail_has_the_shape_of_issue_2(client):
    response = await client.get("/v1/frameworks/youth-2021")
    assert response.status_code == 200
    body = response.json()
    assert {"id", "version", "name", "domains", "rules"} <= set(body)
    standards = {s["id"]: s for d in body["domains"] for s in d["standards"]}
    for domain in body["domains"]:
        assert {"number", "name", "standards"} <= set(domain)
    assert standards["4.1"]["scored"] is False
    assessment = standards["2.1"]
    assert (assessment["kind"], assessment["scored"]) == ("case", True)
    assert [k["id"] for k in assessment["key_questions"]] == ["2.1.1", "2.1.2", "2.1.3"]
    assert {"id", "text", "theme"} <= set(assessment["key_questions"][0])
    assert standards["1.1"]["kind"] == "judged"
    assert body["rules"]["key_question_thresholds"] == {"outstanding": 80.0, "good": 65.0, "requires_improvement": 50.0}
    assert body["rules"]["overall"]["max_score"] == 36


async def test_framework_detail_carries_its_content_hash_as_etag(client):
    response = await client.get("/v1/frameworks/probation-crc-2018")
    etag = response.headers["etag"]
    assert etag == f'"{content_hash(library()["probation-crc-2018"])}"'
    again = await client.get("/v1/frameworks/probation-crc-2018", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag


async def test_unknown_framework_is_a_404_problem(client):
    response = await client.get("/v1/frameworks/probation-2099")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/problems/not-found"
    assert "probation-2099" in body["detail"] and "youth-2021" in body["detail"]


# --------------------------------------------------------------------------------------------------------
# POST /v1/ratings


async def test_rating_response_contract(client):
    body = {
        "framework": "probation-crc-2018",
        "standards": [{"standard": "2.1", "counts": counts(k2_1_1=(79, 100), k2_1_2=(90, 100), k2_1_3=(100, 100))}],
        "overrides": [{"standard": "2.1", "rating": "outstanding", "reason": "Panel decision."}],
    }
    response = await client.post("/v1/ratings", json=body, headers={"X-Request-ID": "rating-1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "rating-1"
    result = response.json()
    assert {"framework_id", "framework_version", "rules_version", "input_fingerprint", "standards", "overall"} <= set(result)
    s = next(x for x in result["standards"] if x["standard"] == "2.1")
    assert {"standard", "computed_rating", "rating", "override_reason", "points", "driver", "key_questions",
            "borderline", "cases_to_move_up", "cases_to_move_down"} <= set(s)
    assert (s["computed_rating"], s["rating"], s["override_reason"], s["points"], s["driver"]) == (
        "good", "outstanding", "Panel decision.", 3, "2.1.1")
    kq = s["key_questions"][0]
    assert {"key_question", "yes", "applicable", "percent", "band", "interval"} <= set(kq)
    assert (kq["key_question"], kq["yes"], kq["applicable"], kq["percent"], kq["band"]) == ("2.1.1", 79, 100, 79.0, "good")
    low, high = kq["interval"]
    assert low < 79 < high
    assert {"score", "max_score", "rating"} <= set(result["overall"])
    assert result["overall"]["rating"] == "not_rated"


async def test_published_tables_over_http(client):
    youth = ["good", "good", "outstanding", "outstanding", "good", "inadequate", "outstanding", "outstanding",
             "requires_improvement", "requires_improvement", "outstanding", "good", "requires_improvement"]
    overall = (await client.post("/v1/ratings", json=table("youth-2021", youth))).json()["overall"]
    assert (overall["score"], overall["max_score"], overall["rating"]) == (25, 36, "good")
    crc = table("probation-crc-2018", ["good"] * 5 + ["requires_improvement"] * 5)
    overall = (await client.post("/v1/ratings", json=crc)).json()["overall"]
    assert (overall["score"], overall["max_score"], overall["rating"]) == (15, 30, "requires_improvement")


async def test_inline_framework_over_http(client):
    body = {"framework": small_framework(), "standards": [{"standard": "1.1", "rating": "outstanding"}]}
    response = await client.post("/v1/ratings", json=body)
    assert response.status_code == 200
    assert response.json()["framework_source"] == "inline"


async def test_same_input_same_answer(client):
    body = {"framework": "youth-2021", "standards": [{"standard": "2.1", "cases": cases({"2.1.1": ["yes", "no"]})}]}
    first = (await client.post("/v1/ratings", json=body)).json()
    second = (await client.post("/v1/ratings", json=body)).json()
    assert first == second


# --------------------------------------------------------------------------------------------------------
# Refusals: 422 problems naming the fault


def _crc(*standards, **extra):
    return {"framework": "probation-crc-2018", "standards": list(standards), **extra}


REFUSALS = {
    "unknown framework": (
        {"framework": "probation-2099", "standards": []},
        "body.framework", "unknown framework 'probation-2099'",
    ),
    "unknown standard": (
        _crc({"standard": "9.9", "rating": "good"}),
        "body.standards.0.standard", "has no standard 9.9",
    ),
    "unknown key question in counts": (
        _crc({"standard": "2.1", "counts": counts(k2_1_4=(1, 2))}),
        "body.standards.0.counts.2.1.4", "standard 2.1 has no key question 2.1.4",
    ),
    "unknown key question in answers": (
        _crc({"standard": "2.1", "cases": cases({"2.2.1": ["yes"]})}),
        "body.standards.0.cases.0.answers.2.2.1", "standard 2.1 has no key question 2.2.1",
    ),
    "yes above applicable": (
        _crc({"standard": "2.1", "counts": counts(k2_1_1=(11, 10))}),
        "body.standards.0.counts.2.1.1.yes", "yes (11) is more than applicable (10)",
    ),
    "duplicate case reference": (
        _crc({"standard": "2.1", "cases": [
            {"case_ref": "X000001", "answers": {"2.1.1": "yes"}},
            {"case_ref": "X000002", "answers": {"2.1.1": "yes"}},
            {"case_ref": "X000001", "answers": {"2.1.1": "no"}},
        ]}),
        "body.standards.0.cases.2.case_ref", "case X000001 appears more than once in standard 2.1",
    ),
    "override without reason": (
        _crc({"standard": "1.1", "rating": "good"}, overrides=[{"standard": "1.1", "rating": "outstanding"}]),
        "body.overrides.0.reason", "Field required",
    ),
    "override with a blank reason": (
        _crc({"standard": "1.1", "rating": "good"}, overrides=[{"standard": "1.1", "rating": "outstanding", "reason": "  "}]),
        "body.overrides.0.reason", "at least 1 character",
    ),
    "override of a standard without evidence": (
        _crc(overrides=[{"standard": "2.1", "rating": "good", "reason": "x"}]),
        "body.overrides.0.standard", "no evidence to override",
    ),
    "standard given twice": (
        _crc({"standard": "1.1", "rating": "good"}, {"standard": "1.1", "rating": "inadequate"}),
        "body.standards.1.standard", "standard 1.1 is given more than once",
    ),
    "cases for a judged standard": (
        _crc({"standard": "1.1", "counts": {}}),
        "body.standards.0", "standard 1.1 is judged",
    ),
    "two kinds of evidence": (
        _crc({"standard": "2.1", "rating": "good", "counts": {}}),
        "body.standards.0", "give exactly one of cases, counts or rating",
    ),
    "no evidence in an entry": (
        _crc({"standard": "2.1"}),
        "body.standards.0", "give exactly one of cases, counts or rating",
    ),
    "unknown rating value": (
        _crc({"standard": "1.1", "rating": "excellent"}),
        "body.standards.0.rating", "Input should be",
    ),
    "unknown answer value": (
        _crc({"standard": "2.1", "cases": [{"case_ref": "A", "answers": {"2.1.1": "maybe"}}]}),
        "body.standards.0.cases.0.answers.2.1.1", "Input should be",
    ),
    "negative count": (
        _crc({"standard": "2.1", "counts": counts(k2_1_1=(-1, 10))}),
        "body.standards.0.counts.2.1.1.yes", "greater than or equal to 0",
    ),
    "attribute no filter reads": (
        _crc({"standard": "2.1", "cases": [{"case_ref": "A", "attributes": {"name": "J. Smith"}, "answers": {}}]}),
        "body.standards.0.cases.0.attributes.name", "read by no case filter",
    ),
    "field a case does not carry": (
        _crc({"standard": "2.1", "cases": [{"case_ref": "A", "date_of_birth": "2001-01-01", "answers": {}}]}),
        "body.standards.0.cases.0.date_of_birth", "Extra inputs are not permitted",
    ),
    "confidence out of range": (
        _crc({"standard": "1.1", "rating": "good"}, confidence=1.2),
        "body.confidence", "less than 1",
    ),
    "malformed standard id": (
        _crc({"standard": "two", "rating": "good"}),
        "body.standards.0.standard", "should match pattern",
    ),
}


@pytest.mark.parametrize("name", list(REFUSALS))
async def test_bad_input_is_a_422_problem_naming_the_fault(client, name):
    body, field, message = REFUSALS[name]
    response = await client.post("/v1/ratings", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422 and problem["type"] == "/problems/invalid-input"
    assert any(e["field"] == field and message in e["message"] for e in problem["errors"]), problem["errors"]


async def test_every_fault_is_named_at_once(client):
    body = _crc(
        {"standard": "9.9", "rating": "good"},
        {"standard": "2.1", "counts": counts(k2_1_1=(11, 10), k2_1_7=(1, 1))},
        overrides=[{"standard": "3.1", "rating": "good", "reason": "x"}],
    )
    problem = (await client.post("/v1/ratings", json=body)).json()
    assert [e["field"] for e in problem["errors"]] == [
        "body.standards.0.standard",
        "body.standards.1.counts.2.1.1.yes",
        "body.standards.1.counts.2.1.7",
        "body.overrides.0.standard",
    ]
    assert problem["detail"].startswith("body.standards.0.standard: ") and "(and 3 more)" in problem["detail"]


async def test_bad_inline_framework_lists_its_faults(client):
    bad = small_framework(key_question_thresholds={"outstanding": 50, "good": 65, "requires_improvement": 80})
    bad["rules"]["overall"]["max_score"] = 10
    response = await client.post("/v1/ratings", json={"framework": bad, "standards": []})
    assert response.status_code == 422
    messages = [e["message"] for e in response.json()["errors"]]
    assert all(e["field"] == "body.framework" for e in response.json()["errors"])
    assert any("thresholds must descend" in m for m in messages)
    assert any("maximum score 10" in m for m in messages)


async def test_malformed_json_is_a_422_problem(client):
    response = await client.post("/v1/ratings", content=b'{"framework": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "body"


async def test_refusals_do_not_echo_case_answers(client):
    body = _crc({"standard": "2.1", "cases": [{"case_ref": "A", "answers": {"2.1.1": "a secret note"}}]})
    response = await client.post("/v1/ratings", json=body)
    assert response.status_code == 422
    assert "secret" not in response.text


# --------------------------------------------------------------------------------------------------------
# OpenAPI


async def test_openapi_documents_the_rating_operations(client):
    spec = (await client.get("/openapi.json")).json()
    operations = {op["operationId"]: op for path in spec["paths"].values() for op in path.values()}
    assert {"list_frameworks", "get_framework", "rate_inspection", "rate_pooled"} <= set(operations)
    rate = operations["rate_inspection"]
    content = rate["requestBody"]["content"]["application/json"]
    assert content["schema"] == {"$ref": "#/components/schemas/RatingRequest"}
    assert {"counts", "cases", "published_table", "override"} <= set(content["examples"])
    assert "422" in rate["responses"]
    assert rate["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RatingResult"}
    schemas = spec["components"]["schemas"]
    assert {"RatingRequest", "PooledRatingRequest", "StandardEvidence", "CaseAnswers", "Override", "RatingResult"} <= set(schemas)
    refs = _refs(spec)
    assert refs <= {f"#/components/schemas/{name}" for name in schemas}, refs - set(schemas)


def _refs(node):
    found = set()
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


async def test_openapi_examples_are_answered_as_documented(client):
    spec = (await client.get("/openapi.json")).json()
    for path, operation in (("/v1/ratings", "post"), ("/v1/ratings/pooled", "post")):
        examples = spec["paths"][path][operation]["requestBody"]["content"]["application/json"]["examples"]
        for name, example in examples.items():
            response = await client.post(path, json=example["value"])
            assert response.status_code == 200, (name, response.text)
