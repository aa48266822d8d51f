"""The queries that read rating snapshots: an inspection's ratings history, the ratings in force, a
unit's inspections with their overall ratings, and the inspections a region's rating pools."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from gateway.actors import Actor
from gateway.casedata.sealing import holds_case_data
from gateway.inspections.models import Inspection
from gateway.inspections.repository import NEWEST_FIRST, visible
from gateway.pagination import Key, PageQuery, keyset_page
from gateway.ratings.models import PublishedVersion, RatingSnapshot
from gateway.writes import RETENTION
from inspection_shared.pagination import Page

Item = TypeVar("Item")

NEWEST_SNAPSHOT_FIRST = (Key(RatingSnapshot.sequence, descending=True),)
FIRST_VERSION_FIRST = (Key(PublishedVersion.version),)

PublishedRow = tuple[PublishedVersion, str, int | None]
"""A published version with the overall rating and score of its snapshot."""


async def latest_snapshot(session: AsyncSession, inspection_id: uuid.UUID) -> RatingSnapshot | None:
    """The inspection's newest rating snapshot: the ratings in force."""
    return await session.scalar(
        select(RatingSnapshot)
        .where(RatingSnapshot.inspection_id == inspection_id)
        .order_by(RatingSnapshot.sequence.desc())
        .limit(1)
    )


async def latest_result(session: AsyncSession, inspection_id: uuid.UUID) -> RatingSnapshot | None:
    """The latest snapshot's result, without the evidence it was rated on: a read of the ratings never
    needs the evidence, which for a whole inspection is hundreds of kilobytes of JSON."""
    return await session.scalar(
        select(RatingSnapshot)
        .options(defer(RatingSnapshot.request, raiseload=True))
        .where(RatingSnapshot.inspection_id == inspection_id)
        .order_by(RatingSnapshot.sequence.desc())
        .limit(1)
    )


async def latest_brief(session: AsyncSession, inspection_id: uuid.UUID) -> tuple[uuid.UUID, int, str] | None:
    """Id, sequence and overall rating of the latest snapshot, without its (large) documents."""
    row = (
        await session.execute(
            select(RatingSnapshot.id, RatingSnapshot.sequence, RatingSnapshot.overall_rating)
            .where(RatingSnapshot.inspection_id == inspection_id)
            .order_by(RatingSnapshot.sequence.desc())
            .limit(1)
        )
    ).one_or_none()
    return (row[0], row[1], row[2]) if row is not None else None


async def snapshot_result(session: AsyncSession, snapshot_id: uuid.UUID) -> RatingSnapshot | None:
    """A snapshot without the evidence it was rated on (see `latest_result`)."""
    return await session.scalar(
        select(RatingSnapshot)
        .options(defer(RatingSnapshot.request, raiseload=True))
        .where(RatingSnapshot.id == snapshot_id)
    )


def _published() -> Select:
    return select(PublishedVersion, RatingSnapshot.overall_rating, RatingSnapshot.overall_score).join(
        RatingSnapshot, RatingSnapshot.id == PublishedVersion.snapshot_id
    )


async def published_versions(session: AsyncSession, inspection_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[PublishedRow]]:
    """The published versions of each inspection, first first (a handful each)."""
    if not inspection_ids:
        return {}
    rows = await session.execute(
        _published().where(PublishedVersion.inspection_id.in_(inspection_ids)).order_by(PublishedVersion.version)
    )
    found: dict[uuid.UUID, list[PublishedRow]] = {}
    for version, rating, score in rows:
        found.setdefault(version.inspection_id, []).append((version, rating, score))
    return found


async def published_version_page(
    session: AsyncSession, inspection_id: uuid.UUID, query: PageQuery, item: Callable[[tuple], Item]
) -> Page[Item]:
    statement = _published().where(PublishedVersion.inspection_id == inspection_id)
    return await keyset_page(session, statement, FIRST_VERSION_FIRST, query, item, scalars=False)


