"""The queries that read what inspectors recorded: case assessments (each on a sampled case) and
judgements, for the assessments routes and for the domains that rate and summarise them.

Case references are sealed (see `casedata.sealing`): a case is found by its sampled case's blind index,
and what is listed or sent in case order is put in that order here, after the references are opened,
since the database holds only ciphertext (`pagination.ordered_in_gateway`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments.models import CaseAssessment, Judgement, UnitJudgement
from gateway.casedata.sealing import blind_index
from gateway.caseloads.models import Sample, SampledCase
from gateway.caseloads.schemas import IN_SAMPLE
from gateway.frameworks.models import FrameworkStandard
from gateway.pagination import PageQuery, ordered_in_gateway
from gateway.units.models import Unit
from gateway.writes import RETENTION
from inspection_shared.pagination import Page

Item = TypeVar("Item")


# --- case assessments --------------------------------------------------------------------------------


async def latest_sample_id(session: AsyncSession, inspection_id: uuid.UUID, sample_type: str) -> uuid.UUID | None:
    return await session.scalar(
        select(Sample.id)
        .where(Sample.inspection_id == inspection_id, Sample.sample_type == sample_type, Sample.discarded.is_(False))
        .order_by(Sample.drawn_at.desc())
        .limit(1)
    )


async def case_with_assessment(
    session: AsyncSession, sample_id: uuid.UUID, case_ref: str
) -> tuple[SampledCase, CaseAssessment | None] | None:
    row = (
        await session.execute(
            select(SampledCase, CaseAssessment)
            .outerjoin(CaseAssessment, CaseAssessment.sampled_case_id == SampledCase.id)
            .where(SampledCase.sample_id == sample_id, SampledCase.case_ref_index == blind_index(case_ref))
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def assessments(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    conditions: Sequence[ColumnElement[bool]],
    query: PageQuery,
    item: Callable[[tuple[CaseAssessment, str]], Item],
) -> Page[Item]:
    """One page of the inspection's assessments, each with its case's status, by sample type and case
    reference (then id)."""
    keys = select(CaseAssessment.id, CaseAssessment.sample_type, CaseAssessment.case_ref).where(
        CaseAssessment.inspection_id == inspection_id, *conditions
    )

    async def load(ids: list[uuid.UUID]) -> list[Item]:
        rows = await session.execute(
            select(CaseAssessment, SampledCase.status)
            .join(SampledCase, SampledCase.id == CaseAssessment.sampled_case_id)
            .where(CaseAssessment.id.in_(ids))
        )
        found = {row[0].id: (row[0], row[1]) for row in rows}
        return [item(found[i]) for i in ids]

    return await ordered_in_gateway(session, keys, lambda row: (row[1], row[2], str(row[0])), 3, query, load)


async def sampled_cases(session: AsyncSession, inspection_id: uuid.UUID) -> dict[tuple[str, str], tuple[uuid.UUID, str]]:
    """Every sampled case of the inspection's samples in use: (sample type, blind index of its reference) ->
    (its id, its status)."""
    rows = await session.execute(
        select(Sample.sample_type, SampledCase.case_ref_index, SampledCase.id, SampledCase.status)
        .join(Sample, Sample.id == SampledCase.sample_id)
        .where(
            Sample.inspection_id == inspection_id, Sample.discarded.is_(False), SampledCase.case_ref_index.is_not(None)
        )
    )
    return {(sample_type, index): (case_id, status) for sample_type, index, case_id, status in rows}


@dataclass(frozen=True)
class HeldAssessment:
    """An assessment already held, as much of it as an import compares and merges."""

    id: uuid.UUID
    answers: dict[str, str]
    attributes: dict[str, Any]
    evidence_note: str | None


async def held_assessments(session: AsyncSession, inspection_id: uuid.UUID) -> dict[uuid.UUID, HeldAssessment]:
    """The inspection's assessments by sampled case."""
    rows = await session.execute(
        select(
            CaseAssessment.sampled_case_id,
            CaseAssessment.id,
            CaseAssessment.answers,
            CaseAssessment.attributes,
            CaseAssessment.evidence_note,
        ).where(CaseAssessment.inspection_id == inspection_id)
    )
    return {row[0]: HeldAssessment(*row[1:]) for row in rows}


@dataclass(frozen=True)
class AssessedCase:
    case_ref: str
    sample_type: str
    answers: dict[str, Any]
    attributes: dict[str, Any]
    unit: str | None = None  # the unit the case was sampled in: a PDU, in an inspection of a region


