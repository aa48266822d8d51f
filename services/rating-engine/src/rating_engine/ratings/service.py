"""The rating rules (domain.md section 3), applied to one inspection's evidence, with the working shown.

Plain functions over plain data: a framework (its rules are data) and the evidence in, explained ratings
out as plain dicts in the shapes of `inspection_shared.rating` (`RatingResult`, `StandardRating`, ...).
Nothing here knows about HTTP; the router parses, calls `rate` and writes what it gives as JSON. The
results are dicts rather than model instances because a pooled national request makes thousands of
key-question figures, and building models for them cost more than all of the rating; the tests hold every
result to the wire models.

- A case-based standard takes the band of its lowest key question; each key question is banded on the
  exact fraction of applicable cases answered yes; not-applicable answers leave the denominator.
- A key question with no applicable cases is reported as such and the standard rests on the others.
- An outcome standard takes the band of its share of applicable cases with progress on the framework's
  outcome thresholds (`outcomes`), and is rated from case answers only.
- A judged standard takes the inspectors' rating; any standard may be sent a rating decided elsewhere.
- A panel decision sets the final rating (the computed one, confirmed, or another) or withholds it
  (`not_rated`), and keeps the computed one and the reason.
- The overall score sums the points of the scored standards and is banded by the framework's score
  bands; if a scored standard has no rating, the overall is `not_rated`, with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspection_shared.framework import CaseFilter, Framework, Rating, Standard
from inspection_shared.rating import NOT_RATED, Override, RatingRequest, StandardEvidence
from inspection_shared.wording import counted
from rating_engine.errors import RatingInputError
from rating_engine.frameworks.service import ResolvedFramework
from rating_engine.ratings.bands import Thresholds
from rating_engine.ratings.evidence import (
    Faults,
    StandardTally,
    filter_attributes,
    tally_cases,
    tally_counts,
)
from rating_engine.ratings.fingerprint import rating_fingerprint
from rating_engine.ratings.outcomes import outcome_standard_working
from rating_engine.ratings.working import CaseStandardWorking, case_standard_working

RULES_VERSION = "1.0.0"
"""Version of the engine's reading of the rules. Raise it whenever any rating could come out differently."""

Json = dict[str, Any]


@dataclass(frozen=True)
class Rules:
    """A framework's rating rules, read once per request into the forms the rating needs."""

    framework: Framework
    thresholds: Thresholds
    labels: dict[str, str]
    points: dict[str, int]
    outcome_thresholds: Thresholds | None = None
    outcomes_provisional: bool = False

    @classmethod
    def of(cls, framework: Framework) -> Rules:
        rules = framework.rules
        outcome = rules.outcome_thresholds
        return cls(
            framework=framework,
            thresholds=Thresholds.of(rules.key_question_thresholds),
            labels={p.rating: p.label for p in rules.scale},
            points={p.rating: p.points for p in rules.scale},
            outcome_thresholds=Thresholds.of(outcome) if outcome is not None else None,
            outcomes_provisional=outcome is not None and outcome.provisional,
        )

    def working(self, standard: Standard, tally: StandardTally, confidence: float) -> CaseStandardWorking:
        """What the rules make of a case-based standard's tallies: an outcome standard's on its share of
        cases with progress, any other's on its lowest key question."""
        if standard.answer_scale == "outcome":
            assert self.outcome_thresholds is not None  # the library refuses an outcome standard without them
            return outcome_standard_working(tally, self.outcome_thresholds, self.outcomes_provisional, confidence)
        return case_standard_working(tally, self.thresholds, confidence)


