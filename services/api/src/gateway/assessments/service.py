"""The rules of case assessments: what inspectors record on each sampled case, checked against the
inspection's pinned framework (`rules`). Judgements of judged standards are `judgements`.

Nothing here calls an engine: recording answers never depends on the rating engine or the sampling
service being up, so an engine failure can never cost a recorded answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, false, not_, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import repository
from gateway.assessments.models import CaseAssessment
from gateway.assessments.rules import AssessmentRules, case_faults
from gateway.assessments.schemas import AssessmentListQuery, CaseAssessmentRead, CaseAssessmentWrite
from gateway.caseloads import repository as caseloads
from gateway.caseloads.schemas import IN_SAMPLE
from gateway.db import row_fields
from gateway.inspections.guards import get_inspection, inspection_for_change, pinned_framework
from gateway.inspections.lifecycle import Activity
from gateway.permissions import Permission
from gateway.preconditions import check_if_match
from gateway.writes import flush
from inspection_shared.pagination import Page
from inspection_shared.problems import Conflict, FieldError, InvalidInput, NotFound, PreconditionFailed

if TYPE_CHECKING:
    from gateway.caseloads.models import SampledCase
    from gateway.inspections.models import Inspection



async def assessment_rules(session: AsyncSession, inspection: Inspection) -> AssessmentRules:
    return AssessmentRules.of(await pinned_framework(session, inspection))


async def _sampled_case(
    session: AsyncSession, inspection: Inspection, rules: AssessmentRules, sample_type: str, case_ref: str
) -> tuple[SampledCase, CaseAssessment | None]:
    if rules.sample(sample_type) is None:
        raise NotFound(f"Inspection {inspection.id}: {rules.unknown_sample_type(sample_type)}.")
    sample_id = await repository.latest_sample_id(session, inspection.id, sample_type)
    if sample_id is None:
        raise NotFound(f"No {sample_type} sample has been drawn for inspection {inspection.id}.")
    found = await repository.case_with_assessment(session, sample_id, case_ref)
    if found is None:
        raise NotFound(f"Case {case_ref} is not in the {sample_type} sample of inspection {inspection.id}.")
    return found


def read_assessment(assessment: CaseAssessment, case_status: str, rules: AssessmentRules) -> CaseAssessmentRead:
    sample = rules.sample(assessment.sample_type)
    expected = sample.key_questions if sample else ()
    return CaseAssessmentRead.model_validate(
        {
            **row_fields(assessment),
            "case_status": case_status,
            "unanswered": [kq for kq in expected if kq not in assessment.answers],
        }
    )


async def get_assessment(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str, case_ref: str
) -> CaseAssessmentRead:
    inspection = await get_inspection(session, inspection_id, Permission.ASSESSMENTS_READ)
    rules = await assessment_rules(session, inspection)
    case, assessment = await _sampled_case(session, inspection, rules, sample_type, case_ref)
    if assessment is None:
        raise NotFound(f"Case {case_ref} of the {sample_type} sample has not been assessed yet.")
    return read_assessment(assessment, case.status, rules)


async def put_assessment(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    sample_type: str,
    case_ref: str,
    data: CaseAssessmentWrite,
    if_match: str | None,
) -> tuple[CaseAssessmentRead, bool]:
    """Record the case's assessment as sent. Returns it and whether it was created."""
    inspection = await inspection_for_change(session, inspection_id, Activity.RECORDING)
    rules = await assessment_rules(session, inspection)
    case, held = await _sampled_case(session, inspection, rules, sample_type, case_ref)
    if case.status not in IN_SAMPLE:
        raise Conflict(
            f"Case {case_ref} was replaced in the {sample_type} sample by a substitution and can no longer be "
            "assessed; assess the reserve case that replaced it.",
            case_status=case.status,
        )
    faults = case_faults(rules, sample_type, data.answers, data.attributes)
    if faults:
        raise InvalidInput(
            f"Case {case_ref}: " + "; ".join(message for _, message in faults) + ".",
            [FieldError(field=f"body.{where}", message=message) for where, message in faults],
        )
    what = f"the assessment of case {case_ref}"
    check_if_match(what, held.version if held else None, if_match)
    recorded = {"answers": dict(data.answers), "attributes": dict(data.attributes), "evidence_note": data.evidence_note}
    created = held is None
    if held is None:
        held = CaseAssessment(
            inspection_id=inspection.id, sampled_case_id=case.id, case_ref=case.case_ref, sample_type=sample_type,
            **recorded,
        )
        session.add(held)
    else:
        for name, value in recorded.items():
            if getattr(held, name) != value:
                setattr(held, name, value)
    await flush(session, clash=PreconditionFailed.changed_meanwhile(what), changed=what)
    if created:
        await caseloads.mark_assessed(session, [case.id])
    return read_assessment(held, case.status, rules), created


def _all_answered(key_questions: Iterable[str]) -> ColumnElement[bool]:
    conditions = [CaseAssessment.answers[kq].as_string().is_not(None) for kq in key_questions]
    return and_(true(), *conditions)


def _completeness(rules: AssessmentRules, query: AssessmentListQuery) -> ColumnElement[bool] | None:
    if query.complete is None:
        if query.standard is not None:
            raise InvalidInput(
                "`standard` says which standard `complete` is about; give `complete` as well.",
                [FieldError(field="query.standard", message="only with complete=true or complete=false")],
            )
        return None
    if query.standard is not None:
        found = next(
            (
                (sample_type, sample.standards[query.standard])
                for sample_type, sample in rules.samples.items()
                if query.standard in sample.standards
            ),
            None,
        )
        if found is None:
            raise InvalidInput(
                f"Framework {rules.framework.id} has no case-based standard {query.standard}.",
                [FieldError(field="query.standard", message=f"not a case-based standard of {rules.framework.id}")],
            )
        sample_type, key_questions = found
        condition = and_(CaseAssessment.sample_type == sample_type, _all_answered(key_questions))
        if query.complete:
            return condition
        return and_(CaseAssessment.sample_type == sample_type, not_(_all_answered(key_questions)))
    condition = or_(
        false(),
        *(
            and_(CaseAssessment.sample_type == t, _all_answered(sample.key_questions))
            for t, sample in rules.samples.items()
        ),
    )
    return condition if query.complete else not_(condition)


async def list_assessments(
    session: AsyncSession, inspection_id: uuid.UUID, query: AssessmentListQuery
) -> Page[CaseAssessmentRead]:
    """One page of the inspection's assessments in (sample type, case reference) order."""
    inspection = await get_inspection(session, inspection_id, Permission.ASSESSMENTS_READ)
    rules = await assessment_rules(session, inspection)
    conditions: list[ColumnElement[bool]] = []
    if query.sample_type is not None:
        if rules.sample(query.sample_type) is None:
            raise InvalidInput(
                f"Inspection {inspection.id}: {rules.unknown_sample_type(query.sample_type)}.",
                [FieldError(field="query.sample_type", message=rules.unknown_sample_type(query.sample_type))],
            )
        conditions.append(CaseAssessment.sample_type == query.sample_type)
    completeness = _completeness(rules, query)
    if completeness is not None:
        conditions.append(completeness)
    return await repository.assessments(
        session, inspection.id, conditions, query, lambda row: read_assessment(row[0], row[1], rules)
    )
