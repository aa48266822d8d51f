"""Rating runs, ratings panel decisions and regional ratings.

The gateway gathers the evidence (`evidence.py`), the rating engine rates it, and every answer is kept as
an immutable snapshot; the gateway itself computes no rating.

- A rating run rates the evidence held now, afresh, while the inspection is in `rating` (not during
  fieldwork: every snapshot joins the record publication rests on, and answers are still coming in).
  Panel decisions in force on the latest snapshot are sent again with it, so the fresh computed ratings
  sit beside the panel's decisions and a re-run never silently drops one: the new snapshot lists them as
  `carried_overrides` and names the snapshot they came from in `based_on_id`. A decision on a standard
  with no evidence (or no applicable answer) any more cannot be applied; the run goes ahead and its
  `reason` says which.
- A panel decision re-rates the latest snapshot's own evidence with the decision added: the computed
  rating, the panel's rating and its reason all stay in the result. The new snapshot is of kind
  `override`, based on the one decided on; history is the list of snapshots.
- Publication and withdrawal freeze the inspection: no run or decision after either.
- Engine down, slow or failing: a 503/504/502 problem and nothing written (`engines.call_engine`).
- The gateway's copy of a framework version is what an inspection is rated against. It is named by id
  when the engine's library holds the same definition (the result's `framework_hash` says so), and sent
  whole otherwise, so a draft or newer gateway copy is never rated by a different engine copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from gateway.actors import Actor
from gateway.db import utcnow
from gateway.engines import call_engine
from gateway.frameworks.models import FrameworkVersion
from gateway.inspections.guards import ensure_editable, get_inspection, inspection_for_change
from gateway.inspections.models import Inspection
from gateway.pagination import decode_cursor, encode_cursor
from gateway.ratings.evidence import (
    assessed_cases,
    inspection_evidence,
    pooled_case_evidence,
    refuse,
)
from gateway.ratings.models import RatingSnapshot
from gateway.ratings.schemas import (
    RatingSnapshotRead,
    RatingSnapshotRecord,
    RatingSnapshotSummary,
    RegionalRating,
    RegionalRatingQuery,
    UnitContribution,
)
from gateway.units.models import Unit
from inspection_shared.clients import RatingEngineClient
from inspection_shared.framework import Framework
from inspection_shared.problems import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
)
from inspection_shared.rating import (
    Override,
    PooledRatingRequest,
    PooledRatingResult,
    RatingRequest,
    RatingResult,
    UnitEvidence,
)

RUN_STATUSES = ("rating",)
"""Statuses in which the evidence may be rated and a panel may decide."""

Request = TypeVar("Request", RatingRequest, PooledRatingRequest)
Result = TypeVar("Result", RatingResult, PooledRatingResult)


# --- framework and engine ----------------------------------------------------------------------------


async def held_framework(session: AsyncSession, framework_id: str) -> tuple[Framework, str] | None:
    """The gateway's copy of a framework version and its content hash."""
    row = await session.get(FrameworkVersion, framework_id)
    if row is None:
        return None
    return Framework.model_validate(row.definition), row.content_hash


def _names_the_framework(problem: Problem) -> bool:
    return problem.status == 422 and any(e.field == "body.framework" for e in problem.errors or [])


async def rate_with(
    call: Callable[[Request], Awaitable[Result]], request: Request, framework: Framework, framework_hash: str
) -> tuple[Request, Result]:
    """Have the engine rate `request`; returns what was finally sent and the answer.

    A framework named by id that the engine does not know, or knows with a different definition, is
    sent again whole.
    """
    if isinstance(request.framework, str):
        by_id = request
        try:
            result = await call_engine(lambda: call(by_id))
        except Problem as problem:
            if not _names_the_framework(problem):
                raise
        else:
            if result.framework_hash == framework_hash:
                return request, result
        request = request.model_copy(update={"framework": framework.model_dump(mode="json")})
    inline = request
    return request, await call_engine(lambda: call(inline))


# --- reading snapshots -------------------------------------------------------------------------------


def _overrides(request: dict[str, Any]) -> list[Override]:
    return [Override.model_validate(o) for o in request.get("overrides", [])]


