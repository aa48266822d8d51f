"""The sampling service's wire shapes: sample sizes, allocations, case samples and unit selections.

One definition each; the sampling service answers with them and the gateway reads them through
`inspection_shared.clients.SamplingClient`. The rules behind them are in domain.md section 4.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from inspection_shared.fields import SentAsNumber

ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
FrameValue = str | int | float | bool | None
"""A cell of a caseload frame. Values are compared as text, so `1` in JSON and `1` in a CSV file match."""

Seed = Annotated[
    int, Field(ge=0, lt=2**64, description="Seed of the draw; the same seed redraws the same sample."), SentAsNumber
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------------------------
# Sample size
# --------------------------------------------------------------------------------------------


class Precision(_Request):
    """How precisely a sample should estimate a proportion: the inputs of the sample-size formula."""

    confidence: Annotated[float, Field(gt=0, lt=1), SentAsNumber] = Field(
        0.80, description="Two-sided confidence level, e.g. 0.80."
    )
    margin: Annotated[float, Field(gt=0, le=0.5), SentAsNumber] = Field(
        0.05, description="Margin of error as a proportion, e.g. 0.05 for 5 points."
    )
    proportion: Annotated[float, Field(gt=0, lt=1), SentAsNumber] = Field(
        0.5, description="Expected proportion; 0.5 is the most cautious."
    )
    design_effect: Annotated[float, Field(gt=0), SentAsNumber] = Field(
        1.0, description="Variance inflation of the design relative to SRS."
    )
    response_rate: Annotated[float, Field(gt=0, le=1), SentAsNumber] = Field(
        1.0, description="Expected share of sampled cases that turn out usable (inspectable)."
    )


class SampleSizeRequest(Precision):
    """A precision target and the population it applies to (absent: infinite), or one per stratum."""

    population: Annotated[int, Field(ge=1), SentAsNumber] | None = Field(
        None, description="Cases in the population; absent means an infinite population."
    )
    populations: dict[str, Annotated[int, Field(ge=1), SentAsNumber]] | None = Field(
        None,
        min_length=1,
        description="Per-stratum precision: the cases in each stratum; each stratum is sized on its own.",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"population": 1000},
                {"population": 500, "confidence": 0.8, "margin": 0.05, "design_effect": 1.2, "response_rate": 0.9},
                {"populations": {"N01": 1200, "N02": 450}},
            ]
        },
    )

    @model_validator(mode="after")
    def _one_population(self) -> SampleSizeRequest:
        if self.population is not None and self.populations is not None:
            raise ValueError("give population or populations, not both")
        return self


class SampleSizeWorking(_Response):
    """Each step of the calculation, unrounded, in the order applied."""

    z: float = Field(description="Standard normal quantile for the two-sided confidence level.")
    n0: float = Field(description="z^2 p (1 - p) / e^2: the size for simple random sampling, infinite population.")
    after_design_effect: float = Field(description="n0 x design effect.")
    after_finite_population_correction: float = Field(
        description="n N / (n + N - 1) with n the size after design effect; equal to it for an infinite population."
    )
    after_response_rate: float = Field(description="Divided by the response rate: cases to draw so enough are usable.")
    capped_at_population: bool = Field(
        False, description="True when the response-rate step asked for more cases than the population holds."
    )


class StratumSampleSize(_Response):
    population: int
    sample_size: int
    working: SampleSizeWorking


class SampleSizeResult(_Response):
    sample_size: int = Field(description="Cases to draw: the last step of the working, rounded up once.")
    population: int | None = None
    confidence: float
    margin: float
    proportion: float
    design_effect: float
    response_rate: float
    working: SampleSizeWorking | None = Field(
        None, description="The working for a single population; absent for a per-stratum request."
    )
    strata: dict[str, StratumSampleSize] | None = Field(
        None, description="Per-stratum sizes; `sample_size` is then their sum."
    )


# --------------------------------------------------------------------------------------------
# Allocation
# --------------------------------------------------------------------------------------------

AllocationMethod = Literal["proportional", "neyman", "equal"]


class AllocationRequest(_Request):
    total: Annotated[int, Field(ge=0), SentAsNumber] = Field(description="Cases to share out.")
    populations: dict[str, Annotated[int, Field(ge=0), SentAsNumber]] = Field(
        min_length=1, description="Cases in each stratum (or unit)."
    )
    method: AllocationMethod = "proportional"
    minimum: Annotated[int, Field(ge=0), SentAsNumber] = Field(
        0, description="Minimum per stratum (a stratum holding fewer cases gets all of them)."
    )
    std_devs: dict[str, Annotated[float, Field(ge=0), SentAsNumber]] | None = Field(
        None, description="For Neyman allocation: the standard deviation in each stratum."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"total": 142, "populations": {"A": 333, "B": 333, "C": 334}, "method": "proportional", "minimum": 0},
                {
                    "total": 100,
                    "populations": {"A": 400, "B": 100},
                    "method": "neyman",
                    "std_devs": {"A": 0.3, "B": 0.5},
                },
            ]
        },
    )


class AllocatedStratum(_Response):
    stratum: str
    population: int
    quota: float = Field(description="The unrounded share, after minimums and capacity, before rounding.")
    sample: int
    bound: Literal["minimum", "population"] | None = Field(
        None, description="Set when the stratum sits at its minimum or holds no more cases."
    )


class AllocationResult(_Response):
    allocation: dict[str, int]
    total: int
    method: AllocationMethod
    minimum: int
    strata: list[AllocatedStratum]


# --------------------------------------------------------------------------------------------
# Case samples
# --------------------------------------------------------------------------------------------


class EligibilityWindow(_Request):
    """Cases whose date in `column` falls in the window, both ends included, are in the frame."""

    column: ColumnName
    start: dt.date | None = None
    end: dt.date | None = None
    date_format: str = Field("%Y-%m-%d", description="strftime format of the column's dates.")

    @model_validator(mode="after")
    def _some_bound(self) -> EligibilityWindow:
        if self.start is None and self.end is None:
            raise ValueError("give start, end or both")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("start is after end")
        return self


class ExclusionFilter(_Request):
    """Cases whose value in `column` is one of `values` leave the frame (null matches a missing value)."""

    column: ColumnName
    values: list[FrameValue] = Field(min_length=1)
    reason: str | None = Field(None, max_length=200, description="Why, e.g. 'transferred out'.")


UnitMode = Literal["overall", "per_unit"]


class SampleDesign(_Request):
    """How to draw a case sample from a caseload frame (domain.md section 4)."""

    size: Annotated[int, Field(ge=1), SentAsNumber] | None = Field(
        None, description="A fixed sample size. Give this or precision."
    )
    precision: Precision | None = Field(
        None, description="Size the sample from the eligible frame to this precision. Give this or size."
    )
    strata: list[ColumnName] = Field(default_factory=list, description="Stratification variables (columns).")
    unit: ColumnName | None = Field(None, description="Column holding the delivery unit (e.g. pdu).")
    unit_mode: UnitMode = Field(
        "overall",
        description="overall: one sample across all units with min_per_unit each; "
        "per_unit: each unit sized to its own precision.",
    )
    min_per_unit: Annotated[int, Field(ge=0), SentAsNumber] = Field(
        0, description="Minimum cases per unit (overall mode, or per_unit mode held to a capacity)."
    )
    capacity: Annotated[int, Field(ge=1), SentAsNumber] | None = Field(
        None,
        description="per_unit mode: the most cases the inspection can take. When the units' own sizes add up to "
        "more, the capacity is shared out over the units instead, min_per_unit each, paid for by the largest.",
    )
    min_per_stratum: Annotated[int, Field(ge=0), SentAsNumber] = Field(0, description="Minimum cases per stratum.")
    eligibility: EligibilityWindow | None = None
    exclude: list[ExclusionFilter] = Field(default_factory=list, description="Exclusion filters, applied in order.")
    reserves_per_stratum: Annotated[int, Field(ge=0), SentAsNumber] | None = Field(
        None, description="Ordered reserves per sampled stratum."
    )
    reserve_ratio: Annotated[float, Field(gt=0, le=10), SentAsNumber] | None = Field(
        None, description="Reserves per sampled stratum as a ratio of its sample, rounded up."
    )
    seed: Seed | None = Field(None, description="Absent: the service picks one and returns it.")
    carried: list[ColumnName] = Field(
        default_factory=list,
        description="Columns the design does not use but that may come in and are returned with each case.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> SampleDesign:
        if (self.size is None) == (self.precision is None):
            raise ValueError("give exactly one of size and precision")
        if self.reserves_per_stratum is not None and self.reserve_ratio is not None:
            raise ValueError("give reserves_per_stratum or reserve_ratio, not both")
        if self.unit is None and (self.min_per_unit or self.unit_mode == "per_unit"):
            raise ValueError("min_per_unit and unit_mode per_unit need a unit column")
        if self.unit_mode == "per_unit" and self.precision is None:
            raise ValueError("unit_mode per_unit sizes each unit to its own precision: give precision, not size")
        if self.capacity is not None and self.unit_mode != "per_unit":
            raise ValueError("capacity holds per_unit sizes to a total: give unit_mode per_unit, or size")
        roles = self.stratum_variables()
        if len(set(roles)) != len(roles):
            raise ValueError("a column is named twice among unit and strata")
        if "case_ref" in roles or "case_ref" in self.carried:
            raise ValueError("case_ref identifies cases; it cannot be a stratum, unit or carried column")
        return self

    def stratum_variables(self) -> list[str]:
        """The columns whose values make a case's stratum: the unit, then the stratification variables."""
        return [*([self.unit] if self.unit else []), *self.strata]

    def used_columns(self) -> list[str]:
        """Every frame column the design reads, besides case_ref, in a stable order."""
        names = [
            *self.stratum_variables(),
            *([self.eligibility.column] if self.eligibility else []),
            *(f.column for f in self.exclude),
            *self.carried,
        ]
        return list(dict.fromkeys(names))


