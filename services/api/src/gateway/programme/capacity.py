"""The capacity question as the gateway answers it: gather the PDUs and their caseloads, ask the sampling
service for each design's sample sizes, and let `sizing` count the hours and cycles."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import db
from gateway.caseloads import repository as caseloads
from gateway.engines import call_engine
from gateway.programme import sizing
from gateway.programme.schemas import CapacityRead, CapacityRequest, CycleRead, DesignRead, InspectionSizing
from gateway.units import repository as units
from inspection_shared.clients import SamplingClient
from inspection_shared.problems import FieldError, InvalidInput
from inspection_shared.sampling import SampleSizeRequest, SampleSizeResult
from inspection_shared.wording import counted

if TYPE_CHECKING:
    from gateway.units.models import Unit

CASELOAD_SAMPLE = "case_supervision"
"""The frame whose cases are a PDU's caseload: the case supervision sample is the one sized per PDU."""
SHOWN = 10
"""PDUs named in a refusal before the rest are counted."""


def _pdu(unit: Unit, caseload: int) -> sizing.PduCaseload:
    region = unit.parent
    assert region is not None  # a PDU sits under a region (units.rules.PARENT_TYPES)
    return sizing.PduCaseload(unit.id, unit.code, unit.name, region.id, region.code, region.name, caseload)


async def _sent_pdus(session: AsyncSession, data: CapacityRequest) -> list[sizing.PduCaseload]:
    assert data.units is not None
    today = db.utcnow().date()
    found = {unit.id: unit for unit in await units.by_ids(session, (u.unit_id for u in data.units))}
    errors: list[FieldError] = []
    seen: set = set()
    for i, sent in enumerate(data.units):
        field, unit = f"body.units[{i}].unit_id", found.get(sent.unit_id)
        if sent.unit_id in seen:
            errors.append(FieldError(field=field, message=f"{sent.unit_id} is named twice"))
        elif unit is None:
            errors.append(FieldError(field=field, message=f"no unit {sent.unit_id}"))
        elif unit.type != "pdu":
            errors.append(FieldError(field=field, message=f"{unit.code} is a {unit.type}, not a PDU"))
        elif not units.in_service(unit, today):
            errors.append(FieldError(field=field, message=f"{unit.code} is not in service on {today}"))
        seen.add(sent.unit_id)
    if errors:
        raise InvalidInput("The capacity is counted for PDUs, each named once.", errors)
    return [_pdu(found[sent.unit_id], sent.caseload) for sent in data.units]


async def _pdus_in_service(session: AsyncSession) -> tuple[list[sizing.PduCaseload], str]:
    """Every PDU in service today, with the caseload of its latest frame (else the one recorded on it)."""
    held = await units.units_of_type(session, "pdu", db.utcnow().date())
    if not held:
        raise InvalidInput("No PDU is in service: send units with their caseloads.",
                           [FieldError(field="body.units", message="no PDU is in service to count")])
    framed = await caseloads.latest_case_counts(session, (u.id for u in held), CASELOAD_SAMPLE)
    recorded = {u.id: u.caseload_size for u in held if u.id not in framed and u.caseload_size}
    missing = [u.code for u in held if u.id not in framed and u.id not in recorded]
    if missing:
        named = ", ".join(missing[:SHOWN]) + (f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else "")
        raise InvalidInput(
            f"{counted(len(missing), 'PDU')} in service {'has' if len(missing) == 1 else 'have'} no "
            f"{CASELOAD_SAMPLE} frame and no caseload recorded ({named}): send units with their caseloads.",
            [FieldError(field="body.units", message=f"omitted, but {code} has no caseload") for code in missing],
        )
    where = (f"Caseloads: {counted(len(framed), 'PDU')} from {'its' if len(framed) == 1 else 'their'} latest "
             f"{CASELOAD_SAMPLE} frame, {len(recorded)} from the caseload recorded on the unit.")
    return [_pdu(u, framed.get(u.id) or recorded[u.id]) for u in held], where


async def _sizes(sampling: SamplingClient, inspected: list[sizing.Inspected], data: CapacityRequest
                 ) -> SampleSizeResult:
    request = SampleSizeRequest(confidence=data.confidence, margin=data.margin,
                                populations={unit.code: unit.caseload for unit in inspected})
    return await call_engine(sampling, lambda: sampling.sample_size(request))


def _design_read(need: sizing.DesignNeed) -> DesignRead:
    return DesignRead(
        design=need.design, inspections=len(need.inspections), cases=need.cases, hours=float(need.hours),
        units=[InspectionSizing(unit_id=i.inspected.unit_id, code=i.inspected.code, name=i.inspected.name,
                                caseload=i.inspected.caseload, pdus=i.inspected.pdus, cases=i.cases,
                                hours=float(i.hours)) for i in need.inspections],
        cycles=[CycleRead(years=c.years, hours_per_year=float(c.hours_per_year), feasible=c.feasible)
                for c in need.cycles],
        shortest_cycle=need.shortest_cycle,
    )


def exact(value: float) -> Fraction:
    """The number as the caller wrote it (0.1 as one tenth, not its nearest binary fraction)."""
    return Fraction(repr(value))


async def capacity(session: AsyncSession, sampling: SamplingClient, data: CapacityRequest) -> CapacityRead:
    """Both designs sized for the PDUs asked about (or every PDU in service), with the working."""
    if data.units is not None:
        pdus, where = await _sent_pdus(session, data), "Caseloads: as sent."
    else:
        pdus, where = await _pdus_in_service(session)
    await db.release(session)  # nothing is held while the sampling service works
    hours = sizing.Hours(exact(data.hours_per_case), exact(data.hours_per_inspection), exact(data.annual_hours))
    needs, first = [], None
    for design, inspected in (("per_pdu", sizing.per_pdu(pdus)), ("per_region", sizing.per_region(pdus))):
        sized = await _sizes(sampling, inspected, data)
        first = first or next(iter((sized.strata or {}).values()))
        sizes = {code: stratum.sample_size for code, stratum in (sized.strata or {}).items()}
        needs.append(sizing.need(design, inspected, sizes, hours, data.cycles))  # type: ignore[arg-type]
    working = sizing.working(needs, hours, z=first.working.z, n0=first.working.n0,
                             confidence=data.confidence, margin=data.margin)
    return CapacityRead(designs=[_design_read(n) for n in needs], working=[where, *working])
