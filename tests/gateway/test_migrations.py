"""The migrations run up and down on both databases, and leave a schema that matches the models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

from gateway.cli import alembic_config, migrate
from gateway.db import create_engine
from gateway.models import Base
from tests.conftest import _admin, _create_postgres_database, _postgres_skip_reason


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of its own, thrown away afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    created = _create_postgres_database()
    if created is None:
        pytest.skip(_postgres_skip_reason[0])
    admin, url = created
    try:
        yield url
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


def on(url: str, work: Callable[[Connection], Any]) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables(url: str) -> set[str]:
    return on(url, lambda connection: set(inspect(connection).get_table_names()))


def differences(url: str) -> list:
    return on(
        url,
        lambda connection: compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        ),
    )


MODEL_TABLES = set(Base.metadata.tables)


def test_upgrade_downgrade_and_upgrade_again(scratch_database):
    assert {"units", "frameworks", "framework_standards", "framework_key_questions"} <= MODEL_TABLES

    migrate(scratch_database)
    assert tables(scratch_database) == MODEL_TABLES | {"alembic_version"}
    assert differences(scratch_database) == []

    command.downgrade(alembic_config(scratch_database), "base")
    assert tables(scratch_database) == {"alembic_version"}

    migrate(scratch_database)
    assert tables(scratch_database) == MODEL_TABLES | {"alembic_version"}
    assert differences(scratch_database) == []


UNITS_REVISION = "e87c9e755970"
BEFORE_UNITS = "b7d52c3e6cdb"


def test_the_units_step_down_undoes_its_step_up(scratch_database):
    config = alembic_config(scratch_database)
    migrate(scratch_database)
    command.downgrade(config, BEFORE_UNITS)
    assert "units" not in tables(scratch_database)
    assert {"frameworks", "framework_standards", "framework_key_questions"} <= tables(scratch_database)
    # The comparison sees what is missing, so an empty one above means something.
    assert "units" in {d[1].name for d in differences(scratch_database) if d[0] == "add_table"}
    command.upgrade(config, UNITS_REVISION)
    assert "units" in tables(scratch_database)
    migrate(scratch_database)
    assert differences(scratch_database) == []
