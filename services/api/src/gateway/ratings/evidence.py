"""Assembling an inspection's evidence for the rating engine from what the inspectors recorded.

- A case-based standard is sent the case assessments of the current sampled cases of the sample its
  framework names: cases selected at the draw or brought in from the reserve list, never those replaced.
  Each case carries only its answers to that standard's key questions and only the case attributes that
  standard's case filter reads: the engine refuses any other attribute, and data protection asks for no
  more. Sampled cases not yet assessed are not sent.
- A judged standard is sent its judgement's rating and evidence summary.
- A standard with nothing recorded is left out. The engine then reports it as having no evidence and,
  if it is scored, the overall rating as not rated with that reason, rather than a guess.
- A correction of a published inspection is rated on the evidence it was published with, with the
  correction's judgements and case answers over it (`corrected_evidence`).

Nothing here rates anything: the gateway gathers, the engine rates.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import repository as assessments
from gateway.assessments.repository import AssessedCase
from inspection_shared.framework import Framework, Standard
from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.rating import StandardEvidence, UnitEvidence


class JudgedRecord(Protocol):
    """A judgement as the evidence reads it: one held, or one a correction gives."""

    @property
    def standard_id(self) -> str: ...
    @property
    def rating(self) -> str: ...
    @property
    def evidence_summary(self) -> str: ...


def _filter_attributes(standard: Standard) -> frozenset[str]:
    if standard.case_filter is None:
        return frozenset()
    return frozenset(c.attribute for c in standard.case_filter.conditions)


def _case_field(loc: tuple[Any, ...], case_refs: list[str]) -> str:
    """A fault's location in a standard's cases, named by the case's reference rather than its place."""
    parts = [str(p) for p in loc]
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int) and loc[1] < len(case_refs):
        return ".".join([f"case_assessments.{case_refs[loc[1]]}", *parts[2:]])
    return ".".join(["case_assessments", *parts])


def _validated(
    raw: dict[str, Any], field_of: Callable[[tuple[Any, ...]], str], faults: list[FieldError]
) -> StandardEvidence | None:
    try:
        return StandardEvidence.model_validate(raw)
    except ValidationError as invalid:
        for error in invalid.errors(include_url=False, include_input=False):
            faults.append(
                FieldError(field=field_of(error["loc"]), message=f"standard {raw['standard']}: {error['msg']}")
            )
        return None


def case_evidence(
    framework: Framework, cases: Iterable[AssessedCase], faults: list[FieldError]
) -> dict[str, StandardEvidence]:
    """Per case-based standard with at least one assessed case in its sample: its evidence."""
    by_sample: dict[str, list[AssessedCase]] = defaultdict(list)
    for case in cases:
        by_sample[case.sample_type].append(case)
    evidence: dict[str, StandardEvidence] = {}
    for standard in framework.standards():
        if standard.kind != "case" or not by_sample.get(standard.sample_type or ""):
            continue
        key_questions = [kq.id for kq in standard.key_questions]
        readable = _filter_attributes(standard)
        sent: list[dict[str, Any]] = []
        for case in by_sample[standard.sample_type or ""]:
            entry: dict[str, Any] = {
                "case_ref": case.case_ref,
                "answers": {kq: case.answers[kq] for kq in key_questions if kq in case.answers},
            }
            attributes = {name: case.attributes[name] for name in sorted(readable) if name in case.attributes}
            if attributes:
                entry["attributes"] = attributes
            sent.append(entry)
        refs = [c["case_ref"] for c in sent]
        validated = _validated(
            {"standard": standard.id, "cases": sent}, lambda loc, refs=refs: _case_field(loc, refs), faults
        )
        if validated is not None:
            evidence[standard.id] = validated
    return evidence


def judged_evidence(
    framework: Framework, judgements: Iterable[JudgedRecord], faults: list[FieldError]
) -> dict[str, StandardEvidence]:
    """Per judged standard with a judgement: the inspectors' rating and evidence summary."""
    held = {j.standard_id: j for j in judgements}
    evidence: dict[str, StandardEvidence] = {}
    for standard in framework.standards():
        judgement = held.get(standard.id)
        if standard.kind != "judged" or judgement is None:
            continue
        raw = {
            "standard": standard.id,
            "rating": judgement.rating,
            "evidence_summary": judgement.evidence_summary or None,
        }
        field = f"judgements.{standard.id}"
        validated = _validated(raw, lambda loc, field=field: ".".join([field, *map(str, loc)]), faults)
        if validated is not None:
            evidence[standard.id] = validated
    return evidence


