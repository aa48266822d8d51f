"""The keys and secrets sign-in rests on: the development key made once and kept, retired keys, keys that
cannot be used, a production gateway refusing to start without real ones, and the first administrator
that `gateway.cli setup` (so `make run`) makes."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from gateway.cli import DEVELOPMENT_ADMIN, migrate, set_up_administrator
from gateway.db import create_engine, create_sessionmaker
from gateway.identity import keys, passwords, repository
from gateway.identity.keys import KeyConfigurationError, production_faults
from gateway.settings import Settings
from tests.conftest import TEST_ACTOR


def _pem(private) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _public_pem(private) -> str:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Run in an empty directory: the development key goes to its var/, not the repository's."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    return tmp_path


# --- keys ----------------------------------------------------------------------------------------------


def test_a_development_machine_makes_its_key_once_readable_by_its_owner_only(elsewhere):
    first = keys.load(Settings(database_url="unused://"))
    path = elsewhere / "var" / keys.DEVELOPMENT_KEY_NAME
    assert first.development and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = keys.load(Settings(database_url="unused://"))
    assert again.kid == first.kid  # tokens outlive a restart


def test_retired_keys_verify_and_are_published_beside_the_current_one(elsewhere, monkeypatch):
    current, old, older = (Ed25519PrivateKey.generate() for _ in range(3))
    loaded = keys.load(Settings(database_url="unused://", jwt_private_key=_pem(current),
                                jwt_retired_public_keys=_public_pem(old) + "\n" + _public_pem(older)))
    assert not loaded.development
    assert set(loaded.verifying) == {keys.key_id(k.public_key()) for k in (current, old, older)}
    assert [k["kid"] for k in loaded.jwks()["keys"]][0] == loaded.kid
    from_file = elsewhere / "key.pem"
    from_file.write_text(_pem(current))
    monkeypatch.setenv("GATEWAY_JWT_PRIVATE_KEY_FILE", str(from_file))
    assert keys.load(Settings(database_url="unused://")).kid == loaded.kid


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"jwt_private_key": "not a key"}, "GATEWAY_JWT_PRIVATE_KEY is not an unencrypted PEM private key"),
        ({"jwt_private_key": _pem(ec.generate_private_key(ec.SECP256R1()))}, "signed with Ed25519 keys"),
        ({"jwt_private_key": _pem(Ed25519PrivateKey.generate()),
          "jwt_retired_public_keys": _public_pem(ec.generate_private_key(ec.SECP256R1()))}, "not Ed25519"),
    ],
)
def test_a_key_that_cannot_be_used_is_refused_saying_why(elsewhere, settings, says):
    with pytest.raises(KeyConfigurationError, match=re.escape(says)):
        keys.load(Settings(database_url="unused://", **settings))


# --- production --------------------------------------------------------------------------------------


def test_production_refuses_a_missing_key_and_says_which(elsewhere):
    settings = Settings(database_url="unused://", env="production")
    assert production_faults(settings)[0].startswith("GATEWAY_JWT_PRIVATE_KEY (or GATEWAY_JWT_PRIVATE_KEY_FILE) is not set")
    with pytest.raises(KeyConfigurationError):
        keys.load(settings)


def test_production_refuses_the_development_key_and_weak_or_default_administrators(elsewhere, monkeypatch):
    development = keys.load(Settings(database_url="unused://"))
    assert development.development
    path = elsewhere / "var" / keys.DEVELOPMENT_KEY_NAME
    monkeypatch.setenv("GATEWAY_JWT_PRIVATE_KEY_FILE", str(path))
    faults = production_faults(Settings(database_url="unused://", env="production",
                                        admin_email=DEVELOPMENT_ADMIN, admin_password="password"))
    monkeypatch.delenv("GATEWAY_JWT_PRIVATE_KEY_FILE")
    assert [f.split(" ")[0] for f in faults] == ["GATEWAY_JWT_PRIVATE_KEY", "GATEWAY_ADMIN_PASSWORD",
                                                 "GATEWAY_ADMIN_EMAIL"]
    assert "development key" in faults[0]
    copied = production_faults(Settings(database_url="unused://", env="production",
                                        jwt_private_key=path.read_text()))
    assert len(copied) == 1 and "development key" in copied[0]
    alone = production_faults(Settings(database_url="unused://", env="production",
                                       jwt_private_key=_pem(Ed25519PrivateKey.generate()), admin_password="long enough"))
    assert alone == ["GATEWAY_ADMIN_EMAIL and GATEWAY_ADMIN_PASSWORD are set together or not at all."]


def test_production_with_its_own_key_and_administrator_has_nothing_to_refuse(elsewhere):
    settings = Settings(database_url="unused://", env="production", jwt_private_key=_pem(Ed25519PrivateKey.generate()),
                        admin_email="lead.admin@justice.example", admin_password="a long passphrase indeed")
    assert production_faults(settings) == []


@pytest.mark.parametrize("module", [["gateway"], ["gateway.cli", "setup"]])
def test_a_production_gateway_without_its_key_will_not_start(elsewhere, module):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    started = subprocess.run(
        [sys.executable, "-m", *module], env={**env, "GATEWAY_ENV": "production", "GATEWAY_PORT": "1"},
        cwd=elsewhere, capture_output=True, text=True, timeout=60,
    )
    assert started.returncode == 2, started.stdout + started.stderr
    assert started.stderr.startswith("GATEWAY_ENV is production, and the gateway will not start:\n")
    faults = [line.removeprefix("  - ").split(" ")[0] for line in started.stderr.splitlines()[1:]]
    assert faults == ["GATEWAY_JWT_PRIVATE_KEY", "GATEWAY_CASE_KEYS", "GATEWAY_CASE_INDEX_KEY", "DATABASE_URL"]
    assert "Traceback" not in started.stderr and not (elsewhere / "var").exists()


# --- the first administrator -------------------------------------------------------------------------


@pytest.fixture
def scratch_database(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'setup.db'}"
    migrate(url)
    return url


def _password_matches(url: str, email: str, password: str) -> bool:
    async def check() -> bool:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine, TEST_ACTOR)() as session:
                user = await repository.user_by_email(session, email)
                return user is not None and user.active and (await passwords.check(password, user.password_hash))[0]
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_a_development_machine_gets_an_administrator_with_a_password_printed_once(elsewhere, scratch_database, capsys):
    settings = Settings(database_url=scratch_database)
    assert set_up_administrator(settings, scratch_database) == 0
    printed = capsys.readouterr().out
    password = re.search(r"password:\s+(\S+)", printed).group(1)
    assert f"email:     {DEVELOPMENT_ADMIN}" in printed and "shown this once" in printed
    curl = [line for line in printed.splitlines() if line.startswith(("TOKEN=$(curl", "curl "))]
    assert len(curl) == 2 and f"-d 'password={password}'" in curl[0] and "/api/v1/me" in curl[1]
    assert _password_matches(scratch_database, DEVELOPMENT_ADMIN, password)

    assert set_up_administrator(settings, scratch_database) == 0
    again = capsys.readouterr().out
    assert password not in again and "kept" in again
    assert _password_matches(scratch_database, DEVELOPMENT_ADMIN, password)


def test_the_named_administrator_is_made_then_kept_with_the_password_given(elsewhere, scratch_database, capsys):
    named = Settings(database_url=scratch_database, admin_email="Lead.Admin@Justice.Example",
                     admin_password="first long passphrase")
    assert set_up_administrator(named, scratch_database) == 0
    assert "administrator lead.admin@justice.example: made" in capsys.readouterr().out
    assert _password_matches(scratch_database, "lead.admin@justice.example", "first long passphrase")
    renamed = named.model_copy(update={"admin_password": SecretStr("second long passphrase")})
    assert set_up_administrator(renamed, scratch_database) == 0
    assert "kept" in capsys.readouterr().out
    assert _password_matches(scratch_database, "lead.admin@justice.example", "second long passphrase")
    assert not _password_matches(scratch_database, "lead.admin@justice.example", "first long passphrase")

    weak = named.model_copy(update={"admin_password": SecretStr("short")})
    assert set_up_administrator(weak, scratch_database) == 2
    assert "GATEWAY_ADMIN_PASSWORD must be at least 8 characters" in capsys.readouterr().err

