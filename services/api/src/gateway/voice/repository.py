"""The queries of the voice of people under supervision, for its routes and for the domains that show it
(the judgements beside which it is read, and the report)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.voice.models import VoiceEvidence


async def evidence(session: AsyncSession, inspection_id: uuid.UUID) -> VoiceEvidence | None:
    return await session.get(VoiceEvidence, inspection_id)
