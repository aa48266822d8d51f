"""The rules of what inspectors record: an assessment of each sampled case, and a judgement on each judged
standard, both checked against the inspection's pinned framework.

Nothing here calls an engine: recording answers and judgements never depends on the rating engine or the
sampling service being up, so an engine failure can never cost a recorded answer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from gateway.actors import Actor
from gateway.assessments.models import CaseAssessment, Judgement
from gateway.assessments.schemas import (
    ATTRIBUTE_VALUE_MAX,
    AssessmentListQuery,
    CaseAssessmentRead,
    CaseAssessmentWrite,
    JudgedStandard,
    JudgementList,
    JudgementRead,
    JudgementWrite,
)
from gateway.caseloads.models import Sample, SampledCase
from gateway.db import utcnow
from gateway.inspections.guards import get_inspection, inspection_for_change, pinned_framework
from gateway.inspections.models import Inspection
from gateway.pagination import decode_cursor, encode_cursor
from gateway.preconditions import check_if_match
from inspection_shared.framework import Framework, Standard
from inspection_shared.problems import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    Problem,
)

RECORDING_STATUSES = ("fieldwork", "rating")
"""Case answers and judgements are recorded from the start of fieldwork until publication."""
ASSESSABLE_CASE_STATUSES = frozenset({"selected", "reserve_used"})

_ATTRIBUTE_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


# --- the framework's rules for case assessments ------------------------------------------------------


@dataclass(frozen=True)
class SampleRules:
    """What may be recorded for a case of one sample type."""

    sample_type: str
    key_questions: tuple[str, ...]
    """Every key question of the case-based standards assessed on this sample, in framework order."""
    standards: dict[str, tuple[str, ...]]
    """Standard id -> its key questions."""
    attributes: dict[str, frozenset[type]]
    """Case attribute -> the value types its case filters compare with."""


@dataclass(frozen=True)
class AssessmentRules:
    framework: Framework
    samples: dict[str, SampleRules]
    home: dict[str, tuple[Standard, str]] = field(default_factory=dict)
    """Key question -> its case-based standard and the sample type that standard is assessed on."""

    @classmethod
    def of(cls, framework: Framework) -> AssessmentRules:
        key_questions: dict[str, list[str]] = {t.id: [] for t in framework.sample_types}
        standards: dict[str, dict[str, tuple[str, ...]]] = {t.id: {} for t in framework.sample_types}
        attributes: dict[str, dict[str, set[type]]] = {t.id: {} for t in framework.sample_types}
        home: dict[str, tuple[Standard, str]] = {}
        for standard in framework.standards():
            if standard.kind != "case" or standard.sample_type not in key_questions:
                continue
            sample_type = standard.sample_type
            ids = tuple(kq.id for kq in standard.key_questions)
            key_questions[sample_type].extend(ids)
            standards[sample_type][standard.id] = ids
            for kq in ids:
                home[kq] = (standard, sample_type)
            for condition in standard.case_filter.conditions if standard.case_filter else ():
                compared = [condition.equals] if condition.equals is not None else []
                compared += condition.one_of or []
                types = attributes[sample_type].setdefault(condition.attribute, set())
                types.update(type(v) for v in compared)
                if not compared:  # compared with nothing but null: any value may be recorded
                    types.update((bool, int, str))
        samples = {
            t: SampleRules(
                sample_type=t,
                key_questions=tuple(key_questions[t]),
                standards=standards[t],
                attributes={name: frozenset(types) for name, types in attributes[t].items()},
            )
            for t in key_questions
        }
        return cls(framework=framework, samples=samples, home=home)

    def sample(self, sample_type: str) -> SampleRules | None:
        return self.samples.get(sample_type)

    def unknown_sample_type(self, sample_type: str) -> str:
        return f"no sample type {sample_type} in framework {self.framework.id}; it names " + ", ".join(
            sorted(self.samples)
        )

    def key_question_fault(self, sample_type: str, key_question: str) -> str | None:
        """Why this key question cannot be answered for a case of this sample type, if it cannot."""
        found = self.home.get(key_question)
        if found is None:
            return f"no case-based key question {key_question} in framework {self.framework.id}"
        standard, assessed_on = found
        if assessed_on != sample_type:
            return (
                f"{key_question} belongs to standard {standard.id} ({standard.name}), assessed on the "
                f"{assessed_on} sample, not the {sample_type} sample"
            )
        return None

    def attribute_fault(self, sample_type: str, name: str, value: Any) -> str | None:
        """Why this case attribute cannot be recorded for a case of this sample type, if it cannot."""
        used = self.samples[sample_type].attributes
        if name not in used:
            named = ", ".join(sorted(used)) if used else "none"
            return (
                f"{name} is not a case attribute the case filters of the {sample_type} standards read "
                f"(they read: {named}); no other case data is recorded"
            )
        return value_fault(used[name], value)


def value_fault(types: frozenset[type], value: Any) -> str | None:
    if type(value) in types:
        if isinstance(value, str) and (len(value) > ATTRIBUTE_VALUE_MAX or not _ATTRIBUTE_CODE.match(value)):
            return (
                f"expected a code of lower-case letters, digits and '_', at most {ATTRIBUTE_VALUE_MAX} "
                "characters (such as youth_caution)"
            )
        return None
    expected = []
    if bool in types:
        expected.append("true or false")
    if int in types:
        expected.append("a whole number")
    if str in types:
        expected.append(f"a code of at most {ATTRIBUTE_VALUE_MAX} characters (such as youth_caution)")
    return "expected " + " or ".join(expected)


def case_faults(
    rules: AssessmentRules, sample_type: str, answers: Iterable[str], attributes: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(field, message) for every key question and attribute that may not be recorded on such a case."""
    faults = [
        (f"answers.{kq}", message)
        for kq in answers
        if (message := rules.key_question_fault(sample_type, kq)) is not None
    ]
    faults += [
        (f"attributes.{name}", message)
        for name, value in attributes.items()
        if (message := rules.attribute_fault(sample_type, name, value)) is not None
    ]
    return faults


