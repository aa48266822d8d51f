"""Framework versions held by the gateway: what inspections pin and are rated against; and the vocabularies
of the caseload frame columns their samples use."""

from fastapi import APIRouter

from gateway.db import SessionDep
from gateway.frameworks import service
from gateway.permissions import PUBLIC
from inspection_shared.framework import Framework, FrameworkSummary
from inspection_shared.library import vocabularies
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses
from inspection_shared.vocabulary import Vocabulary

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


# Like the standards, the codes a frame may hold are public.
vocabularies_router = APIRouter(prefix="/vocabularies", tags=["frameworks"], dependencies=[PUBLIC])


@vocabularies_router.get(
    "",
    operation_id="list_vocabularies",
    summary="The codes each caseload frame column may hold, with their labels and the spellings read as each",
    description=(
        "One vocabulary per column the frameworks' sample types stratify on or their case filters read "
        "(gender, sentence type, risk of serious harm level, ...). A frame's value is read whatever its case, "
        "spacing and punctuation, as a code, its label or one of its spellings, and stored as the code; any "
        "other value refuses the upload. The `unit` column has no vocabulary: it takes the code of the "
        "inspected unit or of a unit below it."
    ),
)
async def list_vocabularies() -> Page[Vocabulary]:
    return Page(items=sorted(vocabularies().values(), key=lambda v: v.column), next_cursor=None)
