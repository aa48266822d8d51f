"""The queries of consultations: their recipients, questions and responses, and the counts a summary is
made of, done by the database."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.consultations.models import (
    Consultation,
    ConsultationQuestion,
    ConsultationRecipient,
    ConsultationResponse,
    ResponseTopic,
)


async def recipients(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[ConsultationRecipient]]:
    rows = await session.scalars(select(ConsultationRecipient).where(ConsultationRecipient.consultation_id.in_(ids))
                                 .order_by(ConsultationRecipient.position))
    held: dict[uuid.UUID, list[ConsultationRecipient]] = defaultdict(list)
    for row in rows.all():
        held[row.consultation_id].append(row)
    return held


async def questions(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[ConsultationQuestion]]:
    rows = await session.scalars(select(ConsultationQuestion).where(ConsultationQuestion.consultation_id.in_(ids))
                                 .order_by(ConsultationQuestion.position))
    held: dict[uuid.UUID, list[ConsultationQuestion]] = defaultdict(list)
    for row in rows.all():
        held[row.consultation_id].append(row)
    return held


def responses(consultation: Consultation, *, group: str | None = None, question: str | None = None,
              late: bool | None = None) -> Select:
    """The consultation's responses, filtered; late ones are those received after its deadline."""
    statement = select(ConsultationResponse).where(ConsultationResponse.consultation_id == consultation.id)
    if group is not None:
        statement = statement.where(ConsultationResponse.respondent_group == group)
    if question is not None:
        statement = statement.where(ConsultationResponse.question_key == question)
    if late is not None:
        after = ConsultationResponse.received_on > consultation.deadline
        statement = statement.where(after if late else ~after)
    return statement


async def topics_of(session: AsyncSession, response_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(select(ResponseTopic.response_id, ResponseTopic.topic_id)
                                 .where(ResponseTopic.response_id.in_(response_ids)))
    linked: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for response_id, topic_id in rows.all():
        linked[response_id].append(topic_id)
    return linked


async def counts(session: AsyncSession, consultation: Consultation) -> list[tuple[str, str, bool, int]]:
    """(group, question, late, responses) for each combination with a response."""
    # Against the deadline's column, not a parameter: PostgreSQL groups by an expression only if it is the
    # one selected, and two parameters of the same value are not the same expression.
    late = ConsultationResponse.received_on > Consultation.deadline
    rows = await session.execute(
        select(ConsultationResponse.respondent_group, ConsultationResponse.question_key, late, func.count())
        .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
        .where(ConsultationResponse.consultation_id == consultation.id)
        .group_by(ConsultationResponse.respondent_group, ConsultationResponse.question_key, late)
    )
    return [(group, question, bool(was_late), count) for group, question, was_late, count in rows.all()]


async def topics_raised(session: AsyncSession, consultation_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Each topic the consultation's responses name, with how many name it."""
    rows = await session.execute(
        select(ResponseTopic.topic_id, func.count())
        .join(ConsultationResponse, ConsultationResponse.id == ResponseTopic.response_id)
        .where(ConsultationResponse.consultation_id == consultation_id)
        .group_by(ResponseTopic.topic_id)
    )
    return dict(rows.all())


async def first_received(session: AsyncSession, consultation_id: uuid.UUID) -> date | None:
    """The day the earliest response recorded was received, if any."""
    return await session.scalar(
        select(func.min(ConsultationResponse.received_on)).where(ConsultationResponse.consultation_id == consultation_id)
    )
