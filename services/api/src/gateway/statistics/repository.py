"""The queries of national statistics: aggregates the database computes over the published figures
(`models`), one statement for each set of figures, never a snapshot loaded; and, for the write path,
what an inspection's figures are derived from.

Every statement counts the same inspections: those published (a draft has no figures, and a withdrawn
inspection's are kept but not counted), of the units where the caller holds `reports:read`, within the
scope asked. The same conditions find the corrected and withdrawn inspections an answer names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Float, Select, and_, case, cast, func, or_, select

from gateway.actors import Actor
from gateway.frameworks.models import FrameworkKeyQuestion, FrameworkStandard, FrameworkVersion
from gateway.inspections.lifecycle import PUBLISHED, WITHDRAWN
from gateway.inspections.models import Inspection
from gateway.inspections.repository import visible
from gateway.permissions import Permission, units_with
from gateway.ratings.models import PublishedVersion, RatingSnapshot
from gateway.statistics.models import PublishedFigures, PublishedKeyQuestionFigure, PublishedStandardFigure
from gateway.statistics.reads import Read
from gateway.units.models import Unit
from inspection_shared.framework import RATINGS

_FIGURES = PublishedFigures
_STANDARDS = PublishedStandardFigure
_KEY_QUESTIONS = PublishedKeyQuestionFigure


@dataclass(frozen=True)
class Scope:
    """Which published inspections are counted. `first_day` and `last_day` bound the day each was
    first in the field, both included."""

    programme: str | None = None
    framework_id: str | None = None
    region_id: uuid.UUID | None = None
    unit_type: str | None = None
    first_day: date | None = None
    last_day: date | None = None


def _counted(
    statement: Select, scope: Scope, actor: Actor, of: Any = _FIGURES, *, withdrawn: bool = False, unit: bool = False
) -> Select:
    """`statement` over figures (the table `of`: each inspection's, by default, or its standards' or key
    questions'), joined with their inspections, and with the inspection's own figures and its unit where
    the scope (or `unit`) needs them, limited to what the scope and the actor count: published
    inspections, and `withdrawn` ones too if asked."""
    statement = statement.join(Inspection, Inspection.id == of.inspection_id)
    statuses = (PUBLISHED, WITHDRAWN) if withdrawn else (PUBLISHED,)
    conditions = [Inspection.status.in_(statuses), *visible(actor, need=Permission.REPORTS_READ)]
    by_figures = scope.programme is not None or scope.first_day is not None or scope.last_day is not None
    if of is not _FIGURES and by_figures:
        statement = statement.join(_FIGURES, _FIGURES.inspection_id == of.inspection_id)
    if unit or scope.region_id is not None or scope.unit_type is not None:
        statement = statement.join(Unit, Unit.id == Inspection.unit_id)
    if scope.region_id is not None:
        conditions.append(or_(Inspection.unit_id == scope.region_id, Unit.parent_id == scope.region_id))
    if scope.unit_type is not None:
        conditions.append(Unit.type == scope.unit_type)
    if scope.programme is not None:
        conditions.append(_FIGURES.programme == scope.programme)
    if scope.framework_id is not None:
        conditions.append(Inspection.framework_id == scope.framework_id)
    if scope.first_day is not None:
        conditions.append(_FIGURES.inspected_on >= scope.first_day)
    if scope.last_day is not None:
        conditions.append(_FIGURES.inspected_on <= scope.last_day)
    return statement.where(*conditions)


BUILT = 256
"""Statements held built; one for each set of figures, shape of scope and kind of caller in use."""

_built: dict[tuple[Any, ...], Select] = {}


def _statement(build: Callable[[Scope, Actor], Select], scope: Scope, actor: Actor) -> Select:
    """`build(scope, actor)`, built once for each scope and set of units the actor sees: building a
    statement costs more than its rows take to turn into figures. A statement holds no more of the actor
    than the units it reads (`visible`), so actors that read the same units share it."""
    key = (build, scope, units_with(actor, Permission.REPORTS_READ), units_with(actor, Permission.DRAFTS_READ))
    statement = _built.get(key)
    if statement is None:
        if len(_built) >= BUILT:
            _built.clear()
        statement = _built[key] = build(scope, actor)
    return statement


def _by_rating(column: Any) -> list[Any]:
    """How many rows hold each rating of the scale in `column`, one labelled column each."""
    return [func.sum(case((column == rating, 1), else_=0)).label(rating) for rating in RATINGS]


def _overall_ratings(scope: Scope, actor: Actor) -> Select:
    return _counted(
        select(func.count().label("inspections"), *_by_rating(_FIGURES.overall_rating)).select_from(_FIGURES),
        scope, actor,
    )


async def overall_ratings(read: Read, scope: Scope, actor: Actor) -> dict[str, int]:
    """How many inspections were counted (`inspections`), and how many got each overall rating."""
    (row,) = await read(_statement(_overall_ratings, scope, actor))
    return {key: value or 0 for key, value in row.items()}


def _standard_ratings(scope: Scope, actor: Actor) -> Select:
    counts = _counted(
        select(Inspection.framework_id, _STANDARDS.standard, func.count().label("inspections"),
               *_by_rating(_STANDARDS.rating))
        .select_from(_STANDARDS),
        scope, actor, _STANDARDS,
    ).group_by(Inspection.framework_id, _STANDARDS.standard).subquery()
    return select(counts, FrameworkStandard.name).outerjoin(
        FrameworkStandard,
        and_(FrameworkStandard.framework_id == counts.c.framework_id, FrameworkStandard.id == counts.c.standard),
    )


async def standard_ratings(read: Read, scope: Scope, actor: Actor) -> list[dict[str, Any]]:
    """Per framework and standard: its name, how many inspections rated it, and how many gave each rating."""
    return await read(_statement(_standard_ratings, scope, actor))


def _key_question_counts(scope: Scope, actor: Actor) -> Select:
    pooled = _counted(
        select(
            Inspection.framework_id,
            _KEY_QUESTIONS.standard,
            _KEY_QUESTIONS.key_question,
            func.sum(case((_KEY_QUESTIONS.applicable > 0, 1), else_=0)).label("inspections"),
            func.sum(_KEY_QUESTIONS.yes).label("yes"),
            func.sum(_KEY_QUESTIONS.applicable).label("applicable"),
        )
        .select_from(_KEY_QUESTIONS),
        scope, actor, _KEY_QUESTIONS,
    ).group_by(Inspection.framework_id, _KEY_QUESTIONS.standard, _KEY_QUESTIONS.key_question).subquery()
    return select(pooled, FrameworkKeyQuestion.text).outerjoin(
        FrameworkKeyQuestion,
        and_(FrameworkKeyQuestion.framework_id == pooled.c.framework_id, FrameworkKeyQuestion.id == pooled.c.key_question),
    )


async def key_question_counts(read: Read, scope: Scope, actor: Actor) -> list[dict[str, Any]]:
    """Per framework and key question: its standard and wording, the yes and applicable counts pooled over
    the inspections, and how many inspections it applied to at all."""
    return await read(_statement(_key_question_counts, scope, actor))


def _yearly_ratings(scope: Scope, actor: Actor) -> Select:
    return _counted(
        select(
            _FIGURES.programme_year,
            func.count().label("inspections"),
            *_by_rating(_FIGURES.overall_rating),
            func.count(_FIGURES.overall_score).label("scored_inspections"),
            func.avg(cast(_FIGURES.overall_score, Float) / _FIGURES.max_score).label("mean_score_share"),
        ).select_from(_FIGURES),
        scope, actor,
    ).group_by(_FIGURES.programme_year).order_by(_FIGURES.programme_year)


async def yearly_ratings(read: Read, scope: Scope, actor: Actor) -> list[dict[str, Any]]:
    """Per programme year, oldest first: how many inspections, how many got each overall rating, how many
    had a score, and the mean of score / maximum over those."""
    return await read(_statement(_yearly_ratings, scope, actor))


def _amended(scope: Scope, actor: Actor) -> Select:
    versions = PublishedVersion
    return _counted(
        select(
            _FIGURES.inspection_id, Unit.code.label("unit_code"), Unit.name.label("unit_name"), versions.version,
            versions.kind, versions.created_at.label("made_at"), versions.reason,
        )
        .select_from(_FIGURES)
        .join(versions, and_(versions.inspection_id == _FIGURES.inspection_id, versions.version == _FIGURES.version)),
        scope, actor, withdrawn=True, unit=True,
    ).where(_FIGURES.version > 1).order_by(versions.created_at.desc(), _FIGURES.inspection_id)


async def amended(read: Read, scope: Scope, actor: Actor) -> list[dict[str, Any]]:
    """The inspections in scope whose figures are of a version after the first, newest version first: the
    published ones counted with a correction, and the withdrawn ones no longer counted. Each with its unit
    and the version's number, kind, time and reason."""
    return await read(_statement(_amended, scope, actor))


# --- what the write path derives an inspection's figures from ----------------------------------------


@dataclass(frozen=True)
class PublishedSource:
    result: dict[str, Any]
    applies_to: list[str]
    inspected_on: date
    draft: bool
    """Under a draft framework version (a pilot's): never counted."""


def published_source(connection: Connection, inspection_id: uuid.UUID, snapshot_id: uuid.UUID) -> PublishedSource:
    """The snapshot's result, the unit types its framework is for, and the day the inspection was first in
    the field (or, without fieldwork dates, published), and whether its framework is a draft, read on the
    connection of a flush under way."""
    snapshots, inspections, frameworks = RatingSnapshot.__table__, Inspection.__table__, FrameworkVersion.__table__
    result, definition, status, fieldwork_start, published_at = connection.execute(
        select(snapshots.c.result, frameworks.c.definition, frameworks.c.status, inspections.c.fieldwork_start,
               inspections.c.published_at)
        .join(inspections, inspections.c.id == snapshots.c.inspection_id)
        .join(frameworks, frameworks.c.id == inspections.c.framework_id)
        .where(snapshots.c.id == snapshot_id, inspections.c.id == inspection_id)
    ).one()
    return PublishedSource(
        result, definition.get("applies_to", []), fieldwork_start or published_at.date(), status == "draft"
    )
