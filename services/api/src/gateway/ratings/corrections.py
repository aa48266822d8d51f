"""Corrections of what was published: never a silent edit, always a new published version.

A published inspection stays final. What it was published with is changed only by a correction, issued
with a reason by those who publish (a lead inspector of its unit, or an administrator):

- A correction gives the changed ratings panel decisions (`overrides`, as on panel-decisions), domain-one
  judgements and case answers (the JSON items of an assessment import, beside them in the same body, so
  that the correction is one request, rated and recorded all or nothing). The engine rates the evidence
  the inspection was published on with those changes over it (`evidence.corrected_evidence`), with the
  panel decisions in force and the new ones. Its answer is a new snapshot (kind `correction`) and the
  next published version, which records who, when, why and what changed (`PublicationChanges`). The
  judgements and case answers are recorded as corrected in the same transaction.
- A withdrawal (`withdraw: true`, with its reason and nothing else) is the next version too, on the same
  snapshot: the inspection is marked withdrawn, stays readable, and leaves the views of published ratings.
- A correction of an inspection not published (or withdrawn) is refused (409), as is one that changes
  nothing the ratings rest on.
- As for a rating run, nothing is held while the engine works, and the write checks again that nothing
  was recorded for the inspection meanwhile.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import importer
from gateway.assessments.judgements import correct_judgements, judged_fault
from gateway.db import release
from gateway.inspections.guards import ensure_phase, get_inspection, inspection_for_change
from gateway.inspections.lifecycle import Activity
from gateway.inspections.service import withdraw_publication
from gateway.permissions import Permission
from gateway.ratings import publication, repository
from gateway.ratings.evidence import corrected_evidence
from gateway.ratings.models import PublishedVersion
from gateway.ratings.schemas import (
    CorrectionCreate,
    JudgedEvidence,
    JudgementChange,
    OverallChange,
    OverrideChange,
    PublicationChanges,
    RatingChange,
)
from gateway.ratings.service import decision_faults, pinned, rate_with, rated_meanwhile, store_snapshot, with_decisions
from gateway.writes import flush
from inspection_shared.clients import RatingEngineClient
from inspection_shared.framework import Framework
from inspection_shared.problems import Conflict, FieldError, InvalidInput, Problem
from inspection_shared.rating import Override, RatingRequest, RatingResult, StandardEvidence

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


@dataclass(frozen=True)
class CorrectedJudgement:
    """A judgement as a correction gives it, read by the evidence as a held one is."""

    standard_id: str
    rating: str
    evidence_summary: str


async def issue_correction(
    session: AsyncSession, engine: RatingEngineClient, inspection_id: uuid.UUID, correction: CorrectionCreate
) -> PublishedVersion:
    """Publish the next version of the inspection: corrected through the engine, or withdrawn."""
    inspection = await get_inspection(session, inspection_id, Permission.INSPECTIONS_PUBLISH)
    ensure_phase(inspection, Activity.CORRECTION)
    published = await publication.published_versions(session, inspection.id)
    if not published:
        raise Conflict(
            f"Inspection {inspection.id} has no rating snapshot on record as published, so no version to correct."
        )
    latest = published[-1][0]
    if correction.withdraw:
        return await _withdraw(session, inspection, latest, correction)
    return await _correct(session, engine, inspection, latest, correction)


def _given(correction: CorrectionCreate) -> list[str]:
    return [name for name in ("overrides", "judgements", "case_answers") if getattr(correction, name)]


async def _withdraw(
    session: AsyncSession, inspection: Inspection, latest: PublishedVersion, correction: CorrectionCreate
) -> PublishedVersion:
    given = _given(correction)
    if given:
        raise InvalidInput(
            "A withdrawal takes its reason and nothing else: correct the ratings, or withdraw them.",
            [FieldError(field=f"body.{name}", message="not taken with withdraw: true") for name in given],
        )
    inspection = await inspection_for_change(session, inspection.id, Activity.CORRECTION)
    withdraw_publication(session, inspection, correction.reason)
    version = PublishedVersion(
        inspection_id=inspection.id,
        version=latest.version + 1,
        kind="withdrawal",
        snapshot_id=latest.snapshot_id,
        reason=correction.reason,
        changes=PublicationChanges(withdrawn=True).model_dump(mode="json"),
    )
    session.add(version)
    await flush(session, clash=rated_meanwhile(inspection.id))
    return version


def _judgement_faults(correction: CorrectionCreate, framework: Framework) -> list[FieldError]:
    return [
        FieldError(field=f"body.judgements.{standard_id}", message=message)
        for standard_id in correction.judgements
        if (message := judged_fault(framework, standard_id)) is not None
    ]


async def _checked_case_answers(
    session: AsyncSession, inspection: Inspection, correction: CorrectionCreate
) -> importer.CheckedImport | None:
    """The correction's case answers checked as a JSON import is, faults named in the correction's body."""
    if not correction.case_answers:
        return None
    items = [item.model_dump(mode="json", exclude_unset=True) for item in correction.case_answers]
    try:
        return await importer.check_import(session, inspection, "json", items)
    except Problem as refused:
        for error in refused.errors or []:
            error.field = "body.case_answers" + error.field.removeprefix("body")
        raise


async def _correct(
    session: AsyncSession,
    engine: RatingEngineClient,
    inspection: Inspection,
    latest: PublishedVersion,
    correction: CorrectionCreate,
) -> PublishedVersion:
    if not _given(correction):
        raise InvalidInput(
            "A correction gives what changed (overrides, judgements or case_answers), or withdraws.",
            [FieldError(field="body", message="no overrides, judgements or case_answers, and withdraw is not true")],
        )
    held = await pinned(session, inspection)
    [snapshot] = await repository.snapshots_by_id(session, {latest.snapshot_id})
    stored = RatingRequest.model_validate(snapshot.request)
    checked = await _checked_case_answers(session, inspection, correction)
    faults = _judgement_faults(correction, held.framework)
    judgements = [
        CorrectedJudgement(standard_id, j.rating, j.evidence_summary)
        for standard_id, j in correction.judgements.items()
        if judged_fault(held.framework, standard_id) is None
    ]
    standards = corrected_evidence(
        held.framework, stored.standards, checked.cases() if checked else [], judgements, faults
    )
    faults += decision_faults(held.framework, correction.overrides, {e.standard for e in standards}, snapshot.sequence)
    if faults:
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise InvalidInput(f"The correction cannot be rated: {faults[0].field}: {faults[0].message}{more}", faults)
    overrides = with_decisions(stored.overrides, correction.overrides)
    if standards == stored.standards and sorted(overrides, key=_by_standard) == sorted(stored.overrides, key=_by_standard):
        raise Conflict(
            f"The correction changes nothing the ratings of version {latest.version} rest on: its judgements, case "
            "answers and panel decisions are those published."
        )
    request = stored.model_copy(update={"standards": standards, "overrides": overrides})
    await release(session)
    sent, result = await rate_with(engine, engine.rate, request, held)

    inspection = await inspection_for_change(
        session, inspection.id, Activity.CORRECTION, unchanged_since=inspection.evidence_revision
    )
    report = await importer.write_import(session, inspection.id, checked) if checked else None
    if judgements:
        await correct_judgements(session, inspection.id, correction.judgements)
    # A region's PDU figures stand while its case answers do; a correction of case answers leaves them out
    # rather than stale.
    corrected = await store_snapshot(
        session, inspection, kind="correction", based_on=snapshot, request=sent, result=result, reason=correction.reason,
        units=None if checked else snapshot.units,
    )
    await flush(session, clash=rated_meanwhile(inspection.id))
    changes = _changes(stored, RatingResult.model_validate(snapshot.result), sent, result)
    version = PublishedVersion(
        inspection_id=inspection.id,
        version=latest.version + 1,
        kind="correction",
        snapshot_id=corrected.id,
        reason=correction.reason,
        changes=changes.model_copy(update={"case_answers": report}).model_dump(mode="json"),
    )
    session.add(version)
    await flush(session, clash=rated_meanwhile(inspection.id))
    return version


def _by_standard(override: Override) -> str:
    return override.standard


def _judged(evidence: StandardEvidence | None) -> JudgedEvidence | None:
    if evidence is None or evidence.rating is None:
        return None
    return JudgedEvidence(rating=evidence.rating, evidence_summary=evidence.evidence_summary)


def _changes(before: RatingRequest, rated_before: RatingResult, after: RatingRequest, rated: RatingResult) -> PublicationChanges:
    """What the correction changed: final ratings, the overall, panel decisions and judgements."""
    earlier = {s.standard: s.rating for s in rated_before.standards}
    decided = {o.standard: o for o in before.overrides}
    sent_before = {e.standard: e for e in before.standards}
    judged_before = {s: _judged(e) for s, e in sent_before.items()}
    judged_after = {e.standard: _judged(e) for e in after.standards}
    return PublicationChanges(
        ratings=[
            RatingChange(standard=s.standard, before=earlier.get(s.standard), after=s.rating)
            for s in rated.standards
            if earlier.get(s.standard) != s.rating
        ],
        overall=OverallChange(
            rating_before=rated_before.overall.rating, rating_after=rated.overall.rating,
            score_before=rated_before.overall.score, score_after=rated.overall.score,
        ),
        overrides=[
            OverrideChange(standard=o.standard, before=decided.get(o.standard), after=o)
            for o in after.overrides
            if decided.get(o.standard) != o
        ],
        judgements=[
            JudgementChange(standard=standard, before=judged_before.get(standard), after=judgement)
            for standard, judgement in judged_after.items()
            if judgement is not None and judged_before.get(standard) != judgement
        ],
    )