async def assessment_rules(session: AsyncSession, inspection: Inspection) -> AssessmentRules:
    return AssessmentRules.of(await pinned_framework(session, inspection))


# --- preconditions -----------------------------------------------------------------------------------


async def inspection_for_recording(session: AsyncSession, inspection_id: uuid.UUID) -> Inspection:
    """The inspection, locked until the request ends (see `inspection_for_change`), if it takes records now.

    Writes to one inspection's records take turns: a bulk import sees no assessment appear beside it,
    and none lands beside publication.
    """
    inspection = await inspection_for_change(session, inspection_id)
    if inspection.status not in RECORDING_STATUSES:
        raise Conflict(
            f"Inspection {inspection.id} is {inspection.status}: case answers and judgements are recorded "
            f"while it is in {' or '.join(RECORDING_STATUSES)}.",
            status_of_inspection=inspection.status,
            recording_statuses=list(RECORDING_STATUSES),
        )
    return inspection


def check_precondition(what: str, held_version: int | None, if_match: str | None) -> None:
    """Create without If-Match; change only with the ETag of the last read (428 without it, 412 if stale)."""
    if held_version is None:
        if if_match is not None:
            raise Problem(
                412,
                "Precondition failed",
                f"There is no {what} yet, so If-Match ({if_match}) cannot match; send the first one without it.",
                slug="precondition-failed",
            )
        return
    check_if_match(f"the {what}", held_version, if_match)


def _changed_meanwhile(what: str) -> Problem:
    return Problem(
        412,
        "Precondition failed",
        f"The {what} was changed by another request at the same time; read it again and reapply the change.",
        slug="precondition-failed",
    )


