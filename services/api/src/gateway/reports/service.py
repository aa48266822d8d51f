"""The report of an inspection, assembled from what each domain holds: the inspection and its unit (the
summaries' head), the pinned framework, the ratings of the snapshot reported, the samples and their
substitutions, the judgements and the voice of people under supervision beside them. `assemble` is the pure core; `build_report` gathers its inputs in a
fixed handful of queries whatever the size of the inspection.

Who reads a report: a published one, anyone holding `reports:read` on the inspection's unit; a draft,
only those who may also see the inspection as a draft (`inspections.guards.sees`: its staff, not its
readers). Every other caller is answered 404, so a draft's existence does not leak.

No case reference is read for a report, and none is written into it: samples are read without their
cases, and a free text (a reason, an evidence summary) that names a case of the inspection's samples has
it replaced by `[case reference]`, told by its blind index without opening any reference.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import Actor
from gateway.assessments import repository as assessments
from gateway.casedata.sealing import blind_index
from gateway.caseloads import repository as caseloads
from gateway.caseloads.repository import SampleRecord, SubstitutionReason
from gateway.frameworks.service import get_framework
from gateway.inspections.guards import sees
from gateway.permissions import Permission, allows
from gateway.ratings import repository as ratings
from gateway.reports.schemas import (
    CaseStandard,
    Correction,
    JudgementLine,
    KeyQuestionRow,
    OverallRow,
    PduFindings,
    PduStandard,
    PublishedVersion,
    RatingsTable,
    Report,
    ReportFramework,
    ReportSnapshot,
    ReportUnit,
    SampleFigures,
    StandardRow,
    SubstitutionLine,
)
from gateway.summaries import repository as summaries
from gateway.summaries.repository import SummaryHead
from gateway.summaries.schemas import SampleCounts
from gateway.summaries.service import sample_counts
from gateway.units import repository as units
from gateway.voice.schemas import VoiceFigures
from gateway.voice.service import voice_figures
from inspection_shared.framework import Framework
from inspection_shared.precision import margin_achieved
from inspection_shared.problems import NotFound
from inspection_shared.rating import PooledRatingResult, RatingResult, StandardRating

MARGIN_CONFIDENCE = 0.80
"""The confidence the seed sets the precision of samples at, and so their achieved margin of error."""
CASE_REFERENCE = "[case reference]"
_WORD = re.compile(r"[^\s,;:()\[\]{}<>\"']+")
"""A run of text that could be a case reference: references hold no space and none of these marks."""


def reads_report(actor: Actor, unit_id: uuid.UUID, public: bool) -> bool:
    """Whether the actor may read the report of an inspection of this unit, public (`guards.is_public`:
    published, or withdrawn after publication) or not."""
    return allows(actor, Permission.REPORTS_READ, unit_id) and (public or sees(actor, unit_id, public))


async def published_version(session: AsyncSession, inspection_id: uuid.UUID) -> PublishedVersion | None:
    """The published version a report states (the latest) and every correction made to what was published,
    a withdrawal among them; None for an inspection never published. The one place reports learn of versions."""
    rows = (await ratings.published_versions(session, [inspection_id])).get(inspection_id, [])
    if not rows:
        return None
    return PublishedVersion(version=rows[-1][0].version, corrections=[
        Correction(version=v.version, kind=v.kind, made_at=v.created_at, reason=v.reason or "", changes=v.changes or {})
        for v, _, _ in rows if v.version > 1
    ])


def redactor(case_indexes: set[str]) -> Callable[[str], str]:
    """Replaces, in a free text, each word that is the reference of one of these cases (by blind index)."""

    def word(found: re.Match[str]) -> str:
        text = found.group()
        bare = text.rstrip(".")  # a reference at the end of a sentence
        return CASE_REFERENCE + text[len(bare):] if blind_index(bare) in case_indexes else text

    def redact(text: str) -> str:
        return _WORD.sub(word, text) if case_indexes else text

    return redact


# --- the pure core -----------------------------------------------------------------------------------


def _name(framework: Framework, standard_id: str) -> str:
    standard = framework.standard(standard_id)
    return standard.name if standard is not None else standard_id


def _unit(head: SummaryHead) -> ReportUnit:
    unit, parent = head.inspection.unit, head.parent
    region = unit if unit.type == "region" else parent if parent is not None and parent.type == "region" else None
    return ReportUnit(
        id=unit.id, code=unit.code, name=unit.name, type=unit.type, nation=unit.nation,
        region_code=region.code if region else None, region_name=region.name if region else None,
    )


def _ratings(result: RatingResult, framework: Framework, redact: Callable[[str], str]) -> RatingsTable:
    overall = result.overall
    return RatingsTable(
        standards=[
            StandardRow(
                standard=s.standard, name=s.name, kind=s.kind, scored=s.scored, status=s.status,
                computed_rating=s.computed_rating, rating=s.rating, rating_label=s.rating_label, points=s.points,
                overridden=s.overridden, override_reason=redact(s.override_reason) if s.override_reason else None,
            )
            for s in result.standards
        ],
        overall=OverallRow(
            status=overall.status, rating=overall.rating, rating_label=overall.rating_label, score=overall.score,
            max_score=overall.max_score, computed_rating=overall.computed_rating,
            computed_score=overall.computed_score, band=overall.band, bands=framework.rules.overall.bands,
            bands_provisional=overall.bands_provisional, bands_note=overall.bands_note,
        ),
        key_question_thresholds=framework.rules.key_question_thresholds,
    )


def _case_standard(rating: StandardRating, framework: Framework) -> CaseStandard:
    standard = framework.standard(rating.standard)
    texts = {kq.id: kq.text for kq in standard.key_questions} if standard else {}
    lifts = {move.key_question: move.cases for move in rating.move_up}
    can_move_up = rating.computed_rating not in (None, "outstanding")
    return CaseStandard(
        standard=rating.standard,
        name=rating.name,
        sample_type=standard.sample_type if standard else None,
        computed_rating=rating.computed_rating,
        rating=rating.rating,
        driver=rating.driver,
        borderline=rating.borderline,
        yes_to_lift=rating.cases_to_move_up,
        key_questions=[
            KeyQuestionRow(
                key_question=kq.key_question, text=texts.get(kq.key_question, ""), status=kq.status, yes=kq.yes,
                applicable=kq.applicable, percent=kq.percent, percent_rounded=kq.percent_rounded, band=kq.band,
                interval=kq.interval, crosses_band_edge=kq.crosses_band_edge,
                driver=kq.key_question == rating.driver,
                yes_to_lift=lifts.get(kq.key_question, 0) if can_move_up and kq.status == "rated" else None,
            )
            for kq in rating.key_questions
        ],
    )


def _pdus(
    units: dict[str, Any] | None,
    framework: Framework,
    names: Mapping[str, str],
    judgements: Sequence[Any],
    redact: Callable[[str], str],
) -> list[PduFindings]:
    """Each PDU's findings: the engine's figures of its own cases (from the snapshot's pooled answer) and
    its domain-one judgements (`judgements` carry the PDU's code as `unit`)."""
    pooled = PooledRatingResult.model_validate(units) if units else None
    judged: dict[str, list[Any]] = {}
    for j in judgements:
        judged.setdefault(j.unit, []).append(j)
    order = {s.id: position for position, s in enumerate(framework.standards())}
    codes = sorted({*(pooled.units if pooled else ()), *judged})
    findings = []
    for code in codes:
        standards = []
        for rating in pooled.standards if pooled else ():
            figures = next((u for u in rating.units if u.unit == code), None)
            if figures is None:
                continue
            standard = framework.standard(rating.standard)
            texts = {kq.id: kq.text for kq in standard.key_questions} if standard else {}
            standards.append(PduStandard(
                standard=rating.standard, name=rating.name, computed_rating=figures.computed_rating,
                driver=figures.driver, cases=figures.cases,
                key_questions=[
                    KeyQuestionRow(
                        key_question=kq.key_question, text=texts.get(kq.key_question, ""), status=kq.status,
                        yes=kq.yes, applicable=kq.applicable, percent=kq.percent, percent_rounded=kq.percent_rounded,
                        band=kq.band, interval=kq.interval, crosses_band_edge=kq.crosses_band_edge,
                        driver=kq.key_question == figures.driver, yes_to_lift=None,
                    )
                    for kq in figures.key_questions
                ],
            ))
        findings.append(PduFindings(
            unit=code, name=names.get(code, code), standards=standards,
            judgements=[
                JudgementLine(standard=j.standard_id, name=_name(framework, j.standard_id), rating=j.rating,
                              evidence_summary=redact(j.evidence_summary))
                for j in sorted(judged.get(code, []), key=lambda j: order.get(j.standard_id, len(order)))
            ],
        ))
    return findings


def _sample(record: SampleRecord, counts: SampleCounts | None, framework: Framework) -> SampleFigures:
    frame = record.frame or {}
    eligible = frame.get("eligible")
    assessed = counts.assessments_recorded if counts else 0
    names = {t.id: t.name for t in framework.sample_types}
    largest = record.largest_deviation
    return SampleFigures(
        sample_type=record.sample_type,
        name=names.get(record.sample_type, record.sample_type),
        drawn_at=record.drawn_at,
        frame_cases=record.frame_cases,
        eligible_cases=eligible,
        excluded=frame.get("excluded", []),
        sample_size=record.sample_size if record.sample_size is not None else (counts.drawn if counts else 0),
        in_sample=counts.in_sample if counts else 0,
        substitutions=counts.replaced if counts else 0,
        assessed=assessed,
        margin_of_error=(
            margin_achieved(assessed, eligible if eligible is not None else record.frame_cases, MARGIN_CONFIDENCE)
            if assessed else None
        ),
        confidence=MARGIN_CONFIDENCE,
        largest_deviation=largest["deviation"] if largest else None,
        balance=record.balance or [],
    )


def assemble(
    head: SummaryHead,
    framework: Framework,
    snapshot: Any | None,
    version: PublishedVersion | None,
    samples: Sequence[SampleRecord],
    counts: Sequence[SampleCounts],
    substitutions: Sequence[SubstitutionReason],
    judgements: Sequence[Any],
    redact: Callable[[str], str] = str,
    *,
    unit_names: Mapping[str, str] | None = None,
    unit_judgements: Sequence[Any] = (),
    voice: VoiceFigures | None = None,
) -> Report:
    """The report from what the domains hold: the inspection's head, its pinned framework, the rating
    snapshot reported (a row holding the engine's `RatingResult`, or None before the first run), the
    published version, the samples with their counts and substitutions, the judgements, and the voice of
    people under supervision; for an inspection of a region, the names of its PDUs by code and their
    domain-one judgements (each with the PDU's code as `unit`)."""
    inspection = head.inspection
    result = RatingResult.model_validate(snapshot.result) if snapshot is not None else None
    by_sample = {c.sample_id: c for c in counts}
    order = {s.id: position for position, s in enumerate(framework.standards())}
    return Report(
        inspection_id=inspection.id,
        title=inspection.title,
        type=inspection.type,
        phase=inspection.status,
        draft=version is None,
        published_at=inspection.published_at,
        fieldwork_start=inspection.fieldwork_start,
        fieldwork_end=inspection.fieldwork_end,
        unit=_unit(head),
        framework=ReportFramework(id=framework.id, version=head.framework_version, name=head.framework_name),
        snapshot=ReportSnapshot(
            id=snapshot.id, sequence=snapshot.sequence, kind=snapshot.kind, rules_version=snapshot.rules_version,
            input_fingerprint=snapshot.input_fingerprint, confidence=result.confidence, created_at=snapshot.created_at,
        ) if snapshot is not None and result is not None else None,
        published_version=version.version if version else None,
        corrections=[c.model_copy(update={"reason": redact(c.reason)}) for c in version.corrections] if version else [],
        ratings=_ratings(result, framework, redact) if result else None,
        case_standards=[_case_standard(s, framework) for s in result.standards if s.kind == "case"] if result else [],
        samples=[_sample(record, by_sample.get(record.sample_id), framework) for record in samples],
        substitutions=[
            SubstitutionLine(sample_type=s.sample_type, stratum=s.stratum, reason=redact(s.reason),
                             substituted_at=s.substituted_at)
            for s in substitutions
        ],
        judgements=[
            JudgementLine(standard=j.standard_id, name=_name(framework, j.standard_id), rating=j.rating,
                          evidence_summary=redact(j.evidence_summary))
            for j in sorted(judgements, key=lambda j: order.get(j.standard_id, len(order)))
        ],
        pdus=_pdus(getattr(snapshot, "units", None), framework, unit_names or {}, unit_judgements, redact),
        voice=voice or VoiceFigures(),
    )


# --- gathering ---------------------------------------------------------------------------------------


async def build_report(session: AsyncSession, inspection_id: uuid.UUID) -> Report:
    """The report of the inspection as it is now (whoever asks: the caller's right to it is checked on
    the report built, by `reads_report`)."""
    head = await summaries.summary_head(session, inspection_id)
    if head is None:
        raise NotFound(f"No inspection {inspection_id}")
    inspection = head.inspection
    framework = await get_framework(session, inspection.framework_id)
    pdus = await units.children(session, inspection.unit.id) if inspection.unit.type == "region" else []
    redact = redactor(await caseloads.case_ref_indexes(session, inspection_id))
    return assemble(
        head,
        framework,
        await ratings.latest_result(session, inspection_id),
        await published_version(session, inspection_id),
        await caseloads.sample_records(session, inspection_id),
        sample_counts(await caseloads.sample_tallies(session, inspection_id)),
        await caseloads.substitution_reasons(session, inspection_id),
        await assessments.judgements(session, inspection_id),
        redact,
        unit_names={u.code: u.name for u in pdus},
        unit_judgements=await assessments.unit_judgements(session, inspection_id) if pdus else (),
        voice=await voice_figures(session, inspection_id, redact),
    )