def standard_rating(
    rules: Rules,
    standard: Standard,
    *,
    tally: StandardTally | None = None,
    given_rating: Rating | None = None,
    override: Override | None = None,
    confidence: float = 0.80,
) -> Json:
    """One standard's rating with its working (a `StandardRating`): computed and final rating, points,
    driver, key-question figures, whether borderline, and how far from moving a band.

    The evidence is the tally of its cases or counts, or a rating given as input; with neither, the
    standard has no evidence and no rating.
    """
    labels = rules.labels
    working: CaseStandardWorking | None = None
    if tally is not None:
        working = rules.working(standard, tally, confidence)
        computed = working.rating
        evidence, status, explanation = tally.evidence, "rated" if computed else "no_applicable_cases", working.explanation
    elif given_rating is not None:
        computed = given_rating
        evidence, status = "rating", "rated"
        explanation = (
            f"Rated {labels[computed]} by the inspectors' judgement."
            if standard.kind == "judged"
            else f"Rating {labels[computed]} given as input; no key-question figures were sent."
        )
    else:
        computed = None
        evidence, status, explanation = "none", "no_evidence", "No evidence was sent for this standard."

    final = computed
    if override is not None and override.rating == NOT_RATED:
        final = None
        explanation += " The ratings panel marked it not rated."
    elif override is not None and override.rating == computed:
        explanation += f" The ratings panel confirmed {labels[computed]}."
    elif override is not None:
        final = override.rating
        explanation += f" The ratings panel set {labels[override.rating]} instead."
    driver = working.driver if working else None
    return {
        "standard": standard.id,
        "name": standard.name,
        "kind": standard.kind,
        "scored": standard.scored,
        "evidence": evidence,
        "status": status,
        "computed_rating": computed,
        "rating": final,
        "rating_label": labels[final] if final else None,
        "overridden": override is not None,
        "override_reason": override.reason if override else None,
        "points": rules.points[final] if final and standard.scored else None,
        "driver": driver["key_question"] if driver else None,
        "confidence": confidence if tally is not None else None,
        "cases": tally.cases if tally is not None else None,
        "cases_selected": tally.cases_selected if tally is not None else None,
        "key_questions": working.figures if working else [],
        "progress": working.progress if working else None,
        "borderline": working.borderline if working else None,
        "cases_to_move_up": working.cases_to_move_up if working else None,
        "cases_to_move_down": working.cases_to_move_down if working else None,
        "move_up": working.move_up if working else [],
        "move_down": working.move_down if working else None,
        "explanation": explanation,
        "notes": working.notes if working else [],
    }


# ----------------------------------------------------------------------------------------------------------
# Overall


def _edge(band: Any) -> Json | None:
    return {"rating": band.rating, "min": band.min, "max": band.max} if band else None


def band_for_score(framework: Framework, score: int) -> Rating:
    """The overall rating the framework's score bands give a score."""
    for band in framework.rules.overall.bands:
        if band.min <= score <= band.max:
            return band.rating
    raise ValueError(f"score {score} is in no band of {framework.id}")


def _why_unrated(standard: Json) -> str:
    if standard["overridden"]:
        return "was marked not rated by the ratings panel"
    if standard["status"] == "no_evidence":
        return "has no evidence"
    return "had no applicable cases on any key question"


def overall_rating(rules: Rules, standards: list[Json]) -> Json:
    """Sum the points of the scored standards and band the score (an `OverallRating`); not rated, with
    the reasons, if a scored standard has no rating."""
    framework = rules.framework
    overall = framework.rules.overall
    labels, points = rules.labels, rules.points
    scored = [s for s in standards if s["scored"]]
    missing = [s for s in scored if s["rating"] is None]
    rating: str = "not_rated"
    score = computed_score = band = above = below = None
    reasons = [f"scored standard {s['standard']} ({s['name']}) {_why_unrated(s)}" for s in missing]
    if missing:
        explanation = (f"Not rated: {len(missing)} of {counted(len(scored), 'scored standard')} "
                       f"{'has' if len(missing) == 1 else 'have'} no rating.")
    else:
        score = sum(points[s["rating"]] for s in scored)
        computed_score = sum(points[s["computed_rating"]] for s in scored)
        rating = band_for_score(framework, score)
        band = next(b for b in overall.bands if b.rating == rating)
        above = next((b for b in overall.bands if b.min == band.max + 1), None)
        below = next((b for b in overall.bands if b.max == band.min - 1), None)
        explanation = f"{labels[rating]}: score {score}/{overall.max_score}, in the band {band.min}-{band.max}."
        if overall.provisional:
            explanation += " The score bands of this framework are provisional."
    return {
        "status": "not_rated" if missing else "rated",
        "rating": rating,
        "rating_label": labels.get(rating),
        "score": score,
        "max_score": overall.max_score,
        "band": _edge(band),
        "band_above": _edge(above),
        "band_below": _edge(below),
        "points_to_move_up": above.min - score if above and score is not None else None,
        "points_to_move_down": score - band.min + 1 if below and band and score is not None else None,
        "computed_score": computed_score,
        "computed_rating": band_for_score(framework, computed_score) if computed_score is not None else "not_rated",
        "scored_standards": len(scored),
        "bands_provisional": overall.provisional,
        "bands_note": overall.note,
        "reasons": reasons,
        "explanation": explanation,
    }


# ----------------------------------------------------------------------------------------------------------
# One inspection


