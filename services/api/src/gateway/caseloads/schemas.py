"""Wire shapes of caseload frames, samples and substitutions.

The sampling service's own shapes (allocation, balance, design as applied, ...) are used as they are,
from inspection_shared.sampling, so a stored sample reads exactly as the sampling service answered.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from gateway.pagination import PageQuery
from inspection_shared.fields import SentAsNumber
from inspection_shared.sampling import (
    BalanceRow,
    ColumnName,
    ExclusionFilter,
    FrameSummary,
    LargestDeviation,
    Precision,
    SampleDesign,
    SampleSizeWorking,
    SelectedCase,
    StratumAllocation,
    UnitAllocation,
    UnitMode,
)

SampleTypeId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class CaseStatus(StrEnum):
    """Where a sampled case stands in its sample."""

    SELECTED = "selected"
    """Drawn at first, and still in the sample."""
    REPLACED = "replaced"
    """Drawn at first, and taken out by a substitution."""
    RESERVE_USED = "reserve_used"
    """Brought in from the reserve list by a substitution."""


IN_SAMPLE = frozenset({CaseStatus.SELECTED, CaseStatus.RESERVE_USED})
"""The statuses of the cases in the sample now: the cases to assess."""

MAX_SEED = 2**63
"""Seeds are stored as signed 64-bit integers (the sampling service accepts any below 2**64)."""

_FRAME_EXAMPLE = {
    "id": "3f6d1c2a-0c55-4b59-9c0e-5a1f6f3e2b10",
    "inspection_id": "8a2e7c4d-6b1f-4e3a-9d5c-2f7b1a0e9c84",
    "sample_type": "case_supervision",
    "columns": ["case_ref", "gender", "rosh_level", "sentence_type", "start_date", "unit"],
    "case_count": 1843,
    "fingerprint": "5b0e2f6c9d1a4b3e8f7c6d5e4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b",
    "uploaded_at": "2026-01-12T09:30:00Z",
    "uploaded_by": "system",
    "sample_id": None,
}


class CaseloadFrameRead(BaseModel):
    """A stored frame's description; its cases are never returned."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_FRAME_EXAMPLE]})

    id: uuid.UUID
    inspection_id: uuid.UUID
    sample_type: str
    columns: list[str] = Field(description="The frame's columns, in canonical order (by name).")
    case_count: int
    fingerprint: str = Field(
        description="SHA-256 of the canonical frame: the frame_fingerprint of every sample drawn from it."
    )
    uploaded_at: datetime
    uploaded_by: str
    sample_id: uuid.UUID | None = Field(
        None,
        description="The sample in use drawn from the frame; while there is one the frame can not be replaced "
        "(discard the sample first, before any case answer is recorded).",
    )


class EligibilityRequest(BaseModel):
    """Cases whose start_date falls in the window, both ends included, are in the frame."""

    model_config = ConfigDict(extra="forbid")

    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> EligibilityRequest:
        if self.start is None and self.end is None:
            raise ValueError("give start, end or both")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("start is after end")
        return self


