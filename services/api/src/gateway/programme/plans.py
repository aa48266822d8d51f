"""Programme plans as the gateway makes them: gather the registry (the units of the plan's type in service on
its first day, their caseloads and last inspections), ask the sampling service for the units chosen at
random, let `plan_rules` place the rest, and keep the schedule. Reads of plans are here too; their edits
are in `plan_edits`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import db, writes
from gateway.caseloads import repository as caseloads
from gateway.engines import call_engine
from gateway.pagination import Key, PageQuery, keyset_page
from gateway.preconditions import etag as version_etag
from gateway.programme import plan_rules as rules
from gateway.programme import repository
from gateway.programme.capacity import CASELOAD_SAMPLE, exact
from gateway.programme.plan_models import Plan, PlanReflow, PlanSlot
from gateway.programme.plan_schemas import (
    CapacityRead,
    NotPlacedRead,
    PlanCapacity,
    PlanCreate,
    PlanRead,
    PlanSummary,
    QuarterRead,
    ReflowRead,
    SlotRead,
    SlotReason,
    Suspension,
)
from gateway.statistics.periods import ProgrammeYear
from gateway.units import repository as units
from inspection_shared.clients import SamplingClient
from inspection_shared.pagination import Page
from inspection_shared.problems import FieldError, InvalidInput, NotFound
from inspection_shared.sampling import UnitCandidate, UnitSelectionRequest

PLAN_ORDER = (Key(Plan.first_day, descending=True), Key(Plan.id))
"""Plans are listed latest programme year first."""
RULE_ORDER = {rule: i for i, rule in enumerate(
    ("commissioned", "reinspect_inadequate", "max_interval", "random", "concern", "by_hand"))}
"""The order a quarter lists its slots in, and a re-flow moves them in: what is owed before what is chosen."""


def etag(plan: Plan) -> str:
    return version_etag(plan.version)


def held_quarters(plan: Plan) -> list[rules.Quarter]:
    return rules.quarters(ProgrammeYear.parse(year) for year in plan.programme_years)


def loads_of(plan: Plan) -> rules.Loads:
    return rules.Loads(exact(plan.per_quarter), exact(plan.full_load), exact(plan.proportionate_load))


def _capacity(capacity: PlanCapacity) -> tuple[str, rules.Loads]:
    if capacity.inspections_per_quarter is not None:
        return "inspections", rules.Loads(Fraction(capacity.inspections_per_quarter), Fraction(1), Fraction(1))
    assert capacity.annual_hours is not None and capacity.hours_per_inspection is not None  # the schema's rule
    full = exact(capacity.hours_per_inspection)
    proportionate = exact(capacity.proportionate_hours) if capacity.proportionate_hours is not None else full / 2
    return "hours", rules.Loads(exact(capacity.annual_hours) / 4, full, proportionate)


def _rules(data: PlanCreate) -> rules.Rules:
    given = data.rules
    w = given.concern_weights
    return rules.Rules(
        max_interval_months=given.max_interval_months,
        reinspect_inadequate_within_months=given.reinspect_inadequate_within_months,
        random_count=given.random_count, concern_count=given.concern_count,
        weights=rules.Weights(exact(w.intelligence), exact(w.last_rating), exact(w.time_since_inspection)),
        joint=tuple(rules.JointQuota(tuple(q.partners), q.count) for q in given.joint),
        proportionate_below_caseload=given.proportionate_below_caseload,
    )


def _commissioned(data: PlanCreate, loads: rules.Loads, held: list[rules.Quarter]) -> list[rules.Commissioned]:
    commissioned = [rules.Commissioned(c.body, c.quarter, exact(c.load) if c.load is not None else loads.full,
                                       tuple(c.partners)) for c in data.commissioned]
    faults = rules.commissioned_faults(commissioned, held, loads)
    if faults:
        raise InvalidInput("A commissioned inspection does not fit the plan.",
                           [FieldError(field=f"body.commissioned[{i}].quarter", message=m) for i, m in faults])
    return commissioned


async def _registry(session: AsyncSession, data: PlanCreate, held: list[rules.Quarter]) -> list[rules.RegistryUnit]:
    """The units of the plan as the registry holds them on its first day, with the intelligence sent."""
    first_day = held[0].start
    in_service = await units.units_of_type(session, data.unit_type, first_day)
    by_id = {u.id: u for u in in_service}
    errors, seen = [], set()
    for i, given in enumerate(data.units):
        field = f"body.units[{i}].unit_id"
        if given.unit_id in seen:
            errors.append(FieldError(field=field, message=f"{given.unit_id} is named twice"))
        elif given.unit_id not in by_id:
            errors.append(FieldError(field=field, message=f"{given.unit_id} is not a {data.unit_type} in service on "
                                     f"{first_day.isoformat()}"))
        seen.add(given.unit_id)
    if errors:
        raise InvalidInput("Each unit sent is one of the plan's, named once.", errors)
    sent = {u.unit_id: u for u in data.units}
    framed = await caseloads.latest_case_counts(session, by_id, CASELOAD_SAMPLE)
    last = await repository.last_inspections(session, by_id, first_day)
    registry = []
    for unit in in_service:
        given = sent.get(unit.id)
        caseload = given.caseload if given and given.caseload is not None else framed.get(unit.id, unit.caseload_size)
        inspected, rating = last.get(unit.id, (None, None))
        registry.append(rules.RegistryUnit(unit.id, unit.code, unit.name, caseload, inspected, rating,
                                           exact(given.intelligence) if given else Fraction(0)))
    return registry


async def _chosen_at_random(sampling: SamplingClient, pool: list[str], count: int, seed: int) -> dict[str, Any]:
    """The sampling service's choice of `count` of the pool (all of it if it holds fewer), seeded."""
    if count == 0 or not pool:
        return {"asked": count, "chosen": [], "seed": seed, "algorithm": None}
    request = UnitSelectionRequest(units=[UnitCandidate(id=code) for code in pool], k=min(count, len(pool)),
                                   method="srs", seed=seed)
    result = await call_engine(sampling, lambda: sampling.select_units(request))
    return {"asked": count, "chosen": sorted(u.id for u in result.selected), "seed": result.seed,
            "algorithm": result.algorithm}


