"""The programme's queries other domains may call."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.programme.models import Topic


async def topic_names(session: AsyncSession, topic_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The name of each topic of `topic_ids` that exists; those missing are not topics."""
    if not topic_ids:
        return {}
    rows = await session.execute(select(Topic.id, Topic.name).where(Topic.id.in_(list(topic_ids))))
    return {topic_id: name for topic_id, name in rows.all()}
