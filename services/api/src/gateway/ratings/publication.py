"""What publication rests on in the ratings: an inspection is published with its latest rating snapshot.

An entry check of the move into `published` (see `inspections.transitions`), handed to the app at
start-up: it refuses publication while any condition of its framework's publication gates is unmet
(`readiness`, every unmet condition listed), and records which snapshot was published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.inspections.lifecycle import InspectionStatus
from gateway.ratings import repository
from gateway.ratings.readiness import ensure_ready

if TYPE_CHECKING:
    from gateway.inspections.models import Inspection


async def rated(session: AsyncSession, inspection: Inspection, to: InspectionStatus) -> dict[str, Any]:
    await ensure_ready(session, inspection)
    snapshot = await repository.latest_brief(session, inspection.id)
    assert snapshot is not None  # a condition of readiness
    snapshot_id, sequence, overall = snapshot
    return {"snapshot_id": str(snapshot_id), "snapshot_sequence": sequence, "overall_rating": overall}
