"""Vocabularies of frame columns: listed publicly and in the upload's description, values read as their codes
at upload (so each stratum is one group), unknown values and units outside the inspected one refused."""

from __future__ import annotations

import gzip

import httpx
from sqlalchemy import func, select

from gateway.caseloads import frames
from gateway.caseloads.models import CaseloadFrame
from inspection_shared.clients import SamplingClient
from inspection_shared.sampling import SampleDesign
from sampling.app import create_app as create_sampling
from tests.gateway.factories import make_inspection, make_region_inspection, make_unit

API = "/api/v1"
PROBLEM = "application/problem+json"
CSV = {"Content-Type": "text/csv"}


def frame_url(inspection, sample_type: str = "case_supervision") -> str:
    return f"{API}/inspections/{inspection.id}/frames/{sample_type}"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


async def frame_count(db_session, inspection) -> int:
    return await db_session.scalar(
        select(func.count()).select_from(CaseloadFrame).where(CaseloadFrame.inspection_id == inspection.id)
    )


async def stored(db_session, inspection) -> str:
    frame = await db_session.scalar(select(CaseloadFrame).where(CaseloadFrame.inspection_id == inspection.id))
    return gzip.decompress(frame.content).decode()


# --- the list, and the upload's description ------------------------------------------------------------


async def test_the_vocabularies_are_listed_to_anyone_with_codes_labels_and_spellings(anonymous):
    response = await anonymous.get(f"{API}/vocabularies")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    assert [v["column"] for v in body["items"]] == [
        "disposal_type", "gender", "looked_after", "released_from_custody", "rosh_level", "sentence_type",
        "unpaid_work_requirement",
    ]
    gender = next(v for v in body["items"] if v["column"] == "gender")
    assert [c["code"] for c in gender["codes"]] == ["male", "female", "other", "not_known"]
    male = gender["codes"][0]
    assert (male["label"], male["spellings"][:2]) == ("Male", ["M", "Man"])
    rosh = next(v for v in body["items"] if v["column"] == "rosh_level")
    assert (rosh["name"], [c["code"] for c in rosh["codes"]]) == (
        "Risk of serious harm level", ["low", "medium", "high", "very_high"]
    )


async def test_the_upload_describes_the_codes_each_column_takes(anonymous):
    document = (await anonymous.get("/openapi.json")).json()
    described = document["paths"][f"{API}/inspections/{{inspection_id}}/frames/{{sample_type}}"]["put"]["description"]
    assert "- `gender` (gender): `male`, `female`, `other`, `not_known`" in described
    assert "- `rosh_level` (risk of serious harm level): `low`, `medium`, `high`, `very_high`" in described
    assert "`community_order`, `suspended_sentence_order`, `licence`" in described
    assert "- `unit`: the code of the inspected unit or of a unit below it" in described
    assert "GET /api/v1/vocabularies" in described
    listed = document["paths"][f"{API}/vocabularies"]["get"]
    assert listed["operationId"] == "list_vocabularies" and "security" not in listed


# --- normalisation ---------------------------------------------------------------------------------------


