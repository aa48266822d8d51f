"""Two gateway processes on one database, as a deployment with replicas runs: each holds the summaries and
reports it has built, and a change made through one shows in the very next read through the other."""

import asyncio
import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import delete

from gateway.caseloads.models import Sample
from gateway.db import create_engine, create_sessionmaker
from gateway.inspections.models import Inspection
from tests.conftest import TEST_ACTOR
from tests.support.identity import signed_in
from tests.support.servers import service

pytestmark = pytest.mark.e2e


async def _remove(database_url: str, inspection_id: uuid.UUID) -> None:
    """Leave the run's shared database as the test found it."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
            await session.execute(delete(Sample).where(Sample.inspection_id == inspection_id))
            await session.execute(delete(Inspection).where(Inspection.id == inspection_id))
    finally:
        await engine.dispose()


def ok(response: httpx.Response, *statuses: int) -> dict:
    assert response.status_code in statuses, response.text
    return response.json()


def test_a_change_through_one_gateway_shows_in_the_next_summary_read_through_another(
    stack, database_url, tmp_path
):
    env = {"DATABASE_URL": database_url, "GATEWAY_RATING_ENGINE_URL": stack["rating"].url,
           "GATEWAY_SAMPLING_URL": stack["sampling"].url}
    with (
        service("gateway", "GATEWAY_", tmp_path, env) as other,
        httpx.Client(timeout=30, headers=signed_in(stack["gateway"].url)) as http,
    ):
        one, two = f"{stack['gateway'].url}/api/v1", f"{other.url}/api/v1"
        unit = ok(http.get(f"{one}/units", params={"code": "N53DRBY"}), 200)["items"][0]
        start = date.today() + timedelta(days=21)
        planned = ok(http.post(f"{one}/inspections", json={
            "unit_id": unit["id"], "framework_id": "probation-pdu-2021", "type": "core",
            "title": "Two gateways", "fieldwork_start": start.isoformat(),
            "fieldwork_end": (start + timedelta(days=11)).isoformat(),
        }), 201)
        iid = planned["id"]
        try:
            summary = f"/inspections/{iid}/summary"
            held = http.get(two + summary)
            assert held.json()["inspection"]["title"] == "Two gateways"
            assert http.get(one + summary).headers["etag"] == held.headers["etag"]  # one state, one ETag
            report = f"/inspections/{iid}/report"
            held_report = http.get(two + report)
            assert (held_report.json()["title"], held_report.json()["samples"]) == ("Two gateways", [])

            # The inspection itself, changed through one, read through two.
            etag = http.get(f"{one}/inspections/{iid}").headers["etag"]
            ok(http.patch(f"{one}/inspections/{iid}", json={"title": "Renamed"}, headers={"If-Match": etag}), 200)
            after = http.get(two + summary, headers={"If-None-Match": held.headers["etag"]})
            assert after.status_code == 200 and after.json()["inspection"]["title"] == "Renamed"

            # What is recorded for it: a frame and a sample, through one, read through two.
            ok(http.post(f"{one}/inspections/{iid}/transitions", json={"to": "pre_fieldwork"}), 200)
            frame = "case_ref,unit\n" + "".join(f"X{100000 + n},N53DRBY\n" for n in range(40))
            ok(http.put(f"{one}/inspections/{iid}/frames/case_supervision", content=frame,
                        headers={"Content-Type": "text/csv"}), 201)
            ok(http.post(f"{one}/inspections/{iid}/samples",
                         json={"sample_type": "case_supervision", "size": 10, "seed": 3}), 201)
            drawn = http.get(two + summary)
            assert [(s["sample_type"], s["in_sample"]) for s in drawn.json()["samples"]] == [("case_supervision", 10)]
            assert drawn.json()["inspection"]["status"] == "pre_fieldwork"
            reported = http.get(two + report, headers={"If-None-Match": held_report.headers["etag"]})
            assert reported.status_code == 200 and reported.json()["title"] == "Renamed"
            assert [(s["sample_type"], s["sample_size"]) for s in reported.json()["samples"]] == [("case_supervision", 10)]

            # Both answer 304 to the ETag of the state they both see.
            for base in (one, two):
                unchanged = http.get(base + summary, headers={"If-None-Match": drawn.headers["etag"]})
                assert unchanged.status_code == 304
                unchanged = http.get(base + report, headers={"If-None-Match": reported.headers["etag"]})
                assert unchanged.status_code == 304
        finally:
            asyncio.run(_remove(database_url, uuid.UUID(iid)))
