"""Deliveries signed as the Standard Webhooks specification describes (standardwebhooks.com).

A subscription's secret is `whsec_` followed by its key in base64 (24 to 64 bytes; the gateway makes 32).
Each delivery carries `webhook-id` (the same on every attempt, for the receiver to skip a repeat),
`webhook-timestamp` (seconds since the epoch, of this attempt) and `webhook-signature`: `v1,` and the
base64 HMAC-SHA256, under the key, of `{webhook-id}.{webhook-timestamp}.{body}`. Any library that
implements the specification verifies it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
KEY_BYTES = 32
SHORTEST, LONGEST = 24, 64
"""The key lengths the specification allows, in bytes."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def secret_of(key: bytes) -> str:
    """The secret as it is shown to the subscriber."""
    return SECRET_PREFIX + base64.b64encode(key).decode()


def key_of(secret: str) -> bytes:
    """The key of a secret given by a subscriber; ValueError saying what is wrong with it."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError(f"must be base64 after {SECRET_PREFIX}") from None
    if not SHORTEST <= len(key) <= LONGEST:
        raise ValueError(f"must hold {SHORTEST} to {LONGEST} bytes, not {len(key)}")
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one attempt to deliver `body`."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, body),
        "content-type": "application/json",
    }
