"""Accounts and their roles on units: made, listed, changed and deactivated by an administrator, and who
I am. A change to an account, a grant or the tree of units takes effect on the caller's very next request."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from gateway.identity.models import User
from gateway.permissions import ROLE_PERMISSIONS, Role
from tests.conftest import TEST_ADMIN, TEST_ADMIN_ID
from tests.gateway.factories import make_unit
from tests.support.identity import ADMIN_PASSWORD

API = "/api/v1"
USERS = f"{API}/users"
PASSWORD = "a long passphrase of hers"


async def make_person(gateway, email: str = "jane.doe@justice.example", role: Role | None = None,
                      unit_id: uuid.UUID | None = None) -> dict:
    made = await gateway.post(USERS, json={"email": email, "name": "Jane Doe", "password": PASSWORD})
    assert made.status_code == 201, made.text
    if role is not None:
        granted = await gateway.post(f"{USERS}/{made.json()['id']}/grants",
                                     json={"role": role, "unit_id": str(unit_id) if unit_id else None})
        assert granted.status_code == 201, granted.text
    return made.json()


async def signed_in_as(anonymous, email: str, password: str = PASSWORD) -> dict[str, str]:
    answer = await anonymous.post(f"{API}/auth/token", data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


# --- making and reading accounts -----------------------------------------------------------------------


async def test_an_account_is_made_with_its_email_in_lower_case_and_never_shows_its_password(gateway):
    made = await gateway.post(USERS, json={"email": " Jane.Doe@Justice.Example ", "name": " Jane Doe ",
                                           "password": PASSWORD})
    assert made.status_code == 201, made.text
    body = made.json()
    assert made.headers["location"] == f"{USERS}/{body['id']}" and made.headers["etag"] == '"1"'
    assert (body["email"], body["name"], body["active"], body["grants"]) == (
        "jane.doe@justice.example", "Jane Doe", True, [])
    assert body["created_by"] == body["updated_by"] == TEST_ADMIN
    assert "password" not in made.text and PASSWORD not in made.text

    again = await gateway.post(USERS, json={"email": "JANE.DOE@justice.example", "name": "Another", "password": PASSWORD})
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "body.email"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"email": "not an address", "name": "X", "password": PASSWORD}, "body.email", "not an email address"),
        ({"email": "x@example.org", "name": "X", "password": "short"}, "body.password", "at least 8 characters"),
        ({"email": "x@example.org", "name": "X", "password": "password123"}, "body.password", "tried first"),
        ({"email": "x@example.org", "name": "X", "password": "x@example.org"}, "body.password", "email address"),
        ({"email": "x@example.org", "name": "", "password": PASSWORD}, "body.name", "at least 1 character"),
        ({"email": "x@example.org", "name": "X", "password": PASSWORD, "active": False}, "body.active", "Extra"),
    ],
)
async def test_an_account_that_cannot_be_made_is_a_422_naming_the_field(gateway, body, field, message):
    refused = await gateway.post(USERS, json=body)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert message in refused.json()["errors"][0]["message"]


async def test_accounts_are_listed_in_email_order_a_page_at_a_time(gateway):
    for name in ("carol", "alice", "bob"):
        await make_person(gateway, f"{name}@example.org")
    first = (await gateway.get(USERS, params={"limit": 2})).json()
    rest = (await gateway.get(USERS, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    emails = [u["email"] for u in first["items"] + rest["items"]]
    assert emails == sorted(emails) and {"alice@example.org", "bob@example.org", "carol@example.org"} <= set(emails)
    made = [u for u in first["items"] + rest["items"] if u["email"].endswith("@example.org") and u["grants"] == []]
    assert {u["email"] for u in made} >= {"alice@example.org", "bob@example.org"}
    one = (await gateway.get(USERS, params={"email": "Bob@Example.org"})).json()["items"]
    assert [u["email"] for u in one] == ["bob@example.org"]
    assert (await gateway.get(USERS, params={"active": "false"})).json()["items"] == []
    assert (await gateway.get(f"{USERS}/{uuid.uuid4()}")).status_code == 404


# --- who I am --------------------------------------------------------------------------------------------


async def test_me_names_the_caller_their_grants_and_what_they_allow_unit_by_unit(gateway, anonymous, db_session):
    region = await make_unit(db_session, type="region")
    pdus = [await make_unit(db_session, parent=region) for _ in range(2)]
    person = await make_person(gateway, role=Role.INSPECTOR, unit_id=region.id)
    await gateway.post(f"{USERS}/{person['id']}/grants", json={"role": "panel", "unit_id": str(pdus[0].id)})

    me = await anonymous.get(f"{API}/me", headers=await signed_in_as(anonymous, person["email"]))
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["id"], body["kind"], body["email"]) == (person["id"], "person", person["email"])
    grants = {g["role"]: g for g in body["grants"]}
    assert grants["inspector"]["unit_code"] == region.code and grants["inspector"]["units_covered"] == 3
    assert grants["inspector"]["permissions"] == sorted(ROLE_PERMISSIONS[Role.INSPECTOR])
    assert grants["panel"]["unit_code"] == pdus[0].code and grants["panel"]["units_covered"] == 1
    allows = {a["unit_code"]: set(a["permissions"]) for a in body["allows"]}
    assert allows == {region.code: set(ROLE_PERMISSIONS[Role.INSPECTOR]), pdus[0].code: set(ROLE_PERMISSIONS[Role.PANEL])}


async def test_me_without_credentials_is_a_401_inviting_a_bearer_token(anonymous):
    refused = await anonymous.get(f"{API}/me")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert refused.json()["type"] == "/problems/not-signed-in"


async def test_the_test_administrator_is_who_the_gateway_client_is(gateway):
    me = (await gateway.get(f"{API}/me")).json()
    assert (me["id"], me["grants"][0]["role"], me["grants"][0]["unit_id"]) == (TEST_ADMIN, "admin", None)
    assert me["allows"] == [{"unit_id": None, "unit_code": None, "permissions": sorted(ROLE_PERMISSIONS[Role.ADMIN])}]


# --- grants ----------------------------------------------------------------------------------------------


async def test_a_grant_covers_the_unit_and_every_unit_below_it_and_follows_the_tree_at_once(
    gateway, gateway_app, anonymous, db_session
):
    region = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, parent=region)
    person = await make_person(gateway, role=Role.LEAD_INSPECTOR, unit_id=region.id)
    auth = await signed_in_as(anonymous, person["email"])
    assert (await anonymous.get(f"{API}/units", headers=auth)).status_code == 200
    cache = gateway_app.state.identity.cache
    assert cache.people[uuid.UUID(person["id"])].actor.grants[0].units == {region.id, pdu.id}

    # A unit added below the region, through the API, is covered by the grant on the next request.
    added = await gateway.post(f"{API}/units", json={"code": f"P{uuid.uuid4().hex[:6].upper()}", "name": "New PDU",
                                                      "type": "pdu", "nation": "England", "parent_id": str(region.id)})
    assert added.status_code == 201, added.text
    assert uuid.UUID(person["id"]) not in cache.people  # dropped as the unit was committed
    assert (await anonymous.get(f"{API}/units", headers=auth)).status_code == 200
    assert cache.people[uuid.UUID(person["id"])].actor.grants[0].units == {region.id, pdu.id,
                                                                           uuid.UUID(added.json()["id"])}


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        ({"role": "admin", "unit_id": "unit"}, "the admin role is held everywhere"),
        ({"role": "inspector", "unit_id": None}, "the inspector role is held on a unit"),
        ({"role": "inspector", "unit_id": str(uuid.UUID(int=7))}, "no unit"),
    ],
)
async def test_a_grant_that_cannot_be_made_is_a_422(gateway, db_session, grant, message):
    unit = await make_unit(db_session, type="region")
    person = await make_person(gateway)
    body = {**grant, "unit_id": str(unit.id) if grant["unit_id"] == "unit" else grant["unit_id"]}
    refused = await gateway.post(f"{USERS}/{person['id']}/grants", json=body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert error["field"] == "body.unit_id" and message in error["message"]
    unknown_role = await gateway.post(f"{USERS}/{person['id']}/grants", json={"role": "king", "unit_id": None})
    assert unknown_role.status_code == 422


async def test_a_role_given_twice_is_a_409_and_one_taken_away_is_gone_on_the_next_request(gateway, anonymous, db_session):
    unit = await make_unit(db_session, type="region")
    person = await make_person(gateway, role=Role.READER, unit_id=unit.id)
    again = await gateway.post(f"{USERS}/{person['id']}/grants", json={"role": "reader", "unit_id": str(unit.id)})
    assert again.status_code == 409
    auth = await signed_in_as(anonymous, person["email"])
    assert (await anonymous.get(f"{API}/units", headers=auth)).status_code == 200

    grant_id = (await gateway.get(f"{USERS}/{person['id']}")).json()["grants"][0]["id"]
    removed = await gateway.delete(f"{USERS}/{person['id']}/grants/{grant_id}")
    assert removed.status_code == 204
    refused = await anonymous.get(f"{API}/units", headers=auth)
    assert refused.status_code == 403 and refused.json()["permission"] == "units:read"
    assert (await gateway.delete(f"{USERS}/{person['id']}/grants/{grant_id}")).status_code == 404


async def test_only_an_administrator_manages_accounts_and_keys(gateway, anonymous, db_session):
    unit = await make_unit(db_session, type="region")
    person = await make_person(gateway, role=Role.LEAD_INSPECTOR, unit_id=unit.id)
    auth = await signed_in_as(anonymous, person["email"])
    for method, path, permission in (("GET", USERS, "users:admin"), ("POST", USERS, "users:admin"),
                                     ("GET", f"{API}/api-keys", "keys:admin")):
        refused = await anonymous.request(method, path, headers=auth, json={})
        assert (refused.status_code, refused.json()["permission"]) == (403, permission), refused.text
        assert permission in refused.json()["detail"]
    assert (await anonymous.get(USERS)).status_code == 401


# --- changing and deactivating ---------------------------------------------------------------------------


async def test_a_change_to_an_account_needs_the_etag_of_the_last_read(gateway):
    person = await make_person(gateway)
    url = f"{USERS}/{person['id']}"
    assert (await gateway.patch(url, json={"name": "Jane D."})).status_code == 428
    etag = (await gateway.get(url)).headers["etag"]
    renamed = await gateway.patch(url, json={"name": "Jane D."}, headers={"If-Match": etag})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Jane D."
    assert renamed.headers["etag"] != etag
    assert (await gateway.patch(url, json={"name": "J."}, headers={"If-Match": etag})).status_code == 412
    null = await gateway.patch(url, json={"active": None}, headers={"If-Match": renamed.headers["etag"]})
    assert null.status_code == 422


async def test_deactivation_ends_the_persons_tokens_on_their_next_request_and_refuses_sign_in(
    gateway, anonymous, db_session
):
    unit = await make_unit(db_session, type="region")
    person = await make_person(gateway, role=Role.READER, unit_id=unit.id)
    answer = (await anonymous.post(f"{API}/auth/token", data={"username": person["email"], "password": PASSWORD})).json()
    auth = {"Authorization": f"Bearer {answer['access_token']}"}
    assert (await anonymous.get(f"{API}/me", headers=auth)).status_code == 200

    url = f"{USERS}/{person['id']}"
    etag = (await gateway.get(url)).headers["etag"]
    off = await gateway.patch(url, json={"active": False}, headers={"If-Match": etag})
    assert off.status_code == 200 and off.json()["active"] is False

    refused = await anonymous.get(f"{API}/me", headers=auth)
    assert refused.status_code == 401 and refused.json()["type"] == "/problems/invalid-credentials"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    again = await anonymous.post(f"{API}/auth/token", data={"username": person["email"], "password": PASSWORD})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    refresh = await anonymous.post(f"{API}/auth/token",
                                   data={"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]})
    assert refresh.status_code == 400

    # Reactivated, the old tokens stay ended; a new sign-in works.
    on = await gateway.patch(url, json={"active": True}, headers={"If-Match": off.headers["etag"]})
    assert on.status_code == 200
    assert (await anonymous.get(f"{API}/me", headers=auth)).status_code == 401
    assert (await anonymous.get(f"{API}/me", headers=await signed_in_as(anonymous, person["email"]))).status_code == 200


async def test_a_new_password_ends_the_old_sessions(gateway, anonymous):
    person = await make_person(gateway)
    auth = await signed_in_as(anonymous, person["email"])
    url = f"{USERS}/{person['id']}"
    etag = (await gateway.get(url)).headers["etag"]
    changed = await gateway.patch(url, json={"password": "another long passphrase"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    assert (await anonymous.get(f"{API}/me", headers=auth)).status_code == 401
    assert (await anonymous.post(f"{API}/auth/token", data={"username": person["email"], "password": PASSWORD})
            ).status_code == 400
    await signed_in_as(anonymous, person["email"], "another long passphrase")


async def test_the_last_active_administrator_cannot_be_deactivated_nor_lose_the_role(gateway, db_session):
    # The run's database holds the end-to-end tests' administrator too: not in this test's transaction.
    await db_session.execute(update(User).where(User.id != TEST_ADMIN_ID).values(active=False))
    url = f"{USERS}/{TEST_ADMIN_ID}"
    admin = await gateway.get(url)
    refused = await gateway.patch(url, json={"active": False}, headers={"If-Match": admin.headers["etag"]})
    assert refused.status_code == 409 and "no active administrator" in refused.json()["detail"]
    grant_id = admin.json()["grants"][0]["id"]
    assert (await gateway.delete(f"{url}/grants/{grant_id}")).status_code == 409

    other = await make_person(gateway, "second.admin@example.org", Role.ADMIN)
    assert other["id"]
    assert (await gateway.delete(f"{url}/grants/{grant_id}")).status_code == 204
    # Now without the admin role, the test administrator is refused at once.
    assert (await gateway.get(USERS)).status_code == 403


async def test_the_administrator_signs_in_with_the_password_flow(anonymous, test_admin):
    auth = await signed_in_as(anonymous, "Test-Admin@Example.org", ADMIN_PASSWORD)
    assert (await anonymous.get(USERS, headers=auth)).status_code == 200
