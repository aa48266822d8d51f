"""Rating runs and ratings panel decisions, each kept as a snapshot, and the reads of snapshots.

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
  `override`, based on the one decided on; history is the list of snapshots. The panel sets a rating,
  confirms the computed one (the same rating, with a reason: what publication asks of a standard rated
  from few applicable cases), or marks the standard `not_rated` (the only decision a standard without
  evidence takes, and one a re-run always carries forward).
- Publication and withdrawal freeze the inspection: no run or decision after either. What was published
  is changed only by a correction, as its next published version (`corrections`).
- Engine down, slow or failing: a 503/504/502 problem and nothing written (`engines.call_engine`).
- Regional ratings pool several inspections (`regional`).
- The gateway's copy of a framework version is what an inspection is rated against. It is named by id
  when the engine's library holds the same definition (the result's `framework_hash` says so), and sent
  whole otherwise, so a draft or newer gateway copy is never rated by a different engine copy.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import release, row_fields
from gateway.engines import call_engine
from gateway.frameworks.service import HeldFramework, held_framework
from gateway.inspections.guards import ensure_phase, get_inspection, inspection_for_change
from gateway.inspections.lifecycle import Activity, InspectionStatus
from gateway.pagination import PageQuery
from gateway.permissions import Permission
from gateway.ratings import publication, repository
from gateway.ratings.evidence import inspection_evidence, unit_evidence
from gateway.ratings.models import RatingSnapshot
from gateway.ratings.repository import PublishedRow
from gateway.ratings.schemas import (
    RatingsHistoryEntry,
    RatingSnapshotRead,
    RatingSnapshotRecord,
    RatingSnapshotSummary,
)
from gateway.units import repository as units
from gateway.writes import actor_of, flush
from inspection_shared.clients import RatingEngineClient
from inspection_shared.framework import Framework
from inspection_shared.pagination import Page
from inspection_shared.problems import Conflict, FieldError, InvalidInput, NotFound, Problem
from inspection_shared.rating import (
    NOT_RATED,
    Override,
    PooledRatingRequest,
    PooledRatingResult,
    RatingRequest,
    RatingResult,
    StandardEvidence,
)

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


Request = TypeVar("Request", RatingRequest, PooledRatingRequest)
Result = TypeVar("Result", RatingResult, PooledRatingResult)


# --- framework and engine ----------------------------------------------------------------------------


def _names_the_framework(problem: Problem) -> bool:
    return problem.status == 422 and any(e.field == "body.framework" for e in problem.errors or [])


async def rate_with(
    engine: RatingEngineClient, call: Callable[[Request], Awaitable[Result]], request: Request, held: HeldFramework
) -> tuple[Request, Result]:
    """Have the engine rate `request`; returns what was finally sent and the answer.

    A framework named by id that the engine does not know, or knows with a different definition, is
    sent again whole.
    """
    if isinstance(request.framework, str):
        by_id = request
        try:
            result = await call_engine(engine, lambda: call(by_id))
        except Problem as problem:
            if not _names_the_framework(problem):
                raise
        else:
            if result.framework_hash == held.content_hash:
                return request, result
        request = request.model_copy(update={"framework": held.framework.model_dump(mode="json")})
    inline = request
    return request, await call_engine(engine, lambda: call(inline))


# --- reading snapshots -------------------------------------------------------------------------------


def _overrides(request: dict[str, Any]) -> list[Override]:
    return [Override.model_validate(o) for o in request.get("overrides", [])]


def _summary_fields(snapshot: RatingSnapshot, based_on: RatingSnapshot | None) -> dict[str, Any]:
    overrides = _overrides(snapshot.request)
    if snapshot.kind in ("override", "correction"):
        earlier = _overrides(based_on.request) if based_on is not None else []
        decisions, carried = [o for o in overrides if o not in earlier], []
    else:
        decisions, carried = [], overrides
    return {
        **row_fields(snapshot),
        "max_score": snapshot.result["overall"]["max_score"],
        "panel_decisions": decisions,
        "carried_overrides": carried,
    }


async def _based_on(session: AsyncSession, snapshots: Sequence[RatingSnapshot]) -> dict[uuid.UUID, RatingSnapshot]:
    """The snapshots the given ones are based on, by id, loaded in one query."""
    held = {s.id: s for s in snapshots}
    wanted = {s.based_on_id for s in snapshots if s.based_on_id is not None} - held.keys()
    if wanted:
        held.update({s.id: s for s in await repository.snapshots_by_id(session, wanted)})
    return held


async def summaries(session: AsyncSession, snapshots: Sequence[RatingSnapshot]) -> list[RatingSnapshotSummary]:
    held = await _based_on(session, snapshots)
    return [
        RatingSnapshotSummary.model_validate(_summary_fields(s, held.get(s.based_on_id) if s.based_on_id else None))
        for s in snapshots
    ]


async def read(session: AsyncSession, snapshot: RatingSnapshot) -> RatingSnapshotRead:
    held = await _based_on(session, [snapshot])
    fields = _summary_fields(snapshot, held.get(snapshot.based_on_id) if snapshot.based_on_id else None)
    return RatingSnapshotRead.model_validate(fields)


async def record(session: AsyncSession, snapshot: RatingSnapshot) -> RatingSnapshotRecord:
    snapshot_read = await read(session, snapshot)
    return RatingSnapshotRecord(
        **snapshot_read.model_dump(exclude={"result"}),
        result=snapshot_read.result,
        request=RatingRequest.model_validate(snapshot.request),
    )


async def get_latest(session: AsyncSession, inspection_id: uuid.UUID, version: int | None = None) -> RatingSnapshot:
    """The ratings in force (the newest snapshot), or those of published version `version`."""
    await get_inspection(session, inspection_id, Permission.RATINGS_READ)
    if version is not None:
        chosen = publication.chosen(await publication.published_versions(session, inspection_id), inspection_id, version)
        [snapshot] = await repository.snapshots_by_id(session, {chosen.snapshot_id})
        return snapshot
    latest = await repository.latest_snapshot(session, inspection_id)
    if latest is None:
        raise NotFound(f"Inspection {inspection_id} has not been rated yet.")
    return latest


async def get_snapshot(session: AsyncSession, snapshot_id: uuid.UUID) -> RatingSnapshot:
    """A snapshot with the evidence it was rated on: case-level, so for those who may read case answers."""
    snapshot = await session.get(RatingSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound(f"No rating snapshot {snapshot_id}")
    try:
        await get_inspection(session, snapshot.inspection_id, Permission.ASSESSMENTS_READ)
    except NotFound:
        raise NotFound(f"No rating snapshot {snapshot_id}") from None
    return snapshot


async def list_snapshots(session: AsyncSession, inspection_id: uuid.UUID, query: PageQuery) -> Page[RatingSnapshotSummary]:
    """The inspection's ratings history, newest first: the ratings it had before publication too, so for
    those who may read drafts."""
    await get_inspection(session, inspection_id, Permission.DRAFTS_READ)
    page = await repository.snapshots(session, inspection_id, query, lambda snapshot: snapshot)
    return Page(items=await summaries(session, page.items), next_cursor=page.next_cursor)


# --- writing snapshots -------------------------------------------------------------------------------


async def pinned(session: AsyncSession, inspection: Inspection) -> HeldFramework:
    held = await held_framework(session, inspection.framework_id)
    if held is None:  # the foreign key makes this unreachable; kept as a clear answer if it ever is not
        raise NotFound(f"No framework {inspection.framework_id!r}")
    return held


async def _write(
    session: AsyncSession,
    inspection: Inspection,
    *,
    activity: Activity,
    kind: str,
    based_on: RatingSnapshot | None,
    request: RatingRequest,
    result: RatingResult,
    reason: str | None,
    units: PooledRatingResult | dict[str, Any] | None = None,
) -> RatingSnapshot:
    """Store the engine's answer as the next snapshot, and its overall rating on the inspection.

    `inspection` is as it was read before the engine was asked: it is locked now and checked again, as
    it may have been published, rated by someone else or given new evidence while the engine worked.
    """
    inspection = await inspection_for_change(
        session, inspection.id, activity, unchanged_since=inspection.evidence_revision
    )
    snapshot = await store_snapshot(
        session, inspection, kind=kind, based_on=based_on, request=request, result=result, reason=reason, units=units
    )
    await flush(session, clash=rated_meanwhile(inspection.id))
    return snapshot


def rated_meanwhile(inspection_id: uuid.UUID) -> str:
    return f"Inspection {inspection_id} was rated or changed by another request at the same time; repeat the request."


async def store_snapshot(
    session: AsyncSession,
    inspection: Inspection,
    *,
    kind: str,
    based_on: RatingSnapshot | None,
    request: RatingRequest,
    result: RatingResult,
    reason: str | None,
    units: PooledRatingResult | dict[str, Any] | None = None,
) -> RatingSnapshot:
    """Add the engine's answer as the inspection's next snapshot, and its overall rating on the inspection;
    the caller holds the inspection (`inspection_for_change`) and flushes. `units`: for an inspection of a
    region, the engine's pooled answer for the same cases, each PDU's figures beside the region's."""
    latest = await repository.latest_brief(session, inspection.id)
    snapshot = RatingSnapshot(
        inspection_id=inspection.id,
        sequence=(latest[1] if latest else 0) + 1,
        kind=kind,
        based_on_id=based_on.id if based_on else None,
        framework_id=result.framework_id,
        framework_version=result.framework_version,
        rules_version=result.rules_version,
        input_fingerprint=result.input_fingerprint,
        request=request.model_dump(mode="json", exclude_none=True),
        result=result.model_dump(mode="json"),
        units=units.model_dump(mode="json") if isinstance(units, PooledRatingResult) else units,
        overall_rating=result.overall.rating,
        overall_score=result.overall.score,
        reason=reason,
    )
    session.add(snapshot)
    inspection.current_rating = result.overall.rating
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


