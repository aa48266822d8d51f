"""Wire shapes of inspections, their lifecycle, and the reads for dashboards and report generators."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from gateway.inspections.lifecycle import (
    MAX_FIELDWORK_DAYS,
    InspectionStatus,
    InspectionType,
    TeamRole,
)
from gateway.pagination import PageQuery
from inspection_shared.fields import Omittable
from inspection_shared.framework import FrameworkId
from inspection_shared.rating import OverallRatingValue

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("may not hold control characters")
    return value


def _distinct(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value.lower() in seen:
            raise ValueError(f"{value!r} is named twice")
        seen.add(value.lower())
    return values


ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_no_control_characters)
]
PartnerInspectorate = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_control_characters),
    Field(examples=["HM Inspectorate of Constabulary and Fire & Rescue Services"]),
]
PartnerList = Annotated[
    list[PartnerInspectorate],
    Field(max_length=10, description="Inspectorates the inspection is carried out with; required for a joint one."),
    AfterValidator(_distinct),
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

FIELDWORK_DESCRIPTION = (
    f"First and last days of fieldwork (inclusive), at most {MAX_FIELDWORK_DAYS} days apart counting both; "
    "give both or neither. Required from the announcement (pre_fieldwork) on."
)

EXAMPLE_FRAMEWORK = "probation-pdu-2021"
"""The framework the planning example pins, and the examples of what is recorded after it are written for."""

_CREATE_EXAMPLE = {
    "unit_id": "5f0c2a8e-8a4b-4d61-b1f3-0d9c6e2a7b13",
    "framework_id": EXAMPLE_FRAMEWORK,
    "type": "core",
    "title": "Inspection of probation services: Derby City PDU",
    "lead": "Lead inspector, East Midlands team",
    "partner_inspectorates": [],
    "fieldwork_start": "2027-03-01",
    "fieldwork_end": "2027-03-19",
}


class InspectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    unit_id: uuid.UUID = Field(description="The unit of inspection; it must be in service.")
    framework_id: FrameworkId = Field(
        description="The framework version to pin: it must apply to the unit's type and cannot change later."
    )
    type: InspectionType
    title: ShortText | None = None
    lead: ShortText | None = Field(default=None, description="The lead inspector.")
    partner_inspectorates: PartnerList = Field(default_factory=list)
    fieldwork_start: date | None = Field(default=None, description=FIELDWORK_DESCRIPTION)
    fieldwork_end: date | None = Field(default=None, description=FIELDWORK_DESCRIPTION)


class InspectionUpdate(BaseModel):
    """Only the fields sent change; `null` clears a field that may be empty.

    `unit_id` and `framework_id` are accepted only unchanged: both are fixed at creation. The status
    moves through `POST /inspections/{id}/transitions`, never here.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"lead": "Lead inspector, Midlands team"}, {"fieldwork_end": "2027-03-12"}]},
    )

    unit_id: Omittable[uuid.UUID] = None
    framework_id: Omittable[FrameworkId] = None
    type: Omittable[InspectionType] = None
    title: ShortText | None = None
    lead: ShortText | None = None
    partner_inspectorates: Omittable[PartnerList] = None
    fieldwork_start: date | None = Field(default=None, description=FIELDWORK_DESCRIPTION)
    fieldwork_end: date | None = Field(default=None, description=FIELDWORK_DESCRIPTION)


class InspectionRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **_CREATE_EXAMPLE,
                    "id": "9b2e4c1a-7d3f-4a8e-b5c6-1f0e2d3c4b5a",
                    "unit_code": "N53DRBY",
                    "unit_name": "Derby City",
                    "status": "planned",
                    "allowed_transitions": ["pre_fieldwork", "withdrawn"],
                    "published_at": None,
                    "current_rating": None,
                    "created_at": "2026-11-26T14:15:01Z",
                    "created_by": "system",
                    "updated_at": "2026-11-26T14:15:01Z",
                    "updated_by": "system",
                }
            ]
        }
    )

    id: uuid.UUID
    unit_id: uuid.UUID
    unit_code: str
    unit_name: str
    framework_id: str
    type: InspectionType
    status: InspectionStatus
    allowed_transitions: list[InspectionStatus] = Field(description="The statuses it may move to next.")
    title: str | None
    lead: str | None
    partner_inspectorates: list[str]
    fieldwork_start: date | None
    fieldwork_end: date | None
    published_at: datetime | None
    current_rating: OverallRatingValue | None = Field(description="The overall rating on its latest rating snapshot.")
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class TransitionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"to": "pre_fieldwork", "note": "Announced to the head of service."},
                {"to": "withdrawn", "note": "Unit merged before fieldwork."},
            ]
        },
    )

    to: InspectionStatus = Field(description="The status to move to; see `allowed_transitions` on the inspection.")
    note: Note | None = Field(default=None, description="Why; required when withdrawing.")


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    from_status: InspectionStatus | None = Field(description="null for the creation of the inspection.")
    to_status: InspectionStatus
    note: str | None
    changed_at: datetime
    changed_by: str
    details: dict[str, Any] | None = Field(
        description="What the move rested on, e.g. the notice given before fieldwork or the snapshot published."
    )


class InspectionListQuery(PageQuery):
    unit_id: uuid.UUID | None = Field(default=None, description="Inspections of this unit.")
    region_id: uuid.UUID | None = Field(
        default=None, description="Inspections of this region and of the units directly under it."
    )
    framework_id: FrameworkId | None = None
    year: int | None = Field(default=None, ge=1990, le=2100, description="Year of the first day of fieldwork.")
    status: list[InspectionStatus] | None = Field(default=None, description="Any of these; repeat to give several.")
    type: list[InspectionType] | None = Field(default=None, description="Any of these; repeat to give several.")
    rating: list[OverallRatingValue] | None = Field(
        default=None, description="Current overall rating, any of these; repeat to give several."
    )


MAX_TEAM = 50
"""Members of one team at most: far more than any inspection's fieldwork takes."""


class TeamMemberWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID = Field(
        description="An active account holding a role that records case answers (admin, lead_inspector or "
        "inspector) on the inspection's unit or a unit above it."
    )
    role: TeamRole


class TeamWrite(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "members": [
                        {"user_id": "3c8f2d4e-1a5b-4c7d-9e0f-2b4d6f8a0c1e", "role": "lead_inspector"},
                        {"user_id": "7a1b3c5d-9e2f-4a6b-8c0d-1e3f5a7b9c2d", "role": "inspector"},
                    ]
                }
            ]
        },
    )

    members: list[TeamMemberWrite] = Field(
        max_length=MAX_TEAM,
        description="The whole team as it is to stand, each person once; [] empties it. A team with members has "
        "exactly one lead_inspector.",
    )


class TeamMemberRead(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    role: TeamRole


class TeamRead(BaseModel):
    inspection_id: uuid.UUID
    members: list[TeamMemberRead] = Field(description="The lead inspector first, then the inspectors by name.")
