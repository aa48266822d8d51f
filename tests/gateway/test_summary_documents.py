"""The inspection summary is served as a held document while nothing in it changes: every change made
through the API shows in the next read, its ETag moves with it, and If-None-Match is answered 304
while nothing has changed."""

from __future__ import annotations

import uuid

import pytest

from gateway.summaries import service
from gateway.summaries.documents import SummaryDocuments
from tests.gateway.factories import make_inspection, make_sample, make_unit

INSPECTIONS = "/api/v1/inspections"


def summary_url(inspection_id: uuid.UUID) -> str:
    return f"{INSPECTIONS}/{inspection_id}/summary"


async def built_afresh(db_session, inspection_id: uuid.UUID) -> dict:
    db_session.expire_all()  # the test's session holds rows the requests have changed since
    return (await service.summary(db_session, inspection_id)).model_dump(mode="json")


async def follows(gateway, db_session, inspection_id: uuid.UUID, earlier: list[str]) -> dict:
    """Read the summary, which must be what a fresh build gives now under an ETag not seen before; and
    read it again, which must give the same bytes."""
    response = await gateway.get(summary_url(inspection_id))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == await built_afresh(db_session, inspection_id)
    etag = response.headers["etag"]
    assert etag not in earlier, "the ETag did not move with the change"
    earlier.append(etag)
    again = await gateway.get(summary_url(inspection_id))
    assert (again.content, again.headers["etag"]) == (response.content, etag)
    return response.json()


def ok(response, *statuses: int) -> dict:
    assert response.status_code in statuses, response.text
    return response.json()


async def test_every_change_made_through_the_api_shows_in_the_next_read(gateway, db_session):
    region = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, parent=region)
    inspection = await make_inspection(db_session, unit=pdu, status="fieldwork")
    iid = inspection.id
    etags: list[str] = []
    await follows(gateway, db_session, iid, etags)

    # The inspection's own plan.
    held = await gateway.get(f"{INSPECTIONS}/{iid}")
    ok(await gateway.patch(f"{INSPECTIONS}/{iid}", json={"title": "Renamed"},
                                 headers={"If-Match": held.headers["etag"]}), 200)
    assert (await follows(gateway, db_session, iid, etags))["inspection"]["title"] == "Renamed"

    # A frame uploaded and a sample drawn from it, then a case replaced by a reserve.
    sample = await make_sample(gateway, inspection, reserves_per_stratum=2)
    shown = await follows(gateway, db_session, iid, etags)
    assert [s["in_sample"] for s in shown["samples"]] == [12]
    first = sample["selected"][0]["case_ref"]
    ok(await gateway.post(f"/api/v1/samples/{sample['id']}/substitutions",
                                json={"case_ref": first, "reason": "Moved out of the area"}), 201)
    assert (await follows(gateway, db_session, iid, etags))["samples"][0]["replaced"] == 1

    # Case answers, one at a time and in bulk.
    cases = [c["case_ref"] for c in (ok(await gateway.get(f"/api/v1/samples/{sample['id']}/cases",
                                                                ), 200))["items"]]
    assessment = f"{INSPECTIONS}/{iid}/samples/case_supervision/cases/{cases[0]}/assessment"
    ok(await gateway.put(assessment, json={"answers": {"2.2.1": "yes"}}), 201)
    assert (await follows(gateway, db_session, iid, etags))["assessments"]["recorded"] == 1
    rows = "".join(f"{ref},case_supervision,2.2.1,no\n" for ref in cases[1:4])
    ok(await gateway.post(f"{INSPECTIONS}/{iid}/assessments/import",
                                content=f"case_ref,sample_type,key_question,answer\n{rows}",
                                headers={"Content-Type": "text/csv"}), 200, 201)
    assert (await follows(gateway, db_session, iid, etags))["assessments"]["recorded"] == 4

    # Judgements, the rating phase, a rating run and a panel decision, publication.
    for standard in ("1.1", "1.2", "1.3", "1.4"):
        ok(await gateway.put(f"{INSPECTIONS}/{iid}/judgements/{standard}",
                                   json={"rating": "good", "evidence_summary": "Seen in interviews."}), 201)
    assert (await follows(gateway, db_session, iid, etags))["judgements"]["missing"] == []
    ok(await gateway.post(f"{INSPECTIONS}/{iid}/transitions", json={"to": "rating"}), 200)
    await follows(gateway, db_session, iid, etags)
    ok(await gateway.post(f"{INSPECTIONS}/{iid}/rating-runs", json={}), 201)
    assert (await follows(gateway, db_session, iid, etags))["ratings"]["kind"] == "run"
    # The case-based standards, with few or no cases answered, are marked not rated: publication needs it.
    decision = {"overrides": [{"standard": "1.1", "rating": "outstanding", "reason": "The panel weighed it."}] + [
        {"standard": f"2.{n}", "rating": "not_rated", "reason": "Too few cases answered."} for n in range(1, 6)]}
    ok(await gateway.post(f"{INSPECTIONS}/{iid}/panel-decisions", json=decision), 201)
    assert (await follows(gateway, db_session, iid, etags))["ratings"]["kind"] == "override"
    ok(await gateway.post(f"{INSPECTIONS}/{iid}/transitions", json={"to": "published"}), 200)
    assert (await follows(gateway, db_session, iid, etags))["ratings"]["published"] is True

    # The unit and its region renamed.
    for unit, name in ((pdu, "Renamed PDU"), (region, "Renamed region")):
        held = await gateway.get(f"/api/v1/units/{unit.id}")
        ok(await gateway.patch(f"/api/v1/units/{unit.id}", json={"name": name},
                                     headers={"If-Match": held.headers["etag"]}), 200)
    shown = await follows(gateway, db_session, iid, etags)
    assert (shown["unit"]["name"], shown["unit"]["region"]["name"]) == ("Renamed PDU", "Renamed region")


