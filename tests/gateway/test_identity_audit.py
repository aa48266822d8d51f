"""What the audit log records of signing in and of API keys: sign-ins, refused sign-ins (kept though the
request is answered with an error), the first refusal of a held-back window, sign-outs, keys made and
revoked; and never a password's, a token's or a key's hash."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from gateway.audit.masking import MASKED
from gateway.audit.models import AuditEntry
from gateway.identity.throttles import ThrottleLimits
from tests.conftest import TEST_ADMIN
from tests.support.identity import ADMIN_PASSWORD

API = "/api/v1"
TOKEN = f"{API}/auth/token"
EMAIL = "test-admin@example.org"


async def sign_in(anonymous, email: str = EMAIL, password: str = ADMIN_PASSWORD):
    return await anonymous.post(TOKEN, data={"username": email, "password": password})


async def mark(session) -> int:
    return await session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))


async def events(session, since: int) -> list[AuditEntry]:
    """The named events (not row changes) recorded after `since`, oldest first."""
    statement = (select(AuditEntry).where(AuditEntry.id > since, AuditEntry.action.not_in(("insert", "update", "delete")))
                 .order_by(AuditEntry.id))
    return list((await session.scalars(statement)).all())


def summary(entry: AuditEntry) -> tuple:
    return entry.actor_id, entry.action, entry.entity, entry.entity_id, entry.details


async def test_a_sign_in_is_recorded_for_the_person_with_their_address(anonymous, test_admin, db_session):
    before = await mark(db_session)
    assert (await sign_in(anonymous)).status_code == 200
    [entry] = await events(db_session, before)
    assert (entry.actor_id, entry.actor_kind, entry.action, entry.entity, entry.entity_id) == (
        TEST_ADMIN, "person", "sign_in", "users", TEST_ADMIN)
    assert entry.details == {"grant": "password", "address": "127.0.0.1"}
    assert entry.request_id is not None


async def test_refused_sign_ins_are_recorded_though_the_request_fails_and_name_no_typed_user_name(
    anonymous, test_admin, db_session
):
    before = await mark(db_session)
    assert (await sign_in(anonymous, password="a wrong guess")).status_code == 400
    assert (await sign_in(anonymous, email="a-password-typed-by-mistake@example.org")).status_code == 400
    wrong, unknown = await events(db_session, before)
    assert summary(wrong) == ("sign-in", "sign_in.refused", "users", TEST_ADMIN,
                              {"reason": "wrong password", "address": "127.0.0.1"})
    assert summary(unknown) == ("sign-in", "sign_in.refused", "users", None,
                                {"reason": "no such account", "address": "127.0.0.1"})
    assert "mistake" not in repr([wrong.details, unknown.details, unknown.entity_id])


async def test_an_inactive_accounts_sign_in_is_refused_and_recorded_as_such(gateway, anonymous, db_session):
    made = await gateway.post(f"{API}/users", json={"email": "leaver@example.org", "name": "A leaver",
                                                    "password": "a long enough passphrase"})
    assert made.status_code == 201, made.text
    user = made.json()
    changed = await gateway.patch(f"{API}/users/{user['id']}", json={"active": False},
                                  headers={"If-Match": made.headers["etag"]})
    assert changed.status_code == 200, changed.text
    before = await mark(db_session)
    assert (await sign_in(anonymous, "leaver@example.org", "a long enough passphrase")).status_code == 400
    [entry] = await events(db_session, before)
    assert summary(entry) == ("sign-in", "sign_in.refused", "users", user["id"],
                              {"reason": "account not active", "address": "127.0.0.1"})


async def test_only_the_first_refusal_of_a_held_back_window_is_recorded(
    anonymous, gateway_app, test_admin, db_session
):
    gateway_app.state.identity.throttle = ThrottleLimits(account_failures=2, address_failures=100,
                                                         window=timedelta(seconds=120))
    before = await mark(db_session)
    for _ in range(2):
        assert (await sign_in(anonymous, password="a wrong guess")).status_code == 400
    for _ in range(4):
        assert (await sign_in(anonymous)).status_code == 429
    entries = await events(db_session, before)
    assert [e.action for e in entries] == ["sign_in.refused", "sign_in.refused", "sign_in.held_back"]
    held = entries[-1]
    assert (held.actor_id, held.entity, held.entity_id) == ("sign-in", "users", None)
    assert set(held.details) == {"held_back", "address"} and held.details["address"] == "127.0.0.1"
    assert list(held.details["held_back"]) == ["account"]


async def test_a_reused_refresh_token_is_recorded_with_the_account_whose_sign_in_it_revoked(
    anonymous, test_admin, db_session
):
    tokens = (await sign_in(anonymous)).json()
    assert (await anonymous.post(TOKEN, data={"grant_type": "refresh_token",
                                              "refresh_token": tokens["refresh_token"]})).status_code == 200
    before = await mark(db_session)
    again = await anonymous.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert again.status_code == 400
    [entry] = await events(db_session, before)
    assert summary(entry) == ("sign-in", "sign_in.refused", "users", TEST_ADMIN,
                              {"reason": "refresh token used twice: its sign-in revoked"})


async def test_signing_out_is_recorded_once_and_everywhere_says_so(anonymous, test_admin, db_session):
    tokens = (await sign_in(anonymous)).json()
    before = await mark(db_session)
    out = await anonymous.post(f"{API}/auth/logout", data={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    assert (await anonymous.post(f"{API}/auth/logout", data={"refresh_token": tokens["refresh_token"]})).status_code == 204
    [entry] = await events(db_session, before)  # the second sign-out revoked nothing
    assert (entry.actor_id, entry.action, entry.entity_id, entry.details["everywhere"]) == (
        TEST_ADMIN, "sign_out", TEST_ADMIN, False)
    uuid.UUID(entry.details["sign_in"])

    access = (await sign_in(anonymous)).json()["access_token"]
    before = await mark(db_session)
    everywhere = await anonymous.post(f"{API}/auth/logout", data={"everywhere": "true"},
                                      headers={"Authorization": f"Bearer {access}"})
    assert everywhere.status_code == 204
    [entry] = await events(db_session, before)
    assert summary(entry) == (TEST_ADMIN, "sign_out", "users", TEST_ADMIN, {"everywhere": True})


async def test_keys_made_and_revoked_are_recorded_by_name_and_prefix_never_by_key(gateway, db_session):
    before = await mark(db_session)
    made = await gateway.post(f"{API}/api-keys", json={"name": "Report generator", "scopes": ["reports:read"],
                                                       "expires_at": "2099-01-01T00:00:00Z"})
    assert made.status_code == 201, made.text
    key = made.json()
    assert (await gateway.delete(f"{API}/api-keys/{key['id']}")).status_code == 204
    assert (await gateway.delete(f"{API}/api-keys/{key['id']}")).status_code == 204  # revoked already: no entry
    created, revoked = await events(db_session, before)
    assert summary(created) == (TEST_ADMIN, "api_key.created", "api_keys", key["id"], {
        "name": "Report generator", "prefix": key["prefix"], "scopes": ["reports:read"], "unit_id": None,
        "expires_at": "2099-01-01T00:00:00+00:00"})
    assert summary(revoked) == (TEST_ADMIN, "api_key.revoked", "api_keys", key["id"],
                                {"name": "Report generator", "prefix": key["prefix"]})
    everything = (await db_session.scalars(select(AuditEntry).where(AuditEntry.id > before))).all()
    assert key["key"] not in repr([(e.before, e.after, e.details) for e in everything])


async def test_the_hashes_of_passwords_tokens_and_keys_are_masked_in_the_row_changes(
    gateway, anonymous, test_admin, db_session
):
    before = await mark(db_session)
    await gateway.post(f"{API}/users", json={"email": "new@example.org", "name": "New", "password": "a long enough passphrase"})
    await sign_in(anonymous)
    await gateway.post(f"{API}/api-keys", json={"name": "A key", "scopes": ["reports:read"]})
    rows = {e.entity: e.after for e in (await db_session.scalars(
        select(AuditEntry).where(AuditEntry.id > before, AuditEntry.action == "insert"))).all()}
    assert rows["users"]["password_hash"] == MASKED
    assert rows["refresh_tokens"]["token_hash"] == MASKED
    assert rows["api_keys"]["key_hash"] == MASKED