# --- case assessments --------------------------------------------------------------------------------


@dataclass
class AssessedCase:
    sampled_case: SampledCase
    sample_type: str
    assessment: CaseAssessment | None


async def _sampled_case(
    session: AsyncSession,
    inspection: Inspection,
    rules: AssessmentRules,
    sample_type: str,
    case_ref: str,
) -> AssessedCase:
    if rules.sample(sample_type) is None:
        raise NotFound(f"Inspection {inspection.id}: {rules.unknown_sample_type(sample_type)}.")
    statement = (
        select(Sample.id)
        .where(Sample.inspection_id == inspection.id, Sample.sample_type == sample_type)
        .order_by(Sample.drawn_at.desc())
        .limit(1)
    )
    sample_id = await session.scalar(statement)
    if sample_id is None:
        raise NotFound(f"No {sample_type} sample has been drawn for inspection {inspection.id}.")
    row = (
        await session.execute(
            select(SampledCase, CaseAssessment)
            .outerjoin(CaseAssessment, CaseAssessment.sampled_case_id == SampledCase.id)
            .where(SampledCase.sample_id == sample_id, SampledCase.case_ref == case_ref)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"Case {case_ref} is not in the {sample_type} sample of inspection {inspection.id}.")
    return AssessedCase(sampled_case=row[0], sample_type=sample_type, assessment=row[1])


def read_assessment(assessment: CaseAssessment, case_status: str, rules: AssessmentRules) -> CaseAssessmentRead:
    sample = rules.sample(assessment.sample_type)
    expected = sample.key_questions if sample else ()
    return CaseAssessmentRead(
        inspection_id=assessment.inspection_id,
        sample_type=assessment.sample_type,
        case_ref=assessment.case_ref,
        case_status=case_status,  # type: ignore[arg-type]
        answers=assessment.answers,
        attributes=assessment.attributes,
        evidence_note=assessment.evidence_note,
        unanswered=[kq for kq in expected if kq not in assessment.answers],
        version=assessment.version,
        created_at=assessment.created_at,
        created_by=assessment.created_by,
        updated_at=assessment.updated_at,
        updated_by=assessment.updated_by,
    )


async def get_assessment(
    session: AsyncSession, inspection_id: uuid.UUID, sample_type: str, case_ref: str
) -> CaseAssessmentRead:
    inspection = await get_inspection(session, inspection_id)
    rules = await assessment_rules(session, inspection)
    case = await _sampled_case(session, inspection, rules, sample_type, case_ref)
    if case.assessment is None:
        raise NotFound(f"Case {case_ref} of the {sample_type} sample has not been assessed yet.")
    return read_assessment(case.assessment, case.sampled_case.status, rules)


async def put_assessment(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    sample_type: str,
    case_ref: str,
    data: CaseAssessmentWrite,
    if_match: str | None,
    actor: Actor,
) -> tuple[CaseAssessmentRead, bool]:
    """Record the case's assessment as sent. Returns it and whether it was created."""
    inspection = await inspection_for_recording(session, inspection_id)
    rules = await assessment_rules(session, inspection)
    case = await _sampled_case(session, inspection, rules, sample_type, case_ref)
    if case.sampled_case.status not in ASSESSABLE_CASE_STATUSES:
        raise Conflict(
            f"Case {case_ref} was replaced in the {sample_type} sample by a substitution and can no longer be "
            "assessed; assess the reserve case that replaced it.",
            case_status=case.sampled_case.status,
        )
    faults = case_faults(rules, sample_type, data.answers, data.attributes)
    if faults:
        raise InvalidInput(
            f"Case {case_ref}: " + "; ".join(message for _, message in faults) + ".",
            [FieldError(field=f"body.{where}", message=message) for where, message in faults],
        )
    held = case.assessment
    check_precondition(f"assessment of case {case_ref}", held.version if held else None, if_match)

    now = utcnow()
    if held is None:
        held = CaseAssessment(
            inspection_id=inspection.id,
            sampled_case_id=case.sampled_case.id,
            case_ref=case.sampled_case.case_ref,
            sample_type=sample_type,
            answers=dict(data.answers),
            attributes=dict(data.attributes),
            evidence_note=data.evidence_note,
            created_at=now,
            created_by=actor.id,
            updated_at=now,
            updated_by=actor.id,
        )
        session.add(held)
        try:
            await session.flush()
        except IntegrityError as error:
            raise _changed_meanwhile(f"assessment of case {case_ref}") from error
        return read_assessment(held, case.sampled_case.status, rules), True

    changed = False
    for name, value in (
        ("answers", dict(data.answers)),
        ("attributes", dict(data.attributes)),
        ("evidence_note", data.evidence_note),
    ):
        if getattr(held, name) != value:
            setattr(held, name, value)
            changed = True
    if changed:
        held.updated_at, held.updated_by = now, actor.id
        try:
            await session.flush()
        except StaleDataError as error:
            raise _changed_meanwhile(f"assessment of case {case_ref}") from error
    return read_assessment(held, case.sampled_case.status, rules), False


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
) -> tuple[list[CaseAssessmentRead], str | None]:
    """One page of the inspection's assessments in (sample type, case reference) order."""
    inspection = await get_inspection(session, inspection_id)
    rules = await assessment_rules(session, inspection)
    statement = (
        select(CaseAssessment, SampledCase.status)
        .join(SampledCase, SampledCase.id == CaseAssessment.sampled_case_id)
        .where(CaseAssessment.inspection_id == inspection.id)
    )
    if query.sample_type is not None:
        if rules.sample(query.sample_type) is None:
            raise InvalidInput(
                f"Inspection {inspection.id}: {rules.unknown_sample_type(query.sample_type)}.",
                [FieldError(field="query.sample_type", message=rules.unknown_sample_type(query.sample_type))],
            )
        statement = statement.where(CaseAssessment.sample_type == query.sample_type)
    completeness = _completeness(rules, query)
    if completeness is not None:
        statement = statement.where(completeness)
    if query.cursor is not None:
        after = decode_cursor(query.cursor, 3)
        if not all(isinstance(part, str) for part in after):
            raise InvalidInput(
                "The cursor is not one this list issued.",
                [FieldError(field="query.cursor", message="not a cursor from this list")],
            )
        after_type, after_ref, after_id = after
        try:
            after_uuid = uuid.UUID(after_id)
        except ValueError:
            raise InvalidInput(
                "The cursor is not one this list issued.",
                [FieldError(field="query.cursor", message="not a cursor from this list")],
            ) from None
        statement = statement.where(
            or_(
                CaseAssessment.sample_type > after_type,
                and_(CaseAssessment.sample_type == after_type, CaseAssessment.case_ref > after_ref),
                and_(
                    CaseAssessment.sample_type == after_type,
                    CaseAssessment.case_ref == after_ref,
                    CaseAssessment.id > after_uuid,
                ),
            )
        )
    rows = (
        await session.execute(
            statement.order_by(CaseAssessment.sample_type, CaseAssessment.case_ref, CaseAssessment.id).limit(
                query.limit + 1
            )
        )
    ).all()
    items = [read_assessment(assessment, status, rules) for assessment, status in rows[: query.limit]]
    if len(rows) > query.limit:
        last = rows[query.limit - 1][0]
        return items, encode_cursor([last.sample_type, last.case_ref, str(last.id)])
    return items, None


