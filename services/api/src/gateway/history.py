"""`gateway.cli load-demo-history`: a SYNTHETIC history of published inspections over the demo units, so
that the national statistics and the dashboard have ten programme years to show. Every figure in it is
invented; nothing in it happened.

- Ten programme years, 2016-17 to 2025-26. Each demo PDU is inspected every other year and each demo
  youth service every third year (which years, by their place in the list), at a day of the year drawn
  from the seed: about 1,050 inspections. PDUs are rated under probation-pdu-2021 throughout (the demo
  units hold no CRCs or NPS divisions), youth services under youth-2018 until May 2021 and youth-2021
  after: the years before a framework took effect are one more sign the history is invented.
- Labelled: each inspection's title starts "Synthetic history" and its lead is "Synthetic history";
  the move into rating that records it says the same.
- Through the write path, as the system: each inspection is recorded after the fact straight into rating
  (`inspections.service.record_past`) with its samples held as retention leaves them (cases counted, no
  case reference: `caseloads.repository.record_counted_sample`), rated by the rating engine from invented
  judgements and key-question counts (`ratings.service.rate_counts`), and published as any inspection is
  (the publication's checks, its published version, its figures and its events), then given the day it
  would have been published on.
- Deterministic and idempotent: one seed decides everything, and each inspection's id is derived from
  the seed, its unit and its year; an inspection already published is left as it is, one left in rating
  by an interrupted load is rated and published, so a second load adds nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.caseloads import repository as caseloads
from gateway.frameworks.service import get_framework
from gateway.inspections import repository as inspections
from gateway.inspections.lifecycle import PUBLISHED, RATING
from gateway.inspections.schemas import InspectionCreate, TransitionRequest
from gateway.inspections.service import record_past
from gateway.inspections.transitions import entry_checks, move
from gateway.ratings import publication
from gateway.ratings.service import rate_counts
from gateway.statistics.periods import ProgrammeYear
from gateway.units import repository as units
from gateway.units.demo import demo_import
from inspection_shared.clients import RatingEngineClient
from inspection_shared.framework import RATINGS, Framework
from inspection_shared.rating import KeyQuestionCount, StandardEvidence

SEED = 20160401
FIRST_YEAR = ProgrammeYear(2016)
YEARS = 10
LABEL = "Synthetic history"
EVERY = {"pdu": 2, "yos": 3}
"""Years between inspections of a unit, by unit type."""
_NAMESPACE = uuid.UUID("5e1f6a2c-3d4b-4c8e-9a7f-0b1c2d3e4f50")


@dataclass(frozen=True)
class PlannedInspection:
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_code: str
    unit_name: str
    framework_id: str
    year: ProgrammeYear
    fieldwork_start: date

    @property
    def title(self) -> str:
        return f"{LABEL} {self.year}: {self.unit_name}"


def framework_for(unit_type: str, day: date) -> str:
    if unit_type == "yos":
        return "youth-2018" if day < date(2021, 6, 1) else "youth-2021"
    return "probation-pdu-2021"


def plan(demo_units: Sequence[tuple[uuid.UUID, str, str, str]], *, seed: int = SEED, first: ProgrammeYear = FIRST_YEAR,
         years: int = YEARS) -> list[PlannedInspection]:
    """The inspections of the history, oldest first: `demo_units` are (id, code, name, type), in the demo
    files' order."""
    planned = []
    for offset in range(years):
        year = ProgrammeYear(first.start_year + offset)
        for place, (unit_id, code, name, unit_type) in enumerate(demo_units):
            every = EVERY.get(unit_type)
            if every is None or (offset + place) % every:
                continue
            rng = random.Random(f"{seed}/{code}/{year}/day")
            start = year.first_day + timedelta(days=rng.randrange(330))
            planned.append(PlannedInspection(
                id=uuid.uuid5(_NAMESPACE, f"{seed}/{code}/{year}"), unit_id=unit_id, unit_code=code, unit_name=name,
                framework_id=framework_for(unit_type, start), year=year, fieldwork_start=start,
            ))
    planned.sort(key=lambda p: (p.fieldwork_start, p.unit_code))
    return planned


def _rating_of(share: float) -> str:
    for rating, lowest in zip(RATINGS, (0.8, 0.65, 0.5)):
        if share >= lowest:
            return rating
    return RATINGS[-1]


