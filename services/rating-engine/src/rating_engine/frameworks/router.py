"""The framework library, as the engine rates by it."""

from fastapi import APIRouter

from inspection_shared.framework import Framework, FrameworkSummary
from inspection_shared.library import library
from inspection_shared.problems import NotFound, problem_responses

router = APIRouter(tags=["frameworks"])


@router.get("/frameworks", operation_id="list_frameworks", summary="Framework versions in the library")
async def list_frameworks() -> dict[str, list[FrameworkSummary]]:
    return {"items": [FrameworkSummary.of(f) for f in library().values()]}


@router.get(
    "/frameworks/{framework_id}",
    operation_id="get_framework",
    summary="One framework version: domains, standards, key questions and rating rules",
    responses=problem_responses(404),
)
async def get_framework(framework_id: str) -> Framework:
    framework = library().get(framework_id)
    if framework is None:
        raise NotFound(f"No framework {framework_id!r}; known: {', '.join(library())}")
    return framework
