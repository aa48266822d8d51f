"""The criteria and their weights, the topics and their scores, and the ranking of topics by `scoring`."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from gateway import writes
from gateway.db import row_fields
from gateway.pagination import Key, keyset_page
from gateway.preconditions import check_if_match
from gateway.preconditions import etag as version_etag
from gateway.programme import scoring
from gateway.programme.library import programme_library
from gateway.programme.models import HIGHEST_SCORE, Criterion, CriterionWeightChange, Topic, TopicScore
from gateway.programme.schemas import (
    CriteriaRead,
    CriterionGroupRead,
    CriterionRead,
    PartRead,
    RankedTopic,
    Ranking,
    ScoreGiven,
    ScoreRead,
    TopicCreate,
    TopicFilters,
    TopicListQuery,
    TopicRead,
    TopicUpdate,
    WeightChange,
    WeightChangeRead,
)
from inspection_shared.pagination import Page
from inspection_shared.problems import FieldError, InvalidInput, NotFound

TOPIC_ORDER = (Key(Topic.programme_year), Key(Topic.name))
"""Topics are listed by year and name; a year holds a name once, so the order is a key."""


def etag(record: Criterion | Topic) -> str:
    return version_etag(record.version)


# --- criteria ------------------------------------------------------------------------------------------


async def _criteria(session: AsyncSession) -> list[Criterion]:
    return list((await session.scalars(select(Criterion).order_by(Criterion.position))).all())


async def _changes(session: AsyncSession, criterion_ids: list[str]) -> dict[str, list[CriterionWeightChange]]:
    rows = await session.scalars(
        select(CriterionWeightChange).where(CriterionWeightChange.criterion_id.in_(criterion_ids))
        .order_by(CriterionWeightChange.changed_at, CriterionWeightChange.id)
    )
    changes: dict[str, list[CriterionWeightChange]] = defaultdict(list)
    for change in rows.all():
        changes[change.criterion_id].append(change)
    return changes


def _criterion_read(criterion: Criterion, changes: list[CriterionWeightChange]) -> CriterionRead:
    return CriterionRead(
        id=criterion.id, group=criterion.criterion_group, name=criterion.name,  # type: ignore[arg-type]
        weight=criterion.weight, version=criterion.version, updated_at=criterion.updated_at,
        updated_by=criterion.updated_by, changes=[WeightChangeRead.model_validate(c) for c in changes],
    )


async def list_criteria(session: AsyncSession) -> CriteriaRead:
    criteria = await _criteria(session)
    changes = await _changes(session, [c.id for c in criteria])
    names = programme_library().group_names
    groups: dict[str, list[CriterionRead]] = defaultdict(list)
    for criterion in criteria:
        groups[criterion.criterion_group].append(_criterion_read(criterion, changes.get(criterion.id, [])))
    return CriteriaRead(groups=[CriterionGroupRead(id=group, name=names[group], criteria=held)  # type: ignore[arg-type]
                                for group, held in groups.items()])


async def _criterion(session: AsyncSession, criterion_id: str) -> Criterion:
    criterion = await session.get(Criterion, criterion_id)
    if criterion is None:
        raise NotFound(f"No criterion {criterion_id}")
    return criterion


async def get_criterion(session: AsyncSession, criterion_id: str) -> tuple[CriterionRead, str]:
    criterion = await _criterion(session, criterion_id)
    changes = await _changes(session, [criterion.id])
    return _criterion_read(criterion, changes.get(criterion.id, [])), etag(criterion)


async def change_weight(session: AsyncSession, criterion_id: str, change: WeightChange, if_match: str | None
                        ) -> tuple[CriterionRead, str]:
    """A new weight for a criterion, kept with the one before and why (the audit log keeps who and when too)."""
    criterion = await _criterion(session, criterion_id)
    check_if_match("the criterion", criterion.version, if_match)
    session.add(CriterionWeightChange(criterion_id=criterion.id, weight_before=criterion.weight,
                                      weight_after=change.weight, reason=change.reason))
    criterion.weight = change.weight
    flag_modified(criterion, "weight")  # a change even to the same weight is one: the version moves
    await writes.flush(session, clash="The criterion was changed at the same time.", changed="the criterion")
    return await get_criterion(session, criterion_id)


# --- topics --------------------------------------------------------------------------------------------


async def _scores(session: AsyncSession, topic_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[TopicScore]]:
    rows = await session.scalars(select(TopicScore).where(TopicScore.topic_id.in_(topic_ids))
                                 .order_by(TopicScore.criterion_id))
    scores: dict[uuid.UUID, list[TopicScore]] = defaultdict(list)
    for score in rows.all():
        scores[score.topic_id].append(score)
    return scores


def _topic_read(topic: Topic, scores: list[TopicScore]) -> TopicRead:
    return TopicRead.model_validate({**row_fields(topic), "scores": [ScoreRead.model_validate(s) for s in scores]})


async def _check_scores(session: AsyncSession, scores: list[ScoreGiven]) -> None:
    known = {c.id for c in await _criteria(session)}
    errors, seen = [], set()
    for i, given in enumerate(scores):
        field = f"body.scores[{i}].criterion_id"
        if given.criterion_id not in known:
            errors.append(FieldError(field=field, message=f"no criterion {given.criterion_id}"))
        elif given.criterion_id in seen:
            errors.append(FieldError(field=field, message=f"{given.criterion_id} is scored twice"))
        seen.add(given.criterion_id)
    if errors:
        raise InvalidInput("Each score names a criterion of GET /api/v1/programme/criteria, once.", errors)


def _score_rows(topic_id: uuid.UUID, scores: list[ScoreGiven]) -> list[TopicScore]:
    return [TopicScore(topic_id=topic_id, **given.model_dump()) for given in scores]


async def create_topic(session: AsyncSession, data: TopicCreate) -> tuple[TopicRead, str]:
    await _check_scores(session, data.scores)
    topic = Topic(id=uuid.uuid4(), **data.model_dump(exclude={"scores"}))
    session.add(topic)
    session.add_all(_score_rows(topic.id, data.scores))
    await writes.flush(session, clash=f"{data.programme_year} already has a topic named {data.name!r}.")
    return await get_topic(session, topic.id)


async def _topic(session: AsyncSession, topic_id: uuid.UUID) -> Topic:
    topic = await session.get(Topic, topic_id)
    if topic is None:
        raise NotFound(f"No topic {topic_id}")
    return topic


async def get_topic(session: AsyncSession, topic_id: uuid.UUID) -> tuple[TopicRead, str]:
    topic = await _topic(session, topic_id)
    return _topic_read(topic, (await _scores(session, [topic.id])).get(topic.id, [])), etag(topic)


async def update_topic(session: AsyncSession, topic_id: uuid.UUID, changes: TopicUpdate, if_match: str | None
                       ) -> tuple[TopicRead, str]:
    topic = await _topic(session, topic_id)
    check_if_match("the topic", topic.version, if_match)
    held: dict[str, TopicScore] = {}
    if changes.scores is not None:  # read before anything changes, so the topic is written once
        await _check_scores(session, changes.scores)
        held = {s.criterion_id: s for s in (await _scores(session, [topic.id])).get(topic.id, [])}
    for field in changes.model_fields_set - {"scores"}:
        setattr(topic, field, getattr(changes, field))
    for given in changes.scores or []:
        if given.criterion_id in held:
            held[given.criterion_id].score, held[given.criterion_id].rationale = given.score, given.rationale
        else:
            session.add(TopicScore(topic_id=topic.id, **given.model_dump()))
    flag_modified(topic, "status")  # a change of its scores alone is a change of the topic: its version moves
    await writes.flush(session, clash="The topic was changed at the same time.", changed="the topic")
    return await get_topic(session, topic.id)


def _filtered(statement, filters: TopicFilters):
    if filters.programme_year is not None:
        statement = statement.where(Topic.programme_year == filters.programme_year)
    if filters.kind is not None:
        statement = statement.where(Topic.kind == filters.kind)
    return statement


async def list_topics(session: AsyncSession, query: TopicListQuery) -> Page[TopicRead]:
    statement = _filtered(select(Topic), query)
    if query.status is not None:
        statement = statement.where(Topic.status == query.status)
    page = await keyset_page(session, statement, TOPIC_ORDER, query, lambda topic: topic)
    scores = await _scores(session, [t.id for t in page.items])
    return Page(items=[_topic_read(t, scores.get(t.id, [])) for t in page.items], next_cursor=page.next_cursor)


async def ranking(session: AsyncSession, filters: TopicFilters) -> Ranking:
    """The topics asked for, ranked by their totals under today's weights, each total shown part by part."""
    criteria = [scoring.Weighting(c.id, c.criterion_group, c.name, c.weight) for c in await _criteria(session)]
    topics = {t.id: t for t in (await session.scalars(_filtered(select(Topic), filters))).all()}
    scores = await _scores(session, list(topics))
    totals = [
        (topic_id, scoring.total(criteria, {s.criterion_id: scoring.Mark(s.score, s.rationale)
                                            for s in scores.get(topic_id, [])}, HIGHEST_SCORE))
        for topic_id in topics
    ]
    ranked = scoring.rank(totals, {topic_id: topic.name for topic_id, topic in topics.items()})
    return Ranking(items=[
        RankedTopic(
            rank=r.rank, topic_id=r.key, name=topics[r.key].name, kind=topics[r.key].kind,  # type: ignore[arg-type]
            programme_year=topics[r.key].programme_year, status=topics[r.key].status,  # type: ignore[arg-type]
            total=r.total.total, most=r.total.most, by_group=r.total.by_group, unscored=r.total.unscored,
            parts=[PartRead(criterion_id=p.criterion.criterion_id, group=p.criterion.group,  # type: ignore[arg-type]
                            name=p.criterion.name, weight=p.criterion.weight,
                            score=p.mark.score if p.mark else None, weighted=p.weighted,
                            rationale=p.mark.rationale if p.mark else None) for p in r.total.parts],
        )
        for r in ranked
    ])