async def snapshots(
    session: AsyncSession, inspection_id: uuid.UUID, query: PageQuery, item: Callable[[RatingSnapshot], Item]
) -> Page[Item]:
    """The inspection's ratings history, newest first."""
    statement = select(RatingSnapshot).where(RatingSnapshot.inspection_id == inspection_id)
    return await keyset_page(session, statement, NEWEST_SNAPSHOT_FIRST, query, item)


async def snapshots_by_id(session: AsyncSession, ids: set[uuid.UUID]) -> list[RatingSnapshot]:
    return list((await session.scalars(select(RatingSnapshot).where(RatingSnapshot.id.in_(ids)))).all())


async def unit_ratings_history(
    session: AsyncSession, unit_id: uuid.UUID, query: PageQuery, item: Callable[[tuple], Item], *, visible_to: Actor
) -> Page[Item]:
    """The unit's inspections, newest fieldwork first, each with its latest snapshot's id and overall
    rating, score and maximum (None where it has none), in one query."""
    latest = (
        select(RatingSnapshot.inspection_id, func.max(RatingSnapshot.sequence).label("sequence"))
        .join(Inspection, Inspection.id == RatingSnapshot.inspection_id)
        .where(Inspection.unit_id == unit_id)
        .group_by(RatingSnapshot.inspection_id)
        .subquery()
    )
    snapshot = aliased(RatingSnapshot)
    statement = (
        select(
            Inspection,
            snapshot.id,
            snapshot.overall_rating,
            snapshot.overall_score,
            snapshot.result[("overall", "max_score")].as_integer(),
        )
        .outerjoin(latest, latest.c.inspection_id == Inspection.id)
        .outerjoin(snapshot, and_(snapshot.inspection_id == Inspection.id, snapshot.sequence == latest.c.sequence))
        .where(Inspection.unit_id == unit_id, *visible(visible_to))
    )
    return await keyset_page(session, statement, NEWEST_FIRST, query, item, scalars=False)


async def inspections_of_units(
    session: AsyncSession, unit_ids: Sequence[uuid.UUID], framework_id: str, *, published_only: bool
) -> list[Inspection]:
    """The inspections of these units under a framework: published ones only, or any not withdrawn."""
    if not unit_ids:
        return []
    statement = select(Inspection).where(Inspection.unit_id.in_(unit_ids), Inspection.framework_id == framework_id)
    if published_only:
        statement = statement.where(Inspection.status == "published")
    else:
        statement = statement.where(Inspection.status != "withdrawn")
    return list((await session.scalars(statement)).all())


# --- retention -----------------------------------------------------------------------------------------


def _counts_in_place_of_cases(request: dict, result: dict) -> dict:
    """The request with each case-based standard's cases replaced by its key-question counts, as the
    engine counted them (its result's figures): evidence the engine still takes, with no case in it."""
    figures = {s["standard"]: s.get("key_questions", []) for s in result.get("standards", [])}
    standards = []
    for evidence in request.get("standards", []):
        if "cases" in evidence:
            counts = {kq["key_question"]: {"yes": kq["yes"], "applicable": kq["applicable"]}
                      for kq in figures.get(evidence["standard"], [])}
            evidence = {**{k: v for k, v in evidence.items() if k != "cases"}, "counts": counts}
        standards.append(evidence)
    return {**request, "standards": standards}


async def remove_case_evidence(session: AsyncSession, inspection_id: uuid.UUID) -> int:
    """Replace the case-level evidence in the inspection's snapshots with their key-question counts, under
    retention; how many snapshots held cases. Their results, overrides and everything read of them stay."""
    removed = 0
    rows = await session.execute(
        select(RatingSnapshot.id, RatingSnapshot.request, RatingSnapshot.result).where(
            RatingSnapshot.inspection_id == inspection_id
        )
    )
    for snapshot_id, request, result in rows.all():
        if not holds_case_data(request):
            continue
        await session.execute(
            update(RatingSnapshot)
            .where(RatingSnapshot.id == snapshot_id)
            .values(request=_counts_in_place_of_cases(request, result)),
            execution_options={RETENTION: True, "synchronize_session": False},
        )
        removed += 1
    return removed
