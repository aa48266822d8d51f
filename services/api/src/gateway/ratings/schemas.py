"""Wire shapes of rating runs, panel decisions, regional ratings and a unit's ratings history.

The engine's own shapes (`RatingRequest`, `RatingResult`, `Override`, `PooledRatingResult`) are used as
they are: a snapshot carries exactly what the engine was sent and what it answered.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from gateway.assessments.schemas import AssessmentImportReport, CaseAssessmentImportItem, JudgementWrite
from gateway.inspections.lifecycle import InspectionStatus, InspectionType
from gateway.pagination import PageQuery
from inspection_shared.fields import Flag
from inspection_shared.framework import PublicationGates, Rating, StandardId
from inspection_shared.rating import (
    OverallRatingValue,
    Override,
    PooledRatingResult,
    RatingRequest,
    RatingResult,
    Reason,
)

SnapshotKind = Literal["run", "override", "correction"]
Basis = Literal["published", "current"]

_SNAPSHOT_EXAMPLE = {
    "id": "3a0c2f55-8d1e-4b8a-9f61-0c5b2e7d4a11",
    "inspection_id": "9b1d0e2a-57c4-4f0e-8e3a-6d2c1b0a9f88",
    "sequence": 2,
    "kind": "override",
    "based_on_id": "1f7e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
    "framework_id": "youth-2021",
    "framework_version": "2021.1",
    "rules_version": "1.0.0",
    "input_fingerprint": "5d41402abc4b2a76b9719d911017c592ae2b5f3d1e0c9a8b7f6e5d4c3b2a1908",
    "overall_rating": "good",
    "overall_score": 24,
    "max_score": 36,
    "reason": "2.2: The panel weighed the quality of the management oversight seen in interviews.",
    "panel_decisions": [
        {
            "standard": "2.2",
            "rating": "requires_improvement",
            "reason": "The panel weighed the quality of the management oversight seen in interviews.",
        }
    ],
    "carried_overrides": [],
    "created_at": "2026-03-27T10:15:00Z",
    "created_by": "system",
}


class RatingSnapshotSummary(BaseModel):
    """One entry of an inspection's ratings history."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SNAPSHOT_EXAMPLE]})

    id: uuid.UUID
    inspection_id: uuid.UUID
    sequence: int = Field(description="1 for the inspection's first snapshot, counting up.")
    kind: SnapshotKind = Field(
        description="run: the engine rated the evidence held; override: a ratings panel decision on top "
        "of the snapshot named by based_on_id; correction: a correction of the published ratings, on top of "
        "the snapshot named by based_on_id (see the inspection's published versions)."
    )
    based_on_id: uuid.UUID | None = Field(
        description="For an override, the snapshot decided on; for a run, the snapshot whose panel "
        "decisions it carried forward (null when there were none)."
    )
    framework_id: str
    framework_version: str
    rules_version: str = Field(description="Version of the engine's rating rules.")
    input_fingerprint: str = Field(description="The engine's fingerprint of the evidence rated.")
    overall_rating: OverallRatingValue
    overall_score: int | None
    max_score: int
    reason: str | None = Field(
        description="For an override, the panel's reasons; for a run, which panel decisions were carried "
        "forward and which could not be; for a correction, why it was made."
    )
    panel_decisions: list[Override] = Field(
        description="For an override or a correction: the decisions made in it (earlier ones still in force "
        "are in the request, not here). Empty for a run."
    )
    carried_overrides: list[Override] = Field(
        description="For a run: the panel decisions in force before it, applied again to the fresh "
        "computed ratings so that none is silently lost. Empty for an override."
    )
    created_at: datetime
    created_by: str


class RatingSnapshotRead(RatingSnapshotSummary):
    """A snapshot with the engine's whole answer: every standard's computed and final rating, its
    working out, and the overall score."""

    result: RatingResult


class RatingSnapshotRecord(RatingSnapshotRead):
    """A snapshot with the evidence exactly as the engine was sent it, so anyone can reproduce it."""

    request: RatingRequest

    @field_serializer("request", mode="wrap")
    def _as_sent(self, value: RatingRequest, handler):
        # As the engine's client sends it: unset fields are left out, not sent as null. No return
        # annotation, so that the documented schema stays RatingRequest's.
        return value.model_dump(mode="json", exclude_none=True)


RatingRunListQuery = PageQuery.sized(20, 100)


