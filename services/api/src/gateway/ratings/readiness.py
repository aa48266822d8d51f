"""What publication requires, condition by condition. One pure function (`conditions`) answers both an
inspection's readiness and the check of its move into `published`, so a lead inspector is told exactly
what publication would be refused on, and publication is refused on every unmet condition at once.

The conditions, from the framework version's publication gates (`Framework.publication`, data) and the
inspection's dates; the figures are those of the latest rating snapshot (the ratings publication
publishes) beside the cases in each sample now:

- the framework version is published: an inspection under a draft (a pilot) is rated but never published,
  so never counted in statistics; this condition is listed, unmet, for such an inspection only;
- fieldwork has ended: its last day is before today;
- the inspection has been rated;
- each scored standard has a rating, or the ratings panel marked it not rated with a reason;
- each judged standard of domain one has the inspectors' judgement in the ratings, or is marked not rated;
  in a region's inspection, each PDU of the region in service has its own judgement of each of them too;
- each case-based standard has its sample answered (yes, no or not applicable) to the minimum share on
  each key question, unless it is marked not rated;
- each case-based standard with fewer applicable cases than the minimum on a key question has a ratings
  panel decision in force (its rating confirmed, set or withheld, with a reason). The rating rule itself
  is unchanged: the panel looks again, the rules do not.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import repository as assessments
from gateway.caseloads import repository as caseloads
from gateway.caseloads.schemas import IN_SAMPLE
from gateway.db import utcnow
from gateway.inspections.guards import get_inspection, pinned_framework
from gateway.permissions import Permission
from gateway.ratings import repository
from gateway.ratings.schemas import (
    ApplicableCases,
    FieldworkEnded,
    FrameworkPublished,
    GatesStated,
    JudgementRecorded,
    KeyQuestionApplicable,
    PduJudgementsRecorded,
    PublicationCondition,
    RatingsHeld,
    Readiness,
    SampleAnswered,
    StandardRated,
)
from gateway.units import repository as units
from inspection_shared.framework import Framework, PublicationGates, Standard
from inspection_shared.problems import Conflict
from inspection_shared.rating import RatingResult, StandardRating

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


@dataclass(frozen=True)
class Rated:
    """The ratings publication would publish: the latest snapshot's sequence and result."""

    sequence: int
    result: RatingResult
    pdus: tuple[str, ...] = ()
    """A region's inspection: the codes of the region's PDUs in service, each to be judged as the region is."""


def _label(standard: Standard) -> str:
    return f"{standard.id} {standard.name}"


def _percent(share: float) -> str:
    return f"{share * 100:g}%"


def _withheld(rating: StandardRating | None) -> bool:
    """Marked not rated by the ratings panel."""
    return rating is not None and rating.overridden and rating.rating is None


def _fieldwork(fieldwork_end: date | None, today: date) -> FieldworkEnded:
    if fieldwork_end is None:
        message = "No fieldwork dates are set: an inspection is published after its fieldwork has ended."
    elif fieldwork_end < today:
        message = f"Fieldwork ended on {fieldwork_end.isoformat()}."
    else:
        message = (
            f"Fieldwork ends on {fieldwork_end.isoformat()}: an inspection is published only after its fieldwork "
            "has ended."
        )
    met = fieldwork_end is not None and fieldwork_end < today
    return FieldworkEnded(met=met, message=message, fieldwork_end=fieldwork_end, today=today)


def _snapshot(rated: Rated | None) -> RatingsHeld:
    if rated is None:
        return RatingsHeld(
            met=False, snapshot_sequence=None,
            message="Not rated yet: an inspection is published with its ratings, so start a rating run first.",
        )
    return RatingsHeld(
        met=True, snapshot_sequence=rated.sequence,
        message=f"Rated: snapshot {rated.sequence} is the one publication would publish.",
    )


def _rated(standard: Standard, rating: StandardRating | None) -> StandardRated:
    if rating is not None and _withheld(rating):
        message = f"{_label(standard)} is marked not rated by the ratings panel: {rating.override_reason}"
    elif rating is not None and rating.rating is not None:
        message = f"{_label(standard)} is rated {rating.rating_label}."
    else:
        message = (
            f"{_label(standard)} has no rating: rate its evidence, or have the ratings panel mark it not rated "
            "with a reason."
        )
    final = rating.rating if rating is not None else None
    return StandardRated(
        standard=standard.id, met=final is not None or _withheld(rating), message=message, rating=final,
        not_rated_by_panel=_withheld(rating),
    )