class SampleRequest(_Request):
    """A caseload frame as JSON rows, and the design. CSV frames come as text/csv or multipart instead."""

    frame: list[dict[str, FrameValue]] = Field(description="One object per case; `case_ref` is required.")
    design: SampleDesign

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "frame": [
                        {"case_ref": "X100001", "pdu": "N01", "gender": "M"},
                        {"case_ref": "X100002", "pdu": "N01", "gender": "F"},
                        {"case_ref": "X100003", "pdu": "N02", "gender": "M"},
                        {"case_ref": "X100004", "pdu": "N02", "gender": "M"},
                    ],
                    "design": {"size": 2, "strata": ["gender"], "unit": "pdu", "min_per_unit": 1,
                               "reserves_per_stratum": 1, "seed": 7},
                }
            ]
        },
    )


class SelectedCase(_Response):
    case_ref: str
    unit: str | None
    stratum: str
    inclusion_probability: float
    weight: float
    carried: dict[str, str | None] | None = None


class ReserveCase(_Response):
    case_ref: str
    unit: str | None
    stratum: str
    rank: int = Field(ge=1, description="Order of use within the stratum: 1 replaces the first case lost.")
    carried: dict[str, str | None] | None = None


class StratumAllocation(_Response):
    stratum: str
    unit: str | None
    values: dict[str, str | None] = Field(description="The stratum's value of each stratification variable.")
    population: int
    sample: int
    reserves: int
    inclusion_probability: float


