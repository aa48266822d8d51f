"""The migrations run up and down on both databases, and leave a schema that matches the models."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url

from gateway.cli import alembic_config, load_library, migrate
from gateway.db import create_engine, create_sessionmaker
from gateway.inspections.models import InspectionStatusChange
from gateway.models import Base
from tests.conftest import TEST_ACTOR, _admin, _create_postgres_database, _postgres_skip_reason
from tests.gateway.factories import make_inspection, make_unit


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


PUBLISHED_VERSIONS_REVISION = "e7b3c1d9a2f6"
BEFORE_PUBLISHED_VERSIONS = "d7f5154f545e"  # the step before: events, which the write path feeds


def test_inspections_published_before_versions_were_kept_get_their_version_1(scratch_database):
    """Each published inspection: the snapshot it was published with (its latest), when and by whom."""
    config = alembic_config(scratch_database)
    command.upgrade(config, BEFORE_PUBLISHED_VERSIONS)
    asyncio.run(load_library(scratch_database))
    published_at = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
    typed = {"id": sa.Uuid(), "inspection_id": sa.Uuid(), "created_at": sa.DateTime(timezone=True)}
    snapshots = sa.table("rating_snapshots", *(sa.column(c, typed.get(c)) for c in (
        "id", "inspection_id", "sequence", "kind", "framework_id", "framework_version", "rules_version",
        "input_fingerprint", "request", "result", "overall_rating", "created_at", "created_by")))

    async def before() -> dict[str, uuid.UUID]:
        engine = create_engine(scratch_database)
        try:
            async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
                unit = await make_unit(session)
                made = {status: await make_inspection(session, unit=unit, status=status)
                        for status in ("published", "rating", "withdrawn")}
                made["published"].published_at = published_at
                session.add(InspectionStatusChange(inspection_id=made["published"].id, from_status="rating",
                                                   to_status="published"))  # by the session's actor
                ids = {"run": uuid.uuid4(), "override": uuid.uuid4(), "draft": uuid.uuid4()}
                connection = await session.connection()  # the rows as they stood, beside the write path
                for n, (name, inspection) in enumerate((("run", "published"), ("override", "published"),
                                                         ("draft", "rating"))):
                    await connection.execute(sa.insert(snapshots).values(
                        id=ids[name], inspection_id=made[inspection].id, sequence=n + 1 if n < 2 else 1, kind="run",
                        framework_id="probation-pdu-2021", framework_version="2021.1", rules_version="1.0.0",
                        input_fingerprint="f", request="{}", result="{}", overall_rating="good",
                        created_at=published_at, created_by="rating-run"))
                return {**{name: i.id for name, i in made.items()}, **{f"snapshot {k}": v for k, v in ids.items()}}
        finally:
            await engine.dispose()

    made = asyncio.run(before())
    command.upgrade(config, PUBLISHED_VERSIONS_REVISION)

    def rows(connection: Connection) -> list[tuple]:
        return [tuple(row) for row in connection.execute(sa.text(
            "SELECT inspection_id, version, kind, snapshot_id, reason, created_at, created_by FROM published_versions"))]

    [(inspection_id, version, kind, snapshot_id, reason, at, by)] = on(scratch_database, rows)
    assert (uuid.UUID(str(inspection_id)), version, kind, uuid.UUID(str(snapshot_id)), reason, by) == (
        made["published"], 1, "publication", made["snapshot override"], None, TEST_ACTOR.id)
    assert str(at).startswith("2026-05-04 10:30")
