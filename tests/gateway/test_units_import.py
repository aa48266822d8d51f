"""Bulk import of units (all or nothing, idempotent, every fault named) and the demo units."""

from __future__ import annotations

import csv
import io
import json
import uuid
from importlib.resources import files

import pytest
from sqlalchemy import func, select

from gateway.cli import main as cli_main
from gateway.cli import migrate
from gateway.units.demo import load_demo_units
from gateway.units.models import Unit
from tests.conftest import TEST_ADMIN

UNITS = "/api/v1/units"
IMPORT = f"{UNITS}/import"
PROBLEM = "application/problem+json"
HEADER = "code,name,type,nation,parent_code,valid_from,valid_to,caseload_size,synthetic"


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8].upper()


def csv_file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


async def post_csv(gateway, content: bytes):
    return await gateway.post(IMPORT, content=content, headers={"Content-Type": "text/csv; charset=utf-8"})


async def held(gateway, tag: str) -> dict[str, dict]:
    """The test's units as held, by code."""
    body = (await gateway.get(UNITS, params={"q": tag, "limit": 500})).json()
    return {u["code"]: u for u in body["items"]}


def problem(response, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


def faults(body: dict) -> list[tuple]:
    return [(e.get("line", e.get("index")), e["field"], e["message"]) for e in body["errors"]]


def sample(tag: str) -> bytes:
    # Children come before their parents: the import orders the writes itself.
    return csv_file(
        HEADER,
        f"P{tag}1,Derby City {tag},pdu,England,R{tag},2021-06-26,,,false",
        f"P{tag}2,Nottingham City {tag},pdu,England,R{tag},,,1500,",
        f"R{tag},East Midlands {tag},region,England,,,,,false",
    )


async def test_a_csv_import_creates_every_unit_under_its_parent(gateway, tag):
    response = await post_csv(gateway, sample(tag))
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 0)
    assert [(u["code"], u["outcome"]) for u in report["units"]] == [
        (f"P{tag}1", "created"),
        (f"P{tag}2", "created"),
        (f"R{tag}", "created"),
    ]
    units = await held(gateway, tag)
    assert sorted(units) == [f"P{tag}1", f"P{tag}2", f"R{tag}"]
    region = units[f"R{tag}"]
    assert (region["type"], region["parent_id"], region["name"]) == ("region", None, f"East Midlands {tag}")
    for code in (f"P{tag}1", f"P{tag}2"):
        assert (units[code]["type"], units[code]["parent_id"], units[code]["parent_code"]) == (
            "pdu",
            region["id"],
            f"R{tag}",
        )
    assert (units[f"P{tag}1"]["valid_from"], units[f"P{tag}1"]["caseload_size"]) == ("2021-06-26", None)
    assert (units[f"P{tag}2"]["caseload_size"], units[f"P{tag}2"]["synthetic"]) == (1500, False)
    assert {u["id"] for u in report["units"]} == {u["id"] for u in units.values()}
    assert all(u["created_by"] == TEST_ADMIN for u in units.values())


async def test_importing_the_same_file_again_changes_nothing(gateway, tag):
    await post_csv(gateway, sample(tag))
    before = await held(gateway, tag)
    etags = {c: (await gateway.get(f"{UNITS}/{u['id']}")).headers["etag"] for c, u in before.items()}
    again = (await post_csv(gateway, sample(tag))).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert await held(gateway, tag) == before
    assert {c: (await gateway.get(f"{UNITS}/{u['id']}")).headers["etag"] for c, u in before.items()} == etags


