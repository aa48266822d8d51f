"""The queries of the feed, of webhook subscriptions and of their deliveries.

The delivery worker's statements write only the gateway's log of its own work (which events it has
considered for a subscription, each delivery and attempt): they are bookkeeping (see `writes`), neither
stamped nor audited, and each runs in a short transaction of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import Actor
from gateway.events.models import Event, WebhookAttempt, WebhookDelivery, WebhookSubscription
from gateway.inspections.repository import visible
from gateway.pagination import Key, PageQuery, keyset_page
from gateway.writes import BOOKKEEPING
from inspection_shared.pagination import Page

Item = TypeVar("Item")
_BOOKKEEPING = {BOOKKEEPING: True}
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
FEED_PAGE = PageQuery.sized(100, 500)
"""The feed's pages: 100 events unless asked, at most 500 (`schemas.EventQuery`)."""


async def lightly(session: AsyncSession) -> None:
    """Commit the transaction without waiting for its flush to disk (PostgreSQL): what a crash could lose of
    the worker's log is a delivery made or recorded again, which at-least-once delivery allows."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL synchronous_commit TO OFF"))


# --- the feed ------------------------------------------------------------------------------------------


async def events_after(
    session: AsyncSession, after: int, types: Sequence[str] | None, limit: int, item: Callable[[Event], Item],
    *, visible_to: Actor,
) -> Page[Item]:
    """Events after the id `after`, oldest first, of the inspections the actor could see as each event left
    them (a reader sees a publication, never a draft's rating run)."""
    statement = select(Event).where(
        Event.id > after, *visible(visible_to, Event.unit_id, Event.inspection_status, None)
    )
    if types:
        statement = statement.where(Event.type.in_(types))
    return await keyset_page(session, statement, (Key(Event.id),), FEED_PAGE(limit=limit), item)


async def latest_event_id(session: AsyncSession) -> int:
    return await session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0


async def events_from(session: AsyncSession, after: int, limit: int) -> list[Event]:
    return list((await session.scalars(select(Event).where(Event.id > after).order_by(Event.id).limit(limit))).all())


# --- subscriptions -------------------------------------------------------------------------------------


async def subscriptions(
    session: AsyncSession, owner: str | None, query: PageQuery, item: Callable[[WebhookSubscription], Item]
) -> Page[Item]:
    """Subscriptions, oldest first: the owner's, or (None) everyone's."""
    statement = select(WebhookSubscription)
    if owner is not None:
        statement = statement.where(WebhookSubscription.created_by == owner)
    keys = (Key(WebhookSubscription.created_at), Key(WebhookSubscription.id))
    return await keyset_page(session, statement, keys, query, item)


async def subscriptions_behind(session: AsyncSession, latest: int) -> list[tuple[uuid.UUID, str, int]]:
    """(id, owner, last event considered) of the subscriptions with events still to consider."""
    rows = await session.execute(
        select(WebhookSubscription.id, WebhookSubscription.created_by, WebhookSubscription.considered_through)
        .where(WebhookSubscription.considered_through < latest)
    )
    return [tuple(row) for row in rows.all()]


async def claim_subscription(session: AsyncSession, subscription_id: uuid.UUID, through: int) -> WebhookSubscription | None:
    """The subscription, its row locked, if no other process holds it and it has not moved on since `through`."""
    return await session.scalar(
        select(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.considered_through == through)
        .with_for_update(skip_locked=True)
    )


async def add_deliveries(
    session: AsyncSession, subscription_id: uuid.UUID, event_ids: list[int], now: datetime, through: int
) -> None:
    """Deliveries of the events to the subscription, due now; the subscription has considered events up to `through`."""
    if event_ids:
        await session.execute(insert(WebhookDelivery), [
            {"id": uuid.uuid4(), "subscription_id": subscription_id, "event_id": event_id, "status": PENDING,
             "attempts": 0, "created_at": now, "next_attempt_at": now}
            for event_id in event_ids
        ], execution_options=_BOOKKEEPING)
    await session.execute(
        update(WebhookSubscription).where(WebhookSubscription.id == subscription_id).values(considered_through=through),
        execution_options=_BOOKKEEPING,
    )


# --- deliveries ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A delivery this process has claimed until `until`, with what it needs to send it."""

    delivery_id: uuid.UUID
    until: datetime
    attempts: int
    """Attempts made before this one."""
    created_at: datetime
    url: str
    signing_key: bytes
    event: Event


async def claim_due(session: AsyncSession, now: datetime, until: datetime, most: int) -> list[Claim]:
    """Claim up to `most` pending deliveries due by `now` until `until`: rows another process is claiming are
    skipped (on SQLite the database's write lock serialises claims), and a claimed one is not due again
    before `until`, so no two processes send one delivery at the same time."""
    rows = (await session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.created_at, WebhookDelivery.event_id,
               WebhookDelivery.subscription_id)
        .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(most)
        .with_for_update(skip_locked=True)
    )).all()
    if not rows:
        return []
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_([row[0] for row in rows])).values(next_attempt_at=until),
        execution_options=_BOOKKEEPING,
    )
    events = {e.id: e for e in await session.scalars(select(Event).where(Event.id.in_({row[3] for row in rows})))}
    targets = {
        s.id: s for s in await session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.id.in_({row[4] for row in rows}))
        )
    }
    return [
        Claim(delivery_id, until, attempts, created_at, targets[subscription_id].url,
              targets[subscription_id].signing_key, events[event_id])
        for delivery_id, attempts, created_at, event_id, subscription_id in rows
    ]