class PanelDecisionCreate(BaseModel):
    """A ratings panel's decisions: each sets a standard's rating away from the computed one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "overrides": [
                        {
                            "standard": "2.2",
                            "rating": "requires_improvement",
                            "reason": "The panel weighed the quality of the management oversight seen in interviews.",
                        }
                    ]
                }
            ]
        },
    )

    overrides: list[Override] = Field(
        min_length=1,
        max_length=50,
        description="One decision per standard, each with its written reason: a rating other than the computed "
        "one sets it; the computed rating confirms it; `not_rated` marks the standard not rated. A standard "
        "already decided takes the new decision; the other decisions in force are kept.",
    )


FrameworkIdParam = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class RegionalRatingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    framework_id: FrameworkIdParam = Field(description="The framework version whose inspections are pooled.")
    basis: Basis = Field(
        default="published",
        description="published: each unit's latest published inspection; current: each unit's latest "
        "inspection that is not withdrawn, published or not.",
    )


class UnitContribution(BaseModel):
    """What one unit of the region contributed to the pool."""

    unit_id: uuid.UUID
    unit_code: str = Field(description="The unit's code: how the pooled result's per-unit figures name it.")
    unit_name: str
    inspection_id: uuid.UUID
    inspection_status: str
    fieldwork_start: date | None
    published_at: datetime | None
    cases: int = Field(description="Assessed cases of the inspection's current samples sent to the pool.")
    pooled: bool = Field(description="False when the inspection had no case answers yet.")


class RegionalRating(BaseModel):
    """Case-based ratings of a region, from the pooled case answers of its units' inspections."""

    region_id: uuid.UUID
    region_code: str
    region_name: str
    framework_id: str
    basis: Basis
    contributions: list[UnitContribution] = Field(description="Each unit with an inspection, in code order.")
    units_without_inspection: list[str] = Field(
        description="Codes of the region's units with no inspection on this basis and framework."
    )
    pooled: PooledRatingResult = Field(
        description="The engine's answer: per case-based standard, the pooled key-question figures and "
        "rating, with each unit's own figures."
    )


# --- published versions and their corrections -------------------------------------------------------

PublicationKind = Literal["publication", "correction", "withdrawal"]
VersionQuery = Annotated[int | None, Query(ge=1, description="A published version (1: as first published); the "
                                                 "latest is the default.")]


