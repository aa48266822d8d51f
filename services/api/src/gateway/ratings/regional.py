"""Regional ratings: a region's case-based ratings from the pooled case answers of its units'
inspections (the inspectorate's method since 2023), rated by the engine like any other evidence."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assessments import repository as assessments
from gateway.db import release
from gateway.frameworks.service import held_framework, no_framework
from gateway.permissions import Permission, allows, forbidden
from gateway.ratings import repository
from gateway.ratings.evidence import pooled_case_evidence, refuse
from gateway.ratings.schemas import RegionalRating, RegionalRatingQuery, UnitContribution
from gateway.ratings.service import rate_with
from gateway.units import repository as units
from gateway.writes import actor_of
from inspection_shared.clients import RatingEngineClient
from inspection_shared.problems import FieldError, InvalidInput, NotFound
from inspection_shared.rating import PooledRatingRequest, UnitEvidence

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection

_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _latest_first_key(basis: str) -> Callable[[Inspection], tuple[Any, ...]]:
    if basis == "published":
        return lambda i: (i.published_at or _EARLIEST, i.fieldwork_start or date.min, i.created_at)
    return lambda i: (i.fieldwork_start or date.min, i.created_at)


async def regional_rating(
    session: AsyncSession, engine: RatingEngineClient, region_id: uuid.UUID, query: RegionalRatingQuery
) -> RegionalRating:
    """Pool the case answers of the region's units' inspections through the engine."""
    region = await units.get(session, region_id)
    if region is None:
        raise NotFound(f"No unit {region_id}")
    if region.type != "region":
        raise InvalidInput(
            f"Unit {region.code} is a {region.type}; regional ratings pool the inspections of a region's units.",
            [FieldError(field="path.region_id", message=f"unit {region.code} is a {region.type}, not a region")],
        )
    # The pool is the region's: readers may pool what is published, those who may read drafts the rest.
    need = Permission.RATINGS_READ if query.basis == "published" else Permission.DRAFTS_READ
    if not allows(actor_of(session), need, region.id):
        raise forbidden(need)
    held = await held_framework(session, query.framework_id)
    if held is None:
        missing = await no_framework(session, query.framework_id)
        raise InvalidInput(f"{missing[0].upper()}{missing[1:]}.", [FieldError(field="query.framework_id", message=missing)])
    framework = held.framework
    children = await units.children(session, region.id)
    held_inspections = await repository.inspections_of_units(
        session, [c.id for c in children], framework.id, published_only=query.basis == "published"
    )
    chosen: dict[uuid.UUID, Inspection] = {}
    key = _latest_first_key(query.basis)
    for inspection in held_inspections:
        held_one = chosen.get(inspection.unit_id)
        if held_one is None or key(inspection) > key(held_one):
            chosen[inspection.unit_id] = inspection
    if not chosen:
        raise InvalidInput(
            f"No unit of region {region.code} has a {query.basis} inspection under {framework.id} to pool.",
            [
                FieldError(
                    field="query.basis", message=f"no {query.basis} inspection under {framework.id} in the region"
                )
            ],
        )
    cases = await assessments.assessed_cases(session, [i.id for i in chosen.values()])
    faults: list[FieldError] = []
    pooled_units: list[UnitEvidence] = []
    contributions: list[UnitContribution] = []
    for child in children:
        inspection = chosen.get(child.id)
        if inspection is None:
            continue
        standards, count = pooled_case_evidence(framework, cases.get(inspection.id, []), child.code, faults)
        if standards:
            pooled_units.append(UnitEvidence(unit=child.code, standards=standards))
        contributions.append(
            UnitContribution(
                unit_id=child.id,
                unit_code=child.code,
                unit_name=child.name,
                inspection_id=inspection.id,
                inspection_status=inspection.status,
                fieldwork_start=inspection.fieldwork_start,
                published_at=inspection.published_at,
                cases=count if standards else 0,
                pooled=bool(standards),
            )
        )
    if faults:
        raise refuse(faults)
    if not pooled_units:
        raise InvalidInput(
            f"None of the {query.basis} inspections of region {region.code} under {framework.id} has case "
            "answers to pool.",
            [FieldError(field="query.basis", message="the inspections chosen hold no case answers")],
        )
    await release(session)
    _, pooled = await rate_with(engine, engine.rate_pooled, PooledRatingRequest(framework=framework.id, units=pooled_units), held)
    return RegionalRating(
        region_id=region.id,
        region_code=region.code,
        region_name=region.name,
        framework_id=framework.id,
        basis=query.basis,
        contributions=contributions,
        units_without_inspection=[c.code for c in children if c.id not in chosen],
        pooled=pooled,
    )