async def record_attempt(
    session: AsyncSession, claim: Claim, attempt: dict[str, Any], status: str, next_attempt_at: datetime | None
) -> None:
    """Log the attempt, and move the delivery on as `status` and `next_attempt_at` say, unless another
    process took it over once this one's claim ran out (then it is theirs to move on, unless delivered)."""
    held = (await session.execute(
        select(WebhookDelivery.attempts, WebhookDelivery.next_attempt_at, WebhookDelivery.status)
        .where(WebhookDelivery.id == claim.delivery_id).with_for_update()
    )).one_or_none()
    if held is None:
        return  # its subscription was deleted meanwhile
    attempts, until, current = held
    await session.execute(
        insert(WebhookAttempt),
        [{"id": uuid.uuid4(), "delivery_id": claim.delivery_id, "number": attempts + 1, **attempt}],
        execution_options=_BOOKKEEPING,
    )
    still_ours = current == PENDING and until == claim.until
    values: dict[str, Any] = {"attempts": attempts + 1}
    if status == DELIVERED or still_ours:
        values.update(status=status, next_attempt_at=next_attempt_at)
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == claim.delivery_id).values(**values),
        execution_options=_BOOKKEEPING,
    )


async def next_due(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.min(WebhookDelivery.next_attempt_at)).where(WebhookDelivery.status == PENDING))


async def deliveries(
    session: AsyncSession, subscription_id: uuid.UUID, query: PageQuery,
) -> Page[tuple[WebhookDelivery, str, list[WebhookAttempt]]]:
    """The subscription's deliveries, newest event first, each with its event's type and its attempts."""
    statement = (
        select(WebhookDelivery, Event.type)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id == subscription_id)
    )
    page = await keyset_page(
        session, statement, (Key(WebhookDelivery.event_id, descending=True),), query, tuple, scalars=False
    )
    ids = [delivery.id for delivery, _ in page.items]
    attempts: dict[uuid.UUID, list[WebhookAttempt]] = {i: [] for i in ids}
    if ids:
        for attempt in await session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)).order_by(WebhookAttempt.number)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return Page(items=[(d, kind, attempts[d.id]) for d, kind in page.items], next_cursor=page.next_cursor)
