"""The plan an inspection is held to: the framework version must suit the unit, the type of inspection
and its fieldwork dates; a joint inspection names its partners; fieldwork fits in three weeks and in
the unit's time in service. The rules are data (`lifecycle`); this module says which fields break them.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from gateway.inspections.lifecycle import (
    ANNOUNCED_STATUSES,
    ANY_FRAMEWORK_UNIT_TYPES,
    MAX_FIELDWORK_DAYS,
    PARTNERS_REFUSED,
    PARTNERS_REQUIRED,
    TRIAL_TYPES,
)
from inspection_shared.framework import Framework
from inspection_shared.problems import FieldError

if TYPE_CHECKING:
    from gateway.units.models import Unit


def framework_faults(
    framework: Framework, unit: Unit, type_: str, fieldwork_start: date | None, field: str, type_given: bool
) -> list[FieldError]:
    """Whether the framework version suits this unit, this type of inspection and its fieldwork dates."""
    faults: list[FieldError] = []
    if unit.type not in ANY_FRAMEWORK_UNIT_TYPES and unit.type not in framework.applies_to:
        faults.append(
            FieldError(
                field=field,
                message=f"framework {framework.id} applies to units of type {', '.join(framework.applies_to) or 'none'}, "
                f"not to {unit.code} ({unit.type})",
            )
        )
    trial = type_ in TRIAL_TYPES
    blame = "body.type" if type_given else field
    if framework.status != "published" and not trial:
        faults.append(
            FieldError(
                field=blame,
                message=f"framework {framework.id} is a {framework.status}; only a "
                f"{' or '.join(sorted(TRIAL_TYPES))} inspection may use it",
            )
        )
    if fieldwork_start is not None:
        effective_from = _day(framework.effective_from)
        effective_to = _day(framework.effective_to)
        if effective_from is not None and fieldwork_start < effective_from and not trial:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"framework {framework.id} takes effect on {effective_from.isoformat()}, after fieldwork "
                    f"starts ({fieldwork_start.isoformat()})",
                )
            )
        if effective_to is not None and fieldwork_start > effective_to:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"framework {framework.id} was in effect until {effective_to.isoformat()}, before fieldwork "
                    f"starts ({fieldwork_start.isoformat()})",
                )
            )
    return faults


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def plan_faults(
    *,
    unit: Unit | None,
    status: str,
    type_: str,
    partners: list[str],
    fieldwork_start: date | None,
    fieldwork_end: date | None,
    given: set[str],
) -> list[FieldError]:
    """Faults of the whole plan as it would stand, each blamed on a field the caller sent where possible.

    `unit`: the unit whose time in service the fieldwork must fall in (None: not to check).
    """
    faults: list[FieldError] = []

    def field(preferred: str, other: str) -> str:
        return f"body.{preferred if preferred in given or other not in given else other}"

    if type_ in PARTNERS_REQUIRED and not partners:
        faults.append(
            FieldError(
                field=field("partner_inspectorates", "type"),
                message=f"a {type_} inspection names at least one partner inspectorate",
            )
        )
    if type_ in PARTNERS_REFUSED and partners:
        faults.append(
            FieldError(
                field=field("partner_inspectorates", "type"),
                message=f"a {type_} inspection has no partner inspectorates; with partners it is a joint inspection",
            )
        )
    if (fieldwork_start is None) != (fieldwork_end is None):
        missing = "fieldwork_end" if fieldwork_end is None else "fieldwork_start"
        faults.append(FieldError(field=f"body.{missing}", message="give both fieldwork dates or neither"))
    if fieldwork_start is None and fieldwork_end is None and status in ANNOUNCED_STATUSES:
        faults.append(
            FieldError(
                field=field("fieldwork_start", "fieldwork_end"),
                message=f"the fieldwork dates were announced ({status}) and can be moved but not cleared",
            )
        )
    if fieldwork_start is not None and fieldwork_end is not None:
        if fieldwork_end < fieldwork_start:
            faults.append(
                FieldError(
                    field=field("fieldwork_end", "fieldwork_start"),
                    message=f"fieldwork ends ({fieldwork_end.isoformat()}) before it starts ({fieldwork_start.isoformat()})",
                )
            )
        elif (days := (fieldwork_end - fieldwork_start).days + 1) > MAX_FIELDWORK_DAYS:
            faults.append(
                FieldError(
                    field=field("fieldwork_end", "fieldwork_start"),
                    message=f"fieldwork lasts at most {MAX_FIELDWORK_DAYS} days (three weeks); "
                    f"{fieldwork_start.isoformat()} to {fieldwork_end.isoformat()} is {days}",
                )
            )
    if fieldwork_start is not None and unit is not None:
        if unit.valid_from is not None and fieldwork_start < unit.valid_from:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"{unit.code} comes into service on {unit.valid_from.isoformat()}, after fieldwork starts",
                )
            )
        if unit.valid_to is not None and fieldwork_start > unit.valid_to:
            faults.append(
                FieldError(
                    field="body.fieldwork_start",
                    message=f"{unit.code} is in service only until {unit.valid_to.isoformat()}, before fieldwork starts",
                )
            )
    return faults
