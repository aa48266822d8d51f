"""The framework library, as the engine rates by it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from inspection_shared.framework import Framework, FrameworkSummary
from inspection_shared.library import library
from inspection_shared.pagination import Page
from inspection_shared.problems import NotFound, problem_responses
from rating_engine.frameworks.service import library_entry

router = APIRouter(tags=["frameworks"])


@router.get(
    "/frameworks",
    operation_id="list_frameworks",
    summary="Framework versions in the library",
    description="Every framework version the engine can rate by; the library is small, so one page holds it.",
)
async def list_frameworks() -> Page[FrameworkSummary]:
    return Page(items=[FrameworkSummary.of(f) for _, f in sorted(library().items())], next_cursor=None)


@router.get(
    "/frameworks/{framework_id}",
    operation_id="get_framework",
    summary="One framework version: domains, standards, key questions and rating rules",
    description=(
        "A published version never changes, so the response carries its content hash as a strong ETag and "
        "answers `If-None-Match` with 304."
    ),
    responses={**problem_responses(404), 304: {"description": "Not modified"}},
)
async def get_framework(framework_id: str, request: Request, response: Response) -> Framework:
    entry = library_entry(framework_id)
    if entry is None:
        raise NotFound(f"No framework {framework_id!r}; the library has {', '.join(sorted(library()))}.")
    etag = f'"{entry.hash}"'
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers={"ETag": etag})  # type: ignore[return-value]
    response.headers["ETag"] = etag
    return entry.framework
