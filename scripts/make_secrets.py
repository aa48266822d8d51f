"""Make the secrets docker-compose.yml reads, one file each in ./secrets/: `make secrets`.

Each missing file is made with a fresh random secret; a file already there is kept, so running it again
changes nothing (to rotate a secret, replace its file: see the README). The folder is its owner's only
(0700); the files in it are readable (0644) because compose mounts each into its container as it is, and
the services run there as their own user.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

FOLDER = Path(__file__).resolve().parents[1] / "secrets"


def _signing_key() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _made(folder: Path) -> dict[str, str]:
    password = (folder / "postgres_password").read_text().strip() if (folder / "postgres_password").exists() \
        else secrets.token_urlsafe(24)
    return {
        "postgres_password": password,
        "database_url": f"postgresql+asyncpg://inspection:{password}@postgres:5432/inspection",
        "jwt_private_key": _signing_key(),
        "case_keys": Fernet.generate_key().decode(),
        "case_index_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "rating_engine_token": secrets.token_urlsafe(32),
        "sampling_token": secrets.token_urlsafe(32),
    }


def make_secrets(folder: Path = FOLDER) -> list[str]:
    """Write each missing secret into `folder`; the names of those written."""
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    written = []
    for name, value in _made(folder).items():
        path = folder / name
        if path.exists():
            continue
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(descriptor, "w") as file:
            file.write(value.rstrip("\n") + "\n")
        written.append(name)
    return written


if __name__ == "__main__":
    made = make_secrets()
    kept = "all kept" if not made else f"made: {', '.join(made)}"
    print(f"secrets in {FOLDER}: {kept}", file=sys.stdout)
