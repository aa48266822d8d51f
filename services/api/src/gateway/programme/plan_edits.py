"""Changes to a kept plan: a slot moved, re-kinded, removed or added by hand; a quarter suspended and the plan
re-flowed (each re-flow kept with its reason); a slot made a planned inspection. Each change takes the
plan's ETag in If-Match and moves its version on; a quarter's capacity is never exceeded, a unit owed an
inspection is never moved past its deadline's quarter, and a slot made an inspection stays as it is (a
suspension keeps it in its quarter and says so in the re-flow)."""

from __future__ import annotations

import uuid
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from gateway import writes
from gateway.db import utcnow
from gateway.inspections import service as inspections
from gateway.inspections.schemas import InspectionCreate
from gateway.preconditions import check_if_match
from gateway.programme import plan_rules as rules
from gateway.programme import repository
from gateway.programme.capacity import exact
from gateway.programme.plan_models import Plan, PlanReflow, PlanSlot
from gateway.programme.plan_schemas import PlanRead, SlotAdd, SlotChange, SlotInspection, SuspensionCreate
from gateway.programme.plans import get_plan, held_quarters, loads_of, plan_of, slot_order
from gateway.units import repository as units
from gateway.writes import actor_of
from inspection_shared.problems import Conflict, FieldError, InvalidInput, NotFound

CLASH = "The plan was changed at the same time; read it again and retry."


async def _held(session: AsyncSession, plan_id: uuid.UUID, if_match: str | None
                ) -> tuple[Plan, list[tuple[PlanSlot, str | None, str | None]]]:
    plan = await plan_of(session, plan_id)
    check_if_match("the plan", plan.version, if_match)
    return plan, await repository.plan_slots(session, plan.id)


def _find(slots: list[tuple[PlanSlot, str | None, str | None]], slot_id: uuid.UUID) -> tuple[PlanSlot, str]:
    for slot, code, _name in slots:
        if slot.id == slot_id:
            return slot, code or slot.commissioned_body or ""
    raise NotFound(f"No slot {slot_id} in the plan")


def _not_planned(slot: PlanSlot, code: str, doing: str) -> None:
    """409 for a slot made an inspection already: the inspection is changed (or cancelled) instead."""
    if slot.inspection_id is not None:
        raise Conflict(f"The slot of {code} is planned as inspection {slot.inspection_id}: it cannot be {doing}; "
                       "change that inspection instead.")


def _check_deadline(plan: Plan, slot: PlanSlot, code: str, label: str) -> None:
    """422 naming body.quarter if an owed unit's slot would go past its deadline's quarter."""
    held = held_quarters(plan)
    labels = [q.label for q in held]
    last = rules.deadline_quarter(slot.rule, slot.figures, held)
    if last is None or label not in labels or labels.index(label) <= last:
        return
    message = (f"{code} is owed an inspection by {slot.figures['deadline']}: it may not go after "
               f"{labels[min(last, len(labels) - 1)]}")
    raise InvalidInput(f"The slot cannot go in {label}: {message}.", [FieldError(field="body.quarter", message=message)])


def _left(plan: Plan, slots: list[tuple[PlanSlot, str | None, str | None]], label: str,
          other_than: uuid.UUID | None = None) -> Fraction:
    used = sum((exact(s.load) for s, _, _ in slots if s.quarter == label and s.id != other_than), Fraction(0))
    return exact(plan.per_quarter) - used


def _check_room(plan: Plan, slots: list, label: str, load: Fraction, other_than: uuid.UUID | None = None) -> None:
    """422 naming body.quarter unless the quarter is the plan's, not suspended and has room for `load`."""
    labels = [q.label for q in held_quarters(plan)]
    if label not in labels:
        message = f"{label} is not a quarter of the plan ({labels[0]} to {labels[-1]})"
    elif label in plan.suspended:
        message = f"{label} is suspended: {plan.suspended[label]}"
    elif (left := _left(plan, slots, label, other_than)) < load:
        message = f"{label} has {float(left):g} {plan.capacity_unit} left, not {float(load):g}"
    else:
        return
    raise InvalidInput(f"The slot cannot go in {label}: {message}.", [FieldError(field="body.quarter", message=message)])


def _load(plan: Plan, kind: str, given: float | None = None) -> Fraction:
    if given is not None:
        return exact(given)
    return exact(plan.proportionate_load) if kind == "proportionate" else exact(plan.full_load)


def _check_partners(kind: str, partners: list[str]) -> None:
    if kind == "joint" and not partners:
        message = "a joint inspection names at least one partner inspectorate"
    elif kind in ("full", "proportionate") and partners:
        message = f"a {kind} inspection has no partner inspectorates; with partners it is a joint one"
    else:
        return
    raise InvalidInput(f"The slot cannot be planned so: {message}.", [FieldError(field="body.partners", message=message)])


def _moved(slot: PlanSlot, to: str, why: str) -> None:
    slot.figures = {**slot.figures, "moves": [*slot.figures.get("moves", []),
                                              {"from": slot.quarter, "to": to, "why": why}]}
    slot.quarter = to