async def start_rating_run(session: AsyncSession, engine: RatingEngineClient, inspection_id: uuid.UUID) -> RatingSnapshot:
    """Rate the evidence held for the inspection and store the answer as a new snapshot."""
    inspection = await get_inspection(session, inspection_id, Permission.RATINGS_RUN)
    ensure_phase(inspection, Activity.RATING_RUN)
    held = await pinned(session, inspection)
    standards = await inspection_evidence(session, inspection.id, held.framework)
    unit = await units.get(session, inspection.unit_id)
    by_pdu = await unit_evidence(session, inspection.id, held.framework) if unit and unit.type == "region" else []
    latest = await repository.latest_snapshot(session, inspection.id)
    await release(session)
    carried: list[Override] = []
    dropped: list[Override] = []
    if latest is not None:
        evidenced = {s.standard for s in standards}
        for override in _overrides(latest.request):
            applies = override.standard in evidenced or override.rating == NOT_RATED
            (carried if applies else dropped).append(override)
    request = RatingRequest(framework=held.framework.id, standards=standards, overrides=carried)
    try:
        sent, result = await rate_with(engine, engine.rate, request, held)
    except Problem as problem:
        # A carried decision on a standard whose cases now have no applicable answer at all cannot be
        # applied: drop it, say so, and rate again.
        named = _override_faults(problem, len(carried)) if carried else None
        if not named:
            raise
        dropped += [o for i, o in enumerate(carried) if i in named]
        carried = [o for i, o in enumerate(carried) if i not in named]
        request = request.model_copy(update={"overrides": carried})
        sent, result = await rate_with(engine, engine.rate, request, held)
    # A region's inspection: the same cases pooled by the engine, so each PDU's figures sit beside the
    # region's case-based ratings (which are the pooled ones: the engine pools by adding the PDUs' tallies).
    pooled = None
    if by_pdu:
        _, pooled = await rate_with(
            engine, engine.rate_pooled, PooledRatingRequest(framework=held.framework.id, units=by_pdu), held
        )
    return await _write(
        session,
        inspection,
        activity=Activity.RATING_RUN,
        kind="run",
        based_on=latest if (carried or dropped) else None,
        request=sent,
        result=result,
        reason=_carried_text(latest.sequence, carried, dropped) if latest else None,
        units=pooled,
    )