async def test_a_changed_file_updates_only_what_changed(gateway, tag):
    await post_csv(gateway, sample(tag))
    before = await held(gateway, tag)
    changed = csv_file(
        HEADER,
        f"P{tag}1,Derby {tag},pdu,England,R{tag},2021-06-26,2025-03-31,,false",
        f"P{tag}2,Nottingham City {tag},pdu,England,R{tag},,,1500,",
        f"R{tag},East Midlands {tag},region,England,,,,,false",
    )
    report = (await post_csv(gateway, changed)).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 2)
    after = await held(gateway, tag)
    assert (after[f"P{tag}1"]["name"], after[f"P{tag}1"]["valid_to"]) == (f"Derby {tag}", "2025-03-31")
    assert after[f"P{tag}1"]["updated_at"] > before[f"P{tag}1"]["updated_at"]
    assert after[f"P{tag}2"] == before[f"P{tag}2"]
    assert (await gateway.get(f"{UNITS}/{after[f'P{tag}1']['id']}")).headers["etag"] == '"2"'


async def test_columns_left_out_keep_the_held_values_and_blank_cells_clear_them(gateway, tag):
    await post_csv(gateway, sample(tag))
    fewer = csv_file("code,name,type,nation", f"P{tag}2,Nottingham City {tag},pdu,England")
    assert (await post_csv(gateway, fewer)).json()["unchanged"] == 1
    unit = (await held(gateway, tag))[f"P{tag}2"]
    assert (unit["parent_code"], unit["caseload_size"]) == (f"R{tag}", 1500)
    cleared = csv_file("code,name,type,nation,caseload_size", f"P{tag}2,Nottingham City {tag},pdu,England,")
    assert (await post_csv(gateway, cleared)).json()["updated"] == 1
    assert (await held(gateway, tag))[f"P{tag}2"]["caseload_size"] is None


async def test_a_json_import_may_name_a_parent_already_held(gateway, tag):
    await post_csv(gateway, sample(tag))
    units = [
        {
            "code": f"p{tag}3",
            "name": f"Leicester {tag}",
            "type": "pdu",
            "nation": "england",
            "parent_code": f"r{tag}",
            "caseload_size": 2400,
        },
        {
            "code": f"Y{tag}",
            "name": f"Northshire YJS (synthetic) {tag}",
            "type": "yos",
            "nation": "England",
            "synthetic": True,
            "caseload_size": 80,
        },
    ]
    response = await gateway.post(IMPORT, json=units)
    assert response.status_code == 200, response.text
    assert [(u["code"], u["outcome"]) for u in response.json()["units"]] == [
        (f"P{tag}3", "created"),
        (f"Y{tag}", "created"),
    ]
    now = await held(gateway, tag)
    assert (now[f"P{tag}3"]["parent_code"], now[f"P{tag}3"]["nation"], now[f"P{tag}3"]["caseload_size"]) == (
        f"R{tag}",
        "England",
        2400,
    )
    assert (now[f"Y{tag}"]["synthetic"], now[f"Y{tag}"]["parent_id"]) == (True, None)
    assert (await gateway.post(IMPORT, json=units)).json()["unchanged"] == 2


async def test_a_file_may_be_uploaded_as_a_form(gateway, tag):
    response = await gateway.post(IMPORT, files={"file": ("units.csv", sample(tag), "text/csv")})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    units = [{"code": f"Y{tag}", "name": f"Youth {tag}", "type": "yos", "nation": "Wales"}]
    response = await gateway.post(
        IMPORT, files={"file": ("units.json", json.dumps(units).encode(), "application/json")}
    )
    assert response.status_code == 200, response.text
    assert (await held(gateway, tag))[f"Y{tag}"]["nation"] == "Wales"


async def test_one_bad_row_and_nothing_is_written(gateway, tag):
    await post_csv(gateway, csv_file(HEADER, f"R{tag},East Midlands {tag},region,England,,,,,"))
    before = await held(gateway, tag)
    bad = csv_file(
        HEADER,
        f"R{tag},East Midlands renamed {tag},region,England,,,,,",
        f"P{tag}1,Derby City {tag},pdu,England,R{tag},,,,",
        f"P{tag}2,Nottingham City {tag},pdu,England,NOSUCH{tag},,,,",
        f"P{tag}3,Leicester {tag},pdu,England,R{tag},,,,",
    )
    body = problem(await post_csv(gateway, bad))
    assert body["detail"] == "Nothing was imported: 1 fault in the import."
    assert faults(body) == [(4, "parent_code", f"no unit NOSUCH{tag} in this import or already held")]
    assert body["errors"][0]["unit_code"] == f"P{tag}2"
    assert await held(gateway, tag) == before