# --- domain-one judgements ---------------------------------------------------------------------------


def judged_standard(framework: Framework, standard_id: str) -> Standard:
    """The judged standard of this id, or a 422 naming it: unknown and case-based standards are not judged."""
    standard = framework.standard(standard_id)
    if standard is None:
        message = f"no standard {standard_id} in framework {framework.id}"
    elif standard.kind != "judged":
        message = (
            f"standard {standard_id} ({standard.name}) is case-based: it is rated from case answers, not "
            "judged by inspectors"
        )
    else:
        return standard
    judged = ", ".join(s.id for s in framework.standards() if s.kind == "judged")
    raise InvalidInput(
        f"Only judged standards take a judgement ({framework.id}: {judged}); {message}.",
        [FieldError(field="path.standard_id", message=message)],
    )


def _read_judgement(judgement: Judgement, standard: Standard) -> JudgementRead:
    return JudgementRead(
        inspection_id=judgement.inspection_id,
        standard_id=judgement.standard_id,
        standard_name=standard.name,
        rating=judgement.rating,  # type: ignore[arg-type]
        evidence_summary=judgement.evidence_summary,
        version=judgement.version,
        created_at=judgement.created_at,
        created_by=judgement.created_by,
        updated_at=judgement.updated_at,
        updated_by=judgement.updated_by,
    )