async def rate_counts(
    session: AsyncSession, engine: RatingEngineClient, inspection_id: uuid.UUID, standards: list[StandardEvidence]
) -> RatingSnapshot:
    """A rating run of evidence given rather than gathered from what is recorded: judgements and key-question
    counts, no case, as a synthetic history (`gateway.history`) holds them."""
    inspection = await get_inspection(session, inspection_id, Permission.RATINGS_RUN)
    ensure_phase(inspection, Activity.RATING_RUN)
    held = await pinned(session, inspection)
    await release(session)
    request = RatingRequest(framework=held.framework.id, standards=standards)
    sent, result = await rate_with(engine, engine.rate, request, held)
    return await _write(session, inspection, activity=Activity.RATING_RUN, kind="run", based_on=None, request=sent,
                        result=result, reason=None)


def decision_faults(
    framework: Framework, decisions: list[Override], evidenced: set[str], sequence: int
) -> list[FieldError]:
    """What is wrong with panel decisions on the evidence of snapshot `sequence`, each named by its place
    in the body: an unknown standard, one decided twice, one with no evidence (no computed rating) other
    than marked not rated."""
    faults: list[FieldError] = []
    seen: set[str] = set()
    for index, decision in enumerate(decisions):
        where = f"body.overrides.{index}.standard"
        if framework.standard(decision.standard) is None:
            known = ", ".join(s.id for s in framework.standards())
            message = f"framework {framework.id} has no standard {decision.standard}; it has {known}"
        elif decision.standard in seen:
            message = f"standard {decision.standard} is decided more than once"
        elif decision.standard not in evidenced and decision.rating != NOT_RATED:
            message = (
                f"standard {decision.standard} has no evidence in snapshot {sequence}, so no computed rating to "
                "set aside; record its evidence and run the rating again, or mark it not_rated"
            )
        else:
            message = None
        if message is not None:
            faults.append(FieldError(field=where, message=message))
        seen.add(decision.standard)
    return faults


