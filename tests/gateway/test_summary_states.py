"""Reading inspection states on PostgreSQL for the summary: reads that arrive together share one query,
and none is answered by a query that started before it arrived. On real PostgreSQL, with committed rows
(a separate pool cannot see a test's transaction), removed at the end."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.actors import SESSION_KEY
from gateway.inspections.models import Inspection
from gateway.summaries.documents import PostgresStates
from gateway.units.models import Unit
from tests.conftest import TEST_ACTOR
from tests.gateway.factories import make_inspection, make_unit

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


class CountedStates(PostgresStates):
    """The real reader, counting its queries; `hold` keeps a query's answer back (a slow database)."""

    def __init__(self, pool, sql, *limits):
        super().__init__(pool, sql, *limits)
        self.queries = 0
        self.hold: asyncio.Event | None = None
        self.failures = 0

    async def _query(self, inspection_id):
        self.queries += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("the database went away")
        state = await super()._query(inspection_id)
        if self.hold is not None:
            await self.hold.wait()
        return state


@pytest.fixture
async def committed(db_engine: AsyncEngine):
    maker = async_sessionmaker(db_engine, expire_on_commit=False, info={SESSION_KEY: TEST_ACTOR})
    async with maker.begin() as session:
        region = await make_unit(session, type="region")
        pdu = await make_unit(session, parent=region)
        inspection = await make_inspection(session, unit=pdu)
    try:
        yield inspection, maker
    finally:
        async with maker.begin() as session:
            await session.execute(delete(Inspection).where(Inspection.id == inspection.id))
            await session.execute(delete(Unit).where(Unit.id.in_([pdu.id, region.id])))


@pytest.fixture
async def states(db_engine: AsyncEngine):
    reader = await CountedStates.open(db_engine, max_connections=4)
    yield reader
    await reader.aclose()


async def move_on(maker, inspection_id: uuid.UUID) -> None:
    async with maker.begin() as session:
        await session.execute(
            update(Inspection.__table__)
            .where(Inspection.__table__.c.id == inspection_id)
            .values(evidence_revision=Inspection.__table__.c.evidence_revision + 1)
        )


async def test_the_state_is_the_versions_of_the_inspection_its_unit_and_region(committed, states):
    inspection, _ = committed
    assert await states(inspection.id) == (1, 0, 1, 1)
    assert await states(uuid.uuid4()) is None


async def test_fifty_reads_arriving_together_cost_two_queries(committed, states):
    inspection, _ = committed
    answers = await asyncio.gather(*(states(inspection.id) for _ in range(50)))
    assert answers == [(1, 0, 1, 1)] * 50
    assert states.queries == 2  # the first reader's, then one for the 49 that came while it ran


async def test_a_read_is_never_answered_by_a_query_that_started_before_it_arrived(committed, states):
    inspection, maker = committed
    states.hold = asyncio.Event()
    first = asyncio.create_task(states(inspection.id))
    while states.queries == 0:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)  # the first query has read revision 0 and is held back
    await move_on(maker, inspection.id)
    later = [asyncio.create_task(states(inspection.id)) for _ in range(3)]
    await asyncio.sleep(0.01)
    states.hold.set()
    assert await first == (1, 0, 1, 1)
    assert await asyncio.gather(*later) == [(1, 1, 1, 1)] * 3
    assert states.queries == 2


async def test_a_failed_query_fails_the_reads_waiting_on_it_and_the_next_read_queries_again(committed, states):
    inspection, _ = committed
    states.failures = 1
    failed = await asyncio.gather(*(states(inspection.id) for _ in range(3)), return_exceptions=True)
    assert isinstance(failed[0], ConnectionResetError)
    assert await states(inspection.id) == (1, 0, 1, 1)


async def test_a_reader_that_goes_away_does_not_cancel_the_query_others_wait_for(committed, states):
    inspection, _ = committed
    states.hold = asyncio.Event()
    leaving = asyncio.create_task(states(inspection.id))
    staying = asyncio.create_task(states(inspection.id))
    await asyncio.sleep(0.01)
    leaving.cancel()
    states.hold.set()
    assert await staying == (1, 0, 1, 1)
    with pytest.raises(asyncio.CancelledError):
        await leaving