async def test_a_refused_change_leaves_the_held_summary_as_it_was(gateway, db_session):
    inspection = await make_inspection(db_session, status="published")
    first = await gateway.get(summary_url(inspection.id))
    refused = await gateway.put(f"{INSPECTIONS}/{inspection.id}/judgements/1.1",
                                json={"rating": "good", "evidence_summary": "Too late."})
    assert refused.status_code == 409
    again = await gateway.get(summary_url(inspection.id))
    assert (again.headers["etag"], again.content) == (first.headers["etag"], first.content)


async def test_if_none_match_is_answered_304_while_nothing_has_changed(gateway, db_session):
    inspection = await make_inspection(db_session, status="planned")
    url = summary_url(inspection.id)
    etag = (await gateway.get(url)).headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await gateway.get(url, headers={"If-None-Match": sent})
        assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", etag), sent
    assert (await gateway.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    ok(await gateway.post(f"{INSPECTIONS}/{inspection.id}/transitions", json={"to": "withdrawn", "note": "x"}), 200)
    changed = await gateway.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["inspection"]["status"] == "withdrawn"
    assert changed.headers["etag"] != etag


async def test_an_unknown_inspection_is_a_404_problem(gateway):
    missing = uuid.uuid4()
    response = await gateway.get(summary_url(missing), headers={"If-None-Match": "*"})
    assert response.status_code == 404
    assert response.json()["detail"] == f"No inspection {missing}"


@pytest.mark.parametrize("capacity", [0, 1, 2])
async def test_summaries_beyond_the_capacity_are_built_again_and_stay_right(gateway, gateway_app, db_session, capacity):
    gateway_app.state.summaries = SummaryDocuments(None, capacity=capacity)
    inspections = [await make_inspection(db_session, status="planned", title=f"Inspection {n}") for n in range(3)]
    for _ in range(2):
        for n, inspection in enumerate(inspections):
            body = (await gateway.get(summary_url(inspection.id))).json()
            assert body["inspection"]["title"] == f"Inspection {n}"
    assert len(gateway_app.state.summaries) == capacity