def _judged(standard: Standard, rating: StandardRating | None) -> JudgementRecorded:
    judged = rating is not None and rating.evidence == "rating"
    if judged:
        message = f"{_label(standard)} is judged by the inspectors."
    elif _withheld(rating):
        message = f"{_label(standard)} is not judged, and marked not rated by the ratings panel."
    else:
        message = (
            f"{_label(standard)} has no inspectors' judgement in the ratings: record it and rate again, or have "
            "the ratings panel mark the standard not rated with a reason."
        )
    return JudgementRecorded(
        standard=standard.id, met=judged or _withheld(rating), message=message, judged=judged,
        not_rated_by_panel=_withheld(rating),
    )


def _answered(
    standard: Standard, rating: StandardRating | None, samples: Mapping[str, int], gates: PublicationGates
) -> SampleAnswered:
    sample_type = standard.sample_type or ""
    figures = rating.key_questions if rating is not None else []
    # Cases recorded as outside the standard's case filter are not its to answer.
    outside = (rating.cases or 0) - (rating.cases_selected or 0) if rating is not None else 0
    sample = max(samples.get(sample_type, 0) - outside, 0)
    answered = min((f.applicable + (f.not_applicable or 0) for f in figures), default=0)
    share = answered / sample if sample else None
    enough = sample > 0 and Fraction(answered, sample) >= Fraction(str(gates.minimum_answered_share))
    needed = _percent(gates.minimum_answered_share)
    if sample == 0:
        message = f"{_label(standard)}: its {sample_type} sample holds no cases"
    else:
        message = (
            f"{_label(standard)}: {answered} of {sample} cases of its {sample_type} sample answered on each key "
            f"question ({answered * 100 // sample}%)"
        )
    if _withheld(rating):
        message += "; it is marked not rated by the ratings panel."
    elif enough:
        message += f", at least {needed} needed."
    else:
        message += (
            f": at least {needed} are to be answered, or the ratings panel marks the standard not rated with a "
            "reason."
        )
    return SampleAnswered(
        standard=standard.id, met=enough or _withheld(rating), message=message, sample_type=sample_type,
        answered=answered, sample=sample, share=share, minimum_share=gates.minimum_answered_share,
        not_rated_by_panel=_withheld(rating),
    )


def _applicable(standard: Standard, rating: StandardRating | None, gates: PublicationGates) -> ApplicableCases:
    held = {f.key_question: f.applicable for f in rating.key_questions} if rating is not None else {}
    counts = [KeyQuestionApplicable(key_question=kq.id, applicable=held.get(kq.id, 0)) for kq in standard.key_questions]
    least = gates.minimum_applicable_cases
    short = [c for c in counts if c.applicable < least]
    decided = rating is not None and rating.overridden
    if not short:
        message = f"{_label(standard)}: every key question has at least {least} applicable cases."
    else:
        listed = ", ".join(f"{c.key_question} ({c.applicable})" for c in short)
        which = "key question" if len(short) == 1 else "key questions"
        verb = "has" if len(short) == 1 else "have"
        message = f"{_label(standard)}: {which} {listed} {verb} fewer than {least} applicable cases"
        message += (
            "; the ratings panel decided its rating with a reason."
            if decided
            else ": the ratings panel confirms (or sets) the standard's rating with a reason, or marks it not rated."
        )
    return ApplicableCases(
        standard=standard.id, met=not short or decided, message=message, key_questions=counts,
        minimum_applicable=least, decided_by_panel=decided,
    )


def _pdu_judged(framework: Framework, code: str, judged: set[str]) -> PduJudgementsRecorded:
    wanted = [s for d in framework.domains if d.number == 1 for s in d.standards if s.kind == "judged"]
    missing = [s.id for s in wanted if s.id not in judged]
    if missing:
        message = (
            f"PDU {code} has no judgement of {', '.join(missing)}: domain one is judged for each PDU of the region "
            "as for the region."
        )
    else:
        message = f"PDU {code} is judged on each standard of domain one."
    return PduJudgementsRecorded(unit=code, met=not missing, message=message, missing=missing)