async def test_spellings_of_one_code_are_stored_as_it_and_make_one_stratum(gateway, db_session):
    unit = await make_unit(db_session)
    inspection = await make_inspection(db_session, unit=unit)
    genders = ["M", "male", "Male", " MALE ", "man", "F", "female", "Female"]
    sentences = ["Community Order", "CO", "community_order", "licence", "License", "Post-release licence"]
    risks = ["Low", "L", "medium", "MED", "High", "very high", "VH", "Very-High"]
    rows = [
        f"X{100001 + n},{unit.code.lower() if n % 2 else unit.code},{genders[n % 8]},{sentences[n % 6]},"
        f"{risks[n % 8]}"
        for n in range(400)
    ]
    text = "case_ref,unit,gender,sentence_type,rosh_level\n" + "\n".join(rows) + "\n"
    uploaded = await gateway.put(frame_url(inspection), content=text.encode(), headers=CSV)
    assert uploaded.status_code == 201, uploaded.text

    canonical = await stored(db_session, inspection)
    lines = canonical.splitlines()
    assert lines[0] == "case_ref,gender,rosh_level,sentence_type,unit"
    assert lines[1] == f"X100001,male,low,community_order,{unit.code}"
    assert {tuple(line.split(",")[1:]) for line in lines[1:]} <= {
        (g, r, s, unit.code)
        for g in ("male", "female") for r in ("low", "medium", "high", "very_high")
        for s in ("community_order", "licence")
    }

    drawn = await gateway.post(f"{API}/inspections/{inspection.id}/samples",
                               json={"sample_type": "case_supervision", "size": 40, "seed": 5})
    assert drawn.status_code == 201, drawn.text
    sample = drawn.json()
    strata = {a["stratum"] for a in sample["allocation"]}
    assert len(strata) <= 2 * 4 * 2  # not 239: one stratum per combination of codes
    assert {part for s in strata for part in s.split("|")} == {
        unit.code, "male", "female", "low", "medium", "high", "very_high", "community_order", "licence"
    }
    gender_balance = {b["level"] for b in sample["balance"] if b["variable"] == "gender"}
    assert gender_balance == {"male", "female"}

    # The draw is reproducible from the stored frame and design.
    async with SamplingClient("http://sampling", transport=httpx.ASGITransport(app=create_sampling())) as sampling:
        again = await sampling.draw_sample_csv(canonical.encode(), SampleDesign.model_validate(sample["design"]))
    assert [c.model_dump() for c in again.selected] == sample["selected"]
    assert again.frame_fingerprint == uploaded.json()["fingerprint"] == sample["frame_fingerprint"]


async def test_youth_disposals_and_flags_are_read_as_their_codes(gateway, db_session):
    unit = await make_unit(db_session, type="yos")
    inspection = await make_inspection(db_session, unit=unit, framework_id="youth-2021")
    text = (
        "case_ref,unit,gender,disposal_type,looked_after\n"
        f"Y1,{unit.code},Girl,YC,Y\n"
        f"Y2,{unit.code},boy,Youth Conditional Caution,no\n"
        f"Y3,{unit.code},F,community resolution,\n"
    )
    response = await gateway.put(frame_url(inspection, "out_of_court_disposals"), content=text.encode(), headers=CSV)
    assert response.status_code == 201, response.text
    assert (await stored(db_session, inspection)).splitlines()[1:] == [
        f"Y1,youth_caution,female,true,{unit.code}",
        f"Y2,youth_conditional_caution,male,false,{unit.code}",
        f"Y3,community_resolution,female,,{unit.code}",
    ]


# --- refusals ------------------------------------------------------------------------------------------


async def test_unknown_values_are_refused_naming_column_line_value_and_the_codes_allowed(gateway, db_session):
    unit = await make_unit(db_session)
    inspection = await make_inspection(db_session, unit=unit)
    text = (
        "case_ref,unit,gender,sentence_type,rosh_level\n"            # 1
        f"X1,{unit.code},M,community_order,low\n"                     # 2
        f"X2,{unit.code},M,banana,low\n"                              # 3
        f"X3,{unit.code},Q,licence,999\n"                             # 4
        f"X4,{unit.code},female,licence,medium\n"                     # 5
    )
    body = assert_problem(await gateway.put(frame_url(inspection), content=text.encode(), headers=CSV), 422)
    assert [(e["line"], e["field"]) for e in body["errors"]] == [(3, "sentence_type"), (4, "gender"), (4, "rosh_level")]
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["rosh_level"] == (
        "'999' is not a risk of serious harm level code or a spelling of one: expected one of low, medium, high, "
        "very_high"
    )
    assert messages["sentence_type"].startswith("'banana' is not a sentence type code or a spelling of one: expected "
                                                "one of community_order, suspended_sentence_order, licence")
    assert body["allowed_codes"] == {
        "sentence_type": [
            "community_order", "suspended_sentence_order", "licence", "post_sentence_supervision", "pre_release_custody",
            "immediate_custody", "deferred_sentence", "fine", "discharge", "mental_health_disposal",
        ],
        "gender": ["male", "female", "other", "not_known"],
        "rosh_level": ["low", "medium", "high", "very_high"],
    }
    assert body["detail"].startswith("The frame has 3 faults, the first on line 3: sentence_type 'banana' is not")
    assert await frame_count(db_session, inspection) == 0


