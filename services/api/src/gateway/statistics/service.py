"""National and annual statistics across published inspections: the database counts and sums
(`repository`); here the scope asked is checked, and percentages, intervals and changes are worked out
from the sums.

An inspection counts with the latest version it was published in (a correction replaces its figures; a
withdrawal removes them), in the programme year its fieldwork started in (1 April to 31 March). Only
published inspections count, and only those of units where the caller holds `reports:read`. Each answer
names the inspections in its scope counted with a correction, and those withdrawn, with when and why.
"""

from __future__ import annotations

from typing import Any

from gateway.actors import Actor
from gateway.statistics import repository
from gateway.statistics.periods import ProgrammeYear
from gateway.statistics.reads import Read, together
from gateway.statistics.schemas import (
    Amended,
    Amendment,
    AnnualChange,
    AnnualStatistics,
    KeyQuestionChange,
    KeyQuestionStatistic,
    KeyQuestionStatistics,
    RatingCounts,
    RatingStatistics,
    Scope,
    StandardChange,
    StandardRatings,
    StatisticsFilters,
    StatisticsQuery,
    Trends,
    YearFigures,
    YearRatings,
)
from inspection_shared.framework import RATINGS
from inspection_shared.normal import wilson_percent
from inspection_shared.problems import FieldError, InvalidInput

CONFIDENCE = 0.80
"""The inspectorate's samples are set for 80% confidence (domain.md section 4); so are the intervals here."""

WITHDRAWAL = "withdrawal"
"""The kind of published version that withdraws an inspection (`ratings.models.PublishedVersion`)."""


def _scope(filters: StatisticsFilters, year: ProgrammeYear | None, first: Any = None, last: Any = None) -> Scope:
    if year is not None:
        first, last = year.first_day, year.last_day
    return Scope(
        programme=filters.programme, framework_id=filters.framework_id, region_id=filters.region_id,
        unit_type=filters.unit_type, year=str(year) if year else None, from_=first, to=last,
    )


def scope_of(query: StatisticsQuery) -> Scope:
    """The scope a query asks for; a 422 naming the parameter at fault for a period that is not one."""
    if query.year is not None and (query.from_ is not None or query.to is not None):
        named = "query.from" if query.from_ is not None else "query.to"
        raise InvalidInput(
            "Give a programme year (year) or a range of days (from, to), not both.",
            [FieldError(field=named, message=f"not taken with year={query.year}")],
        )
    if query.from_ is not None and query.to is not None and query.from_ > query.to:
        raise InvalidInput(
            f"The period ends ({query.to}) before it starts ({query.from_}).",
            [FieldError(field="query.to", message=f"{query.to} is before from={query.from_}")],
        )
    year = ProgrammeYear.parse(query.year) if query.year is not None else None
    return _scope(query, year, query.from_, query.to)


def _counted(scope: Scope) -> repository.Scope:
    return repository.Scope(
        programme=scope.programme, framework_id=scope.framework_id, region_id=scope.region_id,
        unit_type=scope.unit_type, first_day=scope.from_, last_day=scope.to,
    )


def _numbered(identifier: str) -> tuple[int, ...]:
    """2.10 after 2.9: standards and key questions in the framework's order."""
    return tuple(int(part) for part in identifier.split("."))


def _counts(row: dict[str, Any], inspections: int) -> RatingCounts:
    rated = {rating: row.get(rating) or 0 for rating in RATINGS}
    return RatingCounts(**rated, not_rated=inspections - sum(rated.values()))


async def _amended(read: Read, actor: Actor, scope: Scope) -> dict[str, Any]:
    """The `Amended` fields of an answer over `scope`."""
    rows = await repository.amended(read, _counted(scope), actor)
    corrections = [Amendment(**row) for row in rows if row["kind"] != WITHDRAWAL]
    withdrawn = [Amendment(**row) for row in rows if row["kind"] == WITHDRAWAL]
    return Amended(corrected=len(corrections), corrections=corrections, withdrawn=withdrawn).model_dump()


# --- the three sets of figures --------------------------------------------------------------------------


async def _standards(read: Read, actor: Actor, scope: Scope) -> list[StandardRatings]:
    rows = await repository.standard_ratings(read, _counted(scope), actor)
    rows.sort(key=lambda row: (row["framework_id"], _numbered(row["standard"])))
    return [
        StandardRatings(framework_id=row["framework_id"], standard=row["standard"], name=row["name"],
                        inspections=row["inspections"], ratings=_counts(row, row["inspections"]))
        for row in rows
    ]


async def _key_questions(read: Read, actor: Actor, scope: Scope) -> list[KeyQuestionStatistic]:
    rows = await repository.key_question_counts(read, _counted(scope), actor)
    rows.sort(key=lambda row: (row["framework_id"], _numbered(row["key_question"])))
    figures = []
    for row in rows:
        yes, applicable = row["yes"] or 0, row["applicable"] or 0
        figures.append(KeyQuestionStatistic(
            framework_id=row["framework_id"], standard=row["standard"], key_question=row["key_question"],
            text=row["text"], inspections=row["inspections"] or 0, yes=yes, applicable=applicable,
            percent=100 * yes / applicable if applicable else None,
            interval=wilson_percent(yes, applicable, CONFIDENCE) if applicable else None,
        ))
    return figures