class SampleDrawRequest(BaseModel):
    """What to draw from an inspection's frame of one sample type. Everything but sample_type has a default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"sample_type": "case_supervision"},
                {
                    "sample_type": "case_supervision",
                    "precision": {"confidence": 0.8, "margin": 0.05},
                    "strata": ["gender", "sentence_type", "rosh_level"],
                    "unit": "unit",
                    "min_per_unit": 5,
                    "eligibility": {"start": "2025-06-01", "end": "2025-11-30"},
                    "exclude": [
                        {"column": "sentence_type", "values": ["deferred_sentence"], "reason": "deferred sentence"}
                    ],
                    "reserves_per_stratum": 2,
                    "seed": 20260112,
                },
            ]
        },
    )

    sample_type: SampleTypeId = Field(description="A sample type the pinned framework names, with a frame uploaded.")
    size: Annotated[int, Field(ge=1), SentAsNumber] | None = Field(
        None, description="A fixed sample size. Give this or precision."
    )
    precision: Precision | None = Field(
        None,
        description="Size the sample from the eligible frame to this precision. "
        "Default, when neither size nor precision is given: 80% confidence, 5 points margin.",
    )
    strata: list[ColumnName] | None = Field(
        None, description="Stratification variables. Default: the sample type's strata present in the frame."
    )
    unit: ColumnName | None = Field(
        None,
        description="Column holding the delivery unit. Default: `unit` when the frame has it; null for none.",
    )
    unit_mode: UnitMode | None = Field(
        None,
        description="overall: one sample across the units, min_per_unit each; per_unit: each unit (a PDU of a "
        "region) sized to its own precision. Default: per_unit for an inspection of a region sized by precision "
        "(the letter's model: findings for each PDU), overall otherwise.",
    )
    min_per_unit: Annotated[int, Field(ge=0), SentAsNumber] = Field(
        0, description="Minimum cases per unit (overall mode, or per_unit mode held to a capacity)."
    )
    capacity: Annotated[int, Field(ge=1), SentAsNumber] | None = Field(
        None,
        description="per_unit mode: the most cases the inspection can take. Each unit (a PDU of a region) is "
        "sampled to its own precision; when those sizes add up to more, the capacity is shared over the units "
        "instead, min_per_unit each, paid for by the largest.",
    )
    min_per_stratum: Annotated[int, Field(ge=0), SentAsNumber] = Field(0, description="Minimum cases per stratum.")
    eligibility: EligibilityRequest | None = Field(None, description="A window on the frame's start_date column.")
    exclude: list[ExclusionFilter] = Field(default_factory=list, description="Exclusion filters, applied in order.")
    reserves_per_stratum: Annotated[int, Field(ge=0, le=1000), SentAsNumber] | None = Field(
        None, description="Ordered reserves per sampled stratum. Default 2 (unless reserve_ratio)."
    )
    reserve_ratio: Annotated[float, Field(gt=0, le=10), SentAsNumber] | None = Field(
        None, description="Reserves per sampled stratum as a ratio of its sample, rounded up."
    )
    seed: Annotated[int, Field(ge=0, lt=MAX_SEED), SentAsNumber] | None = Field(
        None,
        description="Seed of the draw. Absent: one is chosen and stored with the sample, never the seed of a "
        "sample discarded from the same frame.",
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> SampleDrawRequest:
        if self.size is not None and self.precision is not None:
            raise ValueError("give size or precision, not both")
        if self.reserves_per_stratum is not None and self.reserve_ratio is not None:
            raise ValueError("give reserves_per_stratum or reserve_ratio, not both")
        return self


class ReserveRead(BaseModel):
    case_ref: str
    unit: str | None
    stratum: str
    rank: int = Field(description="Order of use within the stratum.")
    used: bool = Field(description="Brought into the sample by a substitution.")
    replaced_case_ref: str | None = Field(None, description="The case it replaced, when used.")
    carried: dict[str, str | None] | None = None


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class SampleDiscardCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "The frame held last year's licences; drawn again from the corrected frame."}]},
    )

    reason: Reason = Field(description="Why the sample is set aside; kept with it.")


class SampleDiscardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reason: str
    discarded_at: datetime
    discarded_by: str


class SampleSummary(BaseModel):
    id: uuid.UUID
    inspection_id: uuid.UUID
    frame_id: uuid.UUID
    sample_type: str
    sample_size: int
    seed: int
    frame_fingerprint: str
    algorithm: str
    substitutions: int
    drawn_at: datetime
    drawn_by: str
    discarded: bool = Field(
        False,
        description="Set aside before any case answer was recorded: kept for the record, never used (no case "
        "answers, ratings or summary counts).",
    )
    discard: SampleDiscardRead | None = Field(None, description="Why, when and by whom, if discarded.")


class SampleRead(SampleSummary):
    """A sample as the sampling service drew it, with the use made of its reserves since."""

    design: SampleDesign = Field(description="The design as applied, seed included: redraw with it to check.")
    frame: FrameSummary = Field(description="Cases in the frame, outside the window, excluded, and eligible.")
    sample_size_working: SampleSizeWorking | None = None
    allocation: list[StratumAllocation]
    unit_allocation: list[UnitAllocation] | None = None
    balance: list[BalanceRow]
    largest_deviation: LargestDeviation | None = None
    selected: list[SelectedCase] = Field(description="The cases as drawn, before any substitution.")
    reserves: list[ReserveRead] = Field(description="The ordered reserve list of each stratum, with its use.")


class SampledCaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_ref: str
    unit: str | None
    stratum: str
    inclusion_probability: float
    weight: float
    status: CaseStatus = Field(
        description="selected: drawn; reserve_used: brought in by a substitution; replaced: taken out by one."
    )
    reserve_rank: int | None = Field(None, description="For a case brought in from the reserves, its rank.")


class SampledCaseQuery(PageQuery.sized(100, 1000)):

    stratum: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    unit: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    include_replaced: bool = Field(False, description="Also list the cases taken out by substitutions.")


class SubstitutionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"case_ref": "X100231", "reason": "Transferred to another region"}]},
    )

    case_ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        description="The sampled case that cannot be inspected."
    )
    reason: Reason = Field(description="Why the case cannot be inspected; kept with the substitution.")


class SubstitutionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sample_id: uuid.UUID
    replaced_case_ref: str
    reserve_case_ref: str
    reserve_rank: int | None = Field(None, description="The rank of the reserve brought in, in its stratum's list.")
    stratum: str
    reason: str
    substituted_at: datetime
    substituted_by: str


SubstitutionQuery = PageQuery.sized(100, 1000)
