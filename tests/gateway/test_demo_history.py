"""The synthetic history `gateway.cli load-demo-history` loads: its plan over the demo units (ten programme
years, about a thousand inspections), and a few of its units' inspections loaded through the write path
on both databases, labelled, published with their figures, the same again from the same seed, and not
doubled by a second load."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.actors import SESSION_KEY
from gateway.history import FIRST_YEAR, LABEL, demo_units, evidence, load_demo_history, plan
from gateway.inspections.models import Inspection
from gateway.permissions import SYSTEM_ACTOR
from gateway.statistics.models import PublishedFigures
from gateway.statistics.periods import ProgrammeYear
from gateway.units.demo import demo_import, load_demo_units
from inspection_shared.library import library

CODES = ["N53DRBY", "N53DERS", "SYN-YOS-001", "SYN-YOS-002"]
YEARS = 3


def _demo_units() -> list[tuple[uuid.UUID, str, str, str]]:
    return [(uuid.uuid4(), row.unit.code, row.unit.name, row.unit.type) for row in demo_import().rows
            if row.unit.type in ("pdu", "yos")]


def test_the_history_spans_ten_programme_years_with_about_a_thousand_inspections():
    units = _demo_units()
    planned = plan(units)

    assert 950 <= len(planned) <= 1100
    years = Counter(str(p.year) for p in planned)
    assert sorted(years) == [str(ProgrammeYear(FIRST_YEAR.start_year + n)) for n in range(10)]
    assert all(ProgrammeYear.of(p.fieldwork_start) == p.year for p in planned)
    assert {p.framework_id for p in planned} == {"probation-pdu-2021", "youth-2018", "youth-2021"}
    assert all(p.title.startswith(f"{LABEL} {p.year}: ") for p in planned)
    # The same seed, the same history: ids, days and evidence.
    again = plan([(uuid.uuid4(), *unit[1:]) for unit in units])
    assert [(p.id, p.fieldwork_start) for p in again] == [(p.id, p.fieldwork_start) for p in planned]
    assert evidence(library()[planned[0].framework_id], planned[0]) == evidence(
        library()[again[0].framework_id], again[0])
    assert [p.id for p in plan(units, seed=1)][:5] != [p.id for p in planned][:5]


async def test_a_load_publishes_each_inspection_once_through_the_write_path(gateway, gateway_app, db_connection,
                                                                            db_session):
    await load_demo_units(db_session)
    await db_session.commit()
    sessions = async_sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint",
                                  expire_on_commit=False, info={SESSION_KEY: SYSTEM_ACTOR})
    engine = gateway_app.state.rating_engine

    first = await load_demo_history(sessions, engine, years=YEARS, codes=CODES)
    second = await load_demo_history(sessions, engine, years=YEARS, codes=CODES)

    # In three years, each of the two PDUs is inspected once or twice, each youth service once.
    planned = [p for p in plan(await demo_units(db_session), years=YEARS) if p.unit_code in CODES]
    assert Counter(p.unit_code for p in planned)["SYN-YOS-001"] == 1
    assert 5 <= len(planned) <= 6
    assert (first.published, first.unchanged) == (len(planned), 0)
    assert (second.published, second.unchanged) == (0, len(planned))
    loaded = (await db_session.scalars(select(Inspection).where(Inspection.title.like(f"{LABEL} %")))).all()
    assert sorted(i.id for i in loaded) == sorted(p.id for p in planned)
    assert {(i.status, i.lead, i.type) for i in loaded} == {("published", LABEL, "core")}
    assert all(i.published_at.date() > i.fieldwork_end for i in loaded)
    figures = await db_session.scalar(select(func.count()).select_from(PublishedFigures)
                                      .where(PublishedFigures.inspection_id.in_([i.id for i in loaded])))
    assert figures == len(planned)
    trends = (await gateway.get("/api/v1/statistics/trends", params={"from": "2016-04-01", "to": "2019-03-31"})).json()
    assert [(y["year"], y["inspections"]) for y in trends["years"]] == sorted(Counter(str(p.year) for p in planned).items())
    history = (await gateway.get(f"/api/v1/inspections/{loaded[0].id}/history")).json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "rating"), ("rating", "published")]
    assert history[0]["note"].startswith(LABEL)
