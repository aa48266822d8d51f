"""The queries that read frames, samples and sampled cases: for the caseloads routes, and for the domains
that read samples (case answers are recorded on sampled cases; the summary counts them).

Case references are sealed (see `casedata.sealing`): a case is found by its blind index, and the list
of a sample's cases is put in case_ref order here, not by the database (`pagination.ordered_in_gateway`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Subquery, and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from gateway.casedata.sealing import blind_index, holds_case_data
from gateway.caseloads.models import CaseloadFrame, Sample, SampledCase, SampleDiscard, Substitution
from gateway.caseloads.schemas import IN_SAMPLE, SampledCaseQuery
from gateway.inspections.models import Inspection
from gateway.pagination import Key, PageQuery, keyset_page, ordered_in_gateway
from gateway.writes import RETENTION
from inspection_shared.pagination import Page

Item = TypeVar("Item")

OLDEST_FIRST = (Key(Substitution.substituted_at), Key(Substitution.id))


# --- frames ------------------------------------------------------------------------------------------


async def frame(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str, *, with_content: bool = False
) -> CaseloadFrame | None:
    """The inspection's frame of `sample_type`; its (sealed, large) content only if asked for."""
    statement = select(CaseloadFrame).where(
        CaseloadFrame.inspection_id == inspection_id, CaseloadFrame.sample_type == sample_type
    )
    if not with_content:
        statement = statement.options(defer(CaseloadFrame.content, raiseload=True))
    return (await session.scalars(statement)).one_or_none()


async def latest_case_counts(session: AsyncSession, unit_ids: Iterable[uuid.UUID], sample_type: str
                             ) -> dict[uuid.UUID, int]:
    """The cases in each unit's latest frame of `sample_type` (by upload), for the units that have one."""
    wanted = list(set(unit_ids))
    latest = (
        select(Inspection.unit_id, CaseloadFrame.case_count,
               func.row_number().over(partition_by=Inspection.unit_id,
                                      order_by=(CaseloadFrame.uploaded_at.desc(), CaseloadFrame.id)).label("nth"))
        .join(Inspection, Inspection.id == CaseloadFrame.inspection_id)
        .where(CaseloadFrame.sample_type == sample_type, Inspection.unit_id.in_(wanted))
        .subquery()
    )
    rows = await session.execute(select(latest.c.unit_id, latest.c.case_count).where(latest.c.nth == 1))
    return {unit_id: count for unit_id, count in rows.all()}


async def frames_with_samples(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str | None = None
) -> list[tuple[CaseloadFrame, uuid.UUID | None]]:
    """The inspection's frames (without their content), each with the id of its sample in use."""
    statement = (
        select(CaseloadFrame, Sample.id)
        .options(defer(CaseloadFrame.content))
        .outerjoin(Sample, and_(Sample.frame_id == CaseloadFrame.id, Sample.discarded.is_(False)))
        .where(CaseloadFrame.inspection_id == inspection_id)
        .order_by(CaseloadFrame.sample_type)
    )
    if sample_type is not None:
        statement = statement.where(CaseloadFrame.sample_type == sample_type)
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]


async def sample_of_frame(session: AsyncSession, frame_id: uuid.UUID) -> uuid.UUID | None:
    """The frame's sample in use (not discarded), if one has been drawn."""
    return await session.scalar(select(Sample.id).where(Sample.frame_id == frame_id, Sample.discarded.is_(False)))


async def discarded_seeds(session: AsyncSession, frame_id: uuid.UUID) -> set[int]:
    """The seeds of the samples drawn from the frame and discarded."""
    return set((await session.scalars(select(Sample.seed).where(Sample.frame_id == frame_id, Sample.discarded))).all())


# --- samples -----------------------------------------------------------------------------------------


async def samples(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str | None, *, include_discarded: bool = False
) -> list[Sample]:
    """The inspection's samples in use (and those discarded, if asked) without their (large) documents, by
    sample type and then as drawn."""
    statement = (
        select(Sample)
        .options(defer(Sample.result), defer(Sample.design))
        .where(Sample.inspection_id == inspection_id)
        .order_by(Sample.sample_type, Sample.drawn_at, Sample.id)
    )
    if sample_type is not None:
        statement = statement.where(Sample.sample_type == sample_type)
    if not include_discarded:
        statement = statement.where(Sample.discarded.is_(False))
    return list((await session.scalars(statement)).all())


