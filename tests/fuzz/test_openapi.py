"""Each service against its own OpenAPI document (schemathesis): requests made from the document (its
examples, the edges of every schema, and random ones, valid and not, through every method of each path)
are sent in process, and every answer is checked: never a server error (5xx), and always a status, a
media type, headers and a body that the document declares for the operation.

The gateway is called by a signed-in administrator (the `gateway` fixture), on PostgreSQL (and SQLite too
under `make fuzz`), with two inspections behind it (one in fieldwork with a sample, one in rating with a rating run). Each
request runs in a savepoint rolled back after it, so every example meets the same records and none is
left behind. A path parameter naming a record is, in two examples out of three, one of those records,
so that operations are tested past their 404.

`FUZZ_EXAMPLES` sets the random examples per operation (a few in `make test`, with the same examples
every run; `make fuzz` runs many more, new each run). The figures (operations, examples, answers by
status) are printed at the end of the run.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.app import create_app as create_gateway
from gateway.identity.models import RoleGrant
from rating_engine.app import create_app as create_rating_engine
from sampling.app import create_app as create_sampling
from tests.conftest import TEST_ADMIN_ID, TEST_SETTINGS
from tests.gateway.factories import make_assessed_sample, make_inspection, make_judgement, make_unit, synthetic_frame

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
ANY_ID = str(uuid.uuid4())
FUZZING = "FUZZ_EXAMPLES" in os.environ

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

BUDGET = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not FUZZING,  # `make test` sends the same requests every run
    database=None,
    suppress_health_check=list(HealthCheck),
)

GATEWAY = schemathesis.openapi.from_dict(create_gateway(TEST_SETTINGS).openapi())
RATING_ENGINE = schemathesis.openapi.from_dict(create_rating_engine().openapi())
SAMPLING = schemathesis.openapi.from_dict(create_sampling().openapi())

SENT: dict[str, Counter] = defaultdict(Counter)
"""Per service, the requests sent for each operation (printed by this folder's conftest)."""
ANSWERED: dict[str, Counter] = defaultdict(Counter)
"""Per service, the answers by status."""
DOCUMENTS = {"gateway": GATEWAY, "rating-engine": RATING_ENGINE, "sampling": SAMPLING}


class InProcess:
    """Sends a schemathesis case to an app in process, on the test's event loop, as `client` would."""

    def __init__(self, service: str, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop,
                 around: Callable[[Callable[[], Awaitable[httpx.Response]]], Awaitable[httpx.Response]] | None = None):
        self.service = service
        self.client = client
        self.loop = loop
        self.around = around

    def __call__(self, case: schemathesis.Case) -> httpx.Response:
        kwargs = case.as_transport_kwargs(base_url=str(self.client.base_url))
        kwargs.pop("cookies", None)
        # The client's own credentials, not what the document's security schemes would have sent.
        kwargs["headers"] = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}
        if isinstance(kwargs.get("data"), (bytes, str)):
            kwargs["content"] = kwargs.pop("data")
        request = self.client.build_request(**kwargs)

        async def send() -> httpx.Response:
            await request.aread()  # a form's parts are streamed: read, so the checks can show the request
            return await self.client.send(request)

        response = self.loop.run_until_complete(self.around(send) if self.around else send())
        SENT[self.service][case.operation.label] += 1
        ANSWERED[self.service][response.status_code] += 1
        return response


@pytest.fixture
async def loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


# --- the engines -------------------------------------------------------------------------------------


@pytest.fixture
async def rating_engine(engine_apps, loop):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=engine_apps[0]), base_url="http://rating") as c:
        yield InProcess("rating-engine", c, loop)


@pytest.fixture
async def sampling(engine_apps, loop):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=engine_apps[1]), base_url="http://sampling") as c:
        yield InProcess("sampling", c, loop)


@RATING_ENGINE.parametrize()
@BUDGET
def test_the_rating_engine_answers_as_its_document_says(case, rating_engine):
    case.validate_response(rating_engine(case), checks=CHECKS)


@SAMPLING.parametrize()
@BUDGET
def test_the_sampling_service_answers_as_its_document_says(case, sampling):
    case.validate_response(sampling(case), checks=CHECKS)


# --- the gateway -------------------------------------------------------------------------------------

COURT_KQS = [f"2.{s}.{k}" for s in range(1, 5) for k in range(1, 4)]
JUDGEMENTS = {"1.1": "good", "1.2": "good", "1.3": "outstanding", "1.4": "outstanding", "3.4": "good", "4.1": "good"}


