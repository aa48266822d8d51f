"""What publication rests on in the ratings, and what was published, version by version.

An inspection is published with its latest rating snapshot: an entry check of the move into `published`
(see `inspections.transitions`), handed to the app at start-up, refuses publication while any
condition of its framework's publication gates is unmet (`readiness`, every unmet condition listed),
and records the snapshot published, as the inspection's published version 1. Each correction adds the
next version (`corrections`); every version stays readable, the latest being the default.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import row_fields
from gateway.inspections.guards import get_inspection
from gateway.inspections.lifecycle import InspectionStatus
from gateway.pagination import PageQuery
from gateway.permissions import Permission
from gateway.ratings import repository
from gateway.ratings.models import PublishedVersion
from gateway.ratings.readiness import ensure_ready
from gateway.ratings.repository import PublishedRow
from gateway.ratings.schemas import CorrectionLine, PublishedVersionRead
from inspection_shared.pagination import Page
from inspection_shared.problems import NotFound

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


async def rated(session: AsyncSession, inspection: Inspection, to: InspectionStatus) -> dict[str, Any]:
    await ensure_ready(session, inspection)
    snapshot = await repository.latest_brief(session, inspection.id)
    assert snapshot is not None  # a condition of readiness
    snapshot_id, sequence, overall = snapshot
    session.add(PublishedVersion(inspection_id=inspection.id, version=1, kind="publication", snapshot_id=snapshot_id))
    return {"snapshot_id": str(snapshot_id), "snapshot_sequence": sequence, "overall_rating": overall}


ENTRY_CHECKS = {InspectionStatus.PUBLISHED: (rated,)}
"""What a move into a phase rests on in the ratings: handed to `inspections.transitions.entry_checks`."""


def version_read(row: PublishedRow) -> PublishedVersionRead:
    version, overall_rating, overall_score = row
    return PublishedVersionRead.model_validate(
        {**row_fields(version), "overall_rating": overall_rating, "overall_score": overall_score}
    )


def corrections(rows: list[PublishedRow]) -> list[CorrectionLine]:
    """The corrections made after publication, oldest first."""
    return [
        CorrectionLine.model_validate({**row_fields(version), "overall_rating": overall_rating})
        for version, overall_rating, _ in rows
        if version.version > 1
    ]


def chosen(rows: list[PublishedRow], inspection_id: uuid.UUID, version: int) -> PublishedVersion:
    """Published version `version` of the inspection's versions `rows`, or a 404 saying which there are."""
    if version > len(rows):
        raise no_version(inspection_id, version, len(rows))
    return rows[version - 1][0]


def no_version(inspection_id: uuid.UUID, version: int, held: int) -> NotFound:
    """The 404 of a published version asked for beyond the `held` versions."""
    if held == 0:
        return NotFound(f"Inspection {inspection_id} has not been published, so it has no published version {version}.")
    listed = f"versions 1 to {held}" if held > 1 else "version 1 only"
    return NotFound(f"Inspection {inspection_id} has no published version {version}; it has {listed}.")


async def published_versions(session: AsyncSession, inspection_id: uuid.UUID) -> list[PublishedRow]:
    return (await repository.published_versions(session, [inspection_id])).get(inspection_id, [])


async def list_versions(session: AsyncSession, inspection_id: uuid.UUID, query: PageQuery) -> Page[PublishedVersionRead]:
    """The inspection's published versions, first first: empty before publication."""
    await get_inspection(session, inspection_id, Permission.RATINGS_READ)
    return await repository.published_version_page(session, inspection_id, query, version_read)


async def get_version(session: AsyncSession, inspection_id: uuid.UUID, version: int) -> PublishedVersionRead:
    await get_inspection(session, inspection_id, Permission.RATINGS_READ)
    rows = await published_versions(session, inspection_id)
    chosen(rows, inspection_id, version)
    return version_read(rows[version - 1])
