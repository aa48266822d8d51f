"""Wire shapes of the inspection summary: an inspection with its unit, framework, ratings table and
progress, in one document for dashboards and report generators."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.inspections.schemas import InspectionRead
from gateway.ratings.schemas import CorrectionLine
from inspection_shared.framework import Rating
from inspection_shared.rating import OverallRatingValue


class RegionBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str


class InspectedUnit(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    type: str
    nation: str
    region: RegionBrief | None = Field(
        description="The region the unit sits in (the unit itself for a region); null outside the regions."
    )


class PinnedFramework(BaseModel):
    id: str
    version: str
    name: str


class KeyQuestionLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_question: str
    status: str
    yes: int
    applicable: int
    percent: float | None = Field(description="Exact share of applicable cases answered yes, in percent.")
    percent_rounded: int | None = Field(description="The whole percentage a report prints.")
    band: Rating | None
    interval: tuple[float, float] | None


class StandardLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    standard: str
    name: str
    kind: Literal["case", "judged"]
    scored: bool
    status: str
    rating: Rating | None
    rating_label: str | None
    computed_rating: Rating | None
    overridden: bool
    override_reason: str | None
    points: int | None
    driver: str | None = Field(description="The key question with the lowest share, which set the rating.")
    borderline: bool | None
    key_questions: list[KeyQuestionLine]


class OverallLine(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    rating: OverallRatingValue
    rating_label: str | None
    score: int | None
    max_score: int
    computed_rating: OverallRatingValue
    computed_score: int | None
    bands_provisional: bool


class RatingsTable(BaseModel):
    snapshot_id: uuid.UUID
    sequence: int
    kind: str = Field(
        description="run: as the engine rated the evidence; override: after a panel decision; correction: as "
        "corrected after publication."
    )
    published: bool = Field(description="These ratings are a published version's (withdrawn since or not).")
    version: int | None = Field(description="The published version these ratings are; null before publication.")
    framework_version: str
    rules_version: str
    input_fingerprint: str
    created_at: datetime
    created_by: str
    standards: list[StandardLine]
    overall: OverallLine


class SampleCounts(BaseModel):
    sample_type: str
    sample_id: uuid.UUID
    drawn_at: datetime
    in_sample: int = Field(description="Cases to assess: those drawn and still in, plus reserves brought in.")
    drawn: int = Field(description="Cases drawn at first, replaced or not.")
    replaced: int = Field(description="Drawn cases taken out by a substitution.")
    reserves_used: int
    assessments_recorded: int = Field(description="Cases in the sample with their assessment recorded.")


class AssessmentProgress(BaseModel):
    recorded: int = Field(description="Assessments recorded for cases in the samples.")
    cases_sampled: int = Field(description="Cases in the samples.")


class JudgementProgress(BaseModel):
    recorded: int
    judged_standards: int = Field(description="Standards of the pinned framework that inspectors judge.")
    missing: list[str] = Field(description="Judged standards with no judgement yet.")


class PublicationRecord(BaseModel):
    """What was published, and every correction since: a summary of any version says there were some."""

    version: int = Field(description="The published version this summary shows.")
    latest_version: int
    published_at: datetime = Field(description="When version 1 was published.")
    corrected: bool = Field(description="Corrected (or withdrawn) after publication: see `corrections`.")
    withdrawn: bool = Field(description="The publication was withdrawn; it stays on the record.")
    corrections: list[CorrectionLine] = Field(
        description="Every correction after publication, oldest first (later ones too, in a summary of an "
        "earlier version): when, by whom and why."
    )


class PduKeyQuestion(BaseModel):
    key_question: str
    yes: int
    applicable: int
    percent_rounded: int | None


class PduStandardBrief(BaseModel):
    standard: str
    computed_rating: str | None = Field(description="The band the PDU's own cases give the standard.")
    key_questions: list[PduKeyQuestion]


class PduJudgementBrief(BaseModel):
    standard: str
    rating: str


class PduBrief(BaseModel):
    """One PDU of a region's inspection: its own cases' figures and ratings, and its domain-one judgements."""

    unit: str = Field(description="The PDU's code.")
    standards: list[PduStandardBrief]
    judgements: list[PduJudgementBrief]


class InspectionSummary(BaseModel):
    inspection: InspectionRead
    unit: InspectedUnit
    framework: PinnedFramework
    publication: PublicationRecord | None = Field(description="Null before publication.")
    ratings: RatingsTable | None = Field(
        description="From the latest rating snapshot (after publication, the latest published version's), or "
        "the version asked for; null before the first run."
    )
    samples: list[SampleCounts]
    assessments: AssessmentProgress
    judgements: JudgementProgress
    pdus: list[PduBrief] = Field(
        default_factory=list,
        description="An inspection of a region: each PDU's figures beside the region's ratings (whose case-based "
        "standards pool every PDU's cases); empty for any other inspection.",
    )
