"""Rating runs, the ratings panel's decisions, the ratings history, regional ratings, and a unit's
ratings over time."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from gateway.db import SessionDep
from gateway.engines import RatingEngineDep
from gateway.idempotency.service import IdempotencyKey, run_once
from gateway.pagination import PageQuery
from gateway.permissions import Permission, requires
from gateway.ratings import corrections, publication, readiness, regional, service
from gateway.ratings.models import RatingSnapshot
from gateway.ratings.schemas import (
    CorrectionCreate,
    PanelDecisionCreate,
    PublishedVersionListQuery,
    PublishedVersionRead,
    RatingRunListQuery,
    RatingsHistoryEntry,
    RatingSnapshotRead,
    RatingSnapshotRecord,
    RatingSnapshotSummary,
    Readiness,
    RegionalRating,
    RegionalRatingQuery,
    VersionQuery,
)
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["ratings"])

_ENGINE_PROBLEMS = (502, 503, 504)
_CREATED = {
    201: {
        "description": "Rated; Location names the new snapshot. A repeat with the same Idempotency-Key "
        "answers the first snapshot again, with `Idempotent-Replayed: true`.",
        "headers": {"Location": {"schema": {"type": "string"}}},
    }
}


async def _rated(
    request: Request, session: SessionDep, key: str | None, body: Any, rate: Callable[[], Awaitable[RatingSnapshot]]
) -> JSONResponse:
    """Answer a POST that rates with the snapshot made, once per idempotency key."""

    async def work() -> tuple[int, Any, dict[str, str]]:
        snapshot = await rate()
        read = (await service.read(session, snapshot)).model_dump(mode="json")
        return 201, read, {"Location": request.app.url_path_for("ratings.get_rating_run", snapshot_id=str(snapshot.id))}

    return await run_once(session, request, key=key, request_body=body, work=work)


@router.post(
    "/inspections/{inspection_id}/rating-runs",
    summary="Rate the inspection's evidence and keep the answer as a new snapshot",
    description=(
        "The gateway gathers the evidence held (case answers of the current sampled cases for each case-based "
        "standard, the judgement for each judged standard), the rating engine rates it, and the answer is "
        "stored as an immutable snapshot that becomes the inspection's current rating. Allowed while the "
        "inspection is in `rating`. Panel decisions in force are carried forward and listed in "
        "`carried_overrides`. If the engine is down or slow the answer is 503 or 504 with Retry-After and "
        "nothing is stored."
    ),
    status_code=201,
    response_model=RatingSnapshotRead,
    responses={**_CREATED, **problem_responses(404, 409, 422, *_ENGINE_PROBLEMS)},
    dependencies=[requires(Permission.RATINGS_RUN)],
)
async def start_rating_run(
    inspection_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    engine: RatingEngineDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _rated(
        request, session, idempotency_key, {}, lambda: service.start_rating_run(session, engine, inspection_id)
    )


@router.get(
    "/inspections/{inspection_id}/rating-runs",
    summary="The inspection's ratings history, newest first",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.DRAFTS_READ)],
)
async def list_rating_runs(
    inspection_id: uuid.UUID, query: Annotated[RatingRunListQuery, Query()], session: SessionDep
) -> Page[RatingSnapshotSummary]:
    return await service.list_snapshots(session, inspection_id, query)


@router.get(
    "/inspections/{inspection_id}/rating-runs/latest",
    summary="The inspection's ratings in force: its newest snapshot, or those of a published version",
    description=(
        "Without `version`, the newest snapshot: after publication, the latest published version's. With "
        "`version`, the snapshot that published version was published with (404 for a version that does not "
        "exist)."
    ),
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.RATINGS_READ)],
)
async def get_latest_rating_run(
    inspection_id: uuid.UUID, session: SessionDep, version: VersionQuery = None
) -> RatingSnapshotRead:
    return await service.read(session, await service.get_latest(session, inspection_id, version))


@router.get(
    "/rating-runs/{snapshot_id}",
    name="ratings.get_rating_run",
    summary="One rating snapshot, with the evidence exactly as the engine was sent it",
    responses=problem_responses(404),
    dependencies=[requires(Permission.ASSESSMENTS_READ)],
)
async def get_rating_run(snapshot_id: uuid.UUID, session: SessionDep) -> RatingSnapshotRecord:
    return await service.record(session, await service.get_snapshot(session, snapshot_id))


@router.post(
    "/inspections/{inspection_id}/panel-decisions",
    summary="Record a ratings panel's decisions: standards' ratings set, confirmed or marked not rated",
    description=(
        "The engine re-rates the latest snapshot's evidence with the decisions added: the computed rating, "
        "the panel's rating and its written reason are all kept, in a new snapshot of kind `override` based on "
        "the latest one. Giving the computed rating confirms it (what publication asks of a standard rated from "
        "fewer applicable cases than its framework's minimum); `not_rated` withholds a standard's rating (what "
        "publication asks of a scored standard that cannot be rated). Needs a snapshot (409 without one) and "
        "an inspection in `rating`."
    ),
    status_code=201,
    response_model=RatingSnapshotRead,
    responses={**_CREATED, **problem_responses(404, 409, 422, *_ENGINE_PROBLEMS)},
    dependencies=[requires(Permission.PANEL_DECIDE)],
)
async def record_panel_decisions(
    inspection_id: uuid.UUID,
    decision: PanelDecisionCreate,
    request: Request,
    session: SessionDep,
    engine: RatingEngineDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _rated(
        request, session, idempotency_key, decision.model_dump(mode="json"),
        lambda: service.record_panel_decisions(session, engine, inspection_id, decision.overrides),
    )


@router.get(
    "/inspections/{inspection_id}/readiness",
    tags=["inspections"],
    summary="Whether the inspection may be published: each condition of publication, met or not, with its figures",
    description=(
        "The conditions the framework version's publication gates set, and the end of fieldwork, each met or "
        "not: fieldwork ended; a rating snapshot; each scored standard rated or marked not rated by the ratings "
        "panel; each domain-one standard judged; each case-based standard's sample answered (`answered` of "
        "`sample` = `share`, against `minimum_share`), and, on a key question with fewer applicable cases than "
        "`minimum_applicable`, a panel decision in force. The figures are of the latest rating snapshot, which "
        "publication publishes. Publication refused is a 409 whose `conditions` are the unmet ones, in this shape."
    ),
    responses=problem_responses(404),
    dependencies=[requires(Permission.INSPECTIONS_READ)],
)
async def get_publication_readiness(inspection_id: uuid.UUID, session: SessionDep) -> Readiness:
    return await readiness.get_readiness(session, inspection_id)


@router.get(
    "/units/{region_id}/regional-rating",
    summary="A region's case-based ratings, pooled from its units' inspections",
    description=(
        "Pools the case answers of the latest published (or, with basis=current, latest not withdrawn) "
        "inspection of each unit directly under the region, under the framework given, through the rating "
        "engine. Answers the pooled key-question figures and rating per case-based standard, each unit's own "
        "figures, and which inspection each unit contributed."
    ),
    responses=problem_responses(404, 422, *_ENGINE_PROBLEMS),
    dependencies=[requires(Permission.RATINGS_READ)],
)
async def get_regional_rating(
    region_id: uuid.UUID, query: Annotated[RegionalRatingQuery, Query()], session: SessionDep, engine: RatingEngineDep
) -> RegionalRating:
    return await regional.regional_rating(session, engine, region_id, query)


@router.get(
    "/units/{unit_id}/ratings-history",
    tags=["inspections"],
    summary="A unit's inspections over time with their overall ratings, newest first",
    description=(
        "Each inspection with the overall rating and score of its latest published version (as corrected), "
        "or, before publication, those of its latest rating snapshot (`rating_basis` says which), and the "
        "corrections made after publication (`corrected`, `corrections`: when, by whom and why). Withdrawn "
        "inspections are listed without a rating; a publication withdrawn lists its withdrawal among them."
    ),
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.RATINGS_READ)],
)
async def get_unit_ratings_history(
    unit_id: uuid.UUID, query: Annotated[PageQuery, Query()], session: SessionDep
) -> Page[RatingsHistoryEntry]:
    return await service.unit_ratings_history(session, unit_id, query)


# --- published versions and corrections --------------------------------------------------------------


@router.post(
    "/inspections/{inspection_id}/corrections",
    summary="Correct a published inspection (or withdraw it), as its next published version",
    description=(
        "What is published is never edited: a correction publishes the next version, with its reason. Give "
        "the changed panel decisions (`overrides`), domain-one judgements (`judgements`) and case answers "
        "(`case_answers`, the JSON items of an assessment import): the rating engine rates the evidence "
        "published with those changes over it, the answer is kept as a new snapshot (kind `correction`), the "
        "judgements and case answers are recorded as corrected, and the version records what changed. Or "
        "withdraw (`withdraw: true`, with the reason alone): the inspection is marked withdrawn and stays "
        "readable, no longer a published rating. By a lead inspector of the unit or an administrator; 409 for an "
        "inspection not published, or a correction that changes nothing; the earlier versions stay readable."
    ),
    status_code=201,
    response_model=PublishedVersionRead,
    responses={
        201: {
            "description": "Published; Location names the new version. A repeat with the same Idempotency-Key "
            "answers the first version again, with `Idempotent-Replayed: true`.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 409, 422, *_ENGINE_PROBLEMS),
    },
    dependencies=[requires(Permission.INSPECTIONS_PUBLISH)],
)
async def issue_correction(
    inspection_id: uuid.UUID,
    correction: CorrectionCreate,
    request: Request,
    session: SessionDep,
    engine: RatingEngineDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def work() -> tuple[int, Any, dict[str, str]]:
        version = await corrections.issue_correction(session, engine, inspection_id, correction)
        read = await publication.get_version(session, inspection_id, version.version)
        where = request.app.url_path_for(
            "ratings.get_published_version", inspection_id=str(inspection_id), version=str(version.version)
        )
        return 201, read.model_dump(mode="json"), {"Location": where}

    body = correction.model_dump(mode="json")
    return await run_once(session, request, key=idempotency_key, request_body=body, work=work)


@router.get(
    "/inspections/{inspection_id}/published-versions",
    summary="What the inspection was published with, version by version: its publication and each correction",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.RATINGS_READ)],
)
async def list_published_versions(
    inspection_id: uuid.UUID, query: Annotated[PublishedVersionListQuery, Query()], session: SessionDep
) -> Page[PublishedVersionRead]:
    return await publication.list_versions(session, inspection_id, query)


@router.get(
    "/inspections/{inspection_id}/published-versions/{version}",
    name="ratings.get_published_version",
    summary="One published version: when, by whom and why, and what it changed",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.RATINGS_READ)],
)
async def get_published_version(
    inspection_id: uuid.UUID, version: Annotated[int, Path(ge=1)], session: SessionDep
) -> PublishedVersionRead:
    return await publication.get_version(session, inspection_id, version)