class CorrectionCreate(BaseModel):
    """A correction of a published inspection: a new published version, with why and what changed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "The factual accuracy check found the vacancy figures were another PDU's.",
                    "judgements": {"1.2": {"rating": "good", "evidence_summary": "Vacancies were filled by March."}},
                },
                {
                    "reason": "Two cases were recorded against the wrong key question.",
                    "overrides": [{"standard": "2.3", "rating": "good", "reason": "The panel met again."}],
                    "case_answers": [
                        {"case_ref": "X123456", "sample_type": "case_supervision", "answers": {"2.2.1": "yes"}}
                    ],
                },
                {"reason": "The report was withdrawn on legal advice.", "withdraw": True},
            ]
        },
    )

    reason: Reason = Field(description="Why the correction is made. Required; shown with every version after it.")
    withdraw: Flag = Field(
        default=False, description="Withdraw the publication (with nothing else): it stays readable, marked withdrawn."
    )
    overrides: list[Override] = Field(
        default_factory=list,
        max_length=50,
        description="Ratings panel decisions, as on panel-decisions: a standard already overridden takes the new "
        "decision; the others in force are kept.",
    )
    judgements: dict[StandardId, JudgementWrite] = Field(
        default_factory=dict, max_length=50, description="Domain-one judgements as corrected, by judged standard."
    )
    case_answers: list[CaseAssessmentImportItem] = Field(
        default_factory=list,
        max_length=5000,
        description="Case answers as corrected, as the JSON items of an assessment import: what an item gives is "
        "set, what it leaves out keeps its value.",
    )


class RatingChange(BaseModel):
    standard: str
    before: Rating | None
    after: Rating | None


class OverallChange(BaseModel):
    rating_before: OverallRatingValue
    rating_after: OverallRatingValue
    score_before: int | None
    score_after: int | None


class OverrideChange(BaseModel):
    standard: str
    before: Override | None = Field(description="The panel decision in force before; null if none.")
    after: Override


class JudgedEvidence(BaseModel):
    rating: Rating
    evidence_summary: str | None


class JudgementChange(BaseModel):
    standard: str
    before: JudgedEvidence | None = Field(description="The judgement published before; null if none.")
    after: JudgedEvidence


class PublicationChanges(BaseModel):
    """What a correction changed from the version before it."""

    ratings: list[RatingChange] = Field(default_factory=list, description="Standards whose final rating changed.")
    overall: OverallChange | None = Field(default=None, description="The overall rating and score before and after.")
    overrides: list[OverrideChange] = Field(default_factory=list)
    judgements: list[JudgementChange] = Field(default_factory=list)
    case_answers: AssessmentImportReport | None = Field(
        default=None, description="How many case assessments the correction changed (no case reference)."
    )
    withdrawn: bool = False


class PublishedVersionRead(BaseModel):
    """One published version of an inspection: its publication, or a correction of it."""

    inspection_id: uuid.UUID
    version: int = Field(description="1 for the publication, counting up with each correction.")
    kind: PublicationKind
    snapshot_id: uuid.UUID = Field(description="The rating snapshot published; a withdrawal keeps the one before.")
    overall_rating: OverallRatingValue
    overall_score: int | None
    reason: str | None = Field(description="Why the correction was made; null for the publication.")
    changes: PublicationChanges | None = Field(description="What the correction changed; null for the publication.")
    created_at: datetime = Field(description="When it was published.")
    created_by: str = Field(description="Who published it.")


class CorrectionLine(BaseModel):
    """A correction made after publication, as summaries and histories show it."""

    version: int
    kind: Literal["correction", "withdrawal"]
    reason: str
    overall_rating: OverallRatingValue = Field(description="The overall rating of this version.")
    created_at: datetime
    created_by: str


PublishedVersionListQuery = PageQuery.sized(20, 100)


# --- a unit's ratings history ------------------------------------------------------------------------


class RatingsHistoryEntry(BaseModel):
    inspection_id: uuid.UUID
    type: InspectionType
    status: InspectionStatus
    title: str | None
    framework_id: str
    fieldwork_start: date | None
    fieldwork_end: date | None
    published_at: datetime | None
    rating_basis: Literal["published", "latest", "none"] = Field(
        description="published: the ratings it was published with; latest: its latest snapshot, not yet "
        "published; none: not rated (or withdrawn)."
    )
    overall_rating: OverallRatingValue | None
    overall_score: int | None
    max_score: int | None
    snapshot_id: uuid.UUID | None
    published_version: int | None = Field(description="The latest published version; null before publication.")
    corrected: bool = Field(description="Corrected (or withdrawn) after publication: see `corrections`.")
    corrections: list[CorrectionLine] = Field(description="Each correction after publication, oldest first.")


# --- readiness for publication -----------------------------------------------------------------------


class _Condition(BaseModel):
    """One condition of publication, met or not, with the figures it was judged on."""

    standard: str | None = Field(default=None, description="The standard it is about; null for the inspection.")
    met: bool
    message: str = Field(description="What is met, or what is missing and how to meet it.")


class FieldworkEnded(_Condition):
    condition: Literal["fieldwork_ended"] = "fieldwork_ended"
    fieldwork_end: date | None = Field(description="The last day of fieldwork.")
    today: date = Field(description="The day judged on (UTC): fieldwork must have ended before it.")


class RatingsHeld(_Condition):
    condition: Literal["rating_snapshot"] = "rating_snapshot"
    snapshot_sequence: int | None = Field(description="The snapshot publication would publish: the latest.")


class GatesStated(_Condition):
    condition: Literal["publication_gates"] = "publication_gates"
    framework_id: str


class FrameworkPublished(_Condition):
    """Listed only for an inspection under a draft framework version, and never met: a pilot under a draft
    is rated, but its ratings are never published."""

    condition: Literal["framework_published"] = "framework_published"
    framework_id: str
    framework_status: str


class StandardRated(_Condition):
    condition: Literal["standard_rated"] = "standard_rated"
    rating: Rating | None = Field(description="The rating publication would publish.")
    not_rated_by_panel: bool


class JudgementRecorded(_Condition):
    condition: Literal["judgement_recorded"] = "judgement_recorded"
    judged: bool = Field(description="The inspectors' judgement is in the ratings.")
    not_rated_by_panel: bool


class PduJudgementsRecorded(_Condition):
    """A region's inspection: each PDU rated beside the region has the inspectors' judgement of each judged
    standard of domain one, as the region has (domain one is judged at both levels)."""

    condition: Literal["pdu_judgements_recorded"] = "pdu_judgements_recorded"
    unit: str = Field(description="The PDU's code.")
    missing: list[str] = Field(description="Judged standards of domain one without the PDU's judgement.")


class SampleAnswered(_Condition):
    condition: Literal["sample_answered"] = "sample_answered"
    sample_type: str
    answered: int = Field(description="Cases answered (yes, no or not applicable) on its least answered key question.")
    sample: int = Field(
        description="Cases in its sample now, less those recorded as outside the standard's case filter."
    )
    share: float | None = Field(description="answered / sample; null without a sample.")
    minimum_share: float
    not_rated_by_panel: bool


class KeyQuestionApplicable(BaseModel):
    key_question: str
    applicable: int = Field(description="Cases answered yes or no.")


class ApplicableCases(_Condition):
    condition: Literal["applicable_cases"] = "applicable_cases"
    key_questions: list[KeyQuestionApplicable]
    minimum_applicable: int = Field(description="Fewer applicable cases on any key question: the panel decides.")
    decided_by_panel: bool = Field(
        description="A ratings panel decision with its reason is in force on the standard: its rating "
        "confirmed, set, or withheld."
    )


PublicationCondition = Annotated[
    FrameworkPublished | FieldworkEnded | RatingsHeld | GatesStated | StandardRated | JudgementRecorded
    | PduJudgementsRecorded | SampleAnswered | ApplicableCases,
    Field(discriminator="condition"),
]


class Readiness(BaseModel):
    """What publication of the inspection requires, each condition met or not, with its figures."""

    inspection_id: uuid.UUID
    status: InspectionStatus
    framework_id: str
    requires: PublicationGates | None = Field(description="The framework version's publication gates.")
    snapshot_sequence: int | None = Field(description="The latest rating snapshot, which the figures are of.")
    ready: bool = Field(description="Every condition is met: the inspection may move to `published`.")
    unmet: int
    conditions: list[PublicationCondition] = Field(
        description="The inspection's conditions first, then each standard's in the framework's order."
    )
