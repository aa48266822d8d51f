"""Faults in the input, as the cores raise them, and the one 422 problem every service answers them with."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from inspection_shared.faults import Fault, InputFault
from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.web import create_service_app
from rating_engine import errors as rating_errors
from sampling import errors as sampling_errors


class _DesignFault(InputFault):
    """A service's own kind of input fault, as each engine has one."""


def _app_raising(error: Exception):
    app = create_service_app(title="t", version="0", description="d")

    @app.get("/v1/refuse")
    async def refuse() -> None:
        raise error

    return app


async def _answer(error: Exception) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app_raising(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.get("/v1/refuse")


def test_an_input_fault_holds_its_detail_faults_and_facts():
    faults = [Fault("design.size", "is 5 more than the 20 eligible cases"), Fault("frame", "has 3 fields", 4)]
    error = InputFault("The size 25 is above the 20 eligible cases by 5.", faults, shortfall=5)
    assert isinstance(error, ValueError)
    assert str(error) == error.detail == "The size 25 is above the 20 eligible cases by 5."
    assert error.faults == faults and error.facts == {"shortfall": 5}
    assert faults[0].line is None and faults[1].line == 4
    assert InputFault("No faults named.").faults == []


def test_the_faults_module_knows_nothing_of_http():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, inspection_shared.faults; print(*sys.modules, sep='\\n')"],
        capture_output=True, text=True, check=True,
    )
    modules = set(loaded.stdout.split())
    assert "inspection_shared.faults" in modules
    assert not {m.split(".")[0] for m in modules} & {"fastapi", "starlette", "pydantic"}
    assert "inspection_shared.problems" not in modules


async def test_an_input_fault_is_answered_as_the_invalid_input_problem():
    response = await _answer(
        _DesignFault(
            "The frame's columns do not fit the design: 2 faults.",
            [Fault("region", "the design names this column but the frame does not have it"),
             Fault("frame", "has 3 fields; the header has 4", 7)],
            shortfall=3,
        )
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "/problems/invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": "The frame's columns do not fit the design: 2 faults.",
        "instance": "/v1/refuse",
        "errors": [
            {"field": "region", "message": "the design names this column but the frame does not have it"},
            {"field": "frame", "message": "has 3 fields; the header has 4", "line": 7},
        ],
    }  # the facts (shortfall) stay in the process


async def test_an_input_fault_without_faults_has_no_errors_member():
    response = await _answer(InputFault("The body must be an object with frame and design."))
    assert response.status_code == 422
    assert "errors" not in response.json()


@pytest.mark.parametrize("line", [None, 3])
async def test_the_answer_is_the_bytes_of_the_invalid_input_problem(line):
    """An InputFault and the InvalidInput problem naming the same faults are answered byte for byte alike."""
    detail = "body.standards.0.standard: framework x has no standard 9.9"
    fault = Fault("body.standards.0.standard", "framework x has no standard 9.9", line)
    answered = await _answer(InputFault(detail, [fault]))
    problem = await _answer(InvalidInput(detail, [FieldError(field=fault.field, message=fault.message, line=line)]))
    assert (answered.status_code, answered.headers["content-type"]) == (422, "application/problem+json")
    assert answered.content == problem.content


def test_each_engine_raises_its_input_faults_as_the_shared_kind():
    assert rating_errors.Fault is sampling_errors.Fault is Fault
    assert issubclass(rating_errors.RatingInputError, InputFault)
    assert issubclass(sampling_errors.SamplingInputError, InputFault)
