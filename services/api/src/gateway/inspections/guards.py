"""Loading an inspection for a request, and refusing changes to one that is frozen."""

from __future__ import annotations

import uuid

from inspection_shared.framework import Framework
from inspection_shared.problems import Conflict, NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.frameworks.service import get_framework
from gateway.inspections.lifecycle import FROZEN_STATUSES
from gateway.inspections.models import Inspection


async def get_inspection(session: AsyncSession, inspection_id: uuid.UUID, *, for_update: bool = False) -> Inspection:
    inspection = await session.get(Inspection, inspection_id, with_for_update=for_update or None)
    if inspection is None:
        raise NotFound(f"No inspection {inspection_id}")
    return inspection


def ensure_editable(inspection: Inspection) -> None:
    """Published and withdrawn inspections are frozen: nothing about them changes any more."""
    if inspection.status in FROZEN_STATUSES:
        raise Conflict(
            f"Inspection {inspection.id} is {inspection.status} and can no longer be changed.",
            status_of_inspection=inspection.status,
        )


async def pinned_framework(session: AsyncSession, inspection: Inspection) -> Framework:
    """The framework version the inspection was created with."""
    return await get_framework(session, inspection.framework_id)
