"""GATEWAY_ENV=production: one check gathering every fault from each concern, said at once by every entry
point (the server, every command of gateway.cli, create_app); and the gateway's secrets read from files."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway import cli
from gateway.app import create_app
from gateway.casedata.keys import new_index_key
from gateway.production import RefusedInProduction, production_faults, refuse_defaults
from gateway.settings import Settings

POSTGRES = "postgresql+asyncpg://inspection:pw@db.internal:5432/inspection"


def _pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


PRODUCTION = {
    "env": "production",
    "database_url": POSTGRES,
    "jwt_private_key": _pem(),
    "case_keys": Fernet.generate_key().decode(),
    "case_index_key": new_index_key(),
    "admin_email": "lead.admin@justice.example",
    "admin_password": "a long passphrase indeed",
    "rating_engine_url": "http://rating-engine:8001",
    "rating_engine_token": "t" * 32,
    "sampling_url": "http://sampling:8002",
    "sampling_token": "s" * 32,
}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """An empty directory and no GATEWAY_* variables: nothing of this machine's leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("GATEWAY_") or n.startswith("DATABASE_URL")]:
        monkeypatch.delenv(name)
    return tmp_path


def test_a_production_gateway_given_what_it_needs_has_nothing_to_refuse(elsewhere):
    settings = Settings(**PRODUCTION)
    assert production_faults(settings) == []
    refuse_defaults(settings)
    # Engines on this machine need no tokens; a development gateway is never checked.
    loopback = Settings(**{**PRODUCTION, "rating_engine_url": "http://127.0.0.1:8001", "rating_engine_token": None,
                           "sampling_url": "http://localhost:8002", "sampling_token": None})
    assert production_faults(loopback) == []
    refuse_defaults(Settings(database_url="sqlite+aiosqlite:///x.db", cors_origins="*"))


@pytest.mark.parametrize(
    ("change", "fault"),
    [
        ({"database_url": None}, "DATABASE_URL (or DATABASE_URL_FILE) is not set, so SQLite: a production gateway"),
        ({"database_url": "sqlite+aiosqlite:///var/x.db"}, "DATABASE_URL (or DATABASE_URL_FILE) is SQLite:"),
        ({"cors_origins": "https://dashboard.justice.example, *"}, "GATEWAY_CORS_ORIGINS holds *"),
        ({"rating_engine_token": None},
         "GATEWAY_RATING_ENGINE_TOKEN (or GATEWAY_RATING_ENGINE_TOKEN_FILE) is not set, and GATEWAY_RATING_ENGINE_URL "
         "(http://rating-engine:8001) is not on this machine: give the engine RATING_ENGINE_TOKEN and the gateway the "
         "same."),
        ({"sampling_url": "http://10.0.0.7:8002", "sampling_token": ""}, "GATEWAY_SAMPLING_TOKEN (or"),
        ({"case_index_key": None}, "GATEWAY_CASE_INDEX_KEY (or GATEWAY_CASE_INDEX_KEY_FILE) is not set"),
        ({"jwt_private_key": None}, "GATEWAY_JWT_PRIVATE_KEY (or GATEWAY_JWT_PRIVATE_KEY_FILE) is not set"),
        ({"admin_password": "password"}, "GATEWAY_ADMIN_PASSWORD "),
    ],
)
def test_each_fault_is_named(elsewhere, change, fault):
    faults = production_faults(Settings(**{**PRODUCTION, **change}))
    assert len(faults) == 1 and faults[0].startswith(fault), faults


