"""A caseload frame with columns of personal data the sample does not need is refused before anything
else is checked, naming those columns and saying why; nothing of it is kept or echoed."""

from __future__ import annotations

import pytest

from gateway.caseloads.frames import personal_data
from tests.gateway.factories import frame_units, make_inspection, make_unit, synthetic_frame
from tests.gateway.test_caseloads import CSV, assert_problem, frame_count, frame_url

PERSONAL = {
    "a name": ["name", "Name", "first_name", "FirstName", "forename", "Forenames", "Surname", "last name",
               "full_name", "offender_name", "Offender Manager Name", "known_as", "alias"],
    "a date of birth": ["date_of_birth", "Date of Birth", "DateOfBirth", "DOB", "dob", "birth_date", "offender_dob"],
    "an address": ["address", "Address Line 1", "home_address", "addr1", "street"],
    "a postcode": ["postcode", "Post Code", "PostCode", "post_code", "zip"],
    "a PNC number": ["pnc", "PNC No.", "pnc_number", "PNCID", "pnc_id"],
    "a NOMIS or prison number": ["nomis", "NOMIS_ID", "nomis_number", "noms_number", "prison_number"],
    "a CRN": ["crn", "CRN", "crn_number"],
    "a national insurance number": ["ni_number", "NI Number", "NINO", "national_insurance_number", "NI No"],
    "a phone number": ["phone", "telephone", "Mobile", "tel_no", "phone_number", "Tel"],
    "an email address": ["email", "E-mail", "email_address", "EmailAddress"],
}
NOT_PERSONAL = ["case_ref", "unit", "unit_name", "gender", "sentence_type", "rosh_level", "start_date", "team",
                "disposal_type", "looked_after", "unpaid_work_requirement", "filename", "domain", "nominal"]


@pytest.mark.parametrize(("what", "name"), [(what, name) for what, names in PERSONAL.items() for name in names])
def test_columns_of_personal_data_are_recognised_by_their_usual_names(what, name):
    assert personal_data(name) == what


@pytest.mark.parametrize("name", NOT_PERSONAL)
def test_the_columns_samples_use_are_not_taken_for_personal_data(name):
    assert personal_data(name) is None


async def test_a_frame_with_personal_data_is_refused_naming_the_columns_and_why(gateway, db_session):
    inspection = await make_inspection(db_session)
    upload = (
        "case_ref,First Name,unit,gender,DOB,postcode,PNC No.,email,favourite_colour\n"
        "X1,Jo,N01,M,1990-01-01,AB1 2CD,2001/0000001X,jo@example.org,blue\n"
    )
    response = await gateway.put(frame_url(inspection), content=upload.encode(), headers=CSV)
    body = assert_problem(response, 422, "First Name", "DOB", "postcode", "PNC No.", "email")
    assert body["personal_data_columns"] == body["refused_columns"] == ["First Name", "DOB", "postcode", "PNC No.", "email"]
    assert "First Name, DOB, postcode, PNC No., email" in body["detail"]
    assert "Personal data the sample does not need is never taken" in body["detail"]
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["DOB"] == "holds a date of birth: personal data the case_supervision sample does not need, never taken"
    assert messages["postcode"].startswith("holds a postcode")
    assert all(e["line"] == 1 for e in body["errors"])
    assert body["allowed_columns"] == ["case_ref", "gender", "rosh_level", "sentence_type", "start_date", "unit"]
    for value in ("Jo", "1990-01-01", "AB1 2CD", "2001/0000001X", "jo@example.org", "blue"):
        assert value not in response.text
    assert await frame_count(db_session, inspection) == 0


@pytest.mark.parametrize(
    "header",
    [
        "surname,unit,surname",        # a repeated column
        "unit,Date of Birth",          # no case_ref
        "case_ref,,address",           # a blank name
    ],
)
async def test_personal_data_is_refused_before_any_other_fault_of_the_header(gateway, db_session, header):
    inspection = await make_inspection(db_session)
    response = await gateway.put(frame_url(inspection), content=f"{header}\nX1,N01,x\n".encode(), headers=CSV)
    body = assert_problem(response, 422)
    assert body["personal_data_columns"] == [name for name in dict.fromkeys(header.split(",")) if personal_data(name)]
    assert "personal data" in body["detail"]


async def test_a_column_the_sample_type_uses_is_never_refused_as_personal_data(gateway, db_session):
    # The victims sample takes case_ref, start_date and unit only; a frame of just those is taken.
    inspection = await make_inspection(
        db_session, unit=await make_unit(db_session, type="nps_division"), framework_id="probation-nps-2018"
    )
    accepted = await gateway.put(
        frame_url(inspection, "victims"), content=synthetic_frame(
            ["case_ref", "start_date", "unit"], 5, units=await frame_units(db_session, inspection)
        ).encode(),
        headers=CSV,
    )
    assert accepted.status_code == 201, accepted.text
    refused = await gateway.put(
        frame_url(inspection, "victims"), content=b"case_ref,unit,victim_name\nX1,N01,Sam\n", headers=CSV
    )
    assert assert_problem(refused, 422, "victim_name")["personal_data_columns"] == ["victim_name"]
