"""Signing in and out: the OAuth 2.0 password and refresh-token grants, refresh tokens used once in
families, sign-out, tokens that cannot be used (expired, changed, unsigned, signed by another key), the
public keys other systems verify with, and failed sign-ins refused for a while (429)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from gateway.identity.keys import SigningKeys
from gateway.identity.models import SignInThrottle
from gateway.identity.throttles import ThrottleLimits
from gateway.identity.tokens import AccessTokens
from tests.conftest import TEST_ADMIN, TEST_ADMIN_ID
from tests.support.identity import ADMIN_PASSWORD

API = "/api/v1"
TOKEN = f"{API}/auth/token"
EMAIL = "test-admin@example.org"


async def sign_in(anonymous, email: str = EMAIL, password: str = ADMIN_PASSWORD, **form):
    return await anonymous.post(TOKEN, data={"username": email, "password": password, **form})


async def refresh(anonymous, refresh_token: str):
    return await anonymous.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_oauth_refusal(response, error: str) -> dict:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["error"], body["error_description"]) == (error, body["detail"])
    return body


# --- the password grant --------------------------------------------------------------------------------


async def test_a_password_sign_in_answers_an_oauth_token_response(anonymous, test_admin, gateway_app):
    answer = await sign_in(anonymous, grant_type="password")
    assert answer.status_code == 200, answer.text
    assert (answer.headers["cache-control"], answer.headers["pragma"]) == ("no-store", "no-cache")
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    assert body["refresh_token"].startswith("rt_") and len(body["refresh_token"]) > 40

    header = jwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["kid"]) == ("EdDSA", gateway_app.state.identity.tokens.keys.kid)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"sub", "iat", "exp", "jti", "iss"} <= set(claims)
    assert (claims["sub"], claims["iss"], claims["exp"] - claims["iat"]) == (TEST_ADMIN, "inspection-gateway", 900)
    me = await anonymous.get(f"{API}/me", headers=bearer(body["access_token"]))
    assert me.json()["id"] == TEST_ADMIN


async def test_the_grant_type_may_be_left_out_and_an_unknown_one_is_refused(anonymous, test_admin):
    assert (await anonymous.post(TOKEN, data={"username": EMAIL, "password": ADMIN_PASSWORD})).status_code == 200
    assert_oauth_refusal(await sign_in(anonymous, grant_type="client_credentials"), "unsupported_grant_type")
    assert_oauth_refusal(await anonymous.post(TOKEN, data={"username": EMAIL}), "invalid_request")
    assert_oauth_refusal(await anonymous.post(TOKEN, data={"grant_type": "refresh_token"}), "invalid_request")


async def test_a_wrong_password_and_an_unknown_account_are_refused_alike(anonymous, test_admin):
    wrong = assert_oauth_refusal(await sign_in(anonymous, password="not the password"), "invalid_grant")
    unknown = assert_oauth_refusal(await sign_in(anonymous, email="nobody@example.org"), "invalid_grant")
    assert wrong["detail"] == unknown["detail"] == (
        "The email address or password is wrong, or the account is not active.")


# --- refresh tokens: single use, rotating, in families ---------------------------------------------------


async def test_a_refresh_token_is_exchanged_once_for_the_next_pair(anonymous, test_admin):
    first = (await sign_in(anonymous)).json()
    second = await refresh(anonymous, first["refresh_token"])
    assert second.status_code == 200, second.text
    assert second.headers["cache-control"] == "no-store"
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"] and pair["access_token"] != first["access_token"]
    assert (await anonymous.get(f"{API}/me", headers=bearer(pair["access_token"]))).status_code == 200
    third = await refresh(anonymous, pair["refresh_token"])
    assert third.status_code == 200
    assert_oauth_refusal(await refresh(anonymous, "rt_" + "x" * 43), "invalid_grant")


async def test_a_refresh_token_used_twice_revokes_its_whole_family_and_no_other(anonymous, test_admin):
    stolen = (await sign_in(anonymous)).json()
    elsewhere = (await sign_in(anonymous)).json()  # another sign-in of the same person: another family
    rotated = (await refresh(anonymous, stolen["refresh_token"])).json()

    reused = assert_oauth_refusal(await refresh(anonymous, stolen["refresh_token"]), "invalid_grant")
    assert "used already" in reused["detail"]
    # The family is revoked: the token the legitimate client holds now fails too.
    assert_oauth_refusal(await refresh(anonymous, rotated["refresh_token"]), "invalid_grant")
    # The other sign-in is untouched.
    assert (await refresh(anonymous, elsewhere["refresh_token"])).status_code == 200


async def test_an_expired_refresh_token_is_refused(anonymous, test_admin, gateway_app):
    gateway_app.state.identity.refresh_lifetime = timedelta(seconds=-1)
    expired = (await sign_in(anonymous)).json()
    assert_oauth_refusal(await refresh(anonymous, expired["refresh_token"]), "invalid_grant")


# --- signing out ---------------------------------------------------------------------------------------


async def test_signing_out_with_a_refresh_token_revokes_its_family(anonymous, test_admin):
    pair = (await sign_in(anonymous)).json()
    out = await anonymous.post(f"{API}/auth/logout", data={"refresh_token": pair["refresh_token"]})
    assert out.status_code == 204
    assert_oauth_refusal(await refresh(anonymous, pair["refresh_token"]), "invalid_grant")
    # An unknown token is answered as a success too (RFC 7009): nothing is learned from the answer.
    assert (await anonymous.post(f"{API}/auth/logout", data={"refresh_token": "rt_unknown"})).status_code == 204


async def test_signing_out_with_an_access_token_revokes_the_sign_in_it_was_issued_in(anonymous, test_admin):
    pair = (await sign_in(anonymous)).json()
    other = (await sign_in(anonymous)).json()
    out = await anonymous.post(f"{API}/auth/logout", headers=bearer(pair["access_token"]))
    assert out.status_code == 204, out.text
    assert_oauth_refusal(await refresh(anonymous, pair["refresh_token"]), "invalid_grant")
    assert (await refresh(anonymous, other["refresh_token"])).status_code == 200
    nothing = await anonymous.post(f"{API}/auth/logout")
    assert_oauth_refusal(nothing, "invalid_request")


async def test_signing_out_everywhere_ends_every_token_of_the_person_at_once(anonymous, test_admin):
    one, two = (await sign_in(anonymous)).json(), (await sign_in(anonymous)).json()
    out = await anonymous.post(f"{API}/auth/logout", data={"everywhere": "true"}, headers=bearer(one["access_token"]))
    assert out.status_code == 204, out.text
    for pair in (one, two):
        refused = await anonymous.get(f"{API}/me", headers=bearer(pair["access_token"]))
        assert refused.status_code == 401 and "sign in again" in refused.json()["detail"]
        assert_oauth_refusal(await refresh(anonymous, pair["refresh_token"]), "invalid_grant")
    fresh = (await sign_in(anonymous)).json()
    assert (await anonymous.get(f"{API}/me", headers=bearer(fresh["access_token"]))).status_code == 200
    anonymous_everywhere = await anonymous.post(f"{API}/auth/logout", data={"everywhere": "true"})
    assert anonymous_everywhere.status_code == 401


# --- tokens that cannot be used ------------------------------------------------------------------------


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(**changes) -> dict:
    now = int(time.time())
    return {"sub": TEST_ADMIN, "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, "iss": "inspection-gateway",
            "sid": str(uuid.uuid4()), "gen": 0, **changes}


def _forged(gateway_app, kind: str) -> str:
    keys = gateway_app.state.identity.tokens.keys
    good = gateway_app.state.identity.tokens.issue(TEST_ADMIN_ID, uuid.uuid4(), 0)
    header, payload, signature = _segments(good)
    if kind == "expired":
        expired = AccessTokens(keys, "inspection-gateway", lifetime_seconds=-60)
        return expired.issue(TEST_ADMIN_ID, uuid.uuid4(), 0)
    if kind == "tampered":  # another subject, the signature of the original
        return ".".join([header, _b64(_claims(sub=str(uuid.uuid4()))), signature])
    if kind == "alg none":
        return ".".join([_b64({"alg": "none", "typ": "JWT", "kid": keys.kid}), _b64(_claims()), ""])
    if kind == "wrong key":  # signed by another key that claims our key's id
        return jwt.encode(_claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": keys.kid})
    if kind == "unknown key":
        return jwt.encode(_claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "someone-else"})
    if kind == "hmac with the public key":
        return jwt.encode(_claims(), keys.jwks()["keys"][0]["x"], algorithm="HS256", headers={"kid": keys.kid})
    if kind == "another issuer":
        return jwt.encode(_claims(iss="elsewhere"), keys.private, algorithm="EdDSA", headers={"kid": keys.kid})
    if kind == "no expiry":
        claims = _claims()
        del claims["exp"]
        return jwt.encode(claims, keys.private, algorithm="EdDSA", headers={"kid": keys.kid})
    return "not-a-token"


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("expired", "has expired"),
        ("tampered", "signature does not match"),
        ("alg none", "signed with EdDSA only"),
        ("wrong key", "signature does not match"),
        ("unknown key", "not signed with a key this gateway knows"),
        ("hmac with the public key", "signed with EdDSA only"),
        ("another issuer", "issued by someone else"),
        ("no expiry", "lacks the claim exp"),
        ("garbage", "not valid"),
    ],
)
async def test_a_token_that_cannot_be_used_is_a_401_saying_why(anonymous, gateway_app, test_admin, kind, says):
    for path in (f"{API}/me", f"{API}/units", f"{API}/frameworks"):  # a public route refuses a bad token too
        refused = await anonymous.get(path, headers=bearer(_forged(gateway_app, kind)))
        assert refused.status_code == 401, (path, refused.text)
        assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert refused.json()["type"] == "/problems/invalid-credentials"
        assert says in refused.json()["detail"]


async def test_another_scheme_is_no_credential_at_all(anonymous, test_admin):
    basic = {"Authorization": "Basic " + base64.b64encode(f"{EMAIL}:{ADMIN_PASSWORD}".encode()).decode()}
    assert (await anonymous.get(f"{API}/units", headers=basic)).json()["type"] == "/problems/not-signed-in"
    assert (await anonymous.get(f"{API}/frameworks", headers=basic)).status_code == 200
    empty = await anonymous.get(f"{API}/units", headers={"Authorization": "Bearer "})
    assert empty.status_code == 401 and empty.json()["type"] == "/problems/invalid-credentials"


async def test_a_token_of_a_retired_key_is_accepted_while_its_key_is_listed(anonymous, gateway_app, test_admin):
    old = Ed25519PrivateKey.generate()
    old_tokens = AccessTokens(SigningKeys.of(old), "inspection-gateway", 600)
    token = old_tokens.issue(TEST_ADMIN_ID, uuid.uuid4(), 0)
    assert (await anonymous.get(f"{API}/me", headers=bearer(token))).status_code == 401
    identity = gateway_app.state.identity
    current = identity.tokens.keys
    identity.tokens = AccessTokens(SigningKeys.of(current.private, (old.public_key(),)), "inspection-gateway", 900)
    assert (await anonymous.get(f"{API}/me", headers=bearer(token))).status_code == 200
    kids = [key["kid"] for key in (await anonymous.get("/.well-known/jwks.json")).json()["keys"]]
    assert kids == [current.kid, old_tokens.keys.kid]


async def test_another_system_verifies_a_token_with_the_published_keys(anonymous, test_admin):
    token = (await sign_in(anonymous)).json()["access_token"]
    published = await anonymous.get("/.well-known/jwks.json")
    assert published.status_code == 200 and "max-age" in published.headers["cache-control"]
    jwks = jwt.PyJWKSet.from_dict(published.json())
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], issuer="inspection-gateway")
    assert claims["sub"] == TEST_ADMIN
    assert all("d" not in k for k in published.json()["keys"])  # public halves only


# --- failed sign-ins held back -------------------------------------------------------------------------


async def test_repeated_failures_to_an_account_are_refused_with_429_and_retry_after(
    anonymous, gateway_app, test_admin, db_session
):
    gateway_app.state.identity.throttle = ThrottleLimits(account_failures=3, address_failures=100,
                                                         window=timedelta(seconds=120))
    for _ in range(3):
        assert_oauth_refusal(await sign_in(anonymous, password="guess " * 3), "invalid_grant")
    held_back = await sign_in(anonymous)  # the right password too, while the window lasts
    assert held_back.status_code == 429, held_back.text
    assert held_back.headers["content-type"] == "application/problem+json"
    retry = int(held_back.headers["retry-after"])
    assert 100 < retry <= 120
    body = held_back.json()
    assert (body["type"], body["retry_after"]) == ("/problems/too-many-sign-ins", retry)
    assert "to this account" in body["detail"] and f"{retry} seconds" in body["detail"]
    # Counted in the database (so every gateway process agrees), under hashes: no address or email in clear.
    keys = set((await db_session.scalars(select(SignInThrottle.key))).all())
    counted = {hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
               for kind, value in (("account", EMAIL), ("address", "127.0.0.1"))}
    assert counted <= keys and all(len(key) == 64 and "@" not in key for key in keys)
    # Another account from the same address is not held back by this account's failures.
    assert (await sign_in(anonymous, email="nobody@example.org")).status_code == 400


async def test_repeated_failures_from_an_address_are_refused_for_every_account(anonymous, gateway_app, test_admin):
    gateway_app.state.identity.throttle = ThrottleLimits(account_failures=100, address_failures=3,
                                                         window=timedelta(seconds=60))
    for n in range(3):
        await sign_in(anonymous, email=f"guess{n}@example.org")
    held_back = await sign_in(anonymous)
    assert held_back.status_code == 429 and "from this address" in held_back.json()["detail"]


async def test_a_success_clears_the_accounts_count(anonymous, gateway_app, test_admin):
    gateway_app.state.identity.throttle = ThrottleLimits(account_failures=2, address_failures=100,
                                                         window=timedelta(seconds=60))
    assert (await sign_in(anonymous, password="guess one")).status_code == 400
    assert (await sign_in(anonymous)).status_code == 200
    assert (await sign_in(anonymous, password="guess two")).status_code == 400
    assert (await sign_in(anonymous)).status_code == 200


async def test_a_window_that_has_ended_counts_afresh(anonymous, gateway_app, test_admin):
    gateway_app.state.identity.throttle = ThrottleLimits(account_failures=1, address_failures=100,
                                                         window=timedelta(seconds=1))
    assert (await sign_in(anonymous, password="guess one")).status_code == 400
    assert (await sign_in(anonymous)).status_code == 429
    time.sleep(1.1)
    assert (await sign_in(anonymous)).status_code == 200