class UnitAllocation(_Response):
    unit: str
    population: int
    sample: int
    reserves: int
    working: SampleSizeWorking | None = Field(None, description="Per-unit mode: how the unit's own size was reached.")
    target: int | None = Field(
        None, description="Per-unit mode: the unit's own size; above `sample` when the capacity was short."
    )


class BalanceRow(_Response):
    variable: str
    level: str | None
    frame_count: int
    frame_share: float
    sample_count: int
    sample_share: float
    deviation: float = Field(description="sample_share - frame_share.")


class LargestDeviation(_Response):
    variable: str
    level: str | None
    deviation: float


class ExclusionCount(_Response):
    column: str
    reason: str | None
    excluded: int = Field(description="Cases this filter removed that no earlier step had removed.")


class FrameSummary(_Response):
    rows: int
    outside_window: int
    excluded: list[ExclusionCount]
    eligible: int


class SampleResult(_Response):
    selected: list[SelectedCase]
    reserves: list[ReserveCase]
    allocation: list[StratumAllocation]
    unit_allocation: list[UnitAllocation] | None = None
    balance: list[BalanceRow]
    largest_deviation: LargestDeviation | None
    sample_size: int
    sample_size_working: SampleSizeWorking | None = None
    frame: FrameSummary
    design: SampleDesign = Field(description="The design as applied, with the seed filled in.")
    seed: int
    frame_fingerprint: str = Field(description="SHA-256 (hex) of the canonical frame; row order never changes it.")
    algorithm: str


# --------------------------------------------------------------------------------------------
# Unit selections
# --------------------------------------------------------------------------------------------


class UnitCandidate(_Request):
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    size: Annotated[float, Field(ge=0), SentAsNumber] | None = Field(
        None, description="Size or concern measure; needed for pps."
    )


class UnitSelectionRequest(_Request):
    units: list[UnitCandidate] = Field(min_length=1)
    k: Annotated[int, Field(ge=1), SentAsNumber] = Field(description="Units to choose, must-include units counted.")
    method: Literal["srs", "pps"] = "srs"
    include: list[str] = Field(default_factory=list, description="Units that must be chosen.")
    seed: Seed | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "units": [{"id": f"YOS{i:02d}", "size": 100 + 37 * i} for i in range(1, 11)],
                    "k": 4,
                    "method": "pps",
                    "include": ["YOS03"],
                    "seed": 3,
                }
            ]
        },
    )


class SelectedUnit(_Response):
    id: str
    size: float | None
    inclusion_probability: float
    weight: float
    basis: Literal["included", "certainty", "random"] = Field(
        description="included: must-include; certainty: so large that pps takes it surely; random: drawn."
    )


class UnitSelectionResult(_Response):
    selected: list[SelectedUnit]
    k: int
    method: Literal["srs", "pps"]
    seed: int
    algorithm: str