async def test_every_fault_is_named_by_line_and_column(gateway, tag):
    await post_csv(gateway, csv_file(HEADER, f"Y{tag},Youth {tag},yos,England,,,,,true"))
    bad = csv_file(
        HEADER,
        f"R{tag},Region {tag},county,England,,,,,",  # 2: bad type
        f"P{tag}1,PDU {tag},pdu,England,R{tag}X,,,,",  # 3: unknown parent
        f"P{tag}1,PDU again {tag},pdu,England,,,,,",  # 4: duplicate code
        f"P{tag}2,PDU {tag},pdu,England,Y{tag},,,,",  # 5: pdu under a yos
        f"P{tag}3,PDU {tag},pdu,England,,,,,",  # 6: pdu with no parent
        f"R{tag}2,Region {tag},region,England,,2024-01-01,2023-12-31,,",  # 7: dates backwards
        f"R{tag}3,Region {tag},region,England,,,,-4,maybe",  # 8: negative caseload, bad flag
        f'"R{tag}4",,region,"",,,,,',  # 9: name and nation missing
        f"O{tag}1,Other {tag},other,Guernsey,O{tag}2,,,,",  # 10: cycle O1 -> O2 -> O1
        f"O{tag}2,Other {tag},other,Guernsey,O{tag}1,,,,",  # 11
        f"O{tag}3,Other {tag},other,Guernsey,O{tag}3,,,,",  # 12: its own parent
        f"R{tag}5,Region {tag},region,England,,,,,,extra",  # 13: too many cells
    )
    body = problem(await post_csv(gateway, bad))
    assert body["detail"] == "Nothing was imported: 13 faults in the import."
    assert body["error_count"] == 13
    assert faults(body) == [
        (2, "type", "Input should be 'region', 'pdu', 'nps_division', 'crc', 'ldu', 'yos' or 'other'"),
        (3, "parent_code", f"no unit R{tag}X in this import or already held"),
        (4, "code", f"P{tag}1 is also on line 3"),
        (5, "parent_code", f"a unit of type pdu may sit under a unit of type region, not yos (Y{tag} is a yos)"),
        (6, "parent_code", "a unit of type pdu must sit under a unit of type region"),
        (7, "valid_to", "Value error, must be on or after valid_from (2024-01-01)"),
        (8, "caseload_size", "Input should be greater than or equal to 0"),
        (8, "synthetic", "Input should be a valid boolean, unable to interpret input"),
        (9, "name", "Field required"),
        (9, "nation", "Field required"),
        (10, "parent_code", f"would make a cycle: O{tag}1 -> O{tag}2 -> O{tag}1"),
        (12, "parent_code", "a unit cannot be its own parent"),
        (13, "row", "10 cells, but the header names 9 columns"),
    ]
    assert sorted(await held(gateway, tag)) == [f"Y{tag}"]


async def test_json_faults_are_named_by_index_and_path(gateway, tag):
    units = [
        {"code": f"R{tag}", "name": f"Region {tag}", "type": "region", "nation": "England"},
        {"code": f"P{tag}", "name": f"PDU {tag}", "type": "pdx", "nation": "England", "parent_code": f"R{tag}"},
        "not a unit",
        {"code": f"Y{tag}", "name": f"Youth {tag}", "type": "yos", "nation": "England", "region": "N53"},
        {"code": f"r{tag}", "name": f"Region again {tag}", "type": "region", "nation": "England"},
    ]
    body = problem(await gateway.post(IMPORT, json=units))
    assert faults(body) == [
        (1, "body.1.type", "Input should be 'region', 'pdu', 'nps_division', 'crc', 'ldu', 'yos' or 'other'"),
        (2, "body.2", "expected an object with the unit's fields"),
        (3, "body.3.region", "not a unit field"),
        (4, "body.4.code", f"R{tag} is also on item 0"),
    ]
    assert await held(gateway, tag) == {}