def _summary_fields(snapshot: RatingSnapshot, based_on: RatingSnapshot | None) -> dict[str, Any]:
    overrides = _overrides(snapshot.request)
    if snapshot.kind == "override":
        earlier = _overrides(based_on.request) if based_on is not None else []
        decisions, carried = [o for o in overrides if o not in earlier], []
    else:
        decisions, carried = [], overrides
    return {
        "id": snapshot.id,
        "inspection_id": snapshot.inspection_id,
        "sequence": snapshot.sequence,
        "kind": snapshot.kind,
        "based_on_id": snapshot.based_on_id,
        "framework_id": snapshot.framework_id,
        "framework_version": snapshot.framework_version,
        "rules_version": snapshot.rules_version,
        "input_fingerprint": snapshot.input_fingerprint,
        "overall_rating": snapshot.overall_rating,
        "overall_score": snapshot.overall_score,
        "max_score": snapshot.result["overall"]["max_score"],
        "reason": snapshot.reason,
        "panel_decisions": decisions,
        "carried_overrides": carried,
        "created_at": snapshot.created_at,
        "created_by": snapshot.created_by,
    }


async def _based_on(session: AsyncSession, snapshots: Sequence[RatingSnapshot]) -> dict[uuid.UUID, RatingSnapshot]:
    """The snapshots the given ones are based on, by id, loaded in one query."""
    held = {s.id: s for s in snapshots}
    wanted = {s.based_on_id for s in snapshots if s.based_on_id is not None} - held.keys()
    if wanted:
        found = await session.scalars(select(RatingSnapshot).where(RatingSnapshot.id.in_(wanted)))
        held.update({s.id: s for s in found})
    return held


async def summaries(session: AsyncSession, snapshots: Sequence[RatingSnapshot]) -> list[RatingSnapshotSummary]:
    held = await _based_on(session, snapshots)
    return [
        RatingSnapshotSummary(**_summary_fields(s, held.get(s.based_on_id) if s.based_on_id else None))
        for s in snapshots
    ]


async def read(session: AsyncSession, snapshot: RatingSnapshot) -> RatingSnapshotRead:
    held = await _based_on(session, [snapshot])
    fields = _summary_fields(snapshot, held.get(snapshot.based_on_id) if snapshot.based_on_id else None)
    return RatingSnapshotRead(**fields, result=RatingResult.model_validate(snapshot.result))


async def record(session: AsyncSession, snapshot: RatingSnapshot) -> RatingSnapshotRecord:
    snapshot_read = await read(session, snapshot)
    return RatingSnapshotRecord(
        **snapshot_read.model_dump(exclude={"result"}),
        result=snapshot_read.result,
        request=RatingRequest.model_validate(snapshot.request),
    )


async def latest_snapshot(session: AsyncSession, inspection_id: uuid.UUID) -> RatingSnapshot | None:
    """The inspection's newest rating snapshot: the ratings in force."""
    return (
        await session.scalars(
            select(RatingSnapshot)
            .where(RatingSnapshot.inspection_id == inspection_id)
            .order_by(RatingSnapshot.sequence.desc())
            .limit(1)
        )
    ).one_or_none()


async def get_latest(session: AsyncSession, inspection_id: uuid.UUID) -> RatingSnapshot:
    await get_inspection(session, inspection_id)
    snapshot = await latest_snapshot(session, inspection_id)
    if snapshot is None:
        raise NotFound(f"Inspection {inspection_id} has not been rated yet.")
    return snapshot


