"""What publication rests on in the ratings: an inspection is published with its latest rating snapshot.

An entry check of the move into `published` (see `inspections.transitions`), handed to the app at
start-up: it refuses publication without a snapshot, and records which snapshot was published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.inspections.lifecycle import InspectionStatus
from gateway.ratings import repository
from inspection_shared.problems import Conflict

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


async def rated(session: AsyncSession, inspection: Inspection, to: InspectionStatus) -> dict[str, Any]:
    snapshot = await repository.latest_brief(session, inspection.id)
    if snapshot is None:
        raise Conflict(
            "An inspection is published with its ratings: run the rating (POST its rating runs) first.",
            status_of_inspection=inspection.status,
        )
    snapshot_id, sequence, overall = snapshot
    return {"snapshot_id": str(snapshot_id), "snapshot_sequence": sequence, "overall_rating": overall}