async def test_every_bad_line_is_counted_and_the_first_listed(gateway, db_session):
    unit = await make_unit(db_session)
    inspection = await make_inspection(db_session, unit=unit)
    text = "case_ref,unit,gender\n" + "".join(f"X{n},{unit.code},{'Z' if n % 2 else 'M'}\n" for n in range(100))
    body = assert_problem(await gateway.put(frame_url(inspection), content=text.encode(), headers=CSV), 422)
    assert len(body["errors"]) == frames.MAX_FAULTS
    assert [e["line"] for e in body["errors"]] == list(range(3, 3 + 2 * frames.MAX_FAULTS, 2))
    assert "(50 faults; the first 20 are listed.)" in body["detail"]
    assert await frame_count(db_session, inspection) == 0


async def test_a_unit_column_names_only_the_inspected_unit_or_those_below_it(gateway, db_session):
    inspection = await make_region_inspection(db_session, ("N01", "N02"))
    elsewhere = await make_unit(db_session, code="N99")  # a PDU of another region
    text = (
        "case_ref,unit,gender\n"
        "X1,N01,M\n"
        "X2,n02,F\n"
        f"X3,{elsewhere.code},M\n"
        "X4,N01,M\n"
        "X5,Derby,F\n"
    )
    body = assert_problem(await gateway.put(frame_url(inspection), content=text.encode(), headers=CSV), 422)
    region = (await gateway.get(f"{API}/units/{inspection.unit_id}")).json()["code"]
    expected = f"is not the inspected unit {region} or a unit below it: expected one of " + ", ".join(
        sorted([region, "N01", "N02"])
    )
    assert [(e["line"], e["field"], e["message"]) for e in body["errors"]] == [
        (4, "unit", f"'N99' {expected}"),
        (6, "unit", f"'Derby' {expected}"),
    ]
    assert body["allowed_codes"] == {"unit": sorted([region, "N01", "N02"])}
    assert await frame_count(db_session, inspection) == 0

    fixed = text.replace(f"X3,{elsewhere.code}", "X3,N02").replace("X5,Derby", f"X5,{region}")
    accepted = await gateway.put(frame_url(inspection), content=fixed.encode(), headers=CSV)
    assert accepted.status_code == 201, accepted.text
    assert [line.split(",")[2] for line in (await stored(db_session, inspection)).splitlines()[1:]] == [
        "N01", "N02", "N02", "N01", region,
    ]


async def test_a_pdus_frame_may_not_name_its_region(gateway, db_session):
    region = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, parent=region)
    inspection = await make_inspection(db_session, unit=pdu)
    text = f"case_ref,unit\nX1,{pdu.code}\nX2,{region.code}\n"
    body = assert_problem(await gateway.put(frame_url(inspection), content=text.encode(), headers=CSV), 422)
    assert [(e["line"], e["message"]) for e in body["errors"]] == [
        (3, f"'{region.code}' is not the inspected unit {pdu.code} or a unit below it")
    ]


async def test_a_draws_exclusion_values_are_read_as_codes_and_unknown_ones_refused(gateway, db_session):
    unit = await make_unit(db_session)
    inspection = await make_inspection(db_session, unit=unit)
    rows = [f"X{100001 + n},{unit.code},{'MF'[n % 2]},{('CO', 'Licence', 'SSO')[n % 3]}" for n in range(60)]
    text = "case_ref,unit,gender,sentence_type\n" + "\n".join(rows) + "\n"
    assert (await gateway.put(frame_url(inspection), content=text.encode(), headers=CSV)).status_code == 201
    samples = f"{API}/inspections/{inspection.id}/samples"

    refused = await gateway.post(samples, json={
        "sample_type": "case_supervision", "size": 10,
        "exclude": [{"column": "sentence_type", "values": ["SSO", "Deferred", "banana"], "reason": "not supervised"}],
    })
    body = assert_problem(refused, 422)
    assert [(e["field"], e["message"].split(" is not")[0]) for e in body["errors"]] == [
        ("body.exclude.0.values.2", "'banana'")
    ]
    assert list(body["allowed_codes"]) == ["sentence_type"]

    drawn = await gateway.post(samples, json={
        "sample_type": "case_supervision", "size": 10,
        "exclude": [{"column": "sentence_type", "values": ["SSO", "Deferred"], "reason": "not supervised"}],
    })
    assert drawn.status_code == 201, drawn.text
    sample = drawn.json()
    assert sample["design"]["exclude"][0]["values"] == ["suspended_sentence_order", "deferred_sentence"]
    assert sample["frame"]["excluded"][0]["excluded"] == 20
    assert sample["frame"]["eligible"] == 40
