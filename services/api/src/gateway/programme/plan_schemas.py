"""Wire shapes of programme plans: the request a plan is made from, the plan by quarter, and its edits."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.inspections.schemas import PartnerList, ShortText
from gateway.programme.schemas import ProgrammeYear, Reason
from gateway.units.rules import UnitType
from inspection_shared.fields import Omittable, SentAsNumber
from inspection_shared.framework import FrameworkId

SlotKind = Literal["full", "proportionate", "joint", "commissioned"]
SlotRule = Literal["reinspect_inadequate", "max_interval", "random", "concern", "commissioned", "by_hand"]
NotPlacedRule = SlotRule | Literal["joint"]
"""A slot's rule, or `joint`: a joint quota short of full inspections to make joint."""
QuarterLabel = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2} Q[1-4]$"),
                         Field(description="A quarter of a programme year: 2027-28 Q1 is April to June 2027.",
                               examples=["2027-28 Q2"])]
Hours = Annotated[float, Field(gt=0, le=100_000_000), SentAsNumber]
Months = Annotated[int, Field(ge=1, le=240), SentAsNumber]
Share = Annotated[float, Field(ge=0, le=1), SentAsNumber]
Weight = Annotated[float, Field(ge=0, le=100), SentAsNumber]
MOST_UNITS = 1000
Seed = Annotated[int, Field(ge=0, lt=2**63, description="Seed of the random choice; the same seed, the same plan."),
                 SentAsNumber]
"""Kept as a signed 64-bit integer: the sampling service takes any below 2**64, a plan those below 2**63."""


def _distinct(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError("names a value twice")
    return values


def _following_one_another(years: list[str]) -> list[str]:
    """A plan's quarters run on without a gap: its programme years follow one another (in any order sent)."""
    starts = sorted(int(year[:4]) for year in years)
    missing = [f"{y}-{(y + 1) % 100:02d}" for y in range(starts[0], starts[-1] + 1) if y not in starts]
    if missing:
        raise ValueError(f"the programme years of a plan follow one another: {', '.join(missing)} missing")
    return years


class PlanCapacity(BaseModel):
    """Inspector hours a year with the hours each inspection takes, or a number of inspections a quarter."""

    model_config = ConfigDict(extra="forbid")

    annual_hours: Hours | None = Field(None, description="Inspector hours a year; a quarter has a quarter of them.")
    hours_per_inspection: Hours | None = Field(
        None, description="Hours a full (or joint) inspection takes: its cases and domain one, as in /capacity."
    )
    proportionate_hours: Hours | None = Field(
        None, description="Hours a proportionate inspection takes; half a full one when omitted."
    )
    inspections_per_quarter: Annotated[int, Field(ge=1, le=10_000), SentAsNumber] | None = Field(
        None, description="Instead of hours: inspections a quarter, each of any kind counting one."
    )

    @field_validator("proportionate_hours")
    @classmethod
    def _no_more_than_a_full_one(cls, hours: float | None, info: ValidationInfo) -> float | None:
        full = info.data.get("hours_per_inspection")
        if hours is not None and full is not None and hours > full:
            raise ValueError(f"a proportionate inspection takes no more than a full one's {full:g} hours")
        return hours

    @model_validator(mode="after")
    def _one_measure(self) -> PlanCapacity:
        hours = self.annual_hours is not None or self.hours_per_inspection is not None
        if self.inspections_per_quarter is not None and (hours or self.proportionate_hours is not None):
            raise ValueError("give inspections_per_quarter, or annual_hours and hours_per_inspection: not both")
        if self.inspections_per_quarter is None and (self.annual_hours is None or self.hours_per_inspection is None):
            raise ValueError("give annual_hours and hours_per_inspection, or inspections_per_quarter")
        return self


class ConcernWeights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intelligence: Weight = 1
    last_rating: Weight = 1
    time_since_inspection: Weight = 1


class JointQuota(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partners: Annotated[PartnerList, Field(min_length=1)]
    count: Annotated[int, Field(ge=1, le=MOST_UNITS), SentAsNumber]


class PlanRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_interval_months: Months | None = Field(None, description="The longest a unit may go without an inspection.")
    reinspect_inadequate_within_months: Months | None = Field(
        None, description="A unit rated Inadequate at its last inspection is re-inspected within this many months."
    )
    random_count: Annotated[int, Field(ge=0, le=MOST_UNITS), SentAsNumber] = Field(
        0, description="Units chosen at random (seeded) by the sampling service, beyond those due."
    )
    concern_weights: ConcernWeights = Field(default_factory=ConcernWeights)
    concern_count: Annotated[int, Field(ge=0, le=MOST_UNITS), SentAsNumber] | None = Field(
        None, description="At most this many units chosen by concern; omitted: as many as the capacity takes."
    )
    joint: Annotated[list[JointQuota], Field(max_length=20)] = Field(
        default_factory=list, description="Quotas of joint inspections, each with its named partner inspectorates."
    )
    proportionate_below_caseload: Annotated[int, Field(ge=1, le=10_000_000), SentAsNumber] | None = Field(
        None, description="A unit supervising fewer cases gets a proportionate (smaller) inspection."
    )


class PlanUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: uuid.UUID
    intelligence: Share = Field(0, description="The intelligence score of the unit, 0 (none) to 1 (most concern).")
    caseload: Annotated[int, Field(ge=0, le=10_000_000), SentAsNumber] | None = Field(
        None, description="Cases supervised; omitted: the latest case-supervision frame's, else the unit's own."
    )


class CommissionedGiven(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: ShortText = Field(description="The body inspected on commission, outside the tree of units.")
    quarter: QuarterLabel
    load: Hours | None = Field(None, description="Hours (or inspections) it takes; omitted: a full inspection's.")
    partners: PartnerList = Field(default_factory=list)


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "Probation programme 2027-28", "programme_years": ["2027-28"], "unit_type": "pdu", "seed": 2027,
        "capacity": {"annual_hours": 24000, "hours_per_inspection": 800, "proportionate_hours": 400},
        "rules": {"max_interval_months": 36, "reinspect_inadequate_within_months": 12, "random_count": 4,
                  "joint": [{"partners": ["HM Inspectorate of Prisons"], "count": 2}],
                  "proportionate_below_caseload": 1200},
        "units": [{"unit_id": "0b8f7f0e-6f7c-4e55-9a53-6f1f3c1f3c10", "intelligence": 0.7}],
        "commissioned": [{"body": "Guernsey Probation Service", "quarter": "2027-28 Q3"}],
    }]})

    name: ShortText
    programme_years: Annotated[list[ProgrammeYear], Field(min_length=1, max_length=5), AfterValidator(_distinct),
                               AfterValidator(_following_one_another)]
    unit_type: UnitType = Field("pdu", description="The plan inspects the units of this type in service on its "
                                "first day.")
    seed: Seed
    capacity: PlanCapacity
    rules: PlanRules = Field(default_factory=PlanRules)
    units: Annotated[list[PlanUnit], Field(max_length=MOST_UNITS)] = Field(
        default_factory=list, description="Intelligence scores (and caseloads) of units of the plan."
    )
    commissioned: Annotated[list[CommissionedGiven], Field(max_length=50)] = Field(default_factory=list)