async def test_an_import_may_not_retype_a_held_unit_its_held_children_could_not_sit_under(gateway, tag):
    await post_csv(gateway, sample(tag))
    body = problem(await post_csv(gateway, csv_file("code,name,type,nation", f"R{tag},Renamed {tag},other,England")))
    assert faults(body) == [
        (
            2,
            "type",
            f"P{tag}1 sits under this unit and a unit of type pdu may sit under a unit of type region, not other",
        ),
        (
            2,
            "type",
            f"P{tag}2 sits under this unit and a unit of type pdu may sit under a unit of type region, not other",
        ),
    ]
    assert (await held(gateway, tag))[f"R{tag}"]["type"] == "region"


async def test_an_import_may_not_close_a_cycle_through_held_units(gateway, tag):
    chain = csv_file(
        "code,name,type,nation,parent_code",
        f"A{tag},Body {tag},other,Jersey,",
        f"B{tag},Office {tag},other,Jersey,A{tag}",
        f"C{tag},Team {tag},other,Jersey,B{tag}",
    )
    assert (await post_csv(gateway, chain)).json()["created"] == 3
    body = problem(
        await post_csv(gateway, csv_file("code,name,type,nation,parent_code", f"A{tag},Body {tag},other,Jersey,C{tag}"))
    )
    assert faults(body) == [(2, "parent_code", f"would make a cycle: A{tag} -> C{tag} -> B{tag} -> A{tag}")]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "field", "message"),
    [
        (b"", "text/csv", 422, "header", "no header line"),
        (HEADER.encode() + b"\n", "text/csv", 422, "body", "no rows after the header"),
        (b"code,name,kind,nation\nX,Y,region,England\n", "text/csv", 422, "kind", None),
        (b"code,name,type\nX,Y,region\n", "text/csv", 422, "nation", "required column is missing"),
        (b"code,name,type,nation\n\xff\xfe,Y,region,England\n", "text/csv", 422, "body", None),
        (b"[{", "application/json", 422, "body", None),
        (b'{"code": "X"}', "application/json", 422, "body", "expected an array of units"),
        (b"[]", "application/json", 422, "body", "empty array"),
        (b"<units/>", "application/xml", 415, None, None),
    ],
)
async def test_unreadable_uploads_are_refused(gateway, content, content_type, status, field, message):
    response = await gateway.post(IMPORT, content=content, headers={"Content-Type": content_type})
    body = problem(response, status)
    if field is not None:
        assert body["errors"][0]["field"] == field
    if message is not None:
        assert body["errors"][0]["message"] == message


async def test_a_form_without_a_file_is_refused(gateway):
    body = problem(await gateway.post(IMPORT, files={"units": ("units.csv", b"code\nN53\n", "text/csv")}))
    assert body["errors"][0]["field"] == "body.file"


async def test_an_oversized_upload_is_413(gateway, body_limits):
    body_limits(max_upload_bytes=4096)
    content = HEADER.encode() + b"\n" + b"x" * 4096
    body = problem(await post_csv(gateway, content), 413)
    assert body["limit"] == 4096 and "4 KiB" in body["detail"]


# --- demo units --------------------------------------------------------------------------------------