async def _held_judgement(session: AsyncSession, inspection_id: uuid.UUID, standard_id: str) -> Judgement | None:
    return await session.scalar(
        select(Judgement).where(Judgement.inspection_id == inspection_id, Judgement.standard_id == standard_id)
    )


async def get_judgement(session: AsyncSession, inspection_id: uuid.UUID, standard_id: str) -> JudgementRead:
    inspection = await get_inspection(session, inspection_id)
    standard = judged_standard(await pinned_framework(session, inspection), standard_id)
    judgement = await _held_judgement(session, inspection.id, standard_id)
    if judgement is None:
        raise NotFound(f"Standard {standard_id} of inspection {inspection.id} has not been judged yet.")
    return _read_judgement(judgement, standard)


async def put_judgement(
    session: AsyncSession,
    inspection_id: uuid.UUID,
    standard_id: str,
    data: JudgementWrite,
    if_match: str | None,
    actor: Actor,
) -> tuple[JudgementRead, bool]:
    """Record the inspectors' judgement of a judged standard. Returns it and whether it was created."""
    inspection = await inspection_for_recording(session, inspection_id)
    standard = judged_standard(await pinned_framework(session, inspection), standard_id)
    held = await _held_judgement(session, inspection.id, standard_id)
    what = f"judgement of standard {standard_id}"
    check_precondition(what, held.version if held else None, if_match)
    now = utcnow()
    if held is None:
        held = Judgement(
            inspection_id=inspection.id,
            standard_id=standard_id,
            rating=data.rating,
            evidence_summary=data.evidence_summary,
            created_at=now,
            created_by=actor.id,
            updated_at=now,
            updated_by=actor.id,
        )
        session.add(held)
        try:
            await session.flush()
        except IntegrityError as error:
            raise _changed_meanwhile(what) from error
        return _read_judgement(held, standard), True
    if (held.rating, held.evidence_summary) != (data.rating, data.evidence_summary):
        held.rating, held.evidence_summary = data.rating, data.evidence_summary
        held.updated_at, held.updated_by = now, actor.id
        try:
            await session.flush()
        except StaleDataError as error:
            raise _changed_meanwhile(what) from error
    return _read_judgement(held, standard), False


async def list_judgements(session: AsyncSession, inspection_id: uuid.UUID) -> JudgementList:
    inspection = await get_inspection(session, inspection_id)
    framework = await pinned_framework(session, inspection)
    judged = [s for s in framework.standards() if s.kind == "judged"]
    held = {
        j.standard_id: j
        for j in (await session.scalars(select(Judgement).where(Judgement.inspection_id == inspection.id))).all()
    }
    return JudgementList(
        items=[_read_judgement(held[s.id], s) for s in judged if s.id in held],
        next_cursor=None,
        missing=[JudgedStandard(standard_id=s.id, name=s.name, scored=s.scored) for s in judged if s.id not in held],
    )