async def _records(gateway: httpx.AsyncClient, session) -> dict[str, list[str]]:
    """Two inspections taken as far as a sample and a rating run, and what each path parameter may name."""
    region = await make_unit(session, type="region")
    pdu = await make_unit(session, parent=region)
    in_fieldwork = await make_inspection(session, unit=pdu, status="fieldwork")
    frame = synthetic_frame(
        ["case_ref", "unit", "gender", "sentence_type", "rosh_level", "start_date"], 40, units=[pdu.code]
    )
    uploaded = await gateway.put(f"/api/v1/inspections/{in_fieldwork.id}/frames/case_supervision",
                                 content=frame.encode(), headers={"Content-Type": "text/csv"})
    assert uploaded.status_code == 201, uploaded.text
    drawn = await gateway.post(f"/api/v1/inspections/{in_fieldwork.id}/samples",
                               json={"sample_type": "case_supervision", "size": 8, "seed": 3})
    assert drawn.status_code == 201, drawn.text
    yos = await make_unit(session, type="yos", parent=region)
    in_rating = await make_inspection(session, unit=yos, framework_id="youth-2021", status="rating")
    await make_assessed_sample(session, in_rating, "court_disposals",
                               [{"case_ref": f"S{n:06d}", "answers": {kq: "yes" for kq in COURT_KQS}}
                                for n in range(10)])
    for standard, rating in JUDGEMENTS.items():
        await make_judgement(session, in_rating, standard, rating)
    run = await gateway.post(f"/api/v1/inspections/{in_rating.id}/rating-runs")
    assert run.status_code == 201, run.text
    # A third, published and corrected once: its published versions and the reads of each.
    published = await make_inspection(session, unit=yos, framework_id="youth-2021", status="rating")
    await make_judgement(session, published, "1.1", "good")
    for step in (gateway.post(f"/api/v1/inspections/{published.id}/rating-runs"),
                 gateway.post(f"/api/v1/inspections/{published.id}/transitions", json={"to": "published"}),
                 gateway.post(f"/api/v1/inspections/{published.id}/corrections", json={
                     "reason": "Fuzzing", "judgements": {"1.1": {"rating": "outstanding", "evidence_summary": "Seen."}}})):
        done = await step
        assert done.status_code in (200, 201), done.text
    key = await gateway.post("/api/v1/api-keys", json={"name": "Fuzzing", "scopes": ["inspections:read"]})
    assert key.status_code == 201, key.text
    grant = await session.scalar(RoleGrant.__table__.select().with_only_columns(RoleGrant.id)
                                 .where(RoleGrant.user_id == TEST_ADMIN_ID))
    return {
        "inspection_id": [str(in_fieldwork.id), str(in_rating.id), str(published.id)],
        "unit_id": [str(pdu.id), str(yos.id)],
        "region_id": [str(region.id)],
        "framework_id": ["probation-pdu-2021", "youth-2021"],
        "sample_type": ["case_supervision", "court_disposals"],
        "sample_id": [drawn.json()["id"]],
        "case_ref": [drawn.json()["selected"][0]["case_ref"], "S000001"],
        "standard_id": ["1.1", "2.1"],
        "snapshot_id": [run.json()["id"]],
        "user_id": [str(TEST_ADMIN_ID)],
        "grant_id": [str(grant)],
        "key_id": [key.json()["id"]],
        "version": ["1", "2"],
    }


def _name_records(case: schemathesis.Case, records: dict[str, list[str]]) -> None:
    """Put a known record in each path parameter, two times out of three, chosen by the generated value
    (so that an example sends the same request each time it is run)."""
    for name, generated in list((case.path_parameters or {}).items()):
        known = records.get(name)
        if known:
            choice = zlib.crc32(repr(generated).encode()) % (len(known) + 1)
            if choice < len(known):
                case.path_parameters[name] = known[choice]


@pytest.fixture
async def gateway_records(gateway, db_session) -> dict[str, list[str]]:
    return await _records(gateway, db_session)


@pytest.fixture
def gateway_in_process(gateway, db_connection, loop):
    async def in_a_savepoint(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        savepoint = await db_connection.begin_nested()
        try:
            return await send()
        finally:
            await savepoint.rollback()

    return InProcess("gateway", gateway, loop, in_a_savepoint)


READINESS_CHECKS = [check for check in CHECKS if check is not not_a_server_error]
"""/readyz answers 503, as its document says, while a dependency is unreachable; on SQLite the test's own
open transaction holds the database, so there it is 503, and it is held to its document all the same."""


@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"] if FUZZING else ["postgresql"], indirect=True)
@GATEWAY.parametrize()
@BUDGET
def test_the_gateway_answers_as_its_document_says(case, gateway_in_process, gateway_records):
    _name_records(case, gateway_records)
    checks = READINESS_CHECKS if case.operation.path == "/readyz" else CHECKS
    case.validate_response(gateway_in_process(case), checks=checks)


async def test_every_gateway_operation_documents_its_refusal_of_a_caller_without_good_credentials(anonymous):
    # Found by schemathesis run from outside with a token its own sign-out had ended: 401s nowhere documented.
    document = (await anonymous.get("/openapi.json")).json()
    refused = 0
    for path, operations in document["paths"].items():
        concrete = path
        for name in re.findall(r"\{(\w+)\}", path):
            concrete = concrete.replace("{" + name + "}", "case_supervision" if name == "sample_type" else ANY_ID)
        for method, operation in operations.items():
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                response = await anonymous.request(method, concrete, headers=headers)
                assert str(response.status_code) in operation["responses"], (method, path, response.text)
                refused += response.status_code == 401
            if "security" in operation:
                assert {"401", "403"} <= set(operation["responses"]) or path == "/api/v1/me", (method, path)
    assert refused > 50