def with_decisions(in_force: list[Override], decisions: list[Override]) -> list[Override]:
    """The decisions in force with new ones added, a new one on a standard replacing the one in force.
    New decisions first, so that an engine refusal names them by their place in the request's body."""
    decided = {d.standard for d in decisions}
    return [*decisions, *(o for o in in_force if o.standard not in decided)]


async def record_panel_decisions(
    session: AsyncSession,
    engine: RatingEngineClient,
    inspection_id: uuid.UUID,
    decisions: list[Override],
) -> RatingSnapshot:
    """Re-rate the latest snapshot's evidence with the panel's decisions added, as a new snapshot."""
    inspection = await get_inspection(session, inspection_id, Permission.PANEL_DECIDE)
    ensure_phase(inspection, Activity.PANEL_DECISION)
    latest = await repository.latest_snapshot(session, inspection.id)
    if latest is None:
        raise Conflict(
            f"Inspection {inspection.id} has no rating snapshot for the panel to decide on; start a rating run first."
        )
    held = await pinned(session, inspection)
    stored = RatingRequest.model_validate(latest.request)
    in_force = {o.standard: o for o in stored.overrides}
    faults = decision_faults(held.framework, decisions, {e.standard for e in stored.standards}, latest.sequence)
    if faults:
        raise InvalidInput(f"{faults[0].field}: {faults[0].message}", faults)
    repeated = [d.standard for d in decisions if in_force.get(d.standard) == d]
    if repeated:
        raise Conflict(
            f"The panel's decision on {', '.join(repeated)} is already in force in snapshot {latest.sequence}.",
            standards=repeated,
        )
    request = stored.model_copy(update={"overrides": with_decisions(stored.overrides, decisions)})
    await release(session)
    sent, result = await rate_with(engine, engine.rate, request, held)
    return await _write(
        session,
        inspection,
        activity=Activity.PANEL_DECISION,
        kind="override",
        based_on=latest,
        request=sent,
        result=result,
        reason="\n".join(f"{d.standard}: {d.reason}" for d in decisions),
        units=latest.units,  # the same evidence: its PDUs' figures are unchanged
    )


# --- a unit's ratings history ------------------------------------------------------------------------


def _history_entry(row: tuple, published: list[PublishedRow]) -> RatingsHistoryEntry:
    inspection, snapshot_id, overall_rating, overall_score, max_score = row
    rated = snapshot_id is not None and inspection.status != InspectionStatus.WITHDRAWN
    basis = ("published" if inspection.status == InspectionStatus.PUBLISHED else "latest") if rated else "none"
    corrections = publication.corrections(published)
    return RatingsHistoryEntry.model_validate(
        {
            **row_fields(inspection),
            "inspection_id": inspection.id,
            "rating_basis": basis,
            "overall_rating": overall_rating if rated else None,
            "overall_score": overall_score if rated else None,
            "max_score": max_score if rated else None,
            "snapshot_id": snapshot_id if rated else None,
            "published_version": len(published) or None,
            "corrected": bool(corrections),
            "corrections": corrections,
        }
    )


async def unit_ratings_history(session: AsyncSession, unit_id: uuid.UUID, query: PageQuery) -> Page[RatingsHistoryEntry]:
    """The unit's inspections, newest first, each with the overall rating of its latest published version
    or, before publication, that of its latest snapshot, and the corrections made after publication."""
    if await units.get(session, unit_id) is None:
        raise NotFound(f"No unit {unit_id}")
    page = await repository.unit_ratings_history(session, unit_id, query, tuple, visible_to=actor_of(session))
    published = await repository.published_versions(session, [row[0].id for row in page.items])
    return Page(
        items=[_history_entry(row, published.get(row[0].id, [])) for row in page.items], next_cursor=page.next_cursor
    )
