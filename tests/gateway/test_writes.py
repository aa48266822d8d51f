"""The one write path: who and when are stamped by the session's hooks on every way of writing, a
session acting for nobody cannot write, and a write that lost a race is answered as a 409 or 412."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.actors import SESSION_KEY, Actor
from gateway.caseloads.models import SampledCase
from gateway.inspections.guards import inspection_for_change
from gateway.inspections.models import Inspection
from gateway.units.models import Unit
from gateway.writes import NoActor, answering_clashes, flush
from inspection_shared.problems import Conflict, PreconditionFailed
from tests.conftest import TEST_ACTOR
from tests.gateway.factories import make_assessed_sample, make_inspection, make_unit

INSPECTOR = Actor(id="inspector-7", name="An inspector")


@pytest.fixture
def sessions(db_connection):
    def open_for(actor: Actor | None):
        return async_sessionmaker(
            bind=db_connection, join_transaction_mode="create_savepoint", expire_on_commit=False,
            info={SESSION_KEY: actor},
        )()
    return open_for


async def test_a_new_row_is_stamped_with_its_actor_and_one_time(sessions):
    async with sessions(INSPECTOR) as session:
        unit = Unit(code=f"W{uuid.uuid4().hex[:6].upper()}", name="Stamped", type="region", nation="England",
                    created_by="someone else")
        session.add(unit)
        await session.flush()
        assert (unit.created_by, unit.updated_by) == ("inspector-7", "inspector-7")
        assert unit.created_at == unit.updated_at and unit.created_at.tzinfo is not None


async def test_a_change_stamps_only_who_changed_it_and_when(sessions, db_session):
    unit = await make_unit(db_session, type="region")
    created = (unit.created_at, unit.created_by)
    async with sessions(INSPECTOR) as session:
        held = await session.get(Unit, unit.id)
        held.name = "Renamed"
        await session.flush()
        assert (held.created_at, held.created_by) == created
        assert held.updated_by == "inspector-7" and held.updated_at > held.created_at


async def test_an_object_read_and_left_as_it_was_is_not_stamped(sessions, db_session):
    unit = await make_unit(db_session, type="region")
    async with sessions(INSPECTOR) as session:
        held = await session.get(Unit, unit.id)
        held.name = held.name  # the same value: no change
        await session.flush()
        assert (held.updated_by, held.version) == (TEST_ACTOR.id, 1)


async def test_bulk_statements_are_stamped_too(sessions, db_session):
    inspection = await make_inspection(db_session)
    sample = await make_assessed_sample(db_session, inspection, "case_supervision", [{"case_ref": "X000001"}])
    async with sessions(INSPECTOR) as session:
        await session.execute(
            update(Inspection).where(Inspection.id == inspection.id).values(title="Bulk"),
            execution_options={"synchronize_session": False},
        )
        stamped = (await session.execute(
            select(Inspection.title, Inspection.updated_by).where(Inspection.id == inspection.id)
        )).one()
        assert tuple(stamped) == ("Bulk", "inspector-7")
        # Rows without stamps are written as they are, but still only for an actor.
        await session.execute(insert(SampledCase), [
            {"sample_id": sample.id, "case_ref": f"X00000{i}", "stratum": "all", "inclusion_probability": 1.0,
             "weight": 1.0, "status": "selected"} for i in (2, 3)
        ])
        assert len((await session.scalars(select(SampledCase).where(SampledCase.sample_id == sample.id))).all()) == 3


async def test_the_evidence_revision_is_bookkeeping_and_stamps_nothing(sessions, db_session):
    inspection = await make_inspection(db_session)
    async with sessions(INSPECTOR) as session:
        held = await inspection_for_change(session, inspection.id)
        assert (held.evidence_revision, held.updated_by, held.version) == (1, TEST_ACTOR.id, 1)


@pytest.mark.parametrize("way", ["flush", "bulk insert", "bulk update", "delete"])
async def test_a_session_acting_for_nobody_cannot_write_at_all(sessions, db_session, way):
    unit = await make_unit(db_session, type="region")
    async with sessions(None) as session:
        with pytest.raises(NoActor):
            if way == "flush":
                session.add(Unit(code="NOBODY", name="Nobody's", type="region", nation="England"))
                await session.flush()
            elif way == "bulk insert":
                await session.execute(insert(Unit), [{"code": "NOBODY", "name": "x", "type": "region", "nation": "x"}])
            elif way == "bulk update":
                await session.execute(update(Unit).where(Unit.id == unit.id).values(name="x"))
            else:
                await session.delete(await session.get(Unit, unit.id))
                await session.flush()


async def test_reading_needs_no_actor(sessions, db_session):
    unit = await make_unit(db_session, type="region")
    async with sessions(None) as session:
        assert (await session.get(Unit, unit.id)).code == unit.code


async def test_a_constraint_broken_by_a_concurrent_write_is_a_409_with_the_detail_given(sessions, db_session):
    unit = await make_unit(db_session, type="region")
    async with sessions(INSPECTOR) as session:
        session.add(Unit(code=unit.code, name="Twin", type="region", nation="England"))
        with pytest.raises(Conflict) as clash:
            await flush(session, clash="Creating the unit clashed with another.")
        assert clash.value.detail == "Creating the unit clashed with another."


async def test_a_stale_version_is_a_412_naming_what_changed(sessions, db_session):
    unit = await make_unit(db_session, type="region")
    async with sessions(INSPECTOR) as session:
        held = await session.get(Unit, unit.id)
        await session.execute(
            update(Unit.__table__).where(Unit.__table__.c.id == unit.id).values(version=5),
            execution_options={"bookkeeping": True},
        )
        held.name = "Stale"
        with pytest.raises(PreconditionFailed) as stale:
            await flush(session, clash="unused", changed="the unit")
        assert stale.value.status == 412
        assert stale.value.detail.startswith("The unit was changed by another request at the same time")


def test_answering_clashes_passes_other_errors_through():
    with pytest.raises(ValueError):
        with answering_clashes(clash="unused"):
            raise ValueError("not a clash")
