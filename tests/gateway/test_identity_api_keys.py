"""API keys for systems: shown once, kept only as a hash, scoped to permissions, held on a unit and those
below it or everywhere, expiring, revocable at once."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.identity.models import ApiKey
from tests.conftest import TEST_ADMIN
from tests.gateway.factories import make_unit

API = "/api/v1"
KEYS = f"{API}/api-keys"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def make_key(gateway, **fields) -> dict:
    made = await gateway.post(KEYS, json={"name": "Report generator", "scopes": ["inspections:read"], **fields})
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_key_is_shown_once_recognisable_and_kept_only_as_its_hash(gateway, db_session):
    made = await gateway.post(KEYS, json={"name": "Report generator", "scopes": ["reports:read", "inspections:read"],
                                          "expires_at": "2099-01-01T00:00:00Z"})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    key = body["key"]
    assert key.startswith("ik_live_") and len(key) >= 8 + 43 and body["prefix"] == key[:12]
    assert (body["scopes"], body["status"], body["unit_id"], body["created_by"]) == (
        ["inspections:read", "reports:read"], "active", None, TEST_ADMIN)
    stored = (await db_session.scalars(select(ApiKey).where(ApiKey.id == uuid.UUID(body["id"])))).one()
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in repr({c.key: getattr(stored, c.key) for c in ApiKey.__table__.columns})

    listed = await gateway.get(KEYS)
    assert listed.status_code == 200 and key not in listed.text
    assert [k["id"] for k in listed.json()["items"]][:1] == [body["id"]]
    one = await gateway.get(f"{KEYS}/{body['id']}")
    assert "key" not in one.json() and one.json()["prefix"] == body["prefix"]


async def test_a_key_acts_with_its_scopes_and_a_route_beyond_them_is_a_403_naming_the_permission(gateway, anonymous):
    key = (await make_key(gateway, scopes=["inspections:read", "drafts:read"]))["key"]
    assert (await anonymous.get(f"{API}/inspections", headers=bearer(key))).status_code == 200
    refused = await anonymous.get(f"{API}/units", headers=bearer(key))
    assert refused.status_code == 403
    assert (refused.json()["permission"], refused.json()["type"]) == ("units:read", "/problems/forbidden")
    me = (await anonymous.get(f"{API}/me", headers=bearer(key))).json()
    assert (me["kind"], me["name"], me["grants"][0]["permissions"]) == (
        "key", "Report generator", ["drafts:read", "inspections:read"])


async def test_a_revoked_key_is_refused_on_its_next_request(gateway, anonymous):
    made = await make_key(gateway)
    assert (await anonymous.get(f"{API}/inspections", headers=bearer(made["key"]))).status_code == 200
    assert (await gateway.delete(f"{KEYS}/{made['id']}")).status_code == 204
    refused = await anonymous.get(f"{API}/inspections", headers=bearer(made["key"]))
    assert refused.status_code == 401 and refused.json()["detail"] == "This API key has been revoked."
    assert (await gateway.delete(f"{KEYS}/{made['id']}")).status_code == 204  # again: no change
    assert (await gateway.get(f"{KEYS}/{made['id']}")).json()["status"] == "revoked"
    assert [k["id"] for k in (await gateway.get(KEYS, params={"status": "revoked"})).json()["items"]] == [made["id"]]
    assert (await gateway.delete(f"{KEYS}/{uuid.uuid4()}")).status_code == 404


async def test_an_expired_key_and_an_unknown_key_are_refused(gateway, anonymous):
    made = await make_key(gateway, expires_at=(datetime.now(UTC) + timedelta(seconds=1.5)).isoformat())
    assert (await anonymous.get(f"{API}/inspections", headers=bearer(made["key"]))).status_code == 200
    time.sleep(1.6)  # the key is held by the process meanwhile: its expiry is checked on every use
    refused = await anonymous.get(f"{API}/inspections", headers=bearer(made["key"]))
    assert refused.status_code == 401 and refused.json()["detail"] == "This API key has expired."
    assert (await gateway.get(f"{KEYS}/{made['id']}")).json()["status"] == "expired"
    unknown = await anonymous.get(f"{API}/inspections", headers=bearer("ik_live_" + "A" * 43))
    assert unknown.status_code == 401 and "not one the gateway issued" in unknown.json()["detail"]


async def test_a_key_limited_to_a_unit_holds_its_scopes_on_that_unit_and_those_below_it(
    gateway, gateway_app, anonymous, db_session
):
    region = await make_unit(db_session, type="region")
    pdu = await make_unit(db_session, parent=region)
    await make_unit(db_session, type="region")
    made = await make_key(gateway, unit_id=str(region.id), scopes=["units:read"])
    assert made["unit_code"] == region.code
    assert (await anonymous.get(f"{API}/units", headers=bearer(made["key"]))).status_code == 200
    held = gateway_app.state.identity.cache.keys[hashlib.sha256(made["key"].encode()).hexdigest()]
    assert held.actor.grants[0].units == {region.id, pdu.id}
    me = (await anonymous.get(f"{API}/me", headers=bearer(made["key"]))).json()
    assert (me["grants"][0]["unit_code"], me["grants"][0]["units_covered"]) == (region.code, 2)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scopes": ["reports:write"]}, "body.scopes.0"),
        ({"scopes": []}, "body.scopes"),
        ({"unit_id": str(uuid.UUID(int=5))}, "body.unit_id"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "body.expires_at"),
        ({"expires_at": "2099-01-01T00:00:00"}, "body.expires_at"),
        ({"name": ""}, "body.name"),
    ],
)
async def test_a_key_that_cannot_be_made_is_a_422_naming_the_field(gateway, fields, field):
    refused = await gateway.post(KEYS, json={"name": "Reports", "scopes": ["reports:read"], **fields})
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == [field]
