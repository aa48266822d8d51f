"""The units registry: reading, creating and changing units of inspection, and every refusal."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import TEST_ADMIN

UNITS = "/api/v1/units"
PROBLEM = "application/problem+json"


@pytest.fixture
def tag() -> str:
    """A token unique to the test, in codes and names, so that lists can be narrowed to the test's units."""
    return uuid.uuid4().hex[:8].upper()


async def create(gateway, **fields) -> dict:
    response = await gateway.post(UNITS, json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def region(gateway, tag: str, suffix: str = "", **fields) -> dict:
    return await create(
        gateway, code=f"R{tag}{suffix}", name=f"Region {suffix} {tag}", type="region", nation="England", **fields
    )


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if fields:
        assert sorted({e["field"] for e in body["errors"]}) == sorted(fields)
    return body


# --- create and read ---------------------------------------------------------------------------------


async def test_create_answers_201_with_location_etag_and_the_unit(gateway, tag):
    response = await gateway.post(
        UNITS,
        json={"code": f" r{tag} ", "name": f" East Midlands {tag} ", "type": "region", "nation": "england"},
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{UNITS}/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert {k: body[k] for k in ("code", "name", "type", "nation", "parent_id", "parent_code")} == {
        "code": f"R{tag}",
        "name": f"East Midlands {tag}",
        "type": "region",
        "nation": "England",
        "parent_id": None,
        "parent_code": None,
    }
    assert (body["valid_from"], body["valid_to"], body["caseload_size"], body["synthetic"]) == (None, None, None, False)
    assert body["created_by"] == body["updated_by"] == TEST_ADMIN
    assert body["created_at"] == body["updated_at"]

    read = await gateway.get(response.headers["location"])
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == '"1"'


async def test_a_pdu_sits_under_its_region(gateway, tag):
    parent = await region(gateway, tag)
    pdu = await create(
        gateway,
        code=f"P{tag}",
        name="Derby City",
        type="pdu",
        nation="England",
        parent_id=parent["id"],
        valid_from="2021-06-26",
        caseload_size=2150,
    )
    assert (pdu["parent_id"], pdu["parent_code"]) == (parent["id"], f"R{tag}")
    assert (pdu["valid_from"], pdu["caseload_size"]) == ("2021-06-26", 2150)
    read = (await gateway.get(f"{UNITS}/{pdu['id']}")).json()
    assert read["parent_code"] == f"R{tag}"


async def test_an_unknown_unit_is_a_404_problem(gateway):
    missing = uuid.uuid4()
    for path in (f"{UNITS}/{missing}", f"{UNITS}/{missing}/children"):
        body = assert_problem(await gateway.get(path), 404)
        assert body["detail"] == f"No unit {missing}"
    response = await gateway.patch(f"{UNITS}/{missing}", json={"name": "x"}, headers={"If-Match": '"1"'})
    assert_problem(response, 404)


async def test_a_malformed_id_is_a_422_naming_the_path_parameter(gateway):
    assert_problem(await gateway.get(f"{UNITS}/not-a-uuid"), 422, "path.unit_id")


# --- refusals on create ------------------------------------------------------------------------------


async def test_a_duplicate_code_is_a_409_naming_the_code(gateway, tag):
    await region(gateway, tag)
    response = await gateway.post(
        UNITS, json={"code": f"r{tag}", "name": "Another", "type": "region", "nation": "England"}
    )
    body = assert_problem(response, 409, "body.code")
    assert f"R{tag}" in body["detail"]
    assert body["errors"][0]["message"] == f"R{tag} is already the code of another unit"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"type": "county"},
            "body.type",
            "Input should be 'region', 'pdu', 'nps_division', 'crc', 'ldu', 'yos' or 'other'",
        ),
        (
            {"code": "N53 DRBY"},
            "body.code",
            "Value error, use letters, digits, '-' and '_' only, starting with a letter or digit",
        ),
        ({"name": "   "}, "body.name", "String should have at least 1 character"),
        ({"caseload_size": -1}, "body.caseload_size", "Input should be greater than or equal to 0"),
        (
            {"valid_from": "2022-01-01", "valid_to": "2021-12-31"},
            "body.valid_to",
            "Value error, must be on or after valid_from (2022-01-01)",
        ),
        (
            {"parent_id": "7f1d9a3e-0000-4000-8000-000000000000"},
            "body.parent_id",
            "no unit 7f1d9a3e-0000-4000-8000-000000000000",
        ),
        ({"owner": "x"}, "body.owner", "Extra inputs are not permitted"),
    ],
)
async def test_bad_fields_are_422_naming_the_field(gateway, tag, fields, field, message):
    unit = {"code": f"Y{tag}", "name": "A youth service", "type": "yos", "nation": "England", **fields}
    body = assert_problem(await gateway.post(UNITS, json=unit), 422, field)
    assert body["errors"][0]["message"] == message
    assert (await gateway.get(UNITS, params={"code": f"Y{tag}"})).json()["items"] == []


