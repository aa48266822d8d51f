"""Wire shapes of national and annual statistics: what is asked (the scope of inspections counted) and
the figures answered."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.ratings.schemas import FrameworkIdParam
from gateway.statistics.periods import ProgrammeYear
from gateway.units.rules import UnitType
from inspection_shared.framework import Programme


class StatisticsFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class StatisticsTable(StrEnum):
    """Which of an answer's two tables a CSV holds (a JSON answer holds both)."""

    FIGURES = "figures"
    CORRECTIONS = "corrections"


_YEAR = "A programme year, such as 2024-25: 1 April 2024 to 31 March 2025."


class StatisticsFilters(BaseModel):
    """Which published inspections are counted, besides the period."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    programme: Programme | None = Field(
        default=None, description="probation or youth: the programme of the framework inspected against."
    )
    framework_id: FrameworkIdParam | None = Field(default=None, description="One framework version only.")
    region_id: uuid.UUID | None = Field(default=None, description="The region's inspections and those of its units.")
    unit_type: UnitType | None = Field(default=None, description="Inspections of units of this type only.")
    format: StatisticsFormat | None = Field(
        default=None, description="json or csv; overrides Accept (text/csv for CSV).", examples=["csv"]
    )
    table: StatisticsTable = Field(
        default=StatisticsTable.FIGURES,
        description="For CSV, which table: figures (the default), or corrections (the corrected and withdrawn "
        "inspections in scope, one row each). A JSON answer holds both.",
    )


class StatisticsQuery(StatisticsFilters):
    """The filters and the period: a programme year, or a range of days (either end may be left open). An
    inspection is in the period its first day of fieldwork is in."""

    year: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}$", description=_YEAR + " Not with from or to.", examples=["2024-25"]
    )
    from_: date | None = Field(default=None, alias="from", description="First day of fieldwork on or after.")
    to: date | None = Field(default=None, description="First day of fieldwork on or before.")

    @field_validator("year")
    @classmethod
    def _a_programme_year(cls, value: str | None) -> str | None:
        return str(ProgrammeYear.parse(value)) if value is not None else None


class Scope(BaseModel):
    """What was counted: the filters and the period asked for."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    programme: Programme | None
    framework_id: str | None
    region_id: uuid.UUID | None
    unit_type: str | None
    year: str | None = Field(description="The programme year asked for, if one was.")
    from_: date | None = Field(alias="from", description="First day of the period (null: open).")
    to: date | None = Field(description="Last day of the period (null: open).")


class Amendment(BaseModel):
    """A published inspection in scope whose figures are of a version after the first: why it is counted
    as corrected, or why it is no longer counted."""

    inspection_id: uuid.UUID
    unit_code: str
    unit_name: str
    version: int = Field(description="The published version the figures are of (2 or more).")
    kind: Literal["correction", "withdrawal"]
    made_at: datetime = Field(description="When the version was published.")
    reason: str = Field(description="Why the correction or withdrawal was made, as its maker gave it.")


class Amended(BaseModel):
    """What an answer says of the inspections in its scope that were corrected or withdrawn."""

    corrected: int = Field(description="How many inspections counted are counted with a correction.")
    corrections: list[Amendment] = Field(
        description="The inspections counted whose figures are those of a correction (the latest), newest first."
    )
    withdrawn: list[Amendment] = Field(
        description="The inspections in scope withdrawn after publication, newest first: not counted."
    )


class RatingCounts(BaseModel):
    """How many inspections got each rating."""

    outstanding: int
    good: int
    requires_improvement: int
    inadequate: int
    not_rated: int = Field(description="Not rated: no evidence for a standard, or an overall left unrated.")


class StandardRatings(BaseModel):
    framework_id: str
    standard: str
    name: str | None
    inspections: int
    ratings: RatingCounts


class RatingStatistics(Amended):
    """Per standard (of each framework version) and overall, how many published inspections got each rating."""

    scope: Scope
    inspections: int
    overall: RatingCounts
    standards: list[StandardRatings]


class KeyQuestionStatistic(BaseModel):
    framework_id: str
    standard: str
    key_question: str
    text: str | None
    inspections: int = Field(description="Inspections with at least one case the key question applied to.")
    yes: int
    applicable: int = Field(description="Cases answered yes or no, pooled over the inspections.")
    percent: float | None = Field(description="100 x yes / applicable, unrounded; null without applicable cases.")
    interval: tuple[float, float] | None = Field(
        description="Wilson score interval of the percentage at the confidence given, in percent."
    )


class KeyQuestionStatistics(Amended):
    """Each key question's cases pooled across the published inspections counted."""

    scope: Scope
    confidence: float = Field(description="Confidence of the intervals: 80%, as the inspectorate's samples are set.")
    key_questions: list[KeyQuestionStatistic]


class YearRatings(BaseModel):
    year: str = Field(description="The programme year, such as 2024-25.")
    from_: date = Field(alias="from")
    to: date
    inspections: int
    overall: RatingCounts
    scored_inspections: int = Field(description="Inspections with an overall score.")
    mean_score_share: float | None = Field(
        description="The mean over the scored inspections of score / maximum score (0 to 1)."
    )

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Trends(Amended):
    """By programme year, oldest first: the overall ratings and the mean score as a share of the maximum."""

    scope: Scope
    years: list[YearRatings]


class YearFigures(YearRatings):
    """Everything counted for one programme year."""

    standards: list[StandardRatings]
    key_questions: list[KeyQuestionStatistic]


class StandardChange(BaseModel):
    framework_id: str
    standard: str
    name: str | None
    inspections: int
    ratings: RatingCounts


class KeyQuestionChange(BaseModel):
    framework_id: str
    standard: str
    key_question: str
    text: str | None
    inspections: int
    yes: int
    applicable: int
    percent_points: float | None = Field(description="The change of the percentage; null unless both years have one.")


class AnnualChange(BaseModel):
    """The year's figures less the year before's: counts as differences, the percentages in points."""

    inspections: int
    overall: RatingCounts
    scored_inspections: int
    mean_score_share: float | None
    standards: list[StandardChange]
    key_questions: list[KeyQuestionChange]


class AnnualStatistics(Amended):
    """The dataset an annual report is written from: the year, the year before, and the change."""

    scope: Scope
    year: str
    previous_year: str
    current: YearFigures
    previous: YearFigures
    change: AnnualChange
