"""Substitutions: a sampled case that cannot be inspected is replaced by the next unused reserve of its
stratum, by rank, and every substitution is kept with its reason. An assessed case stays in the sample,
and a discarded sample is never changed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.caseloads import repository
from gateway.caseloads.models import SampledCase, Substitution
from gateway.caseloads.schemas import CaseStatus, SubstitutionCreate, SubstitutionRead
from gateway.caseloads.service import get_sample, sample_for_change
from gateway.pagination import PageQuery
from gateway.writes import flush
from inspection_shared.pagination import Page
from inspection_shared.problems import Conflict, FieldError, InvalidInput


def _read(substitution: Substitution, rank: int | None) -> SubstitutionRead:
    return SubstitutionRead.model_validate(substitution).model_copy(update={"reserve_rank": rank})


async def substitute(session: AsyncSession, sample_id: uuid.UUID, data: SubstitutionCreate) -> SubstitutionRead:
    """Replace a case that cannot be inspected with the next unused reserve of its stratum, by rank."""
    sample = await sample_for_change(session, sample_id)
    rows = list((await session.scalars(select(SampledCase).where(SampledCase.sample_id == sample_id))).all())
    by_ref = {row.case_ref: row for row in rows}  # opened as read: a sample's few hundred cases
    case = by_ref.get(data.case_ref)
    reserves = sample.result.get("reserves", [])
    if case is None:
        is_reserve = any(r["case_ref"] == data.case_ref for r in reserves)
        message = "is a reserve of this sample, not in it" if is_reserve else "is not a case of this sample"
        raise InvalidInput(
            f"{data.case_ref} {message}.", [FieldError(field="body.case_ref", message=f"{data.case_ref} {message}")]
        )
    if case.status == CaseStatus.REPLACED:
        by = await repository.replaced_by(session, sample_id, case.case_ref)
        raise Conflict(f"{case.case_ref} has already been replaced by {by}.", replaced_by=by)
    if case.assessed:
        raise Conflict(
            f"{case.case_ref} has been assessed, so it stays in the sample; a case is substituted only before "
            "it is assessed."
        )
    candidates = sorted((r for r in reserves if r["stratum"] == case.stratum), key=lambda r: r["rank"])
    reserve = next((r for r in candidates if r["case_ref"] not in by_ref), None)
    if reserve is None:
        raise Conflict(
            f"The reserves of stratum {case.stratum} are used up ({len(candidates)} held, all used); "
            f"{case.case_ref} cannot be replaced.",
            stratum=case.stratum,
            reserves=len(candidates),
        )
    case.status = CaseStatus.REPLACED
    session.add(
        SampledCase(
            id=uuid.uuid4(),
            sample_id=sample_id,
            case_ref=reserve["case_ref"],
            unit=reserve.get("unit"),
            stratum=case.stratum,
            # The reserve is drawn from the same stratum, so it stands for the stratum as the case did.
            inclusion_probability=case.inclusion_probability,
            weight=case.weight,
            status=CaseStatus.RESERVE_USED,
            reserve_rank=reserve["rank"],
        )
    )
    substitution = Substitution(
        id=uuid.uuid4(),
        sample_id=sample_id,
        replaced_case_ref=case.case_ref,
        reserve_case_ref=reserve["case_ref"],
        stratum=case.stratum,
        reason=data.reason,
    )
    session.add(substitution)
    await flush(session, clash="Another substitution in this sample was made at the same time; read the sample and retry.")
    return _read(substitution, reserve["rank"])


async def list_substitutions(session: AsyncSession, sample_id: uuid.UUID, query: PageQuery) -> Page[SubstitutionRead]:
    """Every substitution in the sample, oldest first."""
    await get_sample(session, sample_id)
    return await repository.substitutions(session, sample_id, query, lambda row: _read(*row))
