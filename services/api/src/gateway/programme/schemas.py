"""Wire shapes of the programme: the capacity question and its answer, the criteria, topics and their ranking."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from gateway.inspections.schemas import PartnerList, ShortText
from gateway.pagination import PageQuery
from gateway.programme.models import HIGHEST_SCORE, LOWEST_SCORE
from gateway.programme.sizing import Design
from inspection_shared.fields import Omittable, SentAsNumber

MOST_UNITS = 1000
MOST_CASELOAD = 10_000_000
"""More cases than any unit supervises (a national caseload is about 250,000)."""

# --- capacity and frequency ---------------------------------------------------------------------------


class CapacityUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: uuid.UUID = Field(description="A PDU in service.")
    caseload: Annotated[int, Field(ge=1, le=MOST_CASELOAD), SentAsNumber] = Field(
        description="Cases the PDU supervises: the population its sample is drawn from."
    )


class CapacityRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "units": [{"unit_id": "0b8f7f0e-6f7c-4e55-9a53-6f1f3c1f3c10", "caseload": 1850}],
            "confidence": 0.8, "margin": 0.05, "hours_per_case": 3.5, "hours_per_inspection": 120,
            "annual_hours": 20000, "cycles": [1, 2, 3],
        }]},
    )

    units: list[CapacityUnit] | None = Field(
        None, min_length=1, max_length=MOST_UNITS,
        description="The PDUs and their caseloads. Omitted: every PDU in service, with the caseload of its "
        "latest case-supervision frame (else the caseload recorded on the unit).",
    )
    confidence: Annotated[float, Field(gt=0, lt=1), SentAsNumber] = Field(
        0.80, description="Two-sided confidence level of each sample."
    )
    margin: Annotated[float, Field(gt=0, le=0.5), SentAsNumber] = Field(
        0.05, description="Margin of error of each sample, as a proportion (0.05 for 5 points)."
    )
    hours_per_case: Annotated[float, Field(ge=0, le=1000), SentAsNumber] = Field(
        description="Inspector hours to inspect one sampled case."
    )
    hours_per_inspection: Annotated[float, Field(ge=0, le=100_000), SentAsNumber] = Field(
        description="Inspector hours an inspection needs beyond its cases: domain one (interviews, focus groups)."
    )
    annual_hours: Annotated[float, Field(gt=0, le=100_000_000), SentAsNumber] = Field(
        description="Inspector hours available for these inspections in a year."
    )
    cycles: list[Annotated[int, Field(ge=1, le=10), SentAsNumber]] = Field(
        default_factory=lambda: [1, 2, 3], min_length=1, max_length=10,
        description="Cycles to test, in whole years: every unit inspected once in that many years.",
    )


class InspectionSizing(BaseModel):
    """One inspection of a design: the unit inspected (a PDU, or a region), its cases and hours."""

    unit_id: uuid.UUID
    code: str
    name: str
    caseload: int = Field(description="Cases supervised: the PDU's, or the region's PDUs' together.")
    pdus: int = Field(description="PDUs the inspection covers.")
    cases: int = Field(description="The sample: cases to inspect, from the sampling service.")
    hours: float = Field(description="cases x hours_per_case + hours_per_inspection.")


class CycleRead(BaseModel):
    years: int
    hours_per_year: float
    feasible: bool = Field(description="Whether annual_hours covers hours_per_year.")


class DesignRead(BaseModel):
    design: Design
    inspections: int
    cases: int
    hours: float = Field(description="Hours of a full cycle: every unit of the design inspected once.")
    units: list[InspectionSizing]
    cycles: list[CycleRead]
    shortest_cycle: int = Field(description="The fewest whole years in which annual_hours covers a full cycle.")


class CapacityRead(BaseModel):
    designs: list[DesignRead]
    working: list[str]


# --- criteria ------------------------------------------------------------------------------------------

CriterionGroup = Literal["current_risk", "potential_impact", "other"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Weight = Annotated[float, Field(ge=0, le=100), SentAsNumber]


class WeightChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    weight_before: float
    weight_after: float
    reason: str
    changed_at: datetime
    changed_by: str


class CriterionRead(BaseModel):
    id: str
    group: CriterionGroup
    name: str
    weight: float
    version: int = Field(description="The criterion's ETag, unquoted; send it quoted in If-Match to change it.")
    updated_at: datetime
    updated_by: str
    changes: list[WeightChangeRead] = Field(description="Every change of the weight, oldest first.")


class CriterionGroupRead(BaseModel):
    id: CriterionGroup
    name: str
    criteria: list[CriterionRead]


class CriteriaRead(BaseModel):
    groups: list[CriterionGroupRead]
    lowest_score: int = LOWEST_SCORE
    highest_score: int = HIGHEST_SCORE


class WeightChange(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"weight": 2, "reason": "Public protection weighs most while the probation model changes."}
    ]})

    weight: Weight
    reason: Reason = Field(description="Why the weight changes; kept with the change.")


# --- topics --------------------------------------------------------------------------------------------

TopicKind = Literal["thematic_inspection", "primary_research", "secondary_analysis"]
TopicStatus = Literal["proposed", "agreed", "fieldwork", "published"]
TopicGroup = Literal["adults", "youth", "cohorts"]


def _consecutive(year: str) -> str:
    start, end = int(year[:4]), int(year[5:])
    if (start + 1) % 100 != end:
        raise ValueError("a programme year runs from 1 April to 31 March: write it as 2021-22")
    return year


ProgrammeYear = Annotated[
    str, StringConstraints(pattern=r"^\d{4}-\d{2}$"), AfterValidator(_consecutive),
    Field(description="1 April to 31 March, written as 2021-22.", examples=["2021-22"]),
]


def _distinct(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("names a value twice")
    return values


Groups = Annotated[list[TopicGroup], Field(min_length=1, max_length=3), AfterValidator(_distinct)]


class ScoreGiven(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion_id: str = Field(max_length=64, examples=["public-protection"])
    score: Annotated[int, Field(ge=LOWEST_SCORE, le=HIGHEST_SCORE), SentAsNumber] = Field(
        description=f"{LOWEST_SCORE} to {HIGHEST_SCORE}, higher favouring the topic."
    )
    rationale: Reason


Scores = Annotated[list[ScoreGiven], Field(max_length=50)]


class TopicCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "Women – provision and quality of services for women who offend", "kind": "thematic_inspection",
        "programme_year": "2021-22", "lead": "HM Inspectorate of Probation", "partner_inspectorates": [],
        "groups": ["adults", "cohorts"], "status": "proposed",
        "scores": [{"criterion_id": "time-since-inspection", "score": 4, "rationale": "Last inspected in 2016."}],
    }]})

    name: ShortText
    kind: TopicKind
    programme_year: ProgrammeYear
    lead: ShortText | None = Field(None, description="The lead inspectorate.")
    partner_inspectorates: PartnerList = Field(default_factory=list)
    groups: Groups = Field(description="Whom the topic concerns: adults, youth, cohorts.")
    status: TopicStatus = "proposed"
    scores: Scores = Field(default_factory=list, description="A score and rationale per criterion.")


class TopicUpdate(BaseModel):
    """Only the fields sent change; scores sent replace those on the same criteria, others are kept."""

    model_config = ConfigDict(extra="forbid")

    status: Omittable[TopicStatus] = None
    lead: ShortText | None = None
    partner_inspectorates: Omittable[PartnerList] = None
    groups: Omittable[Groups] = None
    scores: Omittable[Scores] = None


class ScoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    criterion_id: str
    score: int
    rationale: str
    updated_at: datetime
    updated_by: str


class TopicRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: TopicKind
    programme_year: str
    lead: str | None
    partner_inspectorates: list[str]
    groups: list[TopicGroup]
    status: TopicStatus
    scores: list[ScoreRead]
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class TopicFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    programme_year: ProgrammeYear | None = None
    kind: TopicKind | None = None


class TopicListQuery(PageQuery, TopicFilters):
    status: TopicStatus | None = None


class PartRead(BaseModel):
    criterion_id: str
    group: CriterionGroup
    name: str
    weight: float
    score: int | None = Field(description="None: not scored on this criterion, adding nothing.")
    weighted: float = Field(description="weight x score.")
    rationale: str | None


class RankedTopic(BaseModel):
    rank: int = Field(description="1 for the highest total; equal totals share a rank.")
    topic_id: uuid.UUID
    name: str
    kind: TopicKind
    programme_year: str
    status: TopicStatus
    total: float = Field(description="The sum of the parts' weighted scores.")
    most: float = Field(description="The total of a topic with the highest score on every criterion.")
    by_group: dict[str, float]
    unscored: list[str]
    parts: list[PartRead]


class Ranking(BaseModel):
    items: list[RankedTopic]
