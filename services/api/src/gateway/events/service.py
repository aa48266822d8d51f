"""The feed of events, and webhook subscriptions: made, listed, deleted and their deliveries read.

A subscription belongs to the person or API key that made it (`created_by`) and delivers only the events
its owner may see, as the feed shows them (see `delivery`); its owner reads and deletes it, as do those
who administer API keys (administrators). Anyone else is told it does not exist.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import Actor
from gateway.events import repository, signing
from gateway.events.models import WebhookSubscription
from gateway.events.schemas import (
    EventQuery,
    EventRead,
    WebhookAttemptRead,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookRead,
)
from gateway.events.targets import TargetRefused, check_target
from gateway.pagination import PageQuery
from gateway.permissions import Permission, holds
from gateway.writes import actor_of, flush
from inspection_shared.pagination import Page
from inspection_shared.problems import FieldError, InvalidInput, NotFound


def _allowed_hosts(request: Request) -> frozenset[str]:
    return request.app.state.webhook_hosts


AllowedHostsDep = Annotated[frozenset[str], Depends(_allowed_hosts)]
"""The hosts webhooks may deliver to although private (`GATEWAY_WEBHOOK_ALLOWED_HOSTS`)."""


async def feed(session: AsyncSession, query: EventQuery) -> Page[EventRead]:
    """Events after `query.after`, oldest first; the next page's cursor is the last event's id."""
    page = await repository.events_after(
        session, query.after, query.type, query.limit, EventRead.model_validate, visible_to=actor_of(session)
    )
    return Page(items=page.items, next_cursor=str(page.items[-1].id) if page.next_cursor else None)


def _oversees(actor: Actor) -> bool:
    return holds(actor, Permission.KEYS_ADMIN)


async def _owned(session: AsyncSession, subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    actor = actor_of(session)
    if subscription is None or not (subscription.created_by == actor.id or _oversees(actor)):
        raise NotFound(f"No webhook {subscription_id}")
    return subscription


async def subscribe(session: AsyncSession, data: WebhookCreate, allowed_hosts: frozenset[str]) -> WebhookCreated:
    errors: list[FieldError] = []
    try:
        await check_target(data.url, allowed_hosts)  # before the session holds anything: this may wait on DNS
    except TargetRefused as refused:
        errors.append(FieldError(field="body.url", message=str(refused)))
    key = signing.new_key()
    if data.secret is not None:
        try:
            key = signing.key_of(data.secret)
        except ValueError as error:
            errors.append(FieldError(field="body.secret", message=str(error)))
    if errors:
        raise InvalidInput("The webhook cannot be made: " + "; ".join(f"{e.field} {e.message}" for e in errors) + ".",
                           errors)
    subscription = WebhookSubscription(
        id=uuid.uuid4(), url=data.url, event_types=sorted(set(data.event_types)), signing_key=key,
        considered_through=await repository.latest_event_id(session),  # from now on, not the history
    )
    session.add(subscription)
    await flush(session, clash="Making the webhook clashed with a change made at the same time; try again.")
    return WebhookCreated(**WebhookRead.model_validate(subscription).model_dump(), secret=signing.secret_of(key))


async def list_subscriptions(session: AsyncSession, query: PageQuery) -> Page[WebhookRead]:
    actor = actor_of(session)
    return await repository.subscriptions(
        session, None if _oversees(actor) else actor.id, query, WebhookRead.model_validate
    )


async def get_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> WebhookRead:
    return WebhookRead.model_validate(await _owned(session, subscription_id))


async def unsubscribe(session: AsyncSession, subscription_id: uuid.UUID) -> None:
    """Delete the subscription, its deliveries and their attempts: nothing more is sent."""
    await session.delete(await _owned(session, subscription_id))
    await flush(session, clash="Deleting the webhook clashed with a change made at the same time; try again.")


async def deliveries(session: AsyncSession, subscription_id: uuid.UUID, query: PageQuery) -> Page[WebhookDeliveryRead]:
    await _owned(session, subscription_id)
    page = await repository.deliveries(session, subscription_id, query)
    return Page(
        items=[
            WebhookDeliveryRead(
                id=delivery.id, event_id=delivery.event_id, event_type=kind, status=delivery.status,
                next_attempt_at=delivery.next_attempt_at if delivery.status == repository.PENDING else None,
                attempts=[WebhookAttemptRead.model_validate(a) for a in attempts],
            )
            for delivery, kind, attempts in page.items
        ],
        next_cursor=page.next_cursor,
    )
