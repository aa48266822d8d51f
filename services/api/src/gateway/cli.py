"""Set-up and upkeep: `python -m gateway.cli migrate | load-library | load-demo-units | load-demo-history |
admin | setup | rotate-case-key | purge | audit-verify`.

`load-demo-history` loads the demo units and a SYNTHETIC ten-year history of published inspections over
them (`gateway.history`), rated by the rating engine at GATEWAY_RATING_ENGINE_URL (`make run` starts it);
a second load adds nothing.

`admin` (and so `setup`, and so `make run`) keeps the administrator named by GATEWAY_ADMIN_EMAIL and
GATEWAY_ADMIN_PASSWORD: made if missing, given that password, active, holding the admin role. With neither
set on a development machine it makes `admin@localhost` once, with a generated password printed once.
`audit-verify` walks the audit log's hash chain and names the first broken link (exit code 1).
`migrate` and `setup` make the PostgreSQL database DATABASE_URL names when it is missing and the server
allows; a database that cannot be used is one line on stderr (exit code 2), saying what to run.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from gateway import production, retention
from gateway.audit.chain import Verdict, verify
from gateway.casedata.rotation import rotate_case_keys
from gateway.casedata.sealing import case_keys
from gateway.db import create_engine, create_sessionmaker
from gateway.db_setup import DatabaseUnavailable, ensure_database
from gateway.engines import engine_clients
from gateway.frameworks.service import import_frameworks
from gateway.history import load_demo_history as load_demo_history_into
from gateway.identity import passwords, repository
from gateway.identity.service import ensure_administrator
from gateway.models import Base
from gateway.permissions import SYSTEM_ACTOR
from gateway.programme.library import load_programme_library
from gateway.settings import Settings
from gateway.units.demo import load_demo_units as load_demo_units_into
from inspection_shared.library import library
from inspection_shared.problems import Problem
from inspection_shared.settings import load_or_exit

ALEMBIC_INI = Path(__file__).resolve().parents[4] / "alembic.ini"


def alembic_config(database_url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def load_library(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, SYSTEM_ACTOR).begin() as session:
            report = await import_frameworks(session, list(library().values()))
    finally:
        await engine.dispose()
    print(
        f"framework library: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged"
    )


async def load_programme(database_url: str) -> None:
    """The programme's criteria and the 2020 consultation letter's topics (`programme.library`)."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, SYSTEM_ACTOR).begin() as session:
            report = await load_programme_library(session)
    finally:
        await engine.dispose()
    print(f"programme library: {report.criteria_added} criteria and {report.topics_added} topics added")


async def load_demo_units(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, SYSTEM_ACTOR).begin() as session:
            report = await load_demo_units_into(session)
    finally:
        await engine.dispose()
    print(f"demo units: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")


async def load_demo_history(settings: Settings, database_url: str) -> int:
    await load_demo_units(database_url)
    engine = create_engine(database_url)
    rating_engine, sampling = engine_clients(settings)
    try:
        report = await load_demo_history_into(create_sessionmaker(engine, SYSTEM_ACTOR), rating_engine)
    except Problem as problem:
        print(f"gateway.cli: the rating engine at {settings.rating_engine_url} did not rate the history: "
              f"{problem.detail} (start it with make run)", file=sys.stderr)
        return 1
    finally:
        await rating_engine.aclose()
        await sampling.aclose()
        await engine.dispose()
    print(f"synthetic history: {report.published} inspections published, {report.unchanged} already held")
    return 0


async def rotate_case_key(database_url: str) -> None:
    """Seal every case reference held again under the newest of GATEWAY_CASE_KEYS."""
    engine = create_engine(database_url)
    try:
        await rotate_case_keys(create_sessionmaker(engine, SYSTEM_ACTOR), list(Base.metadata.sorted_tables), case_keys())
    finally:
        await engine.dispose()


async def purge(database_url: str, days: int) -> None:
    """Remove the case data of inspections published more than `days` days ago (see gateway.retention)."""
    engine = create_engine(database_url)
    try:
        await retention.purge(create_sessionmaker(engine), days)
    finally:
        await engine.dispose()


async def audit_verify(database_url: str) -> Verdict:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(verify)
    finally:
        await engine.dispose()


DEVELOPMENT_ADMIN = "admin@localhost"


