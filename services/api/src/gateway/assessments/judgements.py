"""Domain-one judgements: the inspectors' rating of each judged standard (domain one, policy and
provision), with its evidence summary, checked against the inspection's pinned framework."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import repository
from gateway.assessments.models import Judgement, UnitJudgement
from gateway.assessments.schemas import (
    JudgedStandard,
    JudgementList,
    JudgementRead,
    JudgementWrite,
    UnitJudgementRead,
)
from gateway.db import row_fields
from gateway.inspections.guards import get_inspection, inspection_for_change, pinned_framework
from gateway.inspections.lifecycle import Activity
from gateway.permissions import Permission
from gateway.preconditions import check_if_match
from gateway.units import repository as units
from gateway.voice.schemas import StandardVoice
from gateway.voice.service import by_standard, voice_figures
from gateway.writes import flush
from inspection_shared.framework import Framework, Standard
from inspection_shared.problems import FieldError, InvalidInput, NotFound, PreconditionFailed


def judged_fault(framework: Framework, standard_id: str) -> str | None:
    """Why this standard takes no judgement (unknown, or case-based), or None for a judged standard."""
    standard = framework.standard(standard_id)
    if standard is None:
        return f"no standard {standard_id} in framework {framework.id}"
    if standard.kind != "judged":
        return (
            f"standard {standard_id} ({standard.name}) is case-based: it is rated from case answers, not "
            "judged by inspectors"
        )
    return None


def judged_standard(framework: Framework, standard_id: str) -> Standard:
    """The judged standard of this id, or a 422 naming it: unknown and case-based standards are not judged."""
    standard, message = framework.standard(standard_id), judged_fault(framework, standard_id)
    if standard is not None and message is None:
        return standard
    judged = ", ".join(s.id for s in framework.standards() if s.kind == "judged")
    raise InvalidInput(
        f"Only judged standards take a judgement ({framework.id}: {judged}); {message}.",
        [FieldError(field="path.standard_id", message=message)],
    )


def _read(judgement: Judgement, standard: Standard, voice: dict[str, StandardVoice]) -> JudgementRead:
    return JudgementRead.model_validate(
        {**row_fields(judgement), "standard_name": standard.name, "voice": voice.get(standard.id, StandardVoice())}
    )


async def _voice(session: AsyncSession, inspection_id: uuid.UUID) -> dict[str, StandardVoice]:
    """What people under supervision said, by the standard it informs: read beside the judgements."""
    return by_standard(await voice_figures(session, inspection_id))


def _record(judgement: Judgement | UnitJudgement, data: JudgementWrite) -> None:
    """What the judgement says now; left untouched when unchanged, so its version does not move."""
    if (judgement.rating, judgement.evidence_summary) != (data.rating, data.evidence_summary):
        judgement.rating, judgement.evidence_summary = data.rating, data.evidence_summary


async def get_judgement(session: AsyncSession, inspection_id: uuid.UUID, standard_id: str) -> JudgementRead:
    inspection = await get_inspection(session, inspection_id, Permission.ASSESSMENTS_READ)
    standard = judged_standard(await pinned_framework(session, inspection), standard_id)
    judgement = await repository.judgement(session, inspection.id, standard_id)
    if judgement is None:
        raise NotFound(f"Standard {standard_id} of inspection {inspection.id} has not been judged yet.")
    return _read(judgement, standard, await _voice(session, inspection.id))


async def put_judgement(
    session: AsyncSession, inspection_id: uuid.UUID, standard_id: str, data: JudgementWrite, if_match: str | None
) -> tuple[JudgementRead, bool]:
    """Record the inspectors' judgement of a judged standard. Returns it and whether it was created."""
    inspection = await inspection_for_change(session, inspection_id, Activity.RECORDING)
    standard = judged_standard(await pinned_framework(session, inspection), standard_id)
    held = await repository.judgement(session, inspection.id, standard_id)
    what = f"the judgement of standard {standard_id}"
    check_if_match(what, held.version if held else None, if_match)
    created = held is None
    if held is None:
        held = Judgement(inspection_id=inspection.id, standard_id=standard_id)
        session.add(held)
    _record(held, data)
    await flush(session, clash=PreconditionFailed.changed_meanwhile(what), changed=what)
    return _read(held, standard, await _voice(session, inspection.id)), created