def reference_pdus() -> list[dict[str, str]]:
    text = (files("gateway.units") / "data" / "probation_pdus.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def all_units(gateway, **params) -> list[dict]:
    units, cursor = [], None
    while True:
        body = (
            await gateway.get(UNITS, params={"limit": 500, **params, **({"cursor": cursor} if cursor else {})})
        ).json()
        units += body["items"]
        if (cursor := body["next_cursor"]) is None:
            return units


async def test_demo_units_load_the_real_regions_and_pdus_and_synthetic_youth_services(gateway, db_session):
    report = await load_demo_units(db_session)
    assert report.created + report.unchanged == 12 + 109 + 150
    assert report.updated == 0

    pdus = reference_pdus()
    regions = {r["region_code"]: (r["region"], r["nation"]) for r in pdus}
    held_regions = await all_units(gateway, type="region", synthetic=False)
    assert {u["code"]: (u["name"], u["nation"]) for u in held_regions} == regions
    assert len(held_regions) == 12
    assert sum(nation == "Wales" for _, nation in regions.values()) == 1
    assert regions["N53"] == ("East Midlands", "England")

    held_pdus = {u["code"]: u for u in await all_units(gateway, type="pdu", synthetic=False)}
    assert len(held_pdus) == 109
    region_ids = {u["code"]: u["id"] for u in held_regions}
    for row in pdus:
        unit = held_pdus[row["pdu_code"]]
        assert (unit["name"], unit["nation"], unit["parent_code"]) == (row["pdu"], row["nation"], row["region_code"])
        assert unit["parent_id"] == region_ids[row["region_code"]]
        assert (unit["caseload_size"], unit["synthetic"]) == (None, False)
    assert held_pdus["N53DRBY"]["name"] == "Derby City"
    assert held_pdus["N53LEIS"]["name"] == "Leicester, Leicestershire and Rutland"
    derby_region = (await gateway.get(f"{UNITS}/{region_ids['N53']}/children", params={"limit": 500})).json()
    assert [u["code"] for u in derby_region["items"]] == sorted(
        r["pdu_code"] for r in pdus if r["region_code"] == "N53"
    )

    youth = await all_units(gateway, type="yos", synthetic=True)
    assert len(youth) == 150
    assert all(u["name"].endswith("(synthetic)") and u["code"].startswith("SYN-YOS-") for u in youth)
    assert all(u["caseload_size"] is not None and u["caseload_size"] > 0 for u in youth)
    assert {u["nation"] for u in youth} == {"England", "Wales"}
    assert sum(u["nation"] == "Wales" for u in youth) == 17
    assert len(await all_units(gateway, type="yos", synthetic=True, active_on="2024-01-01")) == 148
    assert await all_units(gateway, q="(synthetic)", synthetic=False) == []

    again = await load_demo_units(db_session)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 271)


async def test_demo_loading_keeps_caseloads_recorded_since(gateway, db_session):
    await load_demo_units(db_session)
    derby = (await gateway.get(UNITS, params={"code": "N53DRBY"})).json()["items"][0]
    response = await gateway.patch(
        f"{UNITS}/{derby['id']}",
        json={"caseload_size": 2100},
        headers={"If-Match": (await gateway.get(f"{UNITS}/{derby['id']}")).headers["etag"]},
    )
    assert response.status_code == 200
    again = await load_demo_units(db_session)
    assert again.updated == 0
    count = await db_session.scalar(
        select(func.count()).select_from(Unit).where(Unit.code == "N53DRBY", Unit.caseload_size == 2100)
    )
    assert count == 1


def test_the_setup_command_loads_the_demo_units_once(tmp_path, monkeypatch, capsys):
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli_main(["setup"]) == 0
    assert "demo units: 271 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert cli_main(["load-demo-units"]) == 0
    assert "demo units: 0 created, 0 updated, 271 unchanged" in capsys.readouterr().out
    migrate(url)  # already at head: nothing to do


async def test_awkward_rows_are_faults_never_a_500(gateway, tag):
    units = [
        {"code": f"Y{tag}", "name": "Youth\x00", "type": "yos", "nation": "England"},
        {"code": f"Y{tag}2", "name": "Youth", "type": "yos", "nation": "England", "caseload_size": 2**40},
        {"code": None, "name": "Youth", "type": "yos", "nation": "England"},
        {"code": f"Y{tag}3", "name": "Youth", "type": "yos", "nation": "England", "valid_from": "01/02/2024"},
    ]
    body = problem(await gateway.post(IMPORT, json=units))
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (0, "body.0.name"),
        (1, "body.1.caseload_size"),
        (2, "body.2.code"),
        (3, "body.3.valid_from"),
    ]
    body = problem(await post_csv(gateway, csv_file(HEADER, f"Y{tag},Youth\x00,yos,England,,,,,")))
    assert body["errors"][0]["line"] == 2