async def assessed_cases(
    session: AsyncSession, inspection_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AssessedCase]]:
    """The assessments of each inspection's cases in its samples in use now, in sample type and case order."""
    if not inspection_ids:
        return {}
    rows = await session.execute(
        select(
            Sample.inspection_id,
            Sample.sample_type,
            SampledCase.case_ref,
            CaseAssessment.answers,
            CaseAssessment.attributes,
            SampledCase.unit,
        )
        .join(SampledCase, SampledCase.sample_id == Sample.id)
        .join(CaseAssessment, CaseAssessment.sampled_case_id == SampledCase.id)
        .where(Sample.inspection_id.in_(inspection_ids), Sample.discarded.is_(False), SampledCase.status.in_(IN_SAMPLE))
    )
    found: dict[uuid.UUID, list[AssessedCase]] = defaultdict(list)
    for inspection_id, sample_type, case_ref, answers, attributes, unit in rows:
        found[inspection_id].append(AssessedCase(case_ref, sample_type, answers or {}, attributes or {}, unit))
    for cases in found.values():
        cases.sort(key=lambda case: (case.sample_type, case.case_ref))  # the references are opened only here
    return found


async def remove_case_assessments(session: AsyncSession, inspection_id: uuid.UUID) -> int:
    """Remove the inspection's case assessments under retention; how many there were. Its sampled cases
    stay marked assessed, so the summary's counts stay as they were."""
    removed = await session.execute(
        delete(CaseAssessment).where(CaseAssessment.inspection_id == inspection_id), execution_options={RETENTION: True, "synchronize_session": False}
    )
    return removed.rowcount


# --- judgements --------------------------------------------------------------------------------------


async def judgement(session: AsyncSession, inspection_id: uuid.UUID, standard_id: str) -> Judgement | None:
    return await session.scalar(
        select(Judgement).where(Judgement.inspection_id == inspection_id, Judgement.standard_id == standard_id)
    )


async def judgements(session: AsyncSession, inspection_id: uuid.UUID) -> list[Judgement]:
    return list((await session.scalars(select(Judgement).where(Judgement.inspection_id == inspection_id))).all())


async def unit_judgement(
    session: AsyncSession, inspection_id: uuid.UUID, unit_id: uuid.UUID, standard_id: str
) -> UnitJudgement | None:
    return await session.scalar(
        select(UnitJudgement).where(
            UnitJudgement.inspection_id == inspection_id,
            UnitJudgement.unit_id == unit_id,
            UnitJudgement.standard_id == standard_id,
        )
    )


async def unit_judgement_rows(session: AsyncSession, inspection_id: uuid.UUID, unit_id: uuid.UUID) -> list[UnitJudgement]:
    return list((await session.scalars(select(UnitJudgement).where(
        UnitJudgement.inspection_id == inspection_id, UnitJudgement.unit_id == unit_id))).all())


async def unit_judgements(session: AsyncSession, inspection_id: uuid.UUID) -> list[Any]:
    """The judgements recorded for the PDUs of a region's inspection, each row with its PDU's code as `unit`,
    in code and standard order."""
    rows = await session.execute(
        select(Unit.code.label("unit"), UnitJudgement)
        .join(Unit, Unit.id == UnitJudgement.unit_id)
        .where(UnitJudgement.inspection_id == inspection_id)
        .order_by(Unit.code, UnitJudgement.standard_id)
    )
    return [_UnitJudged(code, j.unit_id, j.standard_id, j.rating, j.evidence_summary) for code, j in rows]


@dataclass(frozen=True)
class _UnitJudged:
    unit: str
    unit_id: uuid.UUID
    standard_id: str
    rating: str
    evidence_summary: str


async def judged_standards(
    session: AsyncSession, inspection_id: uuid.UUID, framework_id: str
) -> list[tuple[str, bool]]:
    """The framework's judged standards in order, each with whether its judgement is recorded."""
    rows = (
        await session.execute(
            select(FrameworkStandard.id, Judgement.id)
            .outerjoin(
                Judgement,
                and_(Judgement.inspection_id == inspection_id, Judgement.standard_id == FrameworkStandard.id),
            )
            .where(FrameworkStandard.framework_id == framework_id, FrameworkStandard.kind == "judged")
            .order_by(FrameworkStandard.position)
        )
    ).all()
    return [(standard_id, judgement_id is not None) for standard_id, judgement_id in rows]
