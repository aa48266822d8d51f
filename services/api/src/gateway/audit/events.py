"""Named events: what the audit log records that is not a change of a row (sign-ins, refused sign-ins,
API keys created and revoked)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import SESSION_KEY, Actor, actor_of
from gateway.audit.chain import Draft, append
from gateway.audit.masking import plain
from gateway.audit.rows import ROW_ACTIONS
from inspection_shared.web import request_id_var

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


def _draft(
    actor: Actor, action: str, entity: str, entity_id: Any, details: dict[str, Any] | None,
    inspection_id: uuid.UUID | None,
) -> Draft:
    if not EVENT_NAME.match(action) or action in ROW_ACTIONS:
        raise ValueError(f"{action!r} is not an event's name: lower case, digits, '_' and '.', and not "
                         f"one of {sorted(ROW_ACTIONS)}, which the write hooks record themselves")
    if not entity or len(entity) > 64:
        raise ValueError("an event names what it concerns (entity) in at most 64 characters")
    if entity_id is not None and len(str(entity_id)) > 1000:
        raise ValueError("an event names which one it concerns (entity_id) in at most 1000 characters")
    return Draft(
        actor_id=actor.id, actor_kind=actor.kind, action=action, entity=entity,
        entity_id=str(entity_id) if entity_id is not None else None, inspection_id=inspection_id,
        request_id=request_id_var.get(), details=plain(details) if details is not None else None,
    )


async def record(
    session: AsyncSession,
    action: str,
    entity: str,
    entity_id: Any = None,
    details: dict[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    inspection_id: uuid.UUID | None = None,
) -> None:
    """Record a named event in the session's transaction: it is kept if the transaction commits."""
    draft = _draft(actor or actor_of(session), action, entity, entity_id, details, inspection_id)
    await session.run_sync(lambda sync: append(sync.connection(), [draft]))


async def record_apart(
    sessionmaker: Callable[..., AsyncSession],
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = None,
    details: dict[str, Any] | None = None,
    *,
    inspection_id: uuid.UUID | None = None,
) -> None:
    """Record a named event in a transaction of its own, committed at once: for an event whose request
    then fails (a refused sign-in, answered 401), which would take an entry in its own transaction with
    it. Call it before the request writes anything, never while its transaction holds the chain."""
    draft = _draft(actor, action, entity, entity_id, details, inspection_id)
    async with sessionmaker(info={SESSION_KEY: actor}) as session:
        await session.run_sync(lambda sync: append(sync.connection(), [draft]))
        await session.commit()

