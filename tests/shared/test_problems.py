"""RFC 9457 problem details: the body every service answers an error with."""

from __future__ import annotations

from inspection_shared.problems import (
    PROBLEM_JSON,
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
    ProblemDetail,
    problem_responses,
)


def test_invalid_input_names_each_field_at_fault():
    problem = InvalidInput(
        "2 rows are invalid",
        errors=[
            FieldError(field="body.population", message="must be at least 1"),
            FieldError(field="code", message="missing", line=3),
        ],
    )
    body = problem.body(instance="/v1/sample-size").model_dump(exclude_none=True)
    assert body == {
        "type": "/problems/invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": "2 rows are invalid",
        "instance": "/v1/sample-size",
        "errors": [
            {"field": "body.population", "message": "must be at least 1"},
            {"field": "code", "message": "missing", "line": 3},
        ],
    }
    assert str(problem) == "2 rows are invalid"


def test_not_found_and_conflict_carry_their_status_and_type():
    assert NotFound("No framework 'x'").body().model_dump(exclude_none=True) == {
        "type": "/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No framework 'x'",
    }
    conflict = Conflict("Framework changed", framework_id="youth-2018")
    body = conflict.body().model_dump(exclude_none=True)
    assert (body["status"], body["type"], body["framework_id"]) == (409, "/problems/conflict", "youth-2018")


def test_a_problem_without_a_slug_is_about_blank_and_keeps_its_headers():
    problem = Problem(503, "Engine unavailable", headers={"Retry-After": "5"})
    assert problem.body().type == "about:blank"
    assert problem.headers == {"Retry-After": "5"}
    assert str(problem) == "Engine unavailable"


def test_problem_responses_document_each_status_as_problem_json():
    responses = problem_responses(404, 422)
    assert sorted(responses) == [404, 422]
    assert responses[422]["model"] is ProblemDetail
    assert PROBLEM_JSON in responses[404]["content"]
