"""The report of an inspection: everything its published report states, in one aggregate that every
format (JSON, CSV, XLSX, HTML, PDF) is written from. No case reference is in it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from gateway.voice.schemas import VoiceFigures
from inspection_shared.framework import KeyQuestionThresholds, Rating, ScoreBand
from inspection_shared.rating import OverallRatingValue, ScoreBandEdge
from inspection_shared.sampling import BalanceRow, ExclusionCount


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"
    PDF = "pdf"


class ReportTable(StrEnum):
    """The report's tables, one per CSV request (`?table=`) and one sheet each in XLSX."""

    RATINGS = "ratings"
    KEY_QUESTIONS = "key_questions"
    SAMPLES = "samples"
    BALANCE = "balance"
    SUBSTITUTIONS = "substitutions"
    JUDGEMENTS = "judgements"
    PDUS = "pdus"
    VOICE = "voice"


class ReportUnit(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    type: str
    nation: str
    region_code: str | None = Field(description="The region the unit sits in (the unit itself for a region).")
    region_name: str | None


class ReportFramework(BaseModel):
    id: str
    version: str
    name: str


class ReportSnapshot(BaseModel):
    """The rating snapshot the report states."""

    id: uuid.UUID
    sequence: int
    kind: str
    rules_version: str = Field(description="Version of the rating engine's rules the snapshot was rated by.")
    input_fingerprint: str = Field(description="SHA-256 of the evidence rated: the same evidence, the same fingerprint.")
    confidence: float = Field(description="Confidence of the key-question intervals, 0.8 unless the inspection chose otherwise.")
    created_at: datetime


class Correction(BaseModel):
    """A correction of the published report, made openly as a new published version."""

    version: int = Field(description="The published version the correction made.")
    kind: Literal["correction", "withdrawal"]
    made_at: datetime
    reason: str
    changes: dict[str, Any] = Field(description="What changed: ratings, panel decisions, judgements.")


class PublishedVersion(BaseModel):
    version: int = Field(description="1 as first published, one more for each correction.")
    corrections: list[Correction]


class StandardRow(BaseModel):
    """A line of the ratings table."""

    standard: str
    name: str
    kind: Literal["case", "judged"]
    scored: bool
    status: str
    computed_rating: Rating | None
    rating: Rating | None = Field(description="The final rating: the panel's where it set one.")
    rating_label: str | None
    points: int | None = Field(description="Points the final rating adds to the score; null when not scored.")
    overridden: bool
    override_reason: str | None


class OverallRow(BaseModel):
    status: str
    rating: OverallRatingValue
    rating_label: str | None
    score: int | None
    max_score: int
    computed_rating: OverallRatingValue
    computed_score: int | None
    band: ScoreBandEdge | None = Field(description="The score band the score falls in.")
    bands: list[ScoreBand] = Field(description="The framework's score bands for the overall rating.")
    bands_provisional: bool
    bands_note: str


class RatingsTable(BaseModel):
    standards: list[StandardRow]
    overall: OverallRow
    key_question_thresholds: KeyQuestionThresholds = Field(
        description="Lowest percentage answered yes for each band of a key question (below the last: Inadequate)."
    )


class KeyQuestionRow(BaseModel):
    key_question: str
    text: str
    status: str
    yes: int
    applicable: int = Field(description="Cases answered yes or no; not-applicable cases are left out.")
    percent: float | None = Field(description="100 x yes / applicable, unrounded.")
    percent_rounded: int | None = Field(description="The whole percentage a report prints.")
    band: Rating | None
    interval: tuple[float, float] | None = Field(description="Wilson interval of the percentage, in percent.")
    crosses_band_edge: bool = Field(description="The interval reaches into another band.")
    driver: bool = Field(description="The key question with the lowest share, which set the standard's rating.")
    yes_to_lift: int | None = Field(
        description="More yes answers this key question needs for the standard to move up a band (0: it has them)."
    )


class CaseStandard(BaseModel):
    """A case-based standard's figures: each key question, the driver and how far it is from moving."""

    standard: str
    name: str
    sample_type: str | None
    computed_rating: Rating | None
    rating: Rating | None
    driver: str | None
    borderline: bool | None = Field(description="The driving key question's interval crosses a band edge.")
    yes_to_lift: int | None = Field(
        description="More yes answers (no to yes) that would have lifted the standard one band, counted over "
        "its key questions; null at Outstanding or when not rated."
    )
    key_questions: list[KeyQuestionRow]


class SampleFigures(BaseModel):
    """One sample type's frame, sample and the precision achieved."""

    sample_type: str
    name: str
    drawn_at: datetime
    frame_cases: int = Field(description="Cases in the caseload frame uploaded.")
    eligible_cases: int | None = Field(description="Cases in the frame after the window and the exclusions.")
    excluded: list[ExclusionCount] = Field(description="Cases each exclusion filter took out.")
    sample_size: int = Field(description="Cases drawn.")
    in_sample: int = Field(description="Cases to assess now: those drawn and still in, and reserves brought in.")
    substitutions: int
    assessed: int = Field(description="The achieved sample: cases in the sample with their answers recorded.")
    margin_of_error: float | None = Field(
        description="Margin of error (a proportion: 0.05 is 5 points) of a percentage from the achieved sample, at "
        "`confidence`, for a proportion of one half, corrected for the finite population of the eligible cases."
    )
    confidence: float
    largest_deviation: float | None = Field(description="The largest gap between a sample share and its frame share.")
    balance: list[BalanceRow] = Field(description="Each stratification variable's share in the frame and in the sample.")


class SubstitutionLine(BaseModel):
    sample_type: str
    stratum: str
    reason: str
    substituted_at: datetime


class JudgementLine(BaseModel):
    standard: str
    name: str
    rating: Rating
    evidence_summary: str


class PduStandard(BaseModel):
    """A case-based standard as one PDU's own cases rate it: its findings, beside the region's pooled rating."""

    standard: str
    name: str
    computed_rating: Rating | None = Field(description="The band the PDU's own cases give the standard.")
    driver: str | None
    cases: int | None = Field(description="The PDU's cases sent for the standard.")
    key_questions: list[KeyQuestionRow] = Field(description="The PDU's figures (yes_to_lift is the region's alone).")


class PduFindings(BaseModel):
    """One PDU of a regional inspection: the figures and ratings of its own cases, and its domain-one judgements."""

    unit: str = Field(description="The PDU's code.")
    name: str
    standards: list[PduStandard]
    judgements: list[JudgementLine] = Field(description="Domain one as judged for the PDU.")


class Report(BaseModel):
    """The structured content of an inspection's report."""

    inspection_id: uuid.UUID
    title: str | None
    type: str
    phase: str = Field(description="The inspection's status: planned, pre_fieldwork, fieldwork, rating, published ...")
    draft: bool = Field(description="Not published: the figures may still change. Marked in every format.")
    published_at: datetime | None
    fieldwork_start: date | None
    fieldwork_end: date | None
    unit: ReportUnit
    framework: ReportFramework
    snapshot: ReportSnapshot | None = Field(description="The rating snapshot reported; null before the first rating run.")
    published_version: int | None = Field(description="The published version reported; null for a draft.")
    corrections: list[Correction] = Field(description="Every correction made to what was published, oldest first.")
    ratings: RatingsTable | None
    case_standards: list[CaseStandard]
    samples: list[SampleFigures]
    substitutions: list[SubstitutionLine]
    judgements: list[JudgementLine] = Field(description="The inspectors' judgements of the judged standards.")
    pdus: list[PduFindings] = Field(
        default_factory=list,
        description="An inspection of a region: each PDU's findings beside the region's ratings, whose case-based "
        "standards pool every PDU's cases. Empty for any other inspection.",
    )
    voice: VoiceFigures = Field(
        default_factory=VoiceFigures,
        description="The evidence from people under supervision (survey counts, interview themes), each piece "
        "with the judged standards it informs.",
    )