async def get_snapshot(session: AsyncSession, snapshot_id: uuid.UUID) -> RatingSnapshot:
    snapshot = await session.get(RatingSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound(f"No rating snapshot {snapshot_id}")
    return snapshot


async def list_snapshots(
    session: AsyncSession, inspection_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[RatingSnapshot], str | None]:
    """The inspection's ratings history, newest first, keyed on the sequence."""
    await get_inspection(session, inspection_id)
    statement = select(RatingSnapshot).where(RatingSnapshot.inspection_id == inspection_id)
    if cursor is not None:
        (before,) = decode_cursor(cursor, 1)
        if not isinstance(before, int) or isinstance(before, bool):
            raise InvalidInput(
                "The cursor is not one this list issued.",
                [FieldError(field="query.cursor", message="not a cursor from this list")],
            )
        statement = statement.where(RatingSnapshot.sequence < before)
    rows = list((await session.scalars(statement.order_by(RatingSnapshot.sequence.desc()).limit(limit + 1))).all())
    if len(rows) > limit:
        return rows[:limit], encode_cursor([rows[limit - 1].sequence])
    return rows, None


# --- writing snapshots -------------------------------------------------------------------------------


def _refuse_status(inspection: Inspection, action: str) -> None:
    ensure_editable(inspection)
    if inspection.status not in RUN_STATUSES:
        raise Conflict(
            f"Inspection {inspection.id} is in {inspection.status}; {action} only in "
            f"{' or '.join(RUN_STATUSES)}.",
            status_of_inspection=inspection.status,
            allowed_statuses=list(RUN_STATUSES),
        )


async def _pinned(session: AsyncSession, inspection: Inspection) -> tuple[Framework, str]:
    held = await held_framework(session, inspection.framework_id)
    if held is None:  # the foreign key makes this unreachable; kept as a clear answer if it ever is not
        raise NotFound(f"No framework {inspection.framework_id!r}")
    return held


async def _write(
    session: AsyncSession,
    inspection: Inspection,
    *,
    action: str,
    expected_latest: RatingSnapshot | None,
    kind: str,
    based_on: RatingSnapshot | None,
    request: RatingRequest,
    result: RatingResult,
    reason: str | None,
    actor: Actor,
) -> RatingSnapshot:
    """Store the engine's answer as the next snapshot, and its overall rating on the inspection.

    The inspection is locked (`inspection_for_change`) and checked again first: it may have been
    published, or rated by someone else, while the engine was working.
    """
    inspection = await inspection_for_change(session, inspection.id)
    _refuse_status(inspection, action)
    latest = await latest_snapshot(session, inspection.id)
    if (latest.id if latest else None) != (expected_latest.id if expected_latest else None):
        raise Conflict(
            f"The ratings of inspection {inspection.id} changed while this request was being rated; "
            "look at the latest snapshot and repeat the request if it is still wanted."
        )
    snapshot = RatingSnapshot(
        inspection_id=inspection.id,
        sequence=(latest.sequence if latest else 0) + 1,
        kind=kind,
        based_on_id=based_on.id if based_on else None,
        framework_id=result.framework_id,
        framework_version=result.framework_version,
        rules_version=result.rules_version,
        input_fingerprint=result.input_fingerprint,
        request=request.model_dump(mode="json", exclude_none=True),
        result=result.model_dump(mode="json"),
        overall_rating=result.overall.rating,
        overall_score=result.overall.score,
        reason=reason,
        created_by=actor.id,
    )
    session.add(snapshot)
    inspection.current_rating = result.overall.rating
    inspection.updated_at = utcnow()
    inspection.updated_by = actor.id
    try:
        await session.flush()
    except (IntegrityError, StaleDataError):
        raise Conflict(
            f"Inspection {inspection.id} was rated or changed by another request at the same time; "
            "repeat the request."
        ) from None
    return snapshot


def _carried_text(sequence: int, carried: list[Override], dropped: list[Override]) -> str | None:
    parts = []
    if carried:
        parts.append(
            f"Panel decisions carried forward from snapshot {sequence}: "
            + ", ".join(f"{o.standard} ({o.rating})" for o in carried)
            + "."
        )
    if dropped:
        parts.append(
            f"Panel decisions of snapshot {sequence} not carried forward, as their standards have no "
            "evidence to rate in this run: " + ", ".join(o.standard for o in dropped) + "."
        )
    return " ".join(parts) or None


def _override_faults(problem: Problem, overrides: int) -> set[int] | None:
    """The overrides an engine refusal names, when it names nothing else."""
    if problem.status != 422 or not problem.errors:
        return None
    named: set[int] = set()
    for error in problem.errors:
        parts = error.field.split(".")
        if len(parts) < 3 or parts[:2] != ["body", "overrides"] or not parts[2].isdigit():
            return None
        named.add(int(parts[2]))
    return named if all(i < overrides for i in named) else None


async def start_rating_run(
    session: AsyncSession, engine: RatingEngineClient, inspection_id: uuid.UUID, actor: Actor
) -> RatingSnapshot:
    """Rate the evidence held for the inspection and store the answer as a new snapshot."""
    action = "its evidence may be rated"
    inspection = await get_inspection(session, inspection_id)
    _refuse_status(inspection, action)
    framework, framework_hash = await _pinned(session, inspection)
    standards = await inspection_evidence(session, inspection.id, framework)
    latest = await latest_snapshot(session, inspection.id)
    carried: list[Override] = []
    dropped: list[Override] = []
    if latest is not None:
        evidenced = {s.standard for s in standards}
        for override in _overrides(latest.request):
            (carried if override.standard in evidenced else dropped).append(override)
    request = RatingRequest(framework=framework.id, standards=standards, overrides=carried)
    try:
        sent, result = await rate_with(engine.rate, request, framework, framework_hash)
    except Problem as problem:
        # A carried decision on a standard whose cases now have no applicable answer at all cannot be
        # applied: drop it, say so, and rate again.
        named = _override_faults(problem, len(carried)) if carried else None
        if not named:
            raise
        dropped += [o for i, o in enumerate(carried) if i in named]
        carried = [o for i, o in enumerate(carried) if i not in named]
        request = request.model_copy(update={"overrides": carried})
        sent, result = await rate_with(engine.rate, request, framework, framework_hash)
    return await _write(
        session,
        inspection,
        action=action,
        expected_latest=latest,
        kind="run",
        based_on=latest if (carried or dropped) else None,
        request=sent,
        result=result,
        reason=_carried_text(latest.sequence, carried, dropped) if latest else None,
        actor=actor,
    )


async def record_panel_decisions(
    session: AsyncSession,
    engine: RatingEngineClient,
    inspection_id: uuid.UUID,
    decisions: list[Override],
    actor: Actor,
) -> RatingSnapshot:
    """Re-rate the latest snapshot's evidence with the panel's decisions added, as a new snapshot."""
    action = "a ratings panel may decide"
    inspection = await get_inspection(session, inspection_id)
    _refuse_status(inspection, action)
    latest = await latest_snapshot(session, inspection.id)
    if latest is None:
        raise Conflict(
            f"Inspection {inspection.id} has no rating snapshot for the panel to decide on; start a rating run first."
        )
    framework, framework_hash = await _pinned(session, inspection)
    stored = RatingRequest.model_validate(latest.request)
    evidenced = {e.standard for e in stored.standards}
    in_force = {o.standard: o for o in stored.overrides}
    faults: list[FieldError] = []
    seen: set[str] = set()
    for index, decision in enumerate(decisions):
        where = f"body.overrides.{index}.standard"
        if framework.standard(decision.standard) is None:
            known = ", ".join(s.id for s in framework.standards())
            faults.append(
                FieldError(
                    field=where,
                    message=f"framework {framework.id} has no standard {decision.standard}; it has {known}",
                )
            )
        elif decision.standard in seen:
            faults.append(FieldError(field=where, message=f"standard {decision.standard} is decided more than once"))
        elif decision.standard not in evidenced:
            faults.append(
                FieldError(
                    field=where,
                    message=f"standard {decision.standard} has no evidence in snapshot {latest.sequence}, so no "
                    "computed rating to set aside; record its evidence and run the rating again",
                )
            )
        seen.add(decision.standard)
    if faults:
        raise InvalidInput(f"{faults[0].field}: {faults[0].message}", faults)
    repeated = [d.standard for d in decisions if in_force.get(d.standard) == d]
    if repeated:
        raise Conflict(
            f"The panel's decision on {', '.join(repeated)} is already in force in snapshot {latest.sequence}.",
            standards=repeated,
        )
    # New decisions first, so that an engine refusal names them by their place in this request's body.
    merged = [*decisions, *(o for standard, o in in_force.items() if standard not in seen)]
    request = stored.model_copy(update={"overrides": merged})
    sent, result = await rate_with(engine.rate, request, framework, framework_hash)
    return await _write(
        session,
        inspection,
        action=action,
        expected_latest=latest,
        kind="override",
        based_on=latest,
        request=sent,
        result=result,
        reason="\n".join(f"{d.standard}: {d.reason}" for d in decisions),
        actor=actor,
    )


# --- regional ratings --------------------------------------------------------------------------------

_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _latest_first_key(basis: str) -> Callable[[Inspection], tuple[Any, ...]]:
    if basis == "published":
        return lambda i: (i.published_at or _EARLIEST, i.fieldwork_start or date.min, i.created_at)
    return lambda i: (i.fieldwork_start or date.min, i.created_at)


async def regional_rating(
    session: AsyncSession, engine: RatingEngineClient, region_id: uuid.UUID, query: RegionalRatingQuery
) -> RegionalRating:
    """Pool the case answers of the region's units' inspections through the engine."""
    region = await session.get(Unit, region_id)
    if region is None:
        raise NotFound(f"No unit {region_id}")
    if region.type != "region":
        raise InvalidInput(
            f"Unit {region.code} is a {region.type}; regional ratings pool the inspections of a region's units.",
            [FieldError(field="path.region_id", message=f"unit {region.code} is a {region.type}, not a region")],
        )
    held = await held_framework(session, query.framework_id)
    if held is None:
        raise InvalidInput(
            f"No framework {query.framework_id!r}.",
            [FieldError(field="query.framework_id", message=f"no framework {query.framework_id!r}")],
        )
    framework, framework_hash = held
    children = list((await session.scalars(select(Unit).where(Unit.parent_id == region.id).order_by(Unit.code))).all())
    statement = select(Inspection).where(
        Inspection.unit_id.in_([c.id for c in children]), Inspection.framework_id == framework.id
    )
    if query.basis == "published":
        statement = statement.where(Inspection.status == "published")
    else:
        statement = statement.where(Inspection.status != "withdrawn")
    chosen: dict[uuid.UUID, Inspection] = {}
    key = _latest_first_key(query.basis)
    for inspection in (await session.scalars(statement)).all() if children else []:
        held_one = chosen.get(inspection.unit_id)
        if held_one is None or key(inspection) > key(held_one):
            chosen[inspection.unit_id] = inspection
    if not chosen:
        raise InvalidInput(
            f"No unit of region {region.code} has a {query.basis} inspection under {framework.id} to pool.",
            [
                FieldError(
                    field="query.basis", message=f"no {query.basis} inspection under {framework.id} in the region"
                )
            ],
        )
    cases = await assessed_cases(session, [i.id for i in chosen.values()])
    faults: list[FieldError] = []
    units: list[UnitEvidence] = []
    contributions: list[UnitContribution] = []
    for child in children:
        inspection = chosen.get(child.id)
        if inspection is None:
            continue
        standards, count = pooled_case_evidence(framework, cases.get(inspection.id, []), child.code, faults)
        if standards:
            units.append(UnitEvidence(unit=child.code, standards=standards))
        contributions.append(
            UnitContribution(
                unit_id=child.id,
                unit_code=child.code,
                unit_name=child.name,
                inspection_id=inspection.id,
                inspection_status=inspection.status,
                fieldwork_start=inspection.fieldwork_start,
                published_at=inspection.published_at,
                cases=count if standards else 0,
                pooled=bool(standards),
            )
        )
    if faults:
        raise refuse(faults)
    if not units:
        raise InvalidInput(
            f"None of the {query.basis} inspections of region {region.code} under {framework.id} has case "
            "answers to pool.",
            [FieldError(field="query.basis", message="the inspections chosen hold no case answers")],
        )
    _, pooled = await rate_with(
        engine.rate_pooled, PooledRatingRequest(framework=framework.id, units=units), framework, framework_hash
    )
    return RegionalRating(
        region_id=region.id,
        region_code=region.code,
        region_name=region.name,
        framework_id=framework.id,
        basis=query.basis,
        contributions=contributions,
        units_without_inspection=[c.code for c in children if c.id not in chosen],
        pooled=pooled,
    )