# --- reads ---------------------------------------------------------------------------------------------


class SlotReason(BaseModel):
    rule: SlotRule
    detail: str
    figures: dict[str, Any]


class SlotRead(BaseModel):
    id: uuid.UUID
    quarter: str
    unit_id: uuid.UUID | None
    unit_code: str | None
    unit_name: str | None
    commissioned_body: str | None
    kind: SlotKind
    partners: list[str]
    load: float = Field(description="What it takes from its quarter: hours, or one inspection.")
    reason: SlotReason
    inspection_id: uuid.UUID | None = Field(description="The planned inspection made from the slot, once made.")


class Suspension(BaseModel):
    reason: str


class QuarterRead(BaseModel):
    quarter: str
    start: date
    end: date
    available: float
    used: float
    suspended: Suspension | None
    slots: list[SlotRead]


class NotPlacedRead(BaseModel):
    unit_id: uuid.UUID | None
    unit_code: str | None
    commissioned_body: str | None
    rule: NotPlacedRule
    detail: str
    figures: dict[str, Any]


class MovedRead(BaseModel):
    slot_id: uuid.UUID
    name: str
    from_quarter: str
    to_quarter: str


class KeptRead(BaseModel):
    slot_id: uuid.UUID
    name: str
    quarter: str
    inspection_id: uuid.UUID


class ReflowRead(BaseModel):
    quarter: str
    reason: str
    moved: list[MovedRead]
    not_placed: list[NotPlacedRead]
    kept: list[KeptRead] = Field(description="Slots of the quarter made inspections already: they stay in it.")
    reflowed_at: datetime
    reflowed_by: str


class CapacityRead(BaseModel):
    unit: Literal["hours", "inspections"]
    per_quarter: float
    full: float = Field(description="What a full or joint inspection takes.")
    proportionate: float


class PlanRead(BaseModel):
    id: uuid.UUID
    name: str
    programme_years: list[str]
    unit_type: str
    seed: int
    capacity: CapacityRead
    random_selection: dict[str, Any] = Field(description="The sampling service's choice: algorithm, seed, codes.")
    quarters: list[QuarterRead]
    not_placed: list[NotPlacedRead]
    reflows: list[ReflowRead]
    request: dict[str, Any]
    published_at: datetime | None = Field(description="When it was published as the programme; null while a draft.")
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class PlanSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    programme_years: list[str]
    unit_type: str
    published_at: datetime | None
    version: int
    created_at: datetime
    created_by: str


# --- edits ---------------------------------------------------------------------------------------------


class SlotChange(BaseModel):
    """Move a slot to another quarter, or change its kind or partners; the note says why."""

    model_config = ConfigDict(extra="forbid")

    quarter: Omittable[QuarterLabel] = None
    kind: Omittable[Literal["full", "proportionate", "joint"]] = None
    partners: Omittable[PartnerList] = None
    note: Reason = Field(description="Why the slot changes; kept with it.")


class SlotAdd(BaseModel):
    """An inspection added by hand: a unit of the tree, or a commissioned body outside it."""

    model_config = ConfigDict(extra="forbid")

    quarter: QuarterLabel
    unit_id: uuid.UUID | None = None
    commissioned_body: ShortText | None = None
    kind: SlotKind | None = Field(None, description="Omitted: full for a unit, commissioned for a body.")
    partners: PartnerList = Field(default_factory=list)
    load: Hours | None = Field(None, description="For a commissioned body; omitted: a full inspection's.")
    note: Reason = Field(description="Why it is added; kept as its reason.")

    @model_validator(mode="after")
    def _unit_or_body(self) -> SlotAdd:
        if (self.unit_id is None) == (self.commissioned_body is None):
            raise ValueError("name a unit_id or a commissioned_body, one of them")
        return self


class SuspensionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quarter: QuarterLabel
    reason: Reason = Field(description="Why the quarter is suspended (the letter's postponement); kept.")


class SlotInspection(BaseModel):
    """The planned inspection a slot becomes: its unit, kind and partners come from the slot."""

    model_config = ConfigDict(extra="forbid")

    framework_id: FrameworkId
    title: ShortText | None = None
    lead: ShortText | None = None
    fieldwork_start: date | None = None
    fieldwork_end: date | None = None