def corrected_evidence(
    framework: Framework,
    published: list[StandardEvidence],
    cases: Iterable[AssessedCase],
    judgements: Iterable[JudgedRecord],
    faults: list[FieldError],
) -> list[StandardEvidence]:
    """The evidence a rating was published on, with a correction's judgements and case answers over it,
    in the framework's order of standards.

    Each case-based standard assessed on a sample with a corrected case is sent again: the sample's cases
    as they were sent (their answers and attributes gathered across the standards assessed on it), each
    corrected case's answers and attributes set over them, as an import sets them. Evidence purged under
    retention (counts, no cases) cannot take a corrected case.
    """
    cases = list(cases)
    by_standard = {e.standard: e for e in published}
    corrected_samples = {c.sample_type for c in cases}
    gathered: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for standard in framework.standards():
        evidence = by_standard.get(standard.id)
        if standard.kind != "case" or standard.sample_type not in corrected_samples or evidence is None:
            continue
        if evidence.cases is None:
            faults.append(
                FieldError(
                    field="body.case_answers",
                    message=f"the cases rated for standard {standard.id} were removed under retention; its case "
                    "answers can no longer be corrected",
                )
            )
            continue
        for case in evidence.cases:
            answers, attributes = gathered.setdefault((standard.sample_type, case["case_ref"]), ({}, {}))
            answers.update(case["answers"])
            attributes.update(case.get("attributes", {}))
    for case in cases:
        answers, attributes = gathered.setdefault((case.sample_type, case.case_ref), ({}, {}))
        answers.update(case.answers)
        attributes.update(case.attributes)
    resent = [AssessedCase(ref, sample_type, *held) for (sample_type, ref), held in sorted(gathered.items())]
    by_standard.update(case_evidence(framework, resent, faults))
    by_standard.update(judged_evidence(framework, judgements, faults))
    return [by_standard[s.id] for s in framework.standards() if s.id in by_standard]


def refuse(faults: list[FieldError]) -> InvalidInput:
    first = faults[0]
    more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
    return InvalidInput(
        f"The evidence recorded cannot be sent for rating; correct it and run again. "
        f"{first.field}: {first.message}{more}",
        faults,
    )


async def inspection_evidence(
    session: AsyncSession, inspection_id: uuid.UUID, framework: Framework
) -> list[StandardEvidence]:
    """The inspection's evidence in the framework's order of standards, as the engine takes it."""
    faults: list[FieldError] = []
    cases = (await assessments.assessed_cases(session, [inspection_id])).get(inspection_id, [])
    by_case = case_evidence(framework, cases, faults)
    by_judgement = judged_evidence(framework, await assessments.judgements(session, inspection_id), faults)
    if faults:
        raise refuse(faults)
    ordered: list[StandardEvidence] = []
    for standard in framework.standards():
        if standard.id in by_case:
            ordered.append(by_case[standard.id])
        elif standard.id in by_judgement:
            ordered.append(by_judgement[standard.id])
    return ordered


def pooled_case_evidence(
    framework: Framework, cases: Iterable[AssessedCase], unit_code: str, faults: list[FieldError]
) -> tuple[list[StandardEvidence], int]:
    """One unit's case-based evidence for pooling, and how many assessed cases it sends; faults are
    named by the unit's code."""
    rated_samples = {s.sample_type for s in framework.standards() if s.kind == "case"}
    listed = [c for c in cases if c.sample_type in rated_samples]
    own: list[FieldError] = []
    by_case = case_evidence(framework, listed, own)
    faults.extend(
        FieldError(field=f"units.{unit_code}.{fault.field}", message=fault.message) for fault in own
    )
    return list(by_case.values()), len({(c.sample_type, c.case_ref) for c in listed})


async def unit_evidence(session: AsyncSession, inspection_id: uuid.UUID, framework: Framework) -> list[UnitEvidence]:
    """The case-based evidence of each unit the inspection's cases were sampled in (the PDUs of a region's
    inspection), for the engine to pool: the region's figures are the pooled ones, each PDU's beside them."""
    by_unit: dict[str, list[AssessedCase]] = defaultdict(list)
    for case in (await assessments.assessed_cases(session, [inspection_id])).get(inspection_id, []):
        if case.unit is not None:
            by_unit[case.unit].append(case)
    faults: list[FieldError] = []
    found: list[UnitEvidence] = []
    for unit in sorted(by_unit):
        standards, _ = pooled_case_evidence(framework, by_unit[unit], unit, faults)
        if standards:
            found.append(UnitEvidence(unit=unit, standards=standards))
    if faults:
        raise refuse(faults)
    return found
