"""Access tokens (short-lived JWTs signed with Ed25519) and the secrets kept only as hashes (refresh tokens,
API keys).

An access token's claims: `sub` (the user id), `iat`, `exp`, `jti`, `iss`, and two of our own: `sid`, the
sign-in (refresh-token family) it was issued in, and `gen`, the account's token generation, so that
signing out everywhere or deactivation ends every token issued before at once. Its header names the key
(`kid`).

Verifying a token costs about 0.15 ms of CPU, as much as the rest of a held summary read, so each process
keeps the tokens it has verified (bounded, least recently used first out): the same bytes verify the same
way every time, and expiry is checked on every use. Whether the person may still act is not part of the
token: that is checked on every request against the identities held (see `authentication`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from gateway.identity.keys import ALGORITHM, SigningKeys

REFRESH_TOKEN_PREFIX = "rt_"
_REQUIRED = ["sub", "iat", "exp", "jti", "iss"]
_LEEWAY_SECONDS = 5
"""Clocks of the processes that issue and verify a token may differ by this much."""


def secret_hash(secret: str) -> str:
    """SHA-256 of a secret we made ourselves (a refresh token, an API key).

    A fast hash is right here and a slow one (Argon2, as for passwords) would be waste: the secrets are 256
    random bits, so nobody can guess one from its hash however many they try, and a key is checked on every
    request, where a slow hash would cost every call of every system. A password is a few guessable words;
    these are not.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    """A new secret: the prefix (so a leaked one is recognised for what it is) and 256 random bits."""
    return prefix + secrets.token_urlsafe(32)


class InvalidToken(Exception):
    """The token cannot be used; the message says why, for the caller."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    generation: int
    expires_at: float


class AccessTokens:
    """Issues and verifies access tokens with one set of keys."""

    def __init__(self, keys: SigningKeys, issuer: str, lifetime_seconds: int, held: int = 10_000):
        self.keys = keys
        self.issuer = issuer
        self.lifetime_seconds = lifetime_seconds
        self._held: OrderedDict[str, AccessClaims] = OrderedDict()
        self._capacity = held

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, generation: int) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id), "iat": now, "exp": now + self.lifetime_seconds, "jti": uuid.uuid4().hex,
            "iss": self.issuer, "sid": str(session_id), "gen": generation,
        }
        return jwt.encode(claims, self.keys.private, algorithm=ALGORITHM, headers={"kid": self.keys.kid})

    def verify(self, token: str) -> AccessClaims:
        """The token's claims; InvalidToken if it is not one of ours, was changed, or has expired."""
        claims = self._held.get(token)
        if claims is None:
            claims = self._verify(token)
            self._held[token] = claims
            if len(self._held) > self._capacity:
                self._held.popitem(last=False)
        else:
            self._held.move_to_end(token)
        if claims.expires_at + _LEEWAY_SECONDS <= time.time():
            raise InvalidToken("The access token has expired; get a new one with your refresh token, or sign in again.")
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            key = self.keys.verifying.get(header.get("kid"))
            if key is None:
                raise InvalidToken("The access token was not signed with a key this gateway knows.")
            payload = jwt.decode(
                token, key, algorithms=[ALGORITHM], issuer=self.issuer, leeway=_LEEWAY_SECONDS,
                options={"require": _REQUIRED},
            )
            return AccessClaims(
                user_id=uuid.UUID(payload["sub"]), session_id=uuid.UUID(payload["sid"]),
                generation=int(payload["gen"]), expires_at=float(payload["exp"]),
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken(
                "The access token has expired; get a new one with your refresh token, or sign in again."
            ) from None
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as error:
            raise InvalidToken(f"The access token is not valid: {_reason(error)}.") from None


def _reason(error: Exception) -> str:
    if isinstance(error, jwt.InvalidSignatureError):
        return "its signature does not match"
    if isinstance(error, jwt.InvalidAlgorithmError):
        return f"tokens are signed with {ALGORITHM} only"
    if isinstance(error, jwt.InvalidIssuerError):
        return "it was issued by someone else"
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"it lacks the claim {error.claim}"
    if isinstance(error, jwt.DecodeError):
        return "it is not a signed token"
    return "its claims are not ours"