def conditions(
    framework: Framework, rated: Rated | None, samples: Mapping[str, int], fieldwork_end: date | None, today: date,
    pdu_judgements: Mapping[str, set[str]] | None = None,
) -> list[PublicationCondition]:
    """Every condition of publication of an inspection under `framework`, met or not, with its figures.

    `rated`: the latest snapshot, if any; `samples`: cases in the sample now, by sample type;
    `pdu_judgements`: a region's inspection, the judged standards recorded for each PDU, by code.
    """
    found: list[PublicationCondition] = [_fieldwork(fieldwork_end, today), _snapshot(rated)]
    if framework.status != "published":
        found.insert(0, FrameworkPublished(
            met=False, framework_id=framework.id, framework_status=framework.status,
            message=f"Framework {framework.id} is a {framework.status}, for pilot inspections: ratings under a "
            f"{framework.status} framework are never published.",
        ))
    gates = framework.publication
    if gates is None:
        found.append(
            GatesStated(
                met=False, framework_id=framework.id,
                message=f"Framework {framework.id} states no publication gates, so nothing under it can be published.",
            )
        )
        return found
    ratings = {s.standard: s for s in rated.result.standards} if rated is not None else {}
    for domain in framework.domains:
        for standard in domain.standards:
            rating = ratings.get(standard.id)
            if standard.scored and gates.scored_standards_rated:
                found.append(_rated(standard, rating))
            if domain.number == 1 and standard.kind == "judged" and gates.judgements_recorded:
                found.append(_judged(standard, rating))
            if standard.kind == "case":
                found.append(_answered(standard, rating, samples, gates))
                found.append(_applicable(standard, rating, gates))
    if gates.judgements_recorded and rated is not None:
        found += [_pdu_judged(framework, code, (pdu_judgements or {}).get(code, set())) for code in rated.pdus]
    return found


# --- the inspection's readiness, and the refusal of publication --------------------------------------


async def _sample_sizes(session: AsyncSession, inspection_id: uuid.UUID) -> Counter[str]:
    sizes: Counter[str] = Counter()
    for tally in await caseloads.sample_tallies(session, inspection_id):
        if tally.case_status in IN_SAMPLE:
            sizes[tally.sample_type] += tally.cases
    return sizes


async def readiness(session: AsyncSession, inspection: Inspection) -> Readiness:
    """The inspection's conditions of publication, as they stand now."""
    framework = await pinned_framework(session, inspection)
    snapshot = await repository.latest_result(session, inspection.id)
    rated = None
    if snapshot is not None:
        # A region inspected PDU by PDU covers each of its PDUs in service, whether or not their cases were rated.
        day = inspection.fieldwork_start or utcnow().date()
        covered = await units.pdus_of(session, inspection.unit_id, day) if snapshot.units else []
        rated = Rated(snapshot.sequence, RatingResult.model_validate(snapshot.result), tuple(u.code for u in covered))
    judged: dict[str, set[str]] = {}
    for judgement in await assessments.unit_judgements(session, inspection.id) if rated and rated.pdus else ():
        judged.setdefault(judgement.unit, set()).add(judgement.standard_id)
    found = conditions(
        framework, rated, await _sample_sizes(session, inspection.id), inspection.fieldwork_end, utcnow().date(),
        judged,
    )
    unmet = sum(not c.met for c in found)
    return Readiness(
        inspection_id=inspection.id,
        status=inspection.status,
        framework_id=framework.id,
        requires=framework.publication,
        snapshot_sequence=rated.sequence if rated is not None else None,
        ready=unmet == 0,
        unmet=unmet,
        conditions=found,
    )


async def get_readiness(session: AsyncSession, inspection_id: uuid.UUID) -> Readiness:
    """The readiness of an inspection the session's actor may read."""
    return await readiness(session, await get_inspection(session, inspection_id, Permission.INSPECTIONS_READ))


async def ensure_ready(session: AsyncSession, inspection: Inspection) -> None:
    """Refuse publication with a 409 listing every unmet condition (`conditions`), if any is."""
    ready = await readiness(session, inspection)
    unmet = [c for c in ready.conditions if not c.met]
    if unmet:
        more = f" (and {len(unmet) - 1} more, listed in `conditions`)" if len(unmet) > 1 else ""
        never = isinstance(unmet[0], FrameworkPublished)  # no change to the inspection will meet it
        raise Conflict(
            f"Inspection {inspection.id} cannot be published{'' if never else ' yet'}: {unmet[0].message}{more}",
            status_of_inspection=inspection.status,
            conditions=[c.model_dump(mode="json") for c in unmet],
        )
