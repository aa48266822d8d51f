"""Framework versions held by the gateway: what inspections pin and are rated against."""

from fastapi import APIRouter

from gateway.db import SessionDep
from gateway.frameworks import service
from gateway.permissions import PUBLIC
from inspection_shared.framework import Framework, FrameworkSummary
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

# Published standards are public.
router = APIRouter(prefix="/frameworks", tags=["frameworks"], dependencies=[PUBLIC])


@router.get("", operation_id="list_frameworks", summary="Framework versions held")
async def list_frameworks(session: SessionDep) -> Page[FrameworkSummary]:
    frameworks = await service.list_frameworks(session)
    return Page(items=[FrameworkSummary.of(f) for f in frameworks], next_cursor=None)


@router.get(
    "/{framework_id}",
    summary="One framework version: domains, standards, key questions and rating rules",
    responses=problem_responses(404),
)
async def get_framework(framework_id: str, session: SessionDep) -> Framework:
    return await service.get_framework(session, framework_id)