def test_every_fault_is_said_at_once_in_one_message(elsewhere):
    settings = Settings(env="production", cors_origins="*", rating_engine_url="http://rating-engine:8001")
    with pytest.raises(RefusedInProduction) as refused:
        create_app(settings)
    lines = str(refused.value).splitlines()
    assert lines[0] == "GATEWAY_ENV is production, and the gateway will not start:"
    assert [line.removeprefix("  - ").split(" ")[0] for line in lines[1:]] == [
        "GATEWAY_JWT_PRIVATE_KEY", "GATEWAY_CASE_KEYS", "GATEWAY_CASE_INDEX_KEY", "DATABASE_URL",
        "GATEWAY_CORS_ORIGINS", "GATEWAY_RATING_ENGINE_TOKEN",
    ]
    assert all(line.startswith("  - ") for line in lines[1:])
    assert not (elsewhere / "var").exists()  # nothing was generated, no SQLite file made


@pytest.mark.parametrize(
    "command",
    ["migrate", "load-library", "load-demo-units", "admin", "setup", "rotate-case-key", "purge", "audit-verify"],
)
def test_every_command_stops_with_the_one_message(elsewhere, monkeypatch, capsys, command):
    monkeypatch.setenv("GATEWAY_ENV", "production")
    monkeypatch.setenv("GATEWAY_CASE_KEYS", PRODUCTION["case_keys"])
    with pytest.raises(SystemExit) as stopped:
        cli.main([command])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("GATEWAY_ENV is production, and the gateway will not start:\n")
    assert "  - GATEWAY_CASE_INDEX_KEY (or GATEWAY_CASE_INDEX_KEY_FILE) is not set" in err
    assert "GATEWAY_CASE_KEYS (" not in err
    assert not (elsewhere / "var").exists()


# --- secrets from files ------------------------------------------------------------------------------


def test_every_secret_of_the_gateway_may_come_from_a_file_it_names(elsewhere, monkeypatch):
    values = {
        "DATABASE_URL": POSTGRES,
        "GATEWAY_JWT_PRIVATE_KEY": PRODUCTION["jwt_private_key"],
        "GATEWAY_CASE_KEYS": PRODUCTION["case_keys"],
        "GATEWAY_CASE_INDEX_KEY": PRODUCTION["case_index_key"],
        "GATEWAY_ADMIN_PASSWORD": PRODUCTION["admin_password"],
        "GATEWAY_RATING_ENGINE_TOKEN": PRODUCTION["rating_engine_token"],
        "GATEWAY_SAMPLING_TOKEN": PRODUCTION["sampling_token"],
    }
    for name, value in values.items():
        path = elsewhere / name.lower()
        path.write_text(value + "\n")  # as `echo` writes it: the line break is not part of the secret
        monkeypatch.setenv(f"{name}_FILE", str(path))
    for name in ("GATEWAY_ENV", "GATEWAY_ADMIN_EMAIL", "GATEWAY_RATING_ENGINE_URL", "GATEWAY_SAMPLING_URL"):
        key = name.removeprefix("GATEWAY_").lower()
        monkeypatch.setenv(name, PRODUCTION[key])
    settings = Settings()
    assert settings.resolved_database_url() == POSTGRES
    assert settings.jwt_private_key.get_secret_value() == PRODUCTION["jwt_private_key"]
    read = {
        "GATEWAY_CASE_KEYS": settings.case_keys, "GATEWAY_CASE_INDEX_KEY": settings.case_index_key,
        "GATEWAY_ADMIN_PASSWORD": settings.admin_password, "GATEWAY_RATING_ENGINE_TOKEN": settings.rating_engine_token,
        "GATEWAY_SAMPLING_TOKEN": settings.sampling_token,
    }
    assert {name: secret.get_secret_value() for name, secret in read.items()} == {n: values[n] for n in read}
    assert production_faults(settings) == []
    assert POSTGRES not in repr(settings)


def test_a_secret_file_that_cannot_be_read_stops_the_command_naming_the_variable(elsewhere, monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_ADMIN_PASSWORD_FILE", str(elsewhere / "missing"))
    with pytest.raises(SystemExit) as stopped:
        cli.main(["migrate"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        "gateway.cli: the settings cannot be used:\n"
        f"  - GATEWAY_ADMIN_PASSWORD_FILE names {elsewhere / 'missing'}, which cannot be read: No such file or "
        "directory.\n"
    )