async def correct_judgements(session: AsyncSession, inspection_id: uuid.UUID, corrected: dict[str, JudgementWrite]) -> None:
    """Record the judgements a correction of the published inspection gives (each checked with
    `judged_fault`); the caller holds the inspection (`inspection_for_change`) and flushes."""
    held = {j.standard_id: j for j in await repository.judgements(session, inspection_id)}
    for standard_id, data in corrected.items():
        judgement = held.get(standard_id)
        if judgement is None:
            judgement = Judgement(inspection_id=inspection_id, standard_id=standard_id)
            session.add(judgement)
        _record(judgement, data)


async def list_judgements(session: AsyncSession, inspection_id: uuid.UUID) -> JudgementList:
    inspection = await get_inspection(session, inspection_id, Permission.ASSESSMENTS_READ)
    framework = await pinned_framework(session, inspection)
    judged = [s for s in framework.standards() if s.kind == "judged"]
    held = {j.standard_id: j for j in await repository.judgements(session, inspection.id)}
    voice = await _voice(session, inspection.id)
    return JudgementList(
        items=[_read(held[s.id], s, voice) for s in judged if s.id in held],
        next_cursor=None,
        missing=[JudgedStandard(standard_id=s.id, name=s.name, scored=s.scored, voice=voice.get(s.id, StandardVoice()))
                 for s in judged if s.id not in held],
    )


# --- domain one judged for each PDU of a region's inspection -------------------------------------------


async def _pdu_of(session: AsyncSession, region_id: uuid.UUID, unit_id: uuid.UUID) -> str:
    """The code of a PDU of the inspected region, or a 422 naming the path's unit."""
    unit = await units.get(session, unit_id)
    if unit is None or unit.parent_id != region_id or unit.type != "pdu":
        raise InvalidInput(
            f"Unit {unit_id} is not a PDU of the inspected region: domain one is judged for the region and for "
            "each of its PDUs.",
            [FieldError(field="path.unit_id", message="not a PDU directly under the inspected region")],
        )
    return unit.code


def _unit_read(judgement: UnitJudgement, standard: Standard, code: str) -> UnitJudgementRead:
    return UnitJudgementRead.model_validate({**row_fields(judgement), "standard_name": standard.name, "unit_code": code})


async def put_unit_judgement(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    unit_id: uuid.UUID,
    standard_id: str,
    data: JudgementWrite,
    if_match: str | None,
) -> tuple[UnitJudgementRead, bool]:
    """Record the inspectors' judgement of a judged standard for one PDU of the inspected region."""
    inspection = await inspection_for_change(session, inspection_id, Activity.RECORDING)
    standard = judged_standard(await pinned_framework(session, inspection), standard_id)
    code = await _pdu_of(session, inspection.unit_id, unit_id)
    held = await repository.unit_judgement(session, inspection.id, unit_id, standard_id)
    what = f"the judgement of standard {standard_id} for {code}"
    check_if_match(what, held.version if held else None, if_match)
    created = held is None
    if held is None:
        held = UnitJudgement(inspection_id=inspection.id, unit_id=unit_id, standard_id=standard_id)
        session.add(held)
    _record(held, data)
    await flush(session, clash=PreconditionFailed.changed_meanwhile(what), changed=what)
    return _unit_read(held, standard, code), created


async def list_unit_judgements(session: AsyncSession, inspection_id: uuid.UUID, unit_id: uuid.UUID) -> list[UnitJudgementRead]:
    """The judgements recorded for one PDU of the inspected region, in framework order."""
    inspection = await get_inspection(session, inspection_id, Permission.ASSESSMENTS_READ)
    framework = await pinned_framework(session, inspection)
    code = await _pdu_of(session, inspection.unit_id, unit_id)
    held = {j.standard_id: j for j in await repository.unit_judgement_rows(session, inspection.id, unit_id)}
    return [_unit_read(held[s.id], s, code) for s in framework.standards() if s.id in held]