async def test_a_unit_must_sit_under_a_parent_of_an_allowed_type(gateway, tag):
    parent = await region(gateway, tag)
    youth = await create(gateway, code=f"Y{tag}", name="Youth", type="yos", nation="England")
    cases = [
        ({"type": "pdu"}, "a unit of type pdu must sit under a unit of type region"),
        ({"type": "pdu", "parent_id": youth["id"]}, "a unit of type pdu may sit under a unit of type region, not yos"),
        (
            {"type": "region", "parent_id": parent["id"]},
            "a unit of type region takes no parent (given one of type region)",
        ),
        (
            {"type": "ldu", "parent_id": parent["id"]},
            "a unit of type ldu may sit under a unit of type crc or nps_division, not region",
        ),
        (
            {"type": "yos", "parent_id": youth["id"]},
            "a unit of type yos may stand at the top or sit under a unit of type region, not yos",
        ),
    ]
    for fields, message in cases:
        unit = {"code": f"X{tag}", "name": "Misplaced", "nation": "England", **fields}
        body = assert_problem(await gateway.post(UNITS, json=unit), 422, "body.parent_id")
        assert body["errors"][0]["message"] == message
    # The same placements that are allowed:
    await create(
        gateway, code=f"Y2{tag}", name="Youth in a region", type="yos", nation="England", parent_id=parent["id"]
    )
    division = await create(gateway, code=f"D{tag}", name="Division", type="nps_division", nation="Wales")
    await create(
        gateway, code=f"L{tag}", name="Local delivery unit", type="ldu", nation="Wales", parent_id=division["id"]
    )


# --- listing -----------------------------------------------------------------------------------------


@pytest.fixture
async def tree(gateway, tag) -> dict[str, dict]:
    """A small tree, every name holding the test's tag."""
    england = await region(gateway, tag, "E")
    wales = await create(gateway, code=f"R{tag}W", name=f"Wales {tag}", type="region", nation="Wales")
    units = {"england": england, "wales": wales}
    units["retired"] = await create(
        gateway,
        code=f"P{tag}1",
        name=f"Old PDU {tag}",
        type="pdu",
        nation="England",
        parent_id=england["id"],
        valid_from="2021-06-26",
        valid_to="2023-03-31",
    )
    units["current"] = await create(
        gateway,
        code=f"P{tag}2",
        name=f"New PDU {tag}",
        type="pdu",
        nation="England",
        parent_id=england["id"],
        valid_from="2023-04-01",
    )
    units["welsh_pdu"] = await create(
        gateway,
        code=f"P{tag}3",
        name=f"Cardiff 100% {tag}",
        type="pdu",
        nation="Wales",
        parent_id=wales["id"],
    )
    units["youth"] = await create(
        gateway,
        code=f"Y{tag}",
        name=f"Northshire YJS (synthetic) {tag}",
        type="yos",
        nation="England",
        caseload_size=120,
        synthetic=True,
    )
    units["guernsey"] = await create(
        gateway, code=f"G{tag}", name=f"Guernsey Probation {tag}", type="other", nation="guernsey"
    )
    return units


