"""The programme as published: a plan made public, with the thematic inspections and research agreed for its
years. Readers see what will be inspected and when; the reasons a unit was chosen (intelligence scores,
concern, the random draw) and the topics' scores stay with staff."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.pagination import Key, PageQuery, keyset_page
from gateway.programme import repository
from gateway.programme.models import Topic
from gateway.programme.plan_models import Plan
from gateway.programme.plans import held_quarters, slot_order
from inspection_shared.pagination import Page
from inspection_shared.problems import NotFound

AGREED = ("agreed", "fieldwork", "published")
"""Topic statuses that are part of the programme: a proposal is not, until agreed."""
PUBLISHED_ORDER = (Key(Plan.first_day, descending=True), Key(Plan.id))


class PublishedInspection(BaseModel):
    unit_code: str | None
    unit_name: str | None
    commissioned_body: str | None
    kind: str = Field(description="full, proportionate, joint (with the partners named) or commissioned.")
    partners: list[str]


class PublishedQuarter(BaseModel):
    quarter: str
    start: date
    end: date
    postponed: str | None = Field(description="Why the quarter's inspections were postponed, if they were.")
    inspections: list[PublishedInspection]


class PublishedTopic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: str
    programme_year: str
    lead: str | None
    partner_inspectorates: list[str]
    groups: list[str]
    status: str


class PublishedProgramme(BaseModel):
    id: uuid.UUID
    name: str
    programme_years: list[str]
    unit_type: str
    published_at: datetime
    quarters: list[PublishedQuarter]
    topics: list[PublishedTopic] = Field(description="Thematic inspections and research agreed for its years.")


class PublishedSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    programme_years: list[str]
    unit_type: str
    published_at: datetime


async def published_programme(session: AsyncSession, plan_id: uuid.UUID) -> PublishedProgramme:
    plan = await session.get(Plan, plan_id)
    if plan is None or plan.published_at is None:
        raise NotFound(f"No published programme {plan_id}")
    slots = sorted(await repository.plan_slots(session, plan.id), key=lambda held: slot_order(held[0], held[1]))
    by_quarter: dict[str, list[PublishedInspection]] = defaultdict(list)
    for slot, code, name in slots:
        by_quarter[slot.quarter].append(PublishedInspection(
            unit_code=code, unit_name=name, commissioned_body=slot.commissioned_body, kind=slot.kind,
            partners=slot.partners,
        ))
    topics = (await session.scalars(
        select(Topic).where(Topic.programme_year.in_(plan.programme_years), Topic.status.in_(AGREED))
        .order_by(Topic.programme_year, Topic.name)
    )).all()
    return PublishedProgramme(
        id=plan.id, name=plan.name, programme_years=plan.programme_years, unit_type=plan.unit_type,
        published_at=plan.published_at,
        quarters=[PublishedQuarter(quarter=q.label, start=q.start, end=q.end, postponed=plan.suspended.get(q.label),
                                   inspections=by_quarter[q.label]) for q in held_quarters(plan)],
        topics=[PublishedTopic.model_validate(t) for t in topics],
    )


async def published_programmes(session: AsyncSession, query: PageQuery) -> Page[PublishedSummary]:
    statement = select(Plan).where(Plan.published_at.is_not(None))
    return await keyset_page(session, statement, PUBLISHED_ORDER, query, PublishedSummary.model_validate)