def _not_placed(entry: rules.Unplaced) -> dict[str, Any]:
    return {"unit_id": str(entry.unit.unit_id) if entry.unit else None, "unit_code": entry.unit.code if entry.unit
            else None, "commissioned_body": entry.body, "rule": entry.rule, "detail": entry.detail,
            "figures": dict(entry.figures)}


async def create_plan(session: AsyncSession, sampling: SamplingClient, data: PlanCreate) -> tuple[PlanRead, str]:
    """Make the plan from the request and the registry, and keep it."""
    held = rules.quarters(ProgrammeYear.parse(year) for year in data.programme_years)
    capacity_unit, loads = _capacity(data.capacity)
    commissioned = _commissioned(data, loads, held)
    plan_rules = _rules(data)
    registry = await _registry(session, data, held)
    owed = {d.unit.code for d in rules.due(registry, plan_rules, held)}
    await db.release(session)  # nothing is held while the sampling service chooses
    chosen = await _chosen_at_random(sampling, [u.code for u in registry if u.code not in owed],
                                     plan_rules.random_count, data.seed)
    made = rules.schedule(registry, plan_rules, held, loads, commissioned, chosen["chosen"])
    plan = Plan(id=uuid.uuid4(), name=data.name, programme_years=sorted(data.programme_years),
                first_day=held[0].start, unit_type=data.unit_type, seed=data.seed,
                request=data.model_dump(mode="json"), capacity_unit=capacity_unit,
                per_quarter=float(loads.per_quarter), full_load=float(loads.full),
                proportionate_load=float(loads.proportionate), random_selection=chosen, suspended={},
                not_placed=[_not_placed(u) for u in made.unplaced])
    session.add(plan)
    session.add_all(PlanSlot(plan_id=plan.id, quarter=s.quarter, unit_id=s.unit.unit_id if s.unit else None,
                             commissioned_body=s.body, kind=s.kind, partners=list(s.partners), load=float(s.load),
                             rule=s.rule, detail=s.detail, figures=dict(s.figures)) for s in made.slots)
    await writes.flush(session, clash="The plan clashed with a change made at the same time; repeat it.")
    return await get_plan(session, plan.id)


# --- reads ---------------------------------------------------------------------------------------------


async def plan_of(session: AsyncSession, plan_id: uuid.UUID) -> Plan:
    plan = await session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan {plan_id}")
    return plan


def slot_order(slot: PlanSlot, code: str | None) -> tuple:
    return (RULE_ORDER[slot.rule], code or slot.commissioned_body or "")


def slot_read(slot: PlanSlot, code: str | None, name: str | None) -> SlotRead:
    return SlotRead(id=slot.id, quarter=slot.quarter, unit_id=slot.unit_id, unit_code=code, unit_name=name,
                    commissioned_body=slot.commissioned_body, kind=slot.kind,  # type: ignore[arg-type]
                    partners=slot.partners, load=slot.load, inspection_id=slot.inspection_id,
                    reason=SlotReason(rule=slot.rule, detail=slot.detail, figures=slot.figures))  # type: ignore[arg-type]


async def get_plan(session: AsyncSession, plan_id: uuid.UUID) -> tuple[PlanRead, str]:
    plan = await plan_of(session, plan_id)
    slots = sorted(await repository.plan_slots(session, plan.id), key=lambda held: slot_order(held[0], held[1]))
    by_quarter: dict[str, list[SlotRead]] = defaultdict(list)
    used: dict[str, float] = defaultdict(float)
    for slot, code, name in slots:
        by_quarter[slot.quarter].append(slot_read(slot, code, name))
        used[slot.quarter] += slot.load
    reflows = (await session.scalars(select(PlanReflow).where(PlanReflow.plan_id == plan.id)
                                     .order_by(PlanReflow.reflowed_at, PlanReflow.id))).all()
    quarters = [
        QuarterRead(quarter=q.label, start=q.start, end=q.end,
                    available=0.0 if q.label in plan.suspended else plan.per_quarter, used=used[q.label],
                    suspended=Suspension(reason=plan.suspended[q.label]) if q.label in plan.suspended else None,
                    slots=by_quarter[q.label])
        for q in held_quarters(plan)
    ]
    read = PlanRead(
        id=plan.id, name=plan.name, programme_years=plan.programme_years, unit_type=plan.unit_type, seed=plan.seed,
        capacity=CapacityRead(unit=plan.capacity_unit, per_quarter=plan.per_quarter,  # type: ignore[arg-type]
                              full=plan.full_load, proportionate=plan.proportionate_load),
        random_selection=plan.random_selection, quarters=quarters,
        not_placed=[NotPlacedRead.model_validate(entry) for entry in plan.not_placed],
        reflows=[ReflowRead.model_validate(db.row_fields(r)) for r in reflows], request=plan.request,
        published_at=plan.published_at, version=plan.version, created_at=plan.created_at, created_by=plan.created_by, updated_at=plan.updated_at,
        updated_by=plan.updated_by,
    )
    return read, etag(plan)


async def list_plans(session: AsyncSession, query: PageQuery) -> Page[PlanSummary]:
    return await keyset_page(session, select(Plan), PLAN_ORDER, query, PlanSummary.model_validate)
