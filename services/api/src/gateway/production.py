"""A production gateway (`GATEWAY_ENV=production`) starts only with what production needs, and otherwise
says every fault at once, so that an operator mends them in one go rather than one per attempt.

Each concern names its own faults: the signing key and the administrator (`identity.keys`), the case
keys (`casedata.keys`); the rest are the deployment's and are here: PostgreSQL rather than the embedded
SQLite, no `*` among the CORS origins, and service tokens for engines reached over the network. Every
entry point checks: the server (`python -m gateway`), every command of `gateway.cli`, and `create_app`.
"""

from __future__ import annotations

import ipaddress
import sys
from urllib.parse import urlsplit

from gateway.casedata import keys as case_keys
from gateway.identity import keys as signing_keys
from gateway.settings import Settings

EXIT_CODE = 2


class RefusedInProduction(RuntimeError):
    """The settings are not a production gateway's; the message lists every fault, one a line."""


def _on_this_machine(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _deployment_faults(settings: Settings) -> list[str]:
    faults = []
    url = settings.database_url.get_secret_value() if settings.database_url is not None else ""
    if not url or url.startswith("sqlite"):
        faults.append(
            "DATABASE_URL (or DATABASE_URL_FILE) is " + ("SQLite" if url else "not set, so SQLite")
            + ": a production gateway keeps its data in PostgreSQL (postgresql+asyncpg://user:password@host/db)."
        )
    if "*" in settings.cors_origins:
        faults.append(
            "GATEWAY_CORS_ORIGINS holds *: name the origins whose pages may call the gateway, or none."
        )
    for name, url, token in (
        ("RATING_ENGINE", settings.rating_engine_url, settings.rating_engine_token),
        ("SAMPLING", settings.sampling_url, settings.sampling_token),
    ):
        if (token is None or not token.get_secret_value()) and not _on_this_machine(url):
            faults.append(
                f"GATEWAY_{name}_TOKEN (or GATEWAY_{name}_TOKEN_FILE) is not set, and GATEWAY_{name}_URL ({url}) is "
                f"not on this machine: give the engine {name}_TOKEN and the gateway the same."
            )
    return faults


def production_faults(settings: Settings) -> list[str]:
    """Every fault that keeps the settings from being a production gateway's, each naming what to set."""
    return [
        *signing_keys.production_faults(settings),
        *case_keys.production_faults(settings),
        *_deployment_faults(settings),
    ]


def refuse_defaults(settings: Settings) -> None:
    """In production, raise `RefusedInProduction` listing every fault; elsewhere, nothing is checked."""
    if settings.env == "production" and (faults := production_faults(settings)):
        raise RefusedInProduction(
            "GATEWAY_ENV is production, and the gateway will not start:\n" + "\n".join(f"  - {f}" for f in faults)
        )


def exit_if_refused(settings: Settings) -> None:
    """For the entry points: the refusal printed whole on standard error, and the process ended (code 2)."""
    try:
        refuse_defaults(settings)
    except RefusedInProduction as refused:
        print(refused, file=sys.stderr)
        sys.exit(EXIT_CODE)
