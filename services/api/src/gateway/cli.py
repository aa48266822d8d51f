"""Set-up and upkeep: `python -m gateway.cli migrate | load-library | load-demo-units | setup |
rotate-case-key | purge | audit-verify`; `audit-verify` walks the audit log's hash chain and names the first
broken link (exit code 1)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway import retention
from gateway.audit.chain import Verdict, verify
from gateway.casedata.keys import CaseKeyError, check_case_keys
from gateway.casedata.rotation import rotate_case_keys
from gateway.casedata.sealing import case_keys
from gateway.db import create_engine, create_sessionmaker
from gateway.frameworks.service import import_frameworks
from gateway.models import Base
from gateway.permissions import SYSTEM_ACTOR
from gateway.settings import Settings
from gateway.units.demo import load_demo_units as load_demo_units_into
from inspection_shared.library import library

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


async def load_demo_units(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine, SYSTEM_ACTOR).begin() as session:
            report = await load_demo_units_into(session)
    finally:
        await engine.dispose()
    print(f"demo units: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway.cli", description=__doc__)
    parser.add_argument(
        "command",
        choices=["migrate", "load-library", "load-demo-units", "setup", "rotate-case-key", "purge", "audit-verify"],
    )
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        check_case_keys(settings)
    except CaseKeyError as error:
        print(f"gateway.cli: {error}", file=sys.stderr)
        return 2
    url = settings.resolved_database_url()
    if args.command == "audit-verify":
        verdict = asyncio.run(audit_verify(url))
        print(verdict.describe(), file=sys.stdout if verdict.intact else sys.stderr)
        return 0 if verdict.intact else 1
    if args.command in ("migrate", "setup"):
        migrate(url)
    if args.command in ("load-library", "setup"):
        asyncio.run(load_library(url))
    if args.command in ("load-demo-units", "setup"):
        asyncio.run(load_demo_units(url))
    if args.command == "rotate-case-key":
        asyncio.run(rotate_case_key(url))
    if args.command == "purge":
        asyncio.run(purge(url, settings.case_retention_days))
    return 0


if __name__ == "__main__":
    sys.exit(main())
