"""The summary of an inspection, assembled from what each domain holds: the inspection and its unit,
the pinned framework, what was published and each correction since, the ratings table of its latest
snapshot (or of a published version asked for), and the progress of its samples, case assessments and
judgements. A fixed handful of queries whatever the size of the inspection."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import repository as assessments
from gateway.caseloads import repository as caseloads
from gateway.caseloads.repository import SampleTally
from gateway.caseloads.schemas import IN_SAMPLE, CaseStatus
from gateway.db import row_fields
from gateway.inspections.lifecycle import InspectionStatus
from gateway.inspections.schemas import InspectionRead
from gateway.ratings import publication
from gateway.ratings import repository as ratings
from gateway.ratings.repository import PublishedRow
from gateway.summaries import repository
from gateway.summaries.schemas import (
    AssessmentProgress,
    InspectedUnit,
    InspectionSummary,
    JudgementProgress,
    PduBrief,
    PduJudgementBrief,
    PduKeyQuestion,
    PduStandardBrief,
    PinnedFramework,
    PublicationRecord,
    RatingsTable,
    RegionBrief,
    SampleCounts,
)
from inspection_shared.problems import NotFound
from inspection_shared.rating import PooledRatingResult, RatingResult

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


def ratings_table(snapshot: Any, version: int | None) -> RatingsTable:
    """The ratings table of a snapshot (of published version `version`, or None), read from the engine's
    result it holds (a `RatingResult`)."""
    result = RatingResult.model_validate(snapshot.result)
    return RatingsTable.model_validate(
        {
            **row_fields(snapshot),
            "snapshot_id": snapshot.id,
            "published": version is not None,
            "version": version,
            "standards": result.standards,
            "overall": result.overall,
        },
        from_attributes=True,
    )


def sample_counts(tallies: list[SampleTally]) -> list[SampleCounts]:
    by_sample: dict[uuid.UUID, dict[str, Any]] = {}
    for tally in tallies:
        counts = by_sample.setdefault(
            tally.sample_id,
            {"sample_type": tally.sample_type, "sample_id": tally.sample_id, "drawn_at": tally.drawn_at,
             **{status: 0 for status in CaseStatus}, "assessed": 0},
        )
        if tally.case_status is not None:
            counts[tally.case_status] += tally.cases
        if tally.case_status in IN_SAMPLE:
            counts["assessed"] += tally.assessed
    return [
        SampleCounts(
            sample_type=c["sample_type"],
            sample_id=c["sample_id"],
            drawn_at=c["drawn_at"],
            in_sample=c[CaseStatus.SELECTED] + c[CaseStatus.RESERVE_USED],
            drawn=c[CaseStatus.SELECTED] + c[CaseStatus.REPLACED],
            replaced=c[CaseStatus.REPLACED],
            reserves_used=c[CaseStatus.RESERVE_USED],
            assessments_recorded=c["assessed"],
        )
        for c in by_sample.values()
    ]


def pdu_briefs(units: dict[str, Any] | None, judgements: list[Any]) -> list[PduBrief]:
    """Each PDU's figures from a region's snapshot (the engine's pooled answer), and its judgements (rows with
    the PDU's code as `unit`)."""
    pooled = PooledRatingResult.model_validate(units) if units else None
    codes = sorted({*(pooled.units if pooled else ()), *(j.unit for j in judgements)})
    return [
        PduBrief(
            unit=code,
            standards=[
                PduStandardBrief(standard=s.standard, computed_rating=u.computed_rating, key_questions=[
                    PduKeyQuestion(key_question=k.key_question, yes=k.yes, applicable=k.applicable,
                                   percent_rounded=k.percent_rounded)
                    for k in u.key_questions
                ])
                for s in (pooled.standards if pooled else ())
                for u in s.units
                if u.unit == code
            ],
            judgements=[PduJudgementBrief(standard=j.standard_id, rating=j.rating) for j in judgements if j.unit == code],
        )
        for code in codes
    ]


def publication_record(inspection: Inspection, published: list[PublishedRow], version: int) -> PublicationRecord:
    corrections = publication.corrections(published)
    return PublicationRecord(
        version=version,
        latest_version=len(published),
        published_at=inspection.published_at,
        corrected=bool(corrections),
        withdrawn=inspection.status == InspectionStatus.WITHDRAWN,
        corrections=corrections,
    )


async def summary(session: AsyncSession, inspection_id: uuid.UUID, version: int | None = None) -> InspectionSummary:
    """The summary as it is now: its ratings those of the latest snapshot, or of published version `version`."""
    head = await repository.summary_head(session, inspection_id)
    if head is None:
        raise NotFound(f"No inspection {inspection_id}")
    inspection, parent = head.inspection, head.parent
    unit = inspection.unit
    published = await publication.published_versions(session, inspection_id)
    if version is None:
        snapshot = await ratings.latest_result(session, inspection_id)
        shown = len(published) or None  # once published, nothing is rated but as the next version
    else:
        snapshot = await ratings.snapshot_result(session, publication.chosen(published, inspection_id, version).snapshot_id)
        shown = version
    samples = sample_counts(await caseloads.sample_tallies(session, inspection_id))
    judged = await assessments.judged_standards(session, inspection_id, inspection.framework_id)
    region = unit if unit.type == "region" else parent if parent is not None and parent.type == "region" else None
    pdus = pdu_briefs(
        snapshot.units if snapshot is not None else None,
        await assessments.unit_judgements(session, inspection_id) if unit.type == "region" else [],
    )
    return InspectionSummary(
        inspection=InspectionRead.model_validate(inspection),
        unit=InspectedUnit(
            id=unit.id,
            code=unit.code,
            name=unit.name,
            type=unit.type,
            nation=unit.nation,
            region=RegionBrief.model_validate(region) if region is not None else None,
        ),
        framework=PinnedFramework(id=inspection.framework_id, version=head.framework_version, name=head.framework_name),
        publication=publication_record(inspection, published, shown) if shown is not None else None,
        ratings=ratings_table(snapshot, shown) if snapshot is not None else None,
        samples=samples,
        assessments=AssessmentProgress(
            recorded=sum(s.assessments_recorded for s in samples), cases_sampled=sum(s.in_sample for s in samples)
        ),
        judgements=JudgementProgress(
            recorded=sum(recorded for _, recorded in judged),
            judged_standards=len(judged),
            missing=[standard for standard, recorded in judged if not recorded],
        ),
        pdus=pdus,
    )
