"""Wire shapes of the units registry."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from gateway.pagination import PageQuery
from gateway.units.rules import UnitType, canonical_nation
from inspection_shared.fields import Flag, Omittable, SentAsNumber

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")


def _check_code(value: str) -> str:
    if not _CODE.match(value):
        raise ValueError("use letters, digits, '-' and '_' only, starting with a letter or digit")
    return value


UnitCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32),
    AfterValidator(_check_code),
    Field(
        description="Unique code, such as the case-management (Delius) code: letters, digits, '-' and '_', "
        "at most 32; stored upper-case.",
        examples=["N53DRBY"],
    ),
]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("may not hold control characters")
    return value


UnitName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_control_characters)
]
Nation = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_no_control_characters),
    AfterValidator(canonical_nation),
    Field(
        description="England, Wales, or another jurisdiction inspected on commission (e.g. Guernsey).",
        examples=["England"],
    ),
]
MAX_CASELOAD = 1_000_000
"""Far above any unit's caseload (the national probation caseload is about 250,000): catches slips."""
CaseloadSize = Annotated[
    int, Field(ge=0, le=MAX_CASELOAD, description="Cases under supervision, where known."), SentAsNumber
]
SearchText = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_control_characters)]

VALID_TO_DESCRIPTION = "Last day the unit is in service (inclusive); empty while it is current."


def _dates_in_order(valid_to: date | None, info: ValidationInfo) -> date | None:
    valid_from = info.data.get("valid_from")
    if valid_to is not None and valid_from is not None and valid_to < valid_from:
        raise ValueError(f"must be on or after valid_from ({valid_from.isoformat()})")
    return valid_to


_UNIT_EXAMPLE = {
    "code": "N53DRBY",
    "name": "Derby City",
    "type": "pdu",
    "nation": "England",
    "parent_id": "0b6f1c4e-3d2a-4f7e-9a51-2c8d7e6f5a40",
    "valid_from": "2021-06-26",
    "valid_to": None,
    "caseload_size": None,
    "synthetic": False,
}


class UnitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_UNIT_EXAMPLE]})

    code: UnitCode
    name: UnitName
    type: UnitType
    nation: Nation
    parent_id: uuid.UUID | None = Field(default=None, description="The unit this one sits under.")
    valid_from: date | None = Field(default=None, description="First day the unit is in service.")
    valid_to: date | None = Field(default=None, description=VALID_TO_DESCRIPTION)
    caseload_size: CaseloadSize | None = None
    synthetic: Flag = Field(default=False, description="Invented for demonstrations; not a real unit.")

    _valid_to_in_order = field_validator("valid_to")(_dates_in_order)


class UnitUpdate(BaseModel):
    """Only the fields sent change; `null` clears a field that may be empty (the others may only be left out)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Derby", "valid_to": "2025-03-31"}, {"caseload_size": 2150}]},
    )

    code: Omittable[UnitCode] = None
    name: Omittable[UnitName] = None
    type: Omittable[UnitType] = None
    nation: Omittable[Nation] = None
    parent_id: uuid.UUID | None = None
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description=VALID_TO_DESCRIPTION)
    caseload_size: CaseloadSize | None = None
    synthetic: Omittable[Flag] = None

    _valid_to_in_order = field_validator("valid_to")(_dates_in_order)


class UnitRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_UNIT_EXAMPLE,
                    "id": "5f0c2a8e-8a4b-4d61-b1f3-0d9c6e2a7b13",
                    "parent_code": "N53",
                    "created_at": "2026-11-26T14:15:01Z",
                    "created_by": "system",
                    "updated_at": "2026-11-26T14:15:01Z",
                    "updated_by": "system",
                }
            ]
        },
    )

    id: uuid.UUID
    code: str
    name: str
    type: UnitType
    nation: str
    parent_id: uuid.UUID | None
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None = Field(description=VALID_TO_DESCRIPTION)
    caseload_size: int | None
    synthetic: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class UnitListQuery(PageQuery.sized(50, 500)):

    type: UnitType | None = None
    nation: SearchText | None = Field(default=None, description="Exact nation, any case.")
    parent_id: uuid.UUID | None = None
    code: SearchText | None = Field(default=None, description="Exact code, any case.")
    active_on: date | None = Field(default=None, description="Only units in service on this day.")
    q: SearchText | None = Field(default=None, description="Part of the name, any case.")
    synthetic: bool | None = Field(default=None, description="true: only invented units; false: only real ones.")


class UnitChildrenQuery(PageQuery.sized(50, 500)):

    type: UnitType | None = None
    active_on: date | None = Field(default=None, description="Only units in service on this day.")
    synthetic: bool | None = None


IMPORT_COLUMNS = (
    "code",
    "name",
    "type",
    "nation",
    "parent_code",
    "valid_from",
    "valid_to",
    "caseload_size",
    "synthetic",
)


class UnitImportRow(BaseModel):
    """One unit in a bulk import. Its parent is named by code: a unit in the same file or one already held.

    Fields left out (keys absent from a JSON object, columns absent from a CSV header) keep the held
    unit's value on update; a blank CSV cell or a JSON null clears it.
    """

    model_config = ConfigDict(extra="forbid")

    code: UnitCode
    name: UnitName
    type: UnitType
    nation: Nation
    parent_code: UnitCode | None = None
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description=VALID_TO_DESCRIPTION)
    caseload_size: CaseloadSize | None = None
    synthetic: Flag = False

    _valid_to_in_order = field_validator("valid_to")(_dates_in_order)


Outcome = Literal["created", "updated", "unchanged"]


class ImportedUnit(BaseModel):
    code: str
    id: uuid.UUID
    outcome: Outcome


class UnitImportReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": 1,
                    "updated": 0,
                    "unchanged": 1,
                    "units": [
                        {"code": "N53", "id": "0b6f1c4e-3d2a-4f7e-9a51-2c8d7e6f5a40", "outcome": "unchanged"},
                        {"code": "N53DRBY", "id": "5f0c2a8e-8a4b-4d61-b1f3-0d9c6e2a7b13", "outcome": "created"},
                    ],
                }
            ]
        }
    )

    created: int
    updated: int
    unchanged: int
    units: list[ImportedUnit] = Field(description="Every unit of the import, in the order given.")
