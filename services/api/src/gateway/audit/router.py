"""The audit log, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.audit import service
from gateway.audit.schemas import AuditEntryRead, AuditQuery
from gateway.db import SessionDep
from gateway.permissions import Permission, requires
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    summary="The audit log, newest first, filtered",
    description=(
        "Every change the gateway has made (insert, update, delete of a row, with the fields before and "
        "after; case references masked) and every named event (sign-ins, refused sign-ins, API keys), with "
        "who, when and the request. Filter by actor, entity (and entity_id), inspection, action and time "
        "(`from` inclusive, `to` exclusive). Each entry carries its hash and its predecessor's: "
        "`gateway.cli audit-verify` checks the chain."
    ),
    responses=problem_responses(422),
    dependencies=[requires(Permission.AUDIT_READ)],
)
async def list_audit_entries(query: Annotated[AuditQuery, Query()], session: SessionDep) -> Page[AuditEntryRead]:
    return await service.entries(session, query)
