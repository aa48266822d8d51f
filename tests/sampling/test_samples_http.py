"""POST /v1/samples over HTTP: the three ways in, the contract fields, and every refusal with its fault."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest

from inspection_shared.sampling import SampleResult
from sampling.app import create_app
from sampling.selection import router
from sampling.settings import Settings

from .frames import only, synthetic_frame, to_csv

ROWS = synthetic_frame(400)
FRAME = only(ROWS, ["case_ref", "pdu", "gender", "rosh"])
DESIGN = {"size": 60, "unit": "pdu", "min_per_unit": 5, "strata": ["gender", "rosh"], "reserves_per_stratum": 2,
          "seed": 7}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


def fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


async def post_csv(client, data: bytes, design: dict):
    return await client.post("/v1/samples", content=data, params={"design": json.dumps(design)},
                             headers={"Content-Type": "text/csv"})


async def test_json_frame_contract(client):
    response = await client.post("/v1/samples", json={"frame": FRAME, "design": DESIGN})
    assert response.status_code == 200
    result = response.json()
    SampleResult.model_validate(result)  # the wire shape is the shared schema
    assert len(result["selected"]) == 60 == result["sample_size"]
    assert set(result["selected"][0]) >= {"case_ref", "unit", "stratum", "inclusion_probability", "weight"}
    assert set(result["reserves"][0]) >= {"case_ref", "stratum", "rank"}
    assert result["seed"] == 7 and result["design"]["seed"] == 7
    assert len(result["frame_fingerprint"]) == 64 and result["algorithm"] == "stratified-srswor-prn-splitmix64-v1"
    assert {u["unit"]: u["sample"] >= 5 for u in result["unit_allocation"]} == {f"N0{i}": True for i in range(1, 5)}
    chosen = {c["case_ref"] for c in result["selected"]}
    assert not chosen & {c["case_ref"] for c in result["reserves"]}
    assert sum(r["sample"] for r in result["allocation"]) == 60
    assert result["largest_deviation"]["variable"] in {"pdu", "gender", "rosh"}
    assert result["frame"] == {"rows": 400, "outside_window": 0, "excluded": [], "eligible": 400}


async def test_reversed_rows_give_the_same_sample(client):
    a = (await client.post("/v1/samples", json={"frame": FRAME, "design": DESIGN})).json()
    b = (await client.post("/v1/samples", json={"frame": FRAME[::-1], "design": DESIGN})).json()
    assert a["selected"] == b["selected"] and a["reserves"] == b["reserves"]
    assert a["frame_fingerprint"] == b["frame_fingerprint"]


async def test_csv_body_with_the_design_in_the_query(client):
    json_result = (await client.post("/v1/samples", json={"frame": FRAME, "design": DESIGN})).json()
    response = await post_csv(client, to_csv(FRAME), DESIGN)
    assert response.status_code == 200
    csv_result = response.json()
    assert csv_result["selected"] == json_result["selected"]
    assert csv_result["frame_fingerprint"] == json_result["frame_fingerprint"]


async def test_multipart_upload_with_a_design_field(client):
    json_result = (await client.post("/v1/samples", json={"frame": FRAME, "design": DESIGN})).json()
    response = await client.post(
        "/v1/samples",
        files={"frame": ("caseload.csv", to_csv(FRAME), "text/csv")},
        data={"design": json.dumps(DESIGN)},
    )
    assert response.status_code == 200
    assert response.json()["selected"] == json_result["selected"]


async def test_csv_with_windows_line_ends_a_byte_order_mark_and_quotes(client):
    plain = to_csv(FRAME)
    fancy = b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n").replace(b",M,", b',"M",')
    a = (await post_csv(client, plain, DESIGN)).json()
    b = (await post_csv(client, fancy, DESIGN)).json()
    assert a["selected"] == b["selected"] and a["frame_fingerprint"] == b["frame_fingerprint"]


async def test_without_a_seed_the_service_picks_one_and_it_redraws(client):
    design = {k: v for k, v in DESIGN.items() if k != "seed"}
    first = (await client.post("/v1/samples", json={"frame": FRAME, "design": design})).json()
    seed = first["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**53 and first["design"]["seed"] == seed
    again = (await client.post("/v1/samples", json={"frame": FRAME, "design": {**design, "seed": seed}})).json()
    assert again["selected"] == first["selected"]


async def test_idempotency_key_fixes_the_seed_of_a_retry(client):
    design = {k: v for k, v in DESIGN.items() if k != "seed"}
    headers = {"Idempotency-Key": "inspection-42-sample-1"}
    a = (await client.post("/v1/samples", json={"frame": FRAME, "design": design}, headers=headers)).json()
    b = (await client.post("/v1/samples", json={"frame": FRAME, "design": design}, headers=headers)).json()
    assert a["seed"] == b["seed"] and a["selected"] == b["selected"]


async def test_precision_per_unit_with_eligibility_and_carried_columns(client):
    frame = [dict(r, team=f"T{i % 3}") for i, r in enumerate(only(ROWS, ["case_ref", "pdu", "gender", "start_date"]))]
    design = {
        "precision": {"confidence": 0.8, "margin": 0.1},
        "unit": "pdu",
        "unit_mode": "per_unit",
        "strata": ["gender"],
        "eligibility": {"column": "start_date", "start": "2024-01-01", "end": "2024-09-30"},
        "carried": ["team"],
        "reserve_ratio": 0.2,
        "seed": 11,
    }
    response = await client.post("/v1/samples", json={"frame": frame, "design": design})
    assert response.status_code == 200, response.text
    result = response.json()
    eligible = {r["case_ref"] for r in frame if r["start_date"] <= "2024-09-30"}
    assert result["frame"]["eligible"] == len(eligible)
    assert {c["case_ref"] for c in result["selected"]} <= eligible
    assert all(c["carried"]["team"].startswith("T") for c in result["selected"])
    for unit in result["unit_allocation"]:
        assert unit["working"]["after_finite_population_correction"] <= unit["population"]
        assert unit["sample"] == min(unit["population"], -(-unit["working"]["after_response_rate"] // 1))


# -- refusals --------------------------------------------------------------------------------------


async def test_duplicate_case_refs_are_named_with_their_lines(client):
    rows = FRAME[:20] + [dict(FRAME[3])]
    response = await post_csv(client, to_csv(only(rows, ["case_ref"])), {"size": 5})
    body = problem(response, 422)
    ref = FRAME[3]["case_ref"]
    assert ref in body["detail"] and "line 5" in body["detail"] and "line 22" in body["detail"]
    assert body["errors"][0]["field"] == "case_ref" and body["errors"][0]["line"] == 22
    response = await client.post("/v1/samples", json={"frame": only(rows, ["case_ref"]), "design": {"size": 5}})
    body = problem(response, 422)
    assert ref in body["detail"] and "frame.20.case_ref" in fields(body)


async def test_a_repeated_case_ref_is_reported_before_faults_found_after_it(client):
    # The references are sorted beside the draw; a repeat is still the fault reported when the frame
    # also has a date that is not a date, or is too small for the size, as when the checks ran in turn.
    rows = [dict(r) for r in ROWS[:20]] + [dict(ROWS[3])]
    rows[7]["start_date"] = "not a date"
    window = {"column": "start_date", "start": "2024-01-01"}
    for design in ({"size": 500}, {"size": 5, "eligibility": window}):
        columns = ["case_ref", "start_date"] if "eligibility" in design else ["case_ref"]
        body = problem(await post_csv(client, to_csv(only(rows, columns)), design), 422)
        assert ROWS[3]["case_ref"] in body["detail"] and body["errors"][0]["field"] == "case_ref"
    unique = rows[:20]
    body = problem(await post_csv(client, to_csv(only(unique, ["case_ref"])), {"size": 500}), 422)
    assert body["errors"][0]["field"] == "design.size"


async def test_missing_case_ref_is_named(client):
    response = await post_csv(client, b"case_ref,gender\nA1,M\n,F\nA3,M\n", {"size": 1, "strata": ["gender"]})
    body = problem(response, 422)
    assert "line 3" in body["detail"] and body["errors"][0]["line"] == 3
    response = await client.post("/v1/samples", json={"frame": [{"case_ref": "A"}, {"case_ref": None}],
                                                      "design": {"size": 1}})
    assert "frame.1.case_ref" in fields(problem(response, 422))


async def test_missing_case_ref_column(client):
    body = problem(await post_csv(client, b"ref,gender\nA1,M\n", {"size": 1, "strata": ["gender"]}), 422)
    assert "case_ref" in fields(body) and "case_ref is missing" in body["detail"]


async def test_missing_design_column(client):
    body = problem(await post_csv(client, b"case_ref,gender\nA1,M\n", {"size": 1, "strata": ["gender", "rosh"]}), 422)
    assert "rosh" in fields(body) and "missing: rosh" in body["detail"]


async def test_unused_columns_are_refused_unless_carried(client):
    frame = [{"case_ref": "A1", "gender": "M", "name": "someone", "dob": "1990-01-01"}]
    body = problem(await client.post("/v1/samples", json={"frame": frame, "design": {"size": 1, "strata": ["gender"]}}), 422)
    assert {"name", "dob"} <= fields(body) and "design.carried" in body["detail"]
    ok = await client.post("/v1/samples", json={"frame": frame, "design": {"size": 1, "strata": ["gender"],
                                                                          "carried": ["name", "dob"]}})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("send", "says"),
    [
        ({"json": {"frame": [], "design": {"size": 1}}}, "no cases"),
        ({"content": b"case_ref\n", "csv": True}, "header but no cases"),
        ({"content": b"", "csv": True}, "no header"),
        ({"content": b"\r\n\r\n", "csv": True}, "no header"),
    ],
)
async def test_empty_frame(client, send, says):
    if send.get("csv"):
        response = await post_csv(client, send["content"], {"size": 1})
    else:
        response = await client.post("/v1/samples", json=send["json"])
    body = problem(response, 422)
    assert says in body["detail"] and "frame" in fields(body)


async def test_size_above_the_population_says_by_how_much(client):
    body = problem(await client.post("/v1/samples", json={"frame": FRAME, "design": {**DESIGN, "size": 450}}), 422)
    assert "above the 400 eligible cases by 50" in body["detail"] and fields(body) == {"design.size"}


async def test_minimums_that_cannot_be_met(client):
    design = {**DESIGN, "size": 12}
    body = problem(await client.post("/v1/samples", json={"frame": FRAME, "design": design}), 422)
    assert body["detail"] == "The minimum of 5 cases per unit needs 20 cases, 8 more than the sample of 12."


@pytest.mark.parametrize(
    ("data", "line", "says"),
    [
        (b"case_ref,gender\nA1,M\nA2,F,extra\nA3,M\n", 3, "has 3 fields; the header has 2"),
        (b"case_ref,gender\nA1,M\nA2\nA3,M\n", 3, "has 1 field; the header has 2 fields"),
        (b'case_ref,gender\nA1,M\n"A2,F\nA3,M\n', 3, "never closed"),
        (b"case_ref,gender\nA1,M\nA2,\xff\xfe\nA3,M\n", 3, "not UTF-8"),
        (b'case_ref,gender\n"A1\nstill A1",M\nA2,F,x\n', 4, "has 3 fields"),
    ],
)
async def test_unparseable_csv_rows_name_their_line(client, data, line, says):
    body = problem(await post_csv(client, data, {"size": 1, "strata": ["gender"]}), 422)
    assert f"line {line}" in body["detail"] and says in body["detail"]
    assert body["errors"][0]["line"] == line


async def test_csv_header_faults(client):
    body = problem(await post_csv(client, b"case_ref,gender,gender\nA1,M,F\n", {"size": 1, "strata": ["gender"]}), 422)
    assert "more than once: gender" in body["detail"]
    body = problem(await post_csv(client, b"case_ref,,gender\nA1,x,M\n", {"size": 1, "strata": ["gender"]}), 422)
    assert "no name" in body["detail"]


async def test_a_date_column_that_is_not_a_date(client):
    data = b"case_ref,start_date\nA1,2024-01-05\nA2,05/01/2024\nA3,2024-02-30\nA4,\n"
    design = {"size": 1, "eligibility": {"column": "start_date", "start": "2024-01-01"}}
    body = problem(await post_csv(client, data, design), 422)
    assert "start_date is not a date column" in body["detail"] and "2 values" in body["detail"]
    assert [(e["field"], e["line"]) for e in body["errors"]] == [("start_date", 3), ("start_date", 4)]
    json_frame = [{"case_ref": "A1", "start_date": "2024-01-05"}, {"case_ref": "A2", "start_date": "soon"}]
    body = problem(await client.post("/v1/samples", json={"frame": json_frame, "design": design}), 422)
    assert "frame.1.start_date" in fields(body)


async def test_a_date_format_can_be_given(client):
    data = b"case_ref,start_date\nA1,05/01/2024\nA2,05/07/2024\n"
    design = {"size": 1, "eligibility": {"column": "start_date", "end": "2024-03-31", "date_format": "%d/%m/%Y"}}
    response = await post_csv(client, data, design)
    assert response.status_code == 200
    assert [c["case_ref"] for c in response.json()["selected"]] == ["A1"]


async def test_nothing_eligible(client):
    design = {"size": 1, "exclude": [{"column": "gender", "values": ["M", "F"]}]}
    body = problem(await client.post("/v1/samples", json={"frame": only(FRAME, ["case_ref", "gender"]),
                                                          "design": design}), 422)
    assert "No case of the 400" in body["detail"]


@pytest.mark.parametrize(
    ("design", "field"),
    [
        ({"size": 10, "precision": {"margin": 0.05}}, "design"),
        ({}, "design"),
        ({"size": 0}, "design.size"),
        ({"size": 10, "unit_mode": "per_unit"}, "design"),
        ({"size": 10, "strata": ["case_ref"]}, "design"),
        ({"size": 10, "strata": ["gender", "gender"]}, "design"),
        ({"size": 10, "reserves_per_stratum": 1, "reserve_ratio": 0.5}, "design"),
        ({"size": 10, "seed": -1}, "design.seed"),
        ({"size": 10, "sede": 3}, "design.sede"),
        ({"size": 10, "eligibility": {"column": "d"}}, "design.eligibility"),
        ({"precision": {"confidence": 1.2}}, "design.precision.confidence"),
    ],
)
async def test_invalid_designs_name_the_field(client, design, field):
    body = problem(await client.post("/v1/samples", json={"frame": FRAME, "design": design}), 422)
    assert field in fields(body)


async def test_csv_needs_a_design_and_it_must_be_json(client):
    response = await client.post("/v1/samples", content=to_csv(FRAME), headers={"Content-Type": "text/csv"})
    assert "query.design" in fields(problem(response, 422))
    response = await client.post("/v1/samples", content=to_csv(FRAME), params={"design": "{size: 3"},
                                 headers={"Content-Type": "text/csv"})
    assert "query.design" in fields(problem(response, 422))


async def test_multipart_needs_both_parts(client):
    response = await client.post("/v1/samples", files={"frame": ("f.csv", to_csv(FRAME), "text/csv")})
    assert "design" in fields(problem(response, 422))
    response = await client.post("/v1/samples", data={"design": json.dumps(DESIGN)},
                                 files={"other": ("x.txt", b"", "text/plain")})
    assert problem(response, 422)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"frame": []}', "design"),
        (b'{"frame": [], "design": {"size": 1}, "extra": 1}', "extra"),
        (b'{"frame": {"case_ref": "A"}, "design": {"size": 1}}', "frame"),
        (b'{"frame": [1, 2], "design": {"size": 1}}', "frame.0"),
        (b'{"frame": [{"case_ref": ["A"]}], "design": {"size": 1}}', "frame.0.case_ref"),
    ],
)
async def test_malformed_json_bodies(client, content, field):
    response = await client.post("/v1/samples", content=content, headers={"Content-Type": "application/json"})
    assert field in fields(problem(response, 422))


async def test_unsupported_media_type(client):
    response = await client.post("/v1/samples", content=b"<frame/>", headers={"Content-Type": "application/xml"})
    assert "text/csv" in problem(response, 415)["detail"]


async def test_frames_above_the_limit_are_413(small_client):
    rows = [{"case_ref": f"A{i}"} for i in range(51)]
    body = problem(await small_client.post("/v1/samples", json={"frame": rows, "design": {"size": 1}}), 413)
    assert "51 cases" in body["detail"] and body["limit"] == 50
    body = problem(await post_csv(small_client, to_csv(rows), {"size": 1}), 413)
    assert "more than 50" in body["detail"]
    response = await small_client.post(
        "/v1/samples", files={"frame": ("f.csv", to_csv(rows), "text/csv")}, data={"design": '{"size": 1}'}
    )
    assert problem(response, 413)["limit"] == 50
    ok = await post_csv(small_client, to_csv(rows[:50]), {"size": 1})
    assert ok.status_code == 200


async def test_bodies_above_the_byte_limit_are_413(small_client):
    big = b"case_ref\n" + b"".join(f"A{i:030d}\n".encode() for i in range(1_000))
    body = problem(await post_csv(small_client, big, {"size": 1}), 413)
    assert "20000" in body["detail"]


async def test_multipart_design_may_come_as_a_file_part(client):
    response = await client.post(
        "/v1/samples",
        files={"frame": ("caseload.csv", to_csv(FRAME), "text/csv"),
               "design": ("design.json", json.dumps(DESIGN).encode(), "application/json")},
    )
    assert response.status_code == 200 and len(response.json()["selected"]) == 60


@pytest.mark.parametrize("turns", [1, 3])
async def test_draws_take_turns_from_reading_the_frame_to_the_answer(monkeypatch, turns):
    under_way, most, lock = 0, 0, threading.Lock()
    read, draw = router._frame_and_design, router._draw_and_wire

    async def reading(*args):
        nonlocal under_way, most
        with lock:
            under_way += 1
            most = max(most, under_way)
        return await read(*args)

    def drawing(*args):
        nonlocal under_way
        time.sleep(0.05)  # long enough for the other requests to arrive meanwhile
        try:
            return draw(*args)
        finally:
            with lock:
                under_way -= 1

    monkeypatch.setattr(router, "_frame_and_design", reading)
    monkeypatch.setattr(router, "_draw_and_wire", drawing)
    app = create_app(Settings(max_concurrent_draws=turns))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        responses = await asyncio.gather(*(post_csv(c, to_csv(FRAME), DESIGN) for _ in range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.content for r in responses}) == 1
    assert most == turns


async def test_a_precision_out_of_reach_is_named(client):
    design = {"precision": {"confidence": 0.8, "margin": 5e-324}, "unit": "pdu", "unit_mode": "per_unit", "seed": 1}
    body = problem(await post_csv(client, to_csv(only(ROWS, ["case_ref", "pdu"])), design), 422)
    assert fields(body) == {"design.precision"} and "more cases than any caseload holds" in body["detail"]
