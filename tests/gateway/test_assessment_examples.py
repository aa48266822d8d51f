"""The examples of case answers in the gateway's OpenAPI document are valid against the framework they
name: imported (CSV and JSON) and recorded one case at a time into an inspection under it."""

from __future__ import annotations

import json
import re

from tests.gateway.factories import make_inspection, make_sampled_cases

IMPORT = "/api/v1/inspections/{inspection_id}/assessments/import"


async def test_the_case_answer_examples_are_accepted_by_the_framework_they_name(gateway, db_session):
    document = (await gateway.get("/openapi.json")).json()
    body = document["paths"][IMPORT]["post"]["requestBody"]
    framework_id = re.search(r"The examples are for an inspection under ([a-z0-9-]+)", body["description"]).group(1)
    schemas = document["components"]["schemas"]
    assert schemas["InspectionCreate"]["examples"][0]["framework_id"] == framework_id
    csv_example = body["content"]["text/csv"]["example"]
    json_example = body["content"]["application/json"]["example"]
    write_example = schemas["CaseAssessmentWrite"]["examples"][0]
    read_example = schemas["CaseAssessmentRead"]["examples"][0]

    rows = [line.split(",") for line in csv_example.splitlines()[1:]]
    cases = {(row[1], row[0]) for row in rows} | {(item["sample_type"], item["case_ref"]) for item in json_example}
    cases.add((read_example["sample_type"], read_example["case_ref"]))
    inspection = await make_inspection(db_session, framework_id=framework_id, status="fieldwork")
    for sample_type in sorted({sample_type for sample_type, _ in cases}):
        await make_sampled_cases(db_session, inspection, sample_type, sorted(ref for t, ref in cases if t == sample_type))

    one = f"/api/v1/inspections/{inspection.id}/samples/{read_example['sample_type']}/cases/{read_example['case_ref']}/assessment"
    recorded = await gateway.put(one, json=write_example)
    assert recorded.status_code == 201, recorded.text
    assert {k: recorded.json()[k] for k in write_example} == write_example

    path = IMPORT.format(inspection_id=inspection.id)
    from_csv = await gateway.post(path, content=csv_example, headers={"Content-Type": "text/csv"})
    assert from_csv.status_code == 200, from_csv.text
    assert from_csv.json()["cases"] == len({(row[1], row[0]) for row in rows})
    assert from_csv.json()["answers"] == len(rows)

    from_json = await gateway.post(path, content=json.dumps(json_example), headers={"Content-Type": "application/json"})
    assert from_json.status_code == 200, from_json.text
    assert from_json.json()["cases"] == len(json_example)
    assert from_json.json()["answers"] == sum(len(item["answers"]) for item in json_example)
