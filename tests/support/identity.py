"""Signing in to gateways run as real processes, for end-to-end tests, benchmarks and scripts.

Every database the test run makes holds the administrator below (`tests/conftest.py`), and `gateway.cli
setup` makes or keeps it when given `admin_env()`; the gateways sign tokens with the development key they
share under var/.
"""

from __future__ import annotations

from functools import cache

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ADMIN_EMAIL = "e2e-admin@example.org"
ADMIN_PASSWORD = "a passphrase for the end-to-end administrator"

TEST_SIGNING_KEY_PEM = Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
"""The key in-process test apps sign with (a new one each run)."""


def admin_env(email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    """The environment that has `gateway.cli setup` keep this administrator (and scripts sign in as it)."""
    return {"GATEWAY_ADMIN_EMAIL": email, "GATEWAY_ADMIN_PASSWORD": password}


def sign_in(gateway_url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> dict:
    """The token answer of a password sign-in at the gateway."""
    response = httpx.post(f"{gateway_url}/api/v1/auth/token", data={"username": email, "password": password},
                          timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"signing in as {email} answered {response.status_code}: {response.text}")
    return response.json()


def signed_in(gateway_url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    """The Authorization header of a fresh sign-in at the gateway."""
    return {"Authorization": f"Bearer {sign_in(gateway_url, email, password)['access_token']}"}


@cache
def known_hash() -> str:
    """An Argon2 hash of ADMIN_PASSWORD, made once a run (each costs a sixth of a second)."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(),)).hash(ADMIN_PASSWORD)