async def discards(session: AsyncSession, sample_ids: list[uuid.UUID]) -> dict[uuid.UUID, SampleDiscard]:
    """The discard of each of these samples that was discarded."""
    if not sample_ids:
        return {}
    found = await session.scalars(select(SampleDiscard).where(SampleDiscard.sample_id.in_(sample_ids)))
    return {discard.sample_id: discard for discard in found}


async def assessed_count(session: AsyncSession, sample_id: uuid.UUID) -> int:
    """Cases of the sample with case answers recorded (ever: a case once assessed stays so)."""
    return await session.scalar(
        select(func.count()).select_from(SampledCase).where(SampledCase.sample_id == sample_id, SampledCase.assessed)
    ) or 0


async def counts(
    session: AsyncSession, sample_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    """Cases in each sample now, and substitutions made in each."""
    if not sample_ids:
        return {}, {}
    sizes = dict(
        (
            await session.execute(
                select(SampledCase.sample_id, func.count())
                .where(SampledCase.sample_id.in_(sample_ids), SampledCase.status.in_(IN_SAMPLE))
                .group_by(SampledCase.sample_id)
            )
        ).all()
    )
    substitutions = dict(
        (
            await session.execute(
                select(Substitution.sample_id, func.count())
                .where(Substitution.sample_id.in_(sample_ids))
                .group_by(Substitution.sample_id)
            )
        ).all()
    )
    return sizes, substitutions


@dataclass(frozen=True)
class SampleTally:
    sample_id: uuid.UUID
    sample_type: str
    drawn_at: datetime
    case_status: str | None
    cases: int
    assessed: int


async def sample_tallies(session: AsyncSession, inspection_id: uuid.UUID) -> list[SampleTally]:
    """Per sample in use and case status: the cases, and how many of them have been assessed."""
    rows = (
        await session.execute(
            select(
                Sample.id,
                Sample.sample_type,
                Sample.drawn_at,
                SampledCase.status,
                func.count(SampledCase.id),
                func.count(SampledCase.id).filter(SampledCase.assessed),
            )
            .select_from(Sample)
            .outerjoin(SampledCase, SampledCase.sample_id == Sample.id)
            .where(Sample.inspection_id == inspection_id, Sample.discarded.is_(False))
            .group_by(Sample.id, Sample.sample_type, Sample.drawn_at, SampledCase.status)
            .order_by(Sample.sample_type, Sample.drawn_at)
        )
    ).all()
    return [SampleTally(*row) for row in rows]


@dataclass(frozen=True)
class SampleRecord:
    """What a report states of a sample, read without its cases: its frame's size, and the parts of the
    sampling service's answer that describe the draw."""

    sample_id: uuid.UUID
    sample_type: str
    drawn_at: datetime
    frame_cases: int
    frame: dict | None
    """The frame as the draw read it (`FrameSummary`)."""
    balance: list[dict] | None
    largest_deviation: dict | None
    sample_size: int | None


async def sample_records(session: AsyncSession, inspection_id: uuid.UUID) -> list[SampleRecord]:
    """The inspection's samples by sample type, each with only those parts of its stored answer that hold
    no case: the cases drawn and the reserves are never read."""
    rows = await session.execute(
        select(
            Sample.id,
            Sample.sample_type,
            Sample.drawn_at,
            CaseloadFrame.case_count,
            Sample.result["frame"],
            Sample.result["balance"],
            Sample.result["largest_deviation"],
            Sample.result["sample_size"].as_integer(),
        )
        .join(CaseloadFrame, CaseloadFrame.id == Sample.frame_id)
        .where(Sample.inspection_id == inspection_id)
        .order_by(Sample.sample_type, Sample.drawn_at)
    )
    return [SampleRecord(*row) for row in rows]


async def case_ref_indexes(session: AsyncSession, inspection_id: uuid.UUID) -> set[str]:
    """The blind indexes of the references of every case in the inspection's samples (replaced and brought
    in included): what tells a case reference in a free text without opening one."""
    return set(
        await session.scalars(
            select(SampledCase.case_ref_index)
            .join(Sample, Sample.id == SampledCase.sample_id)
            .where(Sample.inspection_id == inspection_id, SampledCase.case_ref_index.is_not(None))
        )
    )


# --- sampled cases -----------------------------------------------------------------------------------


async def sampled_cases(
    session: AsyncSession, sample_id: uuid.UUID, query: SampledCaseQuery, item: Callable[[SampledCase], Item]
) -> Page[Item]:
    """The cases of the sample now (and those replaced, if asked), in case_ref order (put in order here:
    see the module docstring)."""
    statement = select(SampledCase.id, SampledCase.case_ref).where(
        SampledCase.sample_id == sample_id, SampledCase.case_ref_index.is_not(None)
    )
    if not query.include_replaced:
        statement = statement.where(SampledCase.status.in_(IN_SAMPLE))
    if query.stratum is not None:
        statement = statement.where(SampledCase.stratum == query.stratum)
    if query.unit is not None:
        statement = statement.where(SampledCase.unit == query.unit)

    async def load(ids: list[uuid.UUID]) -> list[Item]:
        rows = {row.id: row for row in await session.scalars(select(SampledCase).where(SampledCase.id.in_(ids)))}
        return [item(rows[i]) for i in ids]

    return await ordered_in_gateway(session, statement, lambda row: (row[1],), 1, query, load)


def cases_of_inspections(inspection_ids: Iterable[uuid.UUID] | None = None) -> Subquery:
    """Every sampled case (id, sample_type, case_ref, status, inspection_id) of the samples in use of the
    inspections given (of all, if None), for the domains that join what they record for a case to the case."""
    statement = (
        select(SampledCase.id, Sample.sample_type, SampledCase.case_ref, SampledCase.status, Sample.inspection_id)
        .join(Sample, Sample.id == SampledCase.sample_id)
        .where(Sample.discarded.is_(False))
    )
    if inspection_ids is not None:
        statement = statement.where(Sample.inspection_id.in_(list(inspection_ids)))
    return statement.subquery("sampled_cases_of")


async def mark_assessed(session: AsyncSession, sampled_case_ids: Iterable[uuid.UUID]) -> None:
    """Record that these cases have their first answers: they stay in their samples from now on."""
    ids = list(sampled_case_ids)
    for start in range(0, len(ids), 1000):
        await session.execute(
            update(SampledCase)
            .where(and_(SampledCase.id.in_(ids[start : start + 1000]), SampledCase.assessed.is_(False)))
            .values(assessed=True),
            execution_options={"synchronize_session": False},
        )


# --- substitutions -----------------------------------------------------------------------------------


async def substitutions(
    session: AsyncSession, sample_id: uuid.UUID, query: PageQuery, item: Callable[[tuple], Item]
) -> Page[Item]:
    """Every substitution in the sample, oldest first, each with the rank of the reserve brought in."""
    statement = (
        select(Substitution, SampledCase.reserve_rank)
        .outerjoin(
            SampledCase,
            and_(
                SampledCase.sample_id == Substitution.sample_id,
                SampledCase.case_ref_index == Substitution.reserve_case_ref_index,
            ),
        )
        .where(Substitution.sample_id == sample_id)
    )
    return await keyset_page(session, statement, OLDEST_FIRST, query, item, scalars=False)


@dataclass(frozen=True)
class SubstitutionReason:
    sample_type: str
    stratum: str
    reason: str
    substituted_at: datetime


async def substitution_reasons(session: AsyncSession, inspection_id: uuid.UUID) -> list[SubstitutionReason]:
    """Every substitution in the inspection's samples, by sample type and oldest first, without the cases."""
    rows = await session.execute(
        select(Sample.sample_type, Substitution.stratum, Substitution.reason, Substitution.substituted_at)
        .join(Sample, Sample.id == Substitution.sample_id)
        .where(Sample.inspection_id == inspection_id)
        .order_by(Sample.sample_type, Substitution.substituted_at, Substitution.id)
    )
    return [SubstitutionReason(*row) for row in rows]


async def reserves_used(session: AsyncSession, sample_id: uuid.UUID) -> dict[str, str]:
    """Reserve case reference -> the case it replaced, for the reserves of the sample brought in."""
    rows = await session.execute(
        select(Substitution.reserve_case_ref, Substitution.replaced_case_ref).where(Substitution.sample_id == sample_id)
    )
    return dict(rows.all())


async def replaced_by(session: AsyncSession, sample_id: uuid.UUID, case_ref: str) -> str | None:
    """The reserve that replaced the case, if a substitution replaced it."""
    return await session.scalar(
        select(Substitution.reserve_case_ref).where(
            Substitution.sample_id == sample_id, Substitution.replaced_case_ref_index == blind_index(case_ref)
        )
    )


# --- retention -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemovedCases:
    frames: int
    """Frames whose cases (their content) were removed; their descriptions stay."""
    samples: int
    """Samples whose stored cases drawn and reserves were removed; their allocation and balance stay."""
    sampled_cases: int
    """Sampled cases whose references were removed; the rows stay, for the sample's counts."""
    substitutions: int


def _without_case_refs(design: dict) -> dict:
    return {**design, "exclude": [f for f in design.get("exclude", []) if f.get("column") != "case_ref"]}


async def remove_case_data(session: AsyncSession, inspection_id: uuid.UUID) -> RemovedCases:
    """Remove the inspection's cases under retention: its frames' content, the cases drawn and reserves of
    its samples, its sampled cases' references and its substitutions. What the summary counts stays."""
    purging = {RETENTION: True, "synchronize_session": False}
    frames = await session.execute(
        update(CaseloadFrame)
        .where(CaseloadFrame.inspection_id == inspection_id, CaseloadFrame.content.is_not(None))
        .values(content=None),
        execution_options=purging,
    )
    of_inspection = select(Sample.id).where(Sample.inspection_id == inspection_id).scalar_subquery()
    substitutions = await session.execute(
        delete(Substitution).where(Substitution.sample_id.in_(of_inspection)), execution_options=purging
    )
    sampled = await session.execute(
        update(SampledCase)
        .where(SampledCase.sample_id.in_(of_inspection), SampledCase.case_ref_index.is_not(None))
        .values(case_ref=None, case_ref_index=None),
        execution_options=purging,
    )
    samples = 0
    for sample_id, result, design in (
        await session.execute(select(Sample.id, Sample.result, Sample.design).where(Sample.inspection_id == inspection_id))
    ).all():
        if not (holds_case_data(result) or holds_case_data(design)):
            continue
        kept = {**result, "selected": [], "reserves": []}
        if isinstance(result.get("design"), dict):
            kept["design"] = _without_case_refs(result["design"])
        await session.execute(
            update(Sample).where(Sample.id == sample_id).values(result=kept, design=_without_case_refs(design)),
            execution_options=purging,
        )
        samples += 1
    return RemovedCases(frames.rowcount, samples, sampled.rowcount, substitutions.rowcount)


async def record_counted_sample(session: AsyncSession, inspection_id: uuid.UUID, sample_type: str, cases: int,
                                algorithm: str) -> Sample:
    """A sample of `cases` assessed cases, held as retention leaves one: its frame's description and its
    cases counted, no case reference (for a history loaded after the fact, `gateway.history`)."""
    fingerprint = hashlib.sha256(f"{inspection_id}/{sample_type}".encode()).hexdigest()
    frame = CaseloadFrame(inspection_id=inspection_id, sample_type=sample_type, columns=[], case_count=cases,
                          fingerprint=fingerprint, content=None)
    session.add(frame)
    await session.flush()
    sample = Sample(inspection_id=inspection_id, frame_id=frame.id, sample_type=sample_type, seed=0,
                    design={"sample_size": cases}, frame_fingerprint=fingerprint, algorithm=algorithm, result={})
    session.add(sample)
    await session.flush()
    await session.execute(insert(SampledCase), [
        {"id": uuid.uuid4(), "sample_id": sample.id, "case_ref": None, "stratum": "all", "inclusion_probability": 1.0,
         "weight": 1.0, "status": "selected", "assessed": True}
        for _ in range(cases)
    ])
    return sample