async def _changed(session: AsyncSession, plan: Plan) -> tuple[PlanRead, str]:
    flag_modified(plan, "not_placed")  # any change of its slots is a change of the plan: its version moves
    await writes.flush(session, clash=CLASH, changed="the plan")
    return await get_plan(session, plan.id)


async def change_slot(session: AsyncSession, plan_id: uuid.UUID, slot_id: uuid.UUID, change: SlotChange,
                      if_match: str | None) -> tuple[PlanRead, str]:
    """Move a slot to another quarter, or change its kind or partners, the note kept with it."""
    plan, slots = await _held(session, plan_id, if_match)
    slot, code = _find(slots, slot_id)
    _not_planned(slot, code, "changed")
    if slot.kind == "commissioned" and change.kind is not None:
        raise InvalidInput("A commissioned inspection stays one.",
                           [FieldError(field="body.kind", message="a commissioned body's slot cannot change kind")])
    kind = change.kind or slot.kind
    partners = change.partners if change.partners is not None else ([] if kind != "joint" and change.kind
                                                                    else slot.partners)
    if kind != "commissioned":
        _check_partners(kind, partners)
    load = exact(slot.load) if kind == slot.kind else _load(plan, kind)
    quarter = change.quarter or slot.quarter
    _check_deadline(plan, slot, code, quarter)
    _check_room(plan, slots, quarter, load, other_than=slot.id)
    if quarter != slot.quarter:
        _moved(slot, quarter, f"moved by hand: {change.note}")
    if kind != slot.kind or partners != slot.partners:
        slot.figures = {**slot.figures, "changes": [*slot.figures.get("changes", []), {
            "kind": [slot.kind, kind], "partners": [slot.partners, partners], "why": change.note}]}
    slot.kind, slot.partners, slot.load = kind, partners, float(load)
    return await _changed(session, plan)


async def add_slot(session: AsyncSession, plan_id: uuid.UUID, data: SlotAdd, if_match: str | None
                   ) -> tuple[PlanRead, str]:
    """An inspection added by hand: a unit of the plan's type, or a commissioned body."""
    plan, slots = await _held(session, plan_id, if_match)
    kind = data.kind or ("commissioned" if data.commissioned_body else "full")
    if data.unit_id is not None:
        unit = await units.get(session, data.unit_id)
        message = None
        if unit is None:
            message = f"no unit {data.unit_id}"
        elif unit.type != plan.unit_type:
            message = f"{unit.code} is a {unit.type}; the plan inspects units of type {plan.unit_type}"
        elif kind == "commissioned":
            message = "a unit of the tree is not commissioned: give kind full, proportionate or joint"
        if message:
            raise InvalidInput(f"The slot cannot be added: {message}.", [FieldError(field="body.unit_id", message=message)])
        assert unit is not None
        held = next((s for s, _, _ in slots if s.unit_id == unit.id), None)
        if held is not None:
            raise Conflict(f"{unit.code} is in the plan already, in {held.quarter}: move that slot instead.")
        _check_partners(kind, data.partners)
    elif kind != "commissioned":
        raise InvalidInput("A commissioned body's inspection is commissioned.",
                           [FieldError(field="body.kind", message="a commissioned body's slot is of kind commissioned")])
    load = _load(plan, kind, data.load if kind == "commissioned" else None)
    _check_room(plan, slots, data.quarter, load)
    session.add(PlanSlot(plan_id=plan.id, quarter=data.quarter, unit_id=data.unit_id,
                         commissioned_body=data.commissioned_body, kind=kind, partners=data.partners,
                         load=float(load), rule="by_hand", detail=f"added by hand: {data.note}", figures={}))
    return await _changed(session, plan)


async def remove_slot(session: AsyncSession, plan_id: uuid.UUID, slot_id: uuid.UUID, if_match: str | None
                      ) -> tuple[PlanRead, str]:
    plan, slots = await _held(session, plan_id, if_match)
    slot, code = _find(slots, slot_id)
    _not_planned(slot, code, "removed")
    await session.delete(slot)
    return await _changed(session, plan)


