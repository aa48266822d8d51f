"""Reading the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.models import AuditEntry
from gateway.audit.schemas import AuditEntryRead, AuditQuery
from gateway.pagination import Key, keyset_page
from inspection_shared.pagination import Page

NEWEST_FIRST = (Key(AuditEntry.id, descending=True),)


async def entries(session: AsyncSession, query: AuditQuery) -> Page[AuditEntryRead]:
    statement = select(AuditEntry)
    for column, value in (
        (AuditEntry.actor_id, query.actor),
        (AuditEntry.entity, query.entity),
        (AuditEntry.entity_id, query.entity_id),
        (AuditEntry.inspection_id, query.inspection),
        (AuditEntry.action, query.action),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.from_ is not None:
        statement = statement.where(AuditEntry.at >= query.from_)
    if query.to is not None:
        statement = statement.where(AuditEntry.at < query.to)
    return await keyset_page(session, statement, NEWEST_FIRST, query, AuditEntryRead.model_validate)
