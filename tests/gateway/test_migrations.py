"""The migrations run up and down on both databases, and leave a schema that matches the models."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import JSONB
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
                session.add(InspectionStatusChange(inspection=made["published"], from_status="rating",
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


PUBLISHED_FIGURES_REVISION = "9b581b6d8ebf"
WITHDRAWN_FIGURES_REVISION = "c4e2a9f71b38"


def _result(overall: str, score: int, ratings: dict[str, str], counts: dict[str, tuple[int, int]]) -> dict:
    """A stored rating result, as much of it as the figures are read from."""
    return {"overall": {"rating": overall, "score": score, "max_score": 27}, "standards": [
        {"standard": standard, "rating": rating, "key_questions": [
            {"key_question": kq, "yes": yes, "applicable": applicable}
            for kq, (yes, applicable) in counts.items() if kq.startswith(standard + ".")]}
        for standard, rating in ratings.items()]}


def test_inspections_published_before_figures_were_kept_get_the_figures_of_their_latest_version(scratch_database):
    config = alembic_config(scratch_database)
    command.upgrade(config, PUBLISHED_VERSIONS_REVISION)
    asyncio.run(load_library(scratch_database))
    first = _result("good", 20, {"1.1": "good", "2.1": "requires_improvement"}, {"2.1.1": (6, 10), "2.1.2": (9, 10)})
    corrected = _result("good", 21, {"1.1": "outstanding", "2.1": "requires_improvement"},
                        {"2.1.1": (6, 10), "2.1.2": (9, 10)})
    typed = {"id": sa.Uuid(), "inspection_id": sa.Uuid(), "snapshot_id": sa.Uuid(),
             "result": sa.JSON().with_variant(JSONB(), "postgresql"), "created_at": sa.DateTime(timezone=True)}
    snapshots = sa.table("rating_snapshots", *(sa.column(c, typed.get(c)) for c in (
        "id", "inspection_id", "sequence", "kind", "framework_id", "framework_version", "rules_version",
        "input_fingerprint", "request", "result", "overall_rating", "created_at", "created_by")))
    versions = sa.table("published_versions", *(sa.column(c, typed.get(c)) for c in (
        "id", "inspection_id", "version", "kind", "snapshot_id", "reason", "created_at", "created_by")))

    async def before() -> dict[str, uuid.UUID]:
        engine = create_engine(scratch_database)
        try:
            async with create_sessionmaker(engine, TEST_ACTOR).begin() as session:
                unit = await make_unit(session)
                made = {status: await make_inspection(session, unit=unit, status=status, fieldwork_start=day,
                                                      fieldwork_end=day, published_at=datetime(2024, 6, 1, tzinfo=UTC))
                        for status, day in (("published", date(2024, 3, 31)), ("withdrawn", date(2024, 4, 1)),
                                            ("rating", date(2024, 4, 2)))}
                made["rating"].published_at = None
                await session.flush()
                connection = await session.connection()  # the rows as they stood, beside the write path
                ids = {}
                for n, (inspection, result, versions_of) in enumerate((
                    ("published", first, [(1, "publication")]), ("published", corrected, [(2, "correction")]),
                    ("withdrawn", first, [(1, "publication"), (2, "withdrawal")]), ("rating", first, []),
                )):
                    ids[n] = uuid.uuid4()
                    await connection.execute(sa.insert(snapshots).values(
                        id=ids[n], inspection_id=made[inspection].id, sequence=n + 1, kind="run",
                        framework_id="probation-pdu-2021", framework_version="2021.1", rules_version="1.0.0",
                        input_fingerprint="f", request="{}", result=result, overall_rating=result["overall"]["rating"],
                        created_at=datetime(2024, 6, 1, tzinfo=UTC), created_by="rating-run"))
                    for version, kind in versions_of:
                        await connection.execute(sa.insert(versions).values(
                            id=uuid.uuid4(), inspection_id=made[inspection].id, version=version, kind=kind,
                            snapshot_id=ids[n], reason=None if version == 1 else "Corrected.",
                            created_at=datetime(2024, 6, 1, tzinfo=UTC), created_by="lead"))
                return {"published": made["published"].id, "corrected snapshot": ids[1],
                        "withdrawn": made["withdrawn"].id, "withdrawn snapshot": ids[2]}
        finally:
            await engine.dispose()

    made = asyncio.run(before())
    command.upgrade(config, PUBLISHED_FIGURES_REVISION)

    def figures(connection: Connection) -> tuple[list, list, list]:
        return tuple([tuple(row) for row in connection.execute(sa.text(query))] for query in (
            "SELECT inspection_id, version, snapshot_id, programme, inspected_on, programme_year, overall_rating, "
            "overall_score, max_score FROM published_figures",
            "SELECT standard, rating FROM published_standard_figures ORDER BY standard",
            "SELECT standard, key_question, yes, applicable FROM published_key_question_figures ORDER BY key_question",
        ))

    [[(inspection_id, version, snapshot_id, *kept)], standards, key_questions] = on(scratch_database, figures)
    assert (uuid.UUID(str(inspection_id)), version, uuid.UUID(str(snapshot_id))) == (
        made["published"], 2, made["corrected snapshot"])
    assert [str(kept[1])[:10], *kept[0:1], *kept[2:]] == ["2024-03-31", "probation", 2023, "good", 21, 27]
    assert standards == [("1.1", "outstanding"), ("2.1", "requires_improvement")]
    assert key_questions == [("2.1", "2.1.1", 6, 10), ("2.1", "2.1.2", 9, 10)]
    # The next step gives the inspection withdrawn before then the figures it was withdrawn with.
    migrate(scratch_database)
    assert differences(scratch_database) == []

    def held(connection: Connection) -> dict:
        return {uuid.UUID(str(row[0])): tuple(row[1:]) for row in connection.execute(sa.text(
            "SELECT inspection_id, version, snapshot_id, programme_year, overall_score FROM published_figures"))}

    figures_now = on(scratch_database, held)
    version, snapshot_id, *kept = figures_now[made["withdrawn"]]
    assert (version, uuid.UUID(str(snapshot_id)), *kept) == (2, made["withdrawn snapshot"], 2024, 20)
    assert figures_now[made["published"]][0] == 2
    command.downgrade(config, WITHDRAWN_FIGURES_REVISION + "-1")
    assert set(on(scratch_database, held)) == {made["published"]}
