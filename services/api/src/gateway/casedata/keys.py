"""The keys that keep case references safe at rest, and where they come from.

- `GATEWAY_CASE_KEYS`: Fernet keys, newest first, separated by commas or white space (or
  `GATEWAY_CASE_KEYS_FILE`, a file holding them: `inspection_shared.settings`). The newest encrypts; every key listed decrypts, so a key is retired by putting a new
  one in front, running `gateway.cli rotate-case-key`, and then dropping the old one.
- `GATEWAY_CASE_INDEX_KEY`: the key of the blind index (HMAC-SHA256), 32 random bytes or more in
  URL-safe base64 (or `..._FILE`). It is never rotated by `rotate-case-key`: every
  index would have to be computed again from the clear references.

With neither set on a development machine, both are generated once under ./var/ (`case-keys`,
`case-index-key`, readable by their owner only), so `make run` works on a fresh laptop. With
`GATEWAY_ENV=production` a missing key stops the gateway from starting (`production_faults`, gathered by
`gateway.production`), and nothing is generated. Keys are never logged or put in an error.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

KEYS_FILE = "case-keys"
INDEX_KEY_FILE = "case-index-key"
MIN_INDEX_KEY_BYTES = 32
_SEPARATORS = re.compile(r"[\s,]+")


class CaseKeyError(RuntimeError):
    """The case keys are missing or unreadable; the message names the setting, never a key."""


class CaseDataSettings(BaseSettings):
    """The gateway's settings for case data (GATEWAY_* like the rest, see `gateway.settings`)."""

    env: str = "development"
    """`gateway.settings.Settings.env`: in production a missing key refuses the start, never generated."""
    case_keys: SecretStr | None = Field(default=None, description="Fernet keys, newest first.")
    case_index_key: SecretStr | None = Field(default=None, description="The blind index's HMAC key.")
    case_key_dir: Path = Field(
        default=Path("var"), description="Where a development machine's generated keys are kept."
    )
    case_retention_days: int = Field(
        default=365, ge=0, description="Case data of inspections published longer ago than this is purged."
    )


def _given(value: SecretStr | None) -> str | None:
    if value is None or not value.get_secret_value().strip():
        return None
    return value.get_secret_value().strip()


def production_faults(settings: CaseDataSettings) -> list[str]:
    """The case keys a production gateway lacks: none is generated in production."""
    return [
        f"{name} (or {name}_FILE) is not set: case references are encrypted at rest with keys from the "
        "environment, and none is generated in production."
        for name, value in (("GATEWAY_CASE_KEYS", settings.case_keys), ("GATEWAY_CASE_INDEX_KEY", settings.case_index_key))
        if _given(value) is None
    ]


def fernet_keys(text: str, name: str = "GATEWAY_CASE_KEYS") -> list[bytes]:
    keys = [k for k in _SEPARATORS.split(text) if k]
    if not keys:
        raise CaseKeyError(f"{name} holds no key")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, binascii.Error):
            raise CaseKeyError(f"{name}: key {position} is not a Fernet key (32 bytes in URL-safe base64)") from None
    return [key.encode() for key in keys]


def index_key(text: str, name: str = "GATEWAY_CASE_INDEX_KEY") -> bytes:
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise CaseKeyError(f"{name} is not URL-safe base64") from None
    if len(key) < MIN_INDEX_KEY_BYTES:
        raise CaseKeyError(f"{name} must hold at least {MIN_INDEX_KEY_BYTES} random bytes")
    return key


def new_index_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(MIN_INDEX_KEY_BYTES)).decode()


def _generated(path: Path, make: str) -> str:
    """The key kept in `path`, written there first if there is none; two processes starting together
    agree on one (the file is linked into place whole, or not at all)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(make + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def load_keys(settings: CaseDataSettings) -> tuple[list[bytes], bytes]:
    """The Fernet keys (newest first) and the index key the settings give; on a development machine,
    those generated under ./var/ for any not given."""
    if settings.env == "production" and (faults := production_faults(settings)):
        raise CaseKeyError(faults[0])  # never reached past `gateway.production`, which refuses first
    keys_text, index_text = _given(settings.case_keys), _given(settings.case_index_key)
    directory = settings.case_key_dir.resolve()
    if keys_text is None:
        keys_text = _generated(directory / KEYS_FILE, Fernet.generate_key().decode())
    if index_text is None:
        index_text = _generated(directory / INDEX_KEY_FILE, new_index_key())
    return fernet_keys(keys_text), index_key(index_text)
