"""The keys that sign access tokens, their public halves for anyone to verify with (JWKS), and what a
production gateway needs of them and of its administrator (`production_faults`, gathered by
`gateway.production`).

Access tokens are signed with an Ed25519 key (EdDSA) from the environment: `GATEWAY_JWT_PRIVATE_KEY` (PEM)
or the file `GATEWAY_JWT_PRIVATE_KEY_FILE` names. To rotate, sign with the new key and list the old one's
public key in `GATEWAY_JWT_RETIRED_PUBLIC_KEYS` (or `..._FILE`) until the tokens it signed have expired:
tokens name their key by its id (`kid`, the RFC 7638 thumbprint), and every key listed is published at
`/.well-known/jwks.json`.

On a development machine with no key set, one is made once and kept in `var/` (readable by its owner
only), so that tokens outlive a restart of `make run` and the gateways of one machine share it. A
production gateway (`GATEWAY_ENV=production`) refuses to start without a key of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.identity import passwords
from gateway.settings import Settings

ALGORITHM = "EdDSA"
DEVELOPMENT_KEY_NAME = "gateway-signing-key.pem"
_PUBLIC_PEM = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class KeyConfigurationError(RuntimeError):
    """The keys or secrets the gateway was given cannot be used; the message says which and why."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """The key's JWK thumbprint (RFC 7638): the same id wherever the key is used."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64(_raw(public))}, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class SigningKeys:
    private: Ed25519PrivateKey
    kid: str
    verifying: dict[str, Ed25519PublicKey]
    """Every key a token may be signed with, by id: the current one and those retired."""
    development: bool = False

    @classmethod
    def of(cls, private: Ed25519PrivateKey, retired: tuple[Ed25519PublicKey, ...] = (), development: bool = False):
        kid = key_id(private.public_key())
        verifying = {key_id(public): public for public in retired}
        verifying[kid] = private.public_key()
        return cls(private, kid, verifying, development)

    def jwks(self) -> dict:
        """The public keys as a JSON Web Key Set (RFC 7517, OKP keys of RFC 8037), the current one first."""
        order = [self.kid, *(kid for kid in self.verifying if kid != self.kid)]
        return {
            "keys": [
                {"kty": "OKP", "crv": "Ed25519", "x": _b64(_raw(self.verifying[kid])), "kid": kid, "use": "sig",
                 "alg": ALGORITHM}
                for kid in order
            ]
        }


def development_key_path() -> Path:
    return Path("var").resolve() / DEVELOPMENT_KEY_NAME


def _development_key(path: Path) -> bytes:
    """The key kept at `path`, made there first if there is none: written whole under another name and
    linked into place, so gateways starting together all end up with the one that got there first."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, pem)
        os.close(handle)
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(scratch)
    return path.read_bytes()


def _private_pem(settings: Settings) -> bytes | None:
    """The signing key given (`GATEWAY_JWT_PRIVATE_KEY`, or the file `..._FILE` names: `inspection_shared.settings`)."""
    if settings.jwt_private_key is not None and settings.jwt_private_key.get_secret_value().strip():
        return settings.jwt_private_key.get_secret_value().encode()
    return None


def _retired_pem(settings: Settings) -> bytes:
    pem = (settings.jwt_retired_public_keys or "").encode()
    if settings.jwt_retired_public_keys_file is not None:
        try:
            pem += b"\n" + settings.jwt_retired_public_keys_file.read_bytes()
        except OSError as error:
            raise KeyConfigurationError(
                f"GATEWAY_JWT_RETIRED_PUBLIC_KEYS_FILE names {settings.jwt_retired_public_keys_file}, which "
                f"cannot be read: {error.strerror}."
            ) from None
    return pem


def load(settings: Settings) -> SigningKeys:
    """The signing keys the settings name (on a development machine without any, the one kept in var/)."""
    pem, source = _private_pem(settings), "GATEWAY_JWT_PRIVATE_KEY"
    development = pem is None
    if pem is None:
        if settings.env == "production":  # never reached past `gateway.production`, which refuses first
            raise KeyConfigurationError(production_faults(settings)[0])
        pem, source = _development_key(development_key_path()), f"the development key ({development_key_path()})"
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise KeyConfigurationError(f"{source} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyConfigurationError(
            f"{source} is a {type(private).__name__.removeprefix('_')}; tokens are signed with Ed25519 keys "
            "(openssl genpkey -algorithm ed25519)."
        )
    retired = []
    for block in _PUBLIC_PEM.findall(_retired_pem(settings)):
        public = serialization.load_pem_public_key(block)
        if not isinstance(public, Ed25519PublicKey):
            raise KeyConfigurationError("GATEWAY_JWT_RETIRED_PUBLIC_KEYS holds a key that is not Ed25519.")
        retired.append(public)
    return SigningKeys.of(private, tuple(retired), development)


def production_faults(settings: Settings) -> list[str]:
    """What keeps the settings from being a production gateway's: each fault names the variable to set."""
    faults = []
    pem = _private_pem(settings)
    development = development_key_path()
    if pem is None:
        faults.append(
            "GATEWAY_JWT_PRIVATE_KEY (or GATEWAY_JWT_PRIVATE_KEY_FILE) is not set: a production gateway signs "
            "tokens with a key of its own (make one with `openssl genpkey -algorithm ed25519`)."
        )
    elif development.exists() and development.read_bytes().strip() == pem.strip():
        faults.append(
            f"GATEWAY_JWT_PRIVATE_KEY is the development key made by `make run` ({development}); give the "
            "production gateway a key of its own."
        )
    email, password = settings.admin_email, settings.admin_password
    if (email is None) != (password is None):
        faults.append("GATEWAY_ADMIN_EMAIL and GATEWAY_ADMIN_PASSWORD are set together or not at all.")
    if password is not None and (fault := passwords.fault(password.get_secret_value(), email)):
        faults.append(f"GATEWAY_ADMIN_PASSWORD {fault}.")
    if email is not None and email.strip().lower().endswith("@localhost"):
        faults.append(f"GATEWAY_ADMIN_EMAIL is {email}, the development administrator; name a real one.")
    return faults