async def ensure_admin(database_url: str, email: str, password: str | None, name: str = "Administrator") -> bool:
    """Keep the administrator `email` (see the module's docstring); whether it was made now."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, SYSTEM_ACTOR).begin() as session:
            _, made = await ensure_administrator(session, email, password, name)
    finally:
        await engine.dispose()
    return made


def _signing_in(settings: Settings, email: str, password: str) -> str:
    base = f"http://127.0.0.1:{settings.port}/api/v1"
    return (
        f"TOKEN=$(curl -s {base}/auth/token -d username={email} -d 'password={password}' "
        """| python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')\n"""
        f'curl -s {base}/me -H "Authorization: Bearer $TOKEN"'
    )


def set_up_administrator(settings: Settings, url: str) -> int:
    email = settings.admin_email.strip() if settings.admin_email else None
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    if email is not None and password is not None:
        if fault := passwords.fault(password, email):
            print(f"GATEWAY_ADMIN_PASSWORD {fault}; no administrator was made or changed.", file=sys.stderr)
            return 2
        made = asyncio.run(ensure_admin(url, email, password))
        print(f"administrator {email.lower()}: {'made' if made else 'kept'} (password from GATEWAY_ADMIN_PASSWORD)")
        return 0
    if email is not None or password is not None:
        print("Set GATEWAY_ADMIN_EMAIL and GATEWAY_ADMIN_PASSWORD together; no administrator was made or changed.",
              file=sys.stderr)
        return 2
    if settings.env == "production":
        print("GATEWAY_ADMIN_EMAIL and GATEWAY_ADMIN_PASSWORD are not set: the administrators are left as they are.")
        return 0
    generated = secrets.token_urlsafe(15)
    if not asyncio.run(_make_development_admin(url, generated)):
        print(f"administrator {DEVELOPMENT_ADMIN}: kept (its password was printed when it was made; set "
              "GATEWAY_ADMIN_EMAIL and GATEWAY_ADMIN_PASSWORD to choose one)")
        return 0
    bar = "=" * 100
    print(f"\n{bar}\nAn administrator was made for this development machine. Its password is shown this once:\n\n"
          f"    email:     {DEVELOPMENT_ADMIN}\n    password:  {generated}\n\n"
          f"Sign in (with the services running: make run):\n\n{_signing_in(settings, DEVELOPMENT_ADMIN, generated)}\n\n"
          "Set GATEWAY_ADMIN_EMAIL and GATEWAY_ADMIN_PASSWORD to choose your own administrator instead.\n"
          f"{bar}\n", flush=True)
    return 0


async def _make_development_admin(database_url: str, password: str) -> bool:
    """Make admin@localhost with `password` unless it exists (then it is left as it is); whether it was made."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, SYSTEM_ACTOR).begin() as session:
            if await repository.user_by_email(session, DEVELOPMENT_ADMIN) is not None:
                return False
            await ensure_administrator(session, DEVELOPMENT_ADMIN, password, "Administrator (development)")
            return True
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway.cli", description=__doc__)
    parser.add_argument(
        "command",
        choices=["migrate", "load-library", "load-demo-units", "load-demo-history", "admin", "setup",
                 "rotate-case-key", "purge", "audit-verify"],
    )
    args = parser.parse_args(argv)
    settings = load_or_exit(Settings, "gateway.cli")
    production.exit_if_refused(settings)
    url = settings.resolved_database_url()
    try:
        if asyncio.run(ensure_database(url, create=args.command in ("migrate", "setup"))):
            print(f'database "{make_url(url).database}": made')
    except DatabaseUnavailable as unusable:
        print(f"gateway.cli: {unusable}", file=sys.stderr)
        return 2
    if args.command == "audit-verify":
        verdict = asyncio.run(audit_verify(url))
        print(verdict.describe(), file=sys.stdout if verdict.intact else sys.stderr)
        return 0 if verdict.intact else 1
    if args.command in ("migrate", "setup"):
        migrate(url)
    if args.command in ("load-library", "setup"):
        asyncio.run(load_library(url))
        asyncio.run(load_programme(url))
    if args.command in ("load-demo-units", "setup"):
        asyncio.run(load_demo_units(url))
    if args.command == "load-demo-history":
        return asyncio.run(load_demo_history(settings, url))
    if args.command == "rotate-case-key":
        asyncio.run(rotate_case_key(url))
    if args.command == "purge":
        asyncio.run(purge(url, settings.case_retention_days))
    if args.command in ("admin", "setup"):
        return set_up_administrator(settings, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
