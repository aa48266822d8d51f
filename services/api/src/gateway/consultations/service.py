"""The rules of consultations: a deadline within the period, questions named once, responses to a question
put and naming programme topics that exist, late ones flagged, and the summary of responses, counts only.

Contact details are kept exactly as given and only in the rows they belong to: they are never logged (the
audit log masks them), and never in a summary or its CSV.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from gateway import writes
from gateway.consultations import repository
from gateway.consultations.models import (
    GROUPS,
    STATUTORY,
    Consultation,
    ConsultationQuestion,
    ConsultationRecipient,
    ConsultationResponse,
    ResponseTopic,
)
from gateway.consultations.schemas import (
    ConsultationCreate,
    ConsultationRead,
    ConsultationSummary,
    ConsultationUpdate,
    ContactDetails,
    GroupCount,
    GroupQuestionCount,
    QuestionCount,
    QuestionRead,
    RecipientGiven,
    RecipientRead,
    ResponseCreate,
    ResponseListQuery,
    ResponseRead,
    TopicNamed,
    TopicRaised,
)
from gateway.db import row_fields, utcnow
from gateway.pagination import Key, PageQuery, keyset_page
from gateway.preconditions import check_if_match
from gateway.preconditions import etag as version_etag
from gateway.programme import repository as programme
from inspection_shared.pagination import Page
from inspection_shared.problems import FieldError, InvalidInput, NotFound

CONSULTATION_ORDER = (Key(Consultation.opens, descending=True), Key(Consultation.id))
RESPONSE_ORDER = (Key(ConsultationResponse.received_on), Key(ConsultationResponse.id))


def audience(group: str) -> str:
    return "statutory" if group in STATUTORY else "extended"


def _contact(given: ContactDetails | None) -> dict | None:
    """The contact details as given: only the fields sent, unchanged."""
    return None if given is None else given.model_dump(exclude_none=True)


# --- consultations -------------------------------------------------------------------------------------


def _check_period(opens: date, closes: date, deadline: date) -> None:
    errors = []
    if deadline < opens:
        errors.append(FieldError(field="body.deadline", message=f"{deadline} is before the consultation opens on "
                                                                f"{opens}"))
    if closes < deadline:
        errors.append(FieldError(field="body.closes", message=f"{closes} is before the deadline, {deadline}"))
    if errors:
        raise InvalidInput("The deadline falls within the consultation's period: opens <= deadline <= closes.",
                           errors)


def _recipient_rows(consultation_id: uuid.UUID, recipients: list[RecipientGiven]) -> list[ConsultationRecipient]:
    return [ConsultationRecipient(consultation_id=consultation_id, position=i, name=r.name,
                                  organisation=r.organisation, recipient_group=r.group,
                                  contact_details=_contact(r.contact_details))
            for i, r in enumerate(recipients)]


async def create_consultation(session: AsyncSession, data: ConsultationCreate) -> tuple[ConsultationRead, str]:
    _check_period(data.opens, data.closes, data.deadline)
    keys = [q.key for q in data.questions]
    repeated = [FieldError(field=f"body.questions[{i}].key", message=f"{key} names two questions")
                for i, key in enumerate(keys) if key in keys[:i]]
    if repeated:
        raise InvalidInput("Each question has a key of its own.", repeated)
    consultation = Consultation(id=uuid.uuid4(), title=data.title, programme_years=data.programme_years,
                                opens=data.opens, closes=data.closes, deadline=data.deadline)
    session.add(consultation)
    session.add_all(_recipient_rows(consultation.id, data.recipients))
    session.add_all(ConsultationQuestion(consultation_id=consultation.id, key=q.key, section=q.section, position=i,
                                         text=q.text) for i, q in enumerate(data.questions))
    await writes.flush(session, clash="The consultation was created at the same time.")
    return await get_consultation(session, consultation.id)


async def _consultation(session: AsyncSession, consultation_id: uuid.UUID) -> Consultation:
    consultation = await session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound(f"No consultation {consultation_id}")
    return consultation


def _recipient_read(row: ConsultationRecipient) -> RecipientRead:
    return RecipientRead(id=row.id, name=row.name, organisation=row.organisation,
                         group=row.recipient_group, audience=audience(row.recipient_group),  # type: ignore[arg-type]
                         contact_details=row.contact_details)  # type: ignore[arg-type]


async def _reads(session: AsyncSession, consultations: list[Consultation]) -> list[ConsultationRead]:
    ids = [c.id for c in consultations]
    recipients, questions = await repository.recipients(session, ids), await repository.questions(session, ids)
    return [ConsultationRead.model_validate({
        **row_fields(c),
        "recipients": [_recipient_read(r) for r in recipients.get(c.id, [])],
        "questions": [QuestionRead(key=q.key, section=q.section, text=q.text)  # type: ignore[arg-type]
                      for q in questions.get(c.id, [])],
    }) for c in consultations]


async def get_consultation(session: AsyncSession, consultation_id: uuid.UUID) -> tuple[ConsultationRead, str]:
    consultation = await _consultation(session, consultation_id)
    return (await _reads(session, [consultation]))[0], version_etag(consultation.version)


async def list_consultations(session: AsyncSession, query: PageQuery) -> Page[ConsultationRead]:
    page = await keyset_page(session, select(Consultation), CONSULTATION_ORDER, query, lambda c: c)
    return Page(items=await _reads(session, page.items), next_cursor=page.next_cursor)


async def update_consultation(session: AsyncSession, consultation_id: uuid.UUID, changes: ConsultationUpdate,
                              if_match: str | None) -> tuple[ConsultationRead, str]:
    consultation = await _consultation(session, consultation_id)
    check_if_match("the consultation", consultation.version, if_match)
    dates = {name: getattr(changes, name) if name in changes.model_fields_set else getattr(consultation, name)
             for name in ("opens", "closes", "deadline")}
    _check_period(**dates)
    first = await repository.first_received(session, consultation.id)
    if first is not None and dates["opens"] > first:
        raise InvalidInput(
            f"A response was received on {first}: the consultation cannot open after it.",
            [FieldError(field="body.opens", message=f"{dates['opens']} is after the earliest response, received on {first}")],
        )
    if changes.recipients is not None:  # before the fields change: the statement flushes what is pending
        await session.execute(delete(ConsultationRecipient)
                              .where(ConsultationRecipient.consultation_id == consultation.id))
        session.add_all(_recipient_rows(consultation.id, changes.recipients))
    for field in changes.model_fields_set - {"recipients"}:
        setattr(consultation, field, getattr(changes, field))
    flag_modified(consultation, "title")  # a change of its recipients alone is a change: its version moves
    await writes.flush(session, clash="The consultation was changed at the same time.", changed="the consultation")
    return await get_consultation(session, consultation.id)


# --- responses -----------------------------------------------------------------------------------------


async def _response_reads(session: AsyncSession, consultation: Consultation,
                          rows: list[ConsultationResponse]) -> list[ResponseRead]:
    sections = {q.key: q.section for q in (await repository.questions(session, [consultation.id]))[consultation.id]}
    linked = await repository.topics_of(session, [r.id for r in rows])
    names = await programme.topic_names(session, {t for topics in linked.values() for t in topics})
    return [ResponseRead(
        id=r.id, consultation_id=r.consultation_id, respondent_name=r.respondent_name,
        respondent_organisation=r.respondent_organisation, group=r.respondent_group,  # type: ignore[arg-type]
        audience=audience(r.respondent_group), question=r.question_key,  # type: ignore[arg-type]
        section=sections[r.question_key], text=r.text, received_on=r.received_on,  # type: ignore[arg-type]
        late=r.received_on > consultation.deadline,
        topics=sorted((TopicNamed(id=t, name=names[t]) for t in linked.get(r.id, [])), key=lambda t: t.name),
        contact_details=r.contact_details, created_at=r.created_at, created_by=r.created_by,  # type: ignore[arg-type]
    ) for r in rows]


async def create_response(session: AsyncSession, consultation_id: uuid.UUID, data: ResponseCreate) -> ResponseRead:
    consultation = await _consultation(session, consultation_id)
    keys = {q.key for q in (await repository.questions(session, [consultation.id])).get(consultation.id, [])}
    names = await programme.topic_names(session, data.topic_ids)
    errors = []
    if data.question not in keys:
        errors.append(FieldError(field="body.question", message=f"the consultation puts no question {data.question}"))
    if data.received_on < consultation.opens:
        errors.append(FieldError(field="body.received_on", message=f"{data.received_on} is before the consultation "
                                                                   f"opened on {consultation.opens}"))
    if data.received_on > utcnow().date():
        errors.append(FieldError(field="body.received_on", message=f"{data.received_on} is in the future: a response "
                                                                   "is recorded once received"))
    errors += [FieldError(field=f"body.topic_ids[{i}]", message=f"no programme topic {topic_id}")
               for i, topic_id in enumerate(data.topic_ids) if topic_id not in names]
    if errors:
        raise InvalidInput("A response answers a question the consultation puts, and names programme topics "
                           "(GET /api/v1/programme/topics).", errors)
    response = ConsultationResponse(
        id=uuid.uuid4(), consultation_id=consultation.id, question_key=data.question,
        respondent_name=data.respondent_name, respondent_organisation=data.respondent_organisation,
        respondent_group=data.group, text=data.text, received_on=data.received_on,
        contact_details=_contact(data.contact_details),
    )
    session.add(response)
    session.add_all(ResponseTopic(response_id=response.id, topic_id=topic_id) for topic_id in data.topic_ids)
    await writes.flush(session, clash="The response was recorded at the same time.")
    return (await _response_reads(session, consultation, [response]))[0]


async def get_response(session: AsyncSession, consultation_id: uuid.UUID, response_id: uuid.UUID) -> ResponseRead:
    consultation = await _consultation(session, consultation_id)
    response = await session.get(ConsultationResponse, response_id)
    if response is None or response.consultation_id != consultation.id:
        raise NotFound(f"No response {response_id} to consultation {consultation_id}")
    return (await _response_reads(session, consultation, [response]))[0]


async def list_responses(session: AsyncSession, consultation_id: uuid.UUID, query: ResponseListQuery
                         ) -> Page[ResponseRead]:
    consultation = await _consultation(session, consultation_id)
    statement = repository.responses(consultation, group=query.group, question=query.question, late=query.late)
    page = await keyset_page(session, statement, RESPONSE_ORDER, query, lambda r: r)
    return Page(items=await _response_reads(session, consultation, page.items), next_cursor=page.next_cursor)


# --- summary -------------------------------------------------------------------------------------------


def _ranked(raised: dict[uuid.UUID, int], names: dict[uuid.UUID, str]) -> list[TopicRaised]:
    """Most often raised first (then by name); topics raised equally often share the rank of the first."""
    order = sorted(raised, key=lambda t: (-raised[t], names[t], str(t)))
    return [TopicRaised(rank=1 + sum(1 for other in raised.values() if other > raised[t]), topic_id=t,
                        name=names[t], responses=raised[t]) for t in order]


async def summary(session: AsyncSession, consultation_id: uuid.UUID) -> ConsultationSummary:
    """Responses counted by group, by question and by both, the late ones, and the topics ranked by how many
    responses name them; every group and question listed, with none if so."""
    consultation = await _consultation(session, consultation_id)
    questions = (await repository.questions(session, [consultation.id])).get(consultation.id, [])
    by_both, late = Counter[tuple[str, str]](), 0
    for group, question, was_late, count in await repository.counts(session, consultation):
        by_both[group, question] += count
        late += count if was_late else 0
    raised = await repository.topics_raised(session, consultation.id)
    names = await programme.topic_names(session, raised)
    return ConsultationSummary(
        consultation_id=consultation.id, title=consultation.title, deadline=consultation.deadline,
        responses=sum(by_both.values()), late=late,
        by_group=[GroupCount(group=g, audience=audience(g),  # type: ignore[arg-type]
                             responses=sum(n for (group, _), n in by_both.items() if group == g)) for g in GROUPS],
        by_question=[QuestionCount(question=q.key, section=q.section,  # type: ignore[arg-type]
                                   responses=sum(n for (_, key), n in by_both.items() if key == q.key))
                     for q in questions],
        by_group_and_question=[GroupQuestionCount(group=g, question=q.key, responses=by_both[g, q.key])  # type: ignore[arg-type]
                               for g in GROUPS for q in questions],
        topics=_ranked(raised, names),
    )