async def codes(gateway, **params) -> list[str]:
    response = await gateway.get(UNITS, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [u["code"] for u in response.json()["items"]]


async def test_list_filters(gateway, tag, tree):
    code = {k: v["code"] for k, v in tree.items()}
    assert await codes(gateway, q=tag) == sorted(code.values())
    assert await codes(gateway, q=tag, type="pdu") == [code["retired"], code["current"], code["welsh_pdu"]]
    assert await codes(gateway, q=tag, nation="WALES") == [code["welsh_pdu"], code["wales"]]
    assert await codes(gateway, q=tag, nation="Guernsey") == [code["guernsey"]]
    assert await codes(gateway, parent_id=tree["england"]["id"]) == [code["retired"], code["current"]]
    assert await codes(gateway, code=code["current"].lower()) == [code["current"]]
    assert await codes(gateway, q=tag, type="pdu", active_on="2022-01-01") == [code["retired"], code["welsh_pdu"]]
    assert await codes(gateway, q=tag, type="pdu", active_on="2023-03-31") == [code["retired"], code["welsh_pdu"]]
    assert await codes(gateway, q=tag, type="pdu", active_on="2023-04-01") == [code["current"], code["welsh_pdu"]]
    assert await codes(gateway, q=tag, synthetic=True) == [code["youth"]]
    assert code["youth"] not in await codes(gateway, q=tag, synthetic=False)
    assert await codes(gateway, q=f"northshire yjs (SYNTHETIC) {tag.lower()}") == [code["youth"]]
    # A % in the search is a character, not a wildcard.
    assert await codes(gateway, q=f"100% {tag}") == [code["welsh_pdu"]]
    assert await codes(gateway, q=f"1%0 {tag}") == []
    assert await codes(gateway, q=tag, type="crc") == []


async def test_list_items_have_the_unit_shape(gateway, tag, tree):
    items = (await gateway.get(UNITS, params={"code": tree["current"]["code"]})).json()["items"]
    assert items == [tree["current"]]


async def test_list_refuses_bad_filters_naming_them(gateway):
    assert_problem(await gateway.get(UNITS, params={"type": "county"}), 422, "query.type")
    assert_problem(await gateway.get(UNITS, params={"active_on": "yesterday"}), 422, "query.active_on")
    assert_problem(await gateway.get(UNITS, params={"limit": 0}), 422, "query.limit")
    assert_problem(await gateway.get(UNITS, params={"limit": 501}), 422, "query.limit")
    assert_problem(await gateway.get(UNITS, params={"regoin": "N53"}), 422, "query.regoin")
    assert_problem(await gateway.get(UNITS, params={"cursor": "not-a-cursor"}), 422, "query.cursor")


async def test_pagination_walks_every_unit_once_in_code_order(gateway, tag):
    made = [f"Y{tag}{i:02d}" for i in range(7)]
    for code in reversed(made):
        await create(gateway, code=code, name=f"Youth {code}", type="yos", nation="England")
    seen, cursor, pages = [], None, 0
    while True:
        params = {"q": tag, "limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await gateway.get(UNITS, params=params)).json()
        pages += 1
        seen += [u["code"] for u in body["items"]]
        assert len(body["items"]) == (3 if body["next_cursor"] else 1)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == made


async def test_children_lists_the_units_directly_under_a_unit(gateway, tag, tree):
    england = tree["england"]["id"]
    body = (await gateway.get(f"{UNITS}/{england}/children")).json()
    assert [u["code"] for u in body["items"]] == [tree["retired"]["code"], tree["current"]["code"]]
    assert all(u["parent_code"] == tree["england"]["code"] for u in body["items"])
    assert body["next_cursor"] is None
    current = (await gateway.get(f"{UNITS}/{england}/children", params={"active_on": "2024-01-01"})).json()
    assert [u["code"] for u in current["items"]] == [tree["current"]["code"]]
    first = (await gateway.get(f"{UNITS}/{england}/children", params={"limit": 1})).json()
    assert [u["code"] for u in first["items"]] == [tree["retired"]["code"]]
    rest = (
        await gateway.get(f"{UNITS}/{england}/children", params={"limit": 1, "cursor": first["next_cursor"]})
    ).json()
    assert ([u["code"] for u in rest["items"]], rest["next_cursor"]) == ([tree["current"]["code"]], None)
    leaf = (await gateway.get(f"{UNITS}/{tree['youth']['id']}/children")).json()
    assert leaf == {"items": [], "next_cursor": None}


# --- changing a unit ---------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(gateway, tag, tree):
    unit = tree["current"]
    url = f"{UNITS}/{unit['id']}"
    etag = (await gateway.get(url)).headers["etag"]
    response = await gateway.patch(
        url,
        json={"name": f"Renamed {tag}", "caseload_size": 1800, "valid_to": "2030-03-31"},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"' != etag
    changed = response.json()
    assert (changed["name"], changed["caseload_size"], changed["valid_to"]) == (f"Renamed {tag}", 1800, "2030-03-31")
    untouched = ("id", "code", "type", "nation", "parent_id", "parent_code", "valid_from", "synthetic", "created_at")
    assert {k: changed[k] for k in untouched} == {k: unit[k] for k in untouched}
    assert changed["updated_at"] > unit["updated_at"]
    read = await gateway.get(url)
    assert (read.json(), read.headers["etag"]) == (changed, response.headers["etag"])

    # null clears a field that may be empty; a PATCH that changes nothing keeps the ETag.
    cleared = await gateway.patch(url, json={"caseload_size": None}, headers={"If-Match": '"2"'})
    assert (cleared.json()["caseload_size"], cleared.headers["etag"]) == (None, '"3"')
    same = await gateway.patch(url, json={"caseload_size": None}, headers={"If-Match": '"3"'})
    assert (same.status_code, same.headers["etag"]) == (200, '"3"')


async def test_patch_moves_a_unit_to_another_parent(gateway, tag, tree):
    url = f"{UNITS}/{tree['current']['id']}"
    response = await gateway.patch(
        url, json={"parent_id": tree["wales"]["id"], "nation": "wales"}, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["parent_code"], response.json()["nation"]) == (tree["wales"]["code"], "Wales")
    children = (await gateway.get(f"{UNITS}/{tree['wales']['id']}/children")).json()["items"]
    assert tree["current"]["code"] in [u["code"] for u in children]


async def test_patch_without_if_match_is_428_and_changes_nothing(gateway, tree):
    url = f"{UNITS}/{tree['current']['id']}"
    body = assert_problem(await gateway.patch(url, json={"name": "Changed"}), 428)
    assert body["title"] == "Precondition required"
    assert "If-Match" in body["detail"]
    assert (await gateway.get(url)).json() == tree["current"]


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(gateway, tree):
    url = f"{UNITS}/{tree['current']['id']}"
    first = await gateway.patch(url, json={"name": "First change"}, headers={"If-Match": '"1"'})
    assert first.status_code == 200
    stale = await gateway.patch(url, json={"name": "Second change"}, headers={"If-Match": '"1"'})
    body = assert_problem(stale, 412)
    assert body["title"] == "Precondition failed"
    assert stale.headers["etag"] == '"2"'
    weak = await gateway.patch(url, json={"name": "Second change"}, headers={"If-Match": 'W/"2"'})
    assert_problem(weak, 412)
    assert (await gateway.get(url)).json()["name"] == "First change"
    listed = await gateway.patch(url, json={"name": "Second change"}, headers={"If-Match": '"7", "2"'})
    assert listed.json()["name"] == "Second change"


async def test_patch_refusals_name_the_field(gateway, tag, tree):
    pdu, url = tree["current"], f"{UNITS}/{tree['current']['id']}"
    cases = [
        ({"name": None}, "body.name", "Value error, may not be null"),
        ({"type": "galaxy"}, "body.type", None),
        ({"created_by": "me"}, "body.created_by", "Extra inputs are not permitted"),
        ({"parent_id": None}, "body.parent_id", "a unit of type pdu must sit under a unit of type region"),
        (
            {"parent_id": tree["youth"]["id"]},
            "body.parent_id",
            "a unit of type pdu may sit under a unit of type region, not yos",
        ),
        ({"parent_id": str(uuid.UUID(int=7))}, "body.parent_id", f"no unit {uuid.UUID(int=7)}"),
        ({"parent_id": pdu["id"]}, "body.parent_id", "a unit cannot be its own parent"),
        (
            {"type": "ldu"},
            "body.type",
            "a unit of type ldu may sit under a unit of type crc or nps_division, not region",
        ),
        ({"valid_to": "2023-01-01"}, "body.valid_to", "must be on or after valid_from (2023-04-01)"),
        ({"valid_from": "2031-01-01", "valid_to": None}, None, None),  # allowed: no end date
        ({"caseload_size": -5}, "body.caseload_size", "Input should be greater than or equal to 0"),
    ]
    for changes, field, message in cases:
        etag = (await gateway.get(url)).headers["etag"]
        response = await gateway.patch(url, json=changes, headers={"If-Match": etag})
        if field is None:
            assert response.status_code == 200, response.text
            continue
        body = assert_problem(response, 422, field)
        if message:
            assert body["errors"][0]["message"] == message
    # After valid_from moved to 2031, an end date before it is refused on valid_from's side too.
    etag = (await gateway.get(url)).headers["etag"]
    await gateway.patch(url, json={"valid_from": "2024-01-01", "valid_to": "2025-01-01"}, headers={"If-Match": etag})
    etag = (await gateway.get(url)).headers["etag"]
    body = assert_problem(
        await gateway.patch(url, json={"valid_from": "2026-01-01"}, headers={"If-Match": etag}), 422, "body.valid_from"
    )
    assert body["errors"][0]["message"] == "must be on or before valid_to (2025-01-01)"


async def test_patch_to_a_code_already_held_is_409(gateway, tree):
    url = f"{UNITS}/{tree['current']['id']}"
    body = assert_problem(
        await gateway.patch(url, json={"code": tree["retired"]["code"].lower()}, headers={"If-Match": '"1"'}),
        409,
        "body.code",
    )
    assert tree["retired"]["code"] in body["detail"]


async def test_patch_may_not_retype_a_unit_its_children_could_not_sit_under(gateway, tree):
    url = f"{UNITS}/{tree['england']['id']}"
    body = assert_problem(
        await gateway.patch(url, json={"type": "other"}, headers={"If-Match": '"1"'}), 422, "body.type"
    )
    misplaced = "sits under this unit and a unit of type pdu may sit under a unit of type region, not other"
    assert [e["message"] for e in body["errors"]] == [
        f"{tree['retired']['code']} {misplaced}",
        f"{tree['current']['code']} {misplaced}",
    ]
    assert (await gateway.get(url)).json()["type"] == "region"


async def test_patch_refuses_a_cycle(gateway, tag):
    top = await create(gateway, code=f"A{tag}", name="Commissioned body", type="other", nation="Jersey")
    middle = await create(
        gateway, code=f"B{tag}", name="Its office", type="other", nation="Jersey", parent_id=top["id"]
    )
    bottom = await create(
        gateway, code=f"C{tag}", name="Its team", type="other", nation="Jersey", parent_id=middle["id"]
    )
    body = assert_problem(
        await gateway.patch(f"{UNITS}/{top['id']}", json={"parent_id": bottom["id"]}, headers={"If-Match": '"1"'}),
        422,
        "body.parent_id",
    )
    assert body["errors"][0]["message"] == f"would make a cycle: A{tag} -> C{tag} -> B{tag} -> A{tag}"
    assert (await gateway.get(f"{UNITS}/{top['id']}")).json()["parent_id"] is None


# --- the contract ------------------------------------------------------------------------------------


async def test_openapi_declares_operations_problems_and_examples(gateway):
    spec = (await gateway.get("/openapi.json")).json()
    operations = {
        (method, path): op
        for path, item in spec["paths"].items()
        if path.startswith(UNITS)
        for method, op in item.items()
        if "units" in op.get("tags", [])
    }
    expected = {
        ("get", UNITS): ("list_units", {"422"}),
        ("post", UNITS): ("create_unit", {"409", "422"}),
        ("post", f"{UNITS}/import"): ("import_units", {"409", "413", "415", "422"}),
        ("get", f"{UNITS}/{{unit_id}}"): ("get_unit", {"404"}),
        ("patch", f"{UNITS}/{{unit_id}}"): ("update_unit", {"404", "409", "412", "422", "428"}),
        ("get", f"{UNITS}/{{unit_id}}/children"): ("list_unit_children", {"404", "422"}),
    }
    assert set(operations) == set(expected)
    for key, (operation_id, problems) in expected.items():
        assert operations[key]["operationId"] == operation_id
        assert problems <= set(operations[key]["responses"])
    assert set(operations[("post", f"{UNITS}/import")]["requestBody"]["content"]) == {
        "text/csv",
        "application/json",
        "multipart/form-data",
    }
    assert spec["components"]["schemas"]["UnitCreate"]["examples"]
    assert spec["components"]["schemas"]["UnitRead"]["examples"]


async def test_awkward_input_is_a_problem_never_a_500(gateway, tag):
    from gateway.pagination import encode_cursor

    unit = {"code": f"Y{tag}", "name": "Youth", "type": "yos", "nation": "England"}
    awkward_bodies = [
        ({**unit, "name": "Youth\x00service"}, "body.name"),
        ({**unit, "nation": "Eng\x07land"}, "body.nation"),
        ({**unit, "caseload_size": 10**12}, "body.caseload_size"),
        ({**unit, "valid_from": "2024-02-30"}, "body.valid_from"),
        ({**unit, "synthetic": "perhaps"}, "body.synthetic"),
        ({**unit, "code": "Y" * 33}, "body.code"),
        ({**unit, "name": "x" * 201}, "body.name"),
    ]
    for body, field in awkward_bodies:
        assert_problem(await gateway.post(UNITS, json=body), 422, field)
    assert_problem(await gateway.post(UNITS, content=b"{", headers={"Content-Type": "application/json"}), 422)
    awkward_queries = [
        ({"q": "a\x00b"}, "query.q"),
        ({"nation": "\x00"}, "query.nation"),
        ({"code": "N53\x00"}, "query.code"),
        ({"parent_id": "N53"}, "query.parent_id"),
        ({"synthetic": "sometimes"}, "query.synthetic"),
        ({"cursor": encode_cursor(["N53\x00"])}, "query.cursor"),
        ({"cursor": encode_cursor([53])}, "query.cursor"),
        ({"cursor": encode_cursor(["N53", "N54"])}, "query.cursor"),
    ]
    for params, field in awkward_queries:
        assert_problem(await gateway.get(UNITS, params=params), 422, field)
    created = await create(gateway, **unit)
    response = await gateway.patch(f"{UNITS}/{created['id']}", json={"name": "\x00"}, headers={"If-Match": "\x7f"})
    assert_problem(response, 422, "body.name")
    response = await gateway.patch(f"{UNITS}/{created['id']}", json=[1, 2], headers={"If-Match": '"1"'})
    assert_problem(response, 422)