def collect_evidence(
    framework: Framework,
    entries: list[StandardEvidence],
    where: str,
    faults: Faults,
    *,
    allow_ratings: bool = True,
    extra_filter: CaseFilter | None = None,
) -> dict[str, tuple[StandardEvidence, StandardTally | None]]:
    """Check each entry against the framework and tally its cases or counts, by standard id."""
    standards = {s.id: s for s in framework.standards()}
    allowed_attributes = filter_attributes(framework, extra_filter)
    found: dict[str, tuple[StandardEvidence, StandardTally | None]] = {}
    for i, entry in enumerate(entries):
        at = f"{where}.{i}"
        standard = standards.get(entry.standard)
        if standard is None:
            faults.add(
                f"{at}.standard",
                f"framework {framework.id} has no standard {entry.standard}; it has {', '.join(standards)}",
            )
            continue
        if entry.standard in found:
            faults.add(f"{at}.standard", f"standard {entry.standard} is given more than once")
            continue
        tally: StandardTally | None = None
        if entry.rating is not None:
            if not allow_ratings:
                faults.add(f"{at}.rating", "pooling takes case answers or counts, not ratings")
        elif standard.kind == "judged":
            faults.add(at, f"standard {standard.id} is judged: send the inspectors' rating, not cases or counts")
        elif entry.cases is not None:
            tally = tally_cases(standard, entry.cases, f"{at}.cases", faults, allowed_attributes, extra_filter)
        elif entry.counts is not None and standard.answer_scale == "outcome":
            faults.add(
                f"{at}.counts",
                f"standard {standard.id} is an outcome standard, rated on the cases with progress: send its "
                "case answers, which counts cannot stand for",
            )
        elif entry.counts is not None:
            if extra_filter is not None:
                faults.add(f"{at}.counts", "a pooled case filter needs case answers; counts cannot be filtered")
            tally = tally_counts(standard, entry.counts, f"{at}.counts", faults)
        found[entry.standard] = (entry, tally)
    return found


def _has_evidence(item: tuple[StandardEvidence, StandardTally | None] | None) -> bool:
    if item is None:
        return False
    _, tally = item
    return tally is None or any(t.applicable for t in tally.key_questions.values())


def case_columns(evidence: dict[str, tuple[StandardEvidence, StandardTally | None]]) -> dict[str, Json]:
    """The canonical column form of each standard's cases, for the input fingerprint."""
    return {sid: t.columns.canonical() for sid, (_, t) in evidence.items() if t is not None and t.columns is not None}


def result_header(resolved: ResolvedFramework, input_fingerprint: str, confidence: float) -> Json:
    """What a result (one inspection's or pooled) was rated by and from: the framework version, its hash
    and source, the rules version, the input fingerprint and the confidence."""
    return {
        "framework_id": resolved.framework.id,
        "framework_version": resolved.framework.version,
        "framework_hash": resolved.hash,
        "framework_source": resolved.source,
        "rules_version": RULES_VERSION,
        "input_fingerprint": input_fingerprint,
        "confidence": confidence,
    }


def fault_summary(faults: Faults) -> str:
    first = faults[0]
    more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
    return f"{first.field}: {first.message}{more}"


def rate(resolved: ResolvedFramework, request: RatingRequest) -> Json:
    """Rate one inspection's evidence against a framework version, with the working shown (a `RatingResult`).

    Raises RatingInputError naming every fault: an unknown standard or key question, a standard given twice,
    yes above applicable, a case reference used twice in a standard, cases for a judged standard, an
    attribute no case filter reads, an override of an unknown or unevidenced standard or given twice.
    """
    framework = resolved.framework
    faults = Faults()
    evidence = collect_evidence(framework, request.standards, "body.standards", faults)
    overrides: dict[str, Override] = {}
    for i, override in enumerate(request.overrides):
        at = f"body.overrides.{i}"
        if framework.standard(override.standard) is None:
            faults.add(f"{at}.standard", f"framework {framework.id} has no standard {override.standard}")
        elif override.standard in overrides:
            faults.add(f"{at}.standard", f"standard {override.standard} is overridden more than once")
        elif override.rating != NOT_RATED and not _has_evidence(evidence.get(override.standard)):
            faults.add(
                f"{at}.standard",
                f"standard {override.standard} has no evidence to override; send its rating instead, or mark "
                "it not_rated",
            )
        else:
            overrides[override.standard] = override
    if faults:
        raise RatingInputError(fault_summary(faults), faults)

    rules = Rules.of(framework)
    standards = []
    for standard in framework.standards():
        entry, tally = evidence.get(standard.id, (None, None))
        standards.append(
            standard_rating(
                rules,
                standard,
                tally=tally,
                given_rating=entry.rating if entry else None,
                override=overrides.get(standard.id),
                confidence=entry.confidence if entry and entry.confidence is not None else request.confidence,
            )
        )
    fingerprint = rating_fingerprint(request, resolved.hash, case_columns(evidence))
    return {
        **result_header(resolved, fingerprint, request.confidence),
        "standards": standards,
        "overall": overall_rating(rules, standards),
    }