async def suspend(session: AsyncSession, plan_id: uuid.UUID, data: SuspensionCreate, if_match: str | None
                  ) -> tuple[PlanRead, str]:
    """Suspend a quarter with a reason and re-flow the plan: each of its slots to the earliest later quarter
    with room (an owed unit's no later than its deadline's quarter), the rest listed as not placed; a slot
    made an inspection already kept where it is. The re-flow kept."""
    plan, slots = await _held(session, plan_id, if_match)
    held = held_quarters(plan)
    labels = [q.label for q in held]
    if data.quarter not in labels:
        message = f"{data.quarter} is not a quarter of the plan ({labels[0]} to {labels[-1]})"
        raise InvalidInput(f"The quarter cannot be suspended: {message}.",
                           [FieldError(field="body.quarter", message=message)])
    if data.quarter in plan.suspended:
        raise Conflict(f"{data.quarter} is suspended already: {plan.suspended[data.quarter]}")
    plan.suspended = {**plan.suspended, data.quarter: data.reason}
    ordered = sorted(slots, key=lambda held: (labels.index(held[0].quarter), slot_order(held[0], held[1])))
    by_id = {slot.id: (slot, code or slot.commissioned_body or "") for slot, code, _ in ordered}
    lasts = {s.id: rules.deadline_quarter(s.rule, s.figures, held) for s, _, _ in ordered}
    moves = rules.reflow([rules.Placed(s.id, s.quarter, exact(s.load), lasts[s.id], s.inspection_id is not None)
                          for s, _, _ in ordered], held, loads_of(plan), plan.suspended)
    why = f"{data.quarter} suspended: {data.reason}"
    kept = [{"slot_id": str(s.id), "name": by_id[s.id][1], "quarter": s.quarter,
             "inspection_id": str(s.inspection_id)}
            for s, _, _ in ordered if s.quarter == data.quarter and s.inspection_id is not None]
    moved: list[dict[str, Any]] = []
    unplaced: list[dict[str, Any]] = []
    for move in moves:
        slot, name = by_id[move.key]
        if move.to_quarter is not None:
            moved.append({"slot_id": str(slot.id), "name": name, "from_quarter": move.from_quarter,
                          "to_quarter": move.to_quarter})
            _moved(slot, move.to_quarter, why)
            continue
        last = lasts[slot.id]
        no_room = ("no later quarter has room" if last is None else
                   f"owed by {slot.figures['deadline']}, so no later than {labels[min(last, len(labels) - 1)]}: "
                   "no later quarter by then has room")
        unplaced.append({"unit_id": str(slot.unit_id) if slot.unit_id else None,
                         "unit_code": name if slot.unit_id else None,
                         "commissioned_body": slot.commissioned_body, "rule": slot.rule,
                         "detail": f"{slot.detail}; in {move.from_quarter}, {why}; {no_room}",
                         "figures": slot.figures})
        await session.delete(slot)
    plan.not_placed = [*plan.not_placed, *unplaced]
    session.add(PlanReflow(plan_id=plan.id, quarter=data.quarter, reason=data.reason, moved=moved,
                           not_placed=unplaced, kept=kept))
    return await _changed(session, plan)


def _in_quarter(plan: Plan, label: str, day: date | None) -> str | None:
    quarter = next(q for q in held_quarters(plan) if q.label == label)
    if day is not None and not quarter.start <= day <= quarter.end:
        return f"the slot is in {label}, {quarter.start.isoformat()} to {quarter.end.isoformat()}"
    return None


async def make_inspection(session: AsyncSession, plan_id: uuid.UUID, slot_id: uuid.UUID, data: SlotInspection
                          ) -> tuple[uuid.UUID, str]:
    """The slot made a planned inspection of its unit (a joint one with its partners; a re-inspection for a
    unit re-inspected as Inadequate), through the inspections' own planning rules and permission (to plan
    inspections of the unit). The inspection's id, and the plan's new ETag."""
    plan = await plan_of(session, plan_id)
    slot, _ = _find(await repository.plan_slots(session, plan.id), slot_id)
    if slot.unit_id is None:
        raise Conflict(f"{slot.commissioned_body} is not a unit of the tree: add it as a unit to plan its inspection.")
    if slot.inspection_id is not None:
        raise Conflict(f"The slot is planned as inspection {slot.inspection_id} already.")
    if slot.quarter in plan.suspended:
        raise Conflict(f"{slot.quarter} is suspended: {plan.suspended[slot.quarter]}")
    faults = [FieldError(field=f"body.{name}", message=message) for name, day in
              (("fieldwork_start", data.fieldwork_start), ("fieldwork_end", data.fieldwork_end))
              if (message := _in_quarter(plan, slot.quarter, day))]
    if faults:
        raise InvalidInput("Fieldwork falls in the slot's quarter.", faults)
    type_ = "joint" if slot.kind == "joint" else "re_inspection" if slot.rule == "reinspect_inadequate" else "core"
    inspection = await inspections.create_inspection(session, InspectionCreate(
        unit_id=slot.unit_id, framework_id=data.framework_id, type=type_, title=data.title, lead=data.lead,
        partner_inspectorates=slot.partners if type_ == "joint" else [], fieldwork_start=data.fieldwork_start,
        fieldwork_end=data.fieldwork_end,
    ))
    slot.inspection_id = inspection.id
    _, tag = await _changed(session, plan)
    return inspection.id, tag


async def publish(session: AsyncSession, plan_id: uuid.UUID, if_match: str | None) -> tuple[PlanRead, str]:
    """Publish the plan as the programme, which readers read (`published.py`)."""
    plan = await plan_of(session, plan_id)
    check_if_match("the plan", plan.version, if_match)
    if plan.published_at is not None:
        raise Conflict(f"Plan {plan.id} was published on {plan.published_at.date()}: it is the programme already.")
    plan.published_at, plan.published_by = utcnow(), actor_of(session).id
    await writes.flush(session, clash=CLASH, changed="the plan")
    return await get_plan(session, plan.id)