def _year(row: dict[str, Any]) -> YearRatings:
    year = ProgrammeYear(row["programme_year"])
    return YearRatings(
        year=str(year), from_=year.first_day, to=year.last_day, inspections=row["inspections"],
        overall=_counts(row, row["inspections"]), scored_inspections=row["scored_inspections"],
        mean_score_share=row["mean_score_share"],
    )


async def rating_statistics(read: Read, actor: Actor, query: StatisticsQuery) -> RatingStatistics:
    scope = scope_of(query)
    overall, standards, amended = await together(
        repository.overall_ratings(read, _counted(scope), actor), _standards(read, actor, scope),
        _amended(read, actor, scope),
    )
    return RatingStatistics(
        scope=scope, inspections=overall["inspections"], overall=_counts(overall, overall["inspections"]),
        standards=standards, **amended,
    )


async def key_question_statistics(read: Read, actor: Actor, query: StatisticsQuery) -> KeyQuestionStatistics:
    scope = scope_of(query)
    key_questions, amended = await together(_key_questions(read, actor, scope), _amended(read, actor, scope))
    return KeyQuestionStatistics(scope=scope, confidence=CONFIDENCE, key_questions=key_questions, **amended)


async def trends(read: Read, actor: Actor, query: StatisticsQuery) -> Trends:
    scope = scope_of(query)
    rows, amended = await together(
        repository.yearly_ratings(read, _counted(scope), actor), _amended(read, actor, scope)
    )
    return Trends(scope=scope, years=[_year(row) for row in rows], **amended)


# --- a year beside the year before ----------------------------------------------------------------------


def programme_year(written: str) -> ProgrammeYear:
    try:
        return ProgrammeYear.parse(written)
    except ValueError as fault:
        raise InvalidInput(f"{fault}.", [FieldError(field="path.year", message=str(fault))]) from None


async def _year_figures(read: Read, actor: Actor, filters: StatisticsFilters, year: ProgrammeYear) -> YearFigures:
    scope = _scope(filters, year)
    rows = await repository.yearly_ratings(read, _counted(scope), actor)
    counted = _year(rows[0]) if rows else YearRatings(
        year=str(year), from_=year.first_day, to=year.last_day, inspections=0, overall=_counts({}, 0),
        scored_inspections=0, mean_score_share=None,
    )
    return YearFigures(
        **counted.model_dump(), standards=await _standards(read, actor, scope),
        key_questions=await _key_questions(read, actor, scope),
    )


def _less(current: RatingCounts, previous: RatingCounts) -> RatingCounts:
    return RatingCounts(**{name: getattr(current, name) - getattr(previous, name) for name in RatingCounts.model_fields})


def _change(current: YearFigures, previous: YearFigures) -> AnnualChange:
    none = RatingCounts(outstanding=0, good=0, requires_improvement=0, inadequate=0, not_rated=0)
    standards_before = {(s.framework_id, s.standard): s for s in previous.standards}
    standards_now = {(s.framework_id, s.standard): s for s in current.standards}
    standards = []
    for key in sorted(standards_before.keys() | standards_now.keys(), key=lambda k: (k[0], _numbered(k[1]))):
        now, before = standards_now.get(key), standards_before.get(key)
        standards.append(StandardChange(
            framework_id=key[0], standard=key[1], name=(now or before).name,
            inspections=(now.inspections if now else 0) - (before.inspections if before else 0),
            ratings=_less(now.ratings if now else none, before.ratings if before else none),
        ))
    asked_before = {(k.framework_id, k.key_question): k for k in previous.key_questions}
    asked_now = {(k.framework_id, k.key_question): k for k in current.key_questions}
    key_questions = []
    for key in sorted(asked_before.keys() | asked_now.keys(), key=lambda k: (k[0], _numbered(k[1]))):
        now, before = asked_now.get(key), asked_before.get(key)
        either = now or before
        points = None
        if now is not None and before is not None and now.percent is not None and before.percent is not None:
            points = now.percent - before.percent
        key_questions.append(KeyQuestionChange(
            framework_id=key[0], standard=either.standard, key_question=key[1], text=either.text,
            inspections=(now.inspections if now else 0) - (before.inspections if before else 0),
            yes=(now.yes if now else 0) - (before.yes if before else 0),
            applicable=(now.applicable if now else 0) - (before.applicable if before else 0),
            percent_points=points,
        ))
    shares = (current.mean_score_share, previous.mean_score_share)
    return AnnualChange(
        inspections=current.inspections - previous.inspections,
        overall=_less(current.overall, previous.overall),
        scored_inspections=current.scored_inspections - previous.scored_inspections,
        mean_score_share=shares[0] - shares[1] if None not in shares else None,
        standards=standards,
        key_questions=key_questions,
    )


async def annual_statistics(read: Read, actor: Actor, written: str, filters: StatisticsFilters) -> AnnualStatistics:
    """The year's figures, the year before's, and the change: what an annual report is written from."""
    year = programme_year(written)
    both_years = _scope(filters, None, year.previous.first_day, year.last_day)
    current, previous, amended = await together(
        _year_figures(read, actor, filters, year), _year_figures(read, actor, filters, year.previous),
        _amended(read, actor, both_years),
    )
    return AnnualStatistics(
        scope=_scope(filters, year), year=str(year), previous_year=str(year.previous),
        current=current, previous=previous, change=_change(current, previous), **amended,
    )