def evidence(framework: Framework, inspected: PlannedInspection, seed: int = SEED) -> tuple[dict[str, int], list[StandardEvidence]]:
    """Invented evidence: the size of each sample, judgements, and key-question counts drawn around the
    unit's own level of practice (steady across its inspections), with youth services improving and
    probation dipping after 2020. Each key question applies to at least nine in ten of its sample's cases,
    and to at least the framework's minimum, as publication requires."""
    unit = random.Random(f"{seed}/{inspected.unit_code}")
    youth = framework.id.startswith("youth")
    level = (0.70 if youth else 0.62) + unit.gauss(0, 0.08)
    start = inspected.year.start_year
    level += 0.01 * (start - FIRST_YEAR.start_year) if youth else (-0.06 if start in (2020, 2021, 2022) else 0.0)
    rng = random.Random(f"{seed}/{inspected.unit_code}/{inspected.year}/evidence")
    least = framework.publication.minimum_applicable_cases if framework.publication else 0
    samples = {s.sample_type: rng.randint(max(12, least + 2), 40 if youth else 60)
               for s in framework.standards() if s.kind == "case" and s.sample_type}
    standards = []
    for standard in framework.standards():
        if standard.kind == "judged":
            standards.append(StandardEvidence(
                standard=standard.id, rating=_rating_of(level + rng.gauss(0, 0.08)),
                evidence_summary=f"{LABEL}: an invented judgement.",
            ))
            continue
        cases = samples[standard.sample_type]
        counts = {}
        for key_question in standard.key_questions:
            applicable = rng.randint(-(-9 * cases // 10), cases)
            share = min(0.98, max(0.05, level + rng.gauss(0, 0.1)))
            counts[key_question.id] = KeyQuestionCount(
                yes=sum(rng.random() < share for _ in range(applicable)), applicable=applicable
            )
        standards.append(StandardEvidence(standard=standard.id, counts=counts))
    return samples, standards


@dataclass
class HistoryReport:
    published: int = 0
    unchanged: int = 0


async def demo_units(session: AsyncSession) -> list[tuple[uuid.UUID, str, str, str]]:
    """The demo PDUs and youth services held, in the demo files' order."""
    codes = [row.unit.code for row in demo_import().rows if row.unit.type in EVERY]
    held = {unit.code: unit for unit in await units.by_codes(session, codes)}
    return [(held[c].id, c, held[c].name, held[c].type) for c in codes if c in held]


async def _load_one(session: AsyncSession, engine: RatingEngineClient, planned: PlannedInspection, seed: int) -> bool:
    """Record, rate and publish one inspection of the history; False if it was published already."""
    held = await inspections.inspection_with_unit(session, planned.id)
    if held is not None and held.status == PUBLISHED:
        return False
    if held is None:
        await record_past(session, planned.id, InspectionCreate(
            unit_id=planned.unit_id, framework_id=planned.framework_id, type="core", title=planned.title, lead=LABEL,
            fieldwork_start=planned.fieldwork_start, fieldwork_end=planned.fieldwork_start + timedelta(days=11),
        ), note=f"{LABEL}: recorded after the fact, its fieldwork over.")
    elif held.status != RATING:
        return False
    framework = await get_framework(session, planned.framework_id)
    samples, standards = evidence(framework, planned, seed)
    if held is None:
        for sample_type, cases in samples.items():
            await caseloads.record_counted_sample(session, planned.id, sample_type, cases, LABEL)
    await rate_counts(session, engine, planned.id, standards)
    published = await move(session, planned.id, TransitionRequest(to=PUBLISHED), None,
                           entry_checks(publication.ENTRY_CHECKS))
    # The day it would have been published: about two months after its fieldwork.
    published.published_at = datetime.combine(planned.fieldwork_start + timedelta(days=70), time(9), timezone.utc)
    await session.commit()
    return True


async def load_demo_history(
    sessions: async_sessionmaker[AsyncSession], engine: RatingEngineClient, *, seed: int = SEED,
    first: ProgrammeYear = FIRST_YEAR, years: int = YEARS, codes: Sequence[str] | None = None,
) -> HistoryReport:
    """Load the history (of the demo units `codes` only, if given), one inspection a transaction."""
    async with sessions() as session:
        held = await demo_units(session)
    report = HistoryReport()
    for planned in plan(held, seed=seed, first=first, years=years):
        if codes is not None and planned.unit_code not in codes:
            continue
        async with sessions() as session:
            if await _load_one(session, engine, planned, seed):
                report.published += 1
            else:
                report.unchanged += 1
    return report
