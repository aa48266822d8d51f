"""The feed of events, and webhook subscriptions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gateway.db import SessionDep
from gateway.events import service
from gateway.events.schemas import (
    EventQuery,
    EventRead,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookRead,
)
from gateway.events.service import AllowedHostsDep
from gateway.pagination import PageQuery
from gateway.permissions import Permission, requires
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["events"])


@router.get(
    "/events",
    summary="Events after a cursor, oldest first: publications, phase changes, rating runs, panel decisions",
    description=(
        "A durable, ordered feed: each event is written in the transaction of the change it tells of, and ids "
        "only increase. Read on with `after` set to the id of the last event read (kept between runs, it loses "
        "nothing); `next_cursor`, when set, is that id and more events follow at once. Filter by `type` "
        "(repeat it for several). An event is listed to those who may see its inspection as it left it: "
        "readers and report generators see publications of their units, never a draft's rating runs."
    ),
    responses=problem_responses(422),
    dependencies=[requires(Permission.EVENTS_READ)],
)
async def list_events(query: Annotated[EventQuery, Query()], session: SessionDep) -> Page[EventRead]:
    return await service.feed(session, query)


@router.post(
    "/webhooks",
    summary="Subscribe a URL to events; the signing secret is in the answer, this once only",
    description=(
        "Deliveries are POSTs of the event (as the feed lists it), signed as the Standard Webhooks "
        "specification describes (`webhook-id`, `webhook-timestamp`, `webhook-signature`), retried with "
        "backoff for a day until the receiver answers 2xx; redirects are not followed. The subscription "
        "delivers the events its owner, the caller, may see, from now on. A URL that resolves to a private, "
        "loopback or link-local address is refused (422) unless the gateway's settings allow its host."
    ),
    status_code=201,
    responses=problem_responses(422),
    dependencies=[requires(Permission.WEBHOOKS_MANAGE)],
)
async def create_webhook(
    data: WebhookCreate, request: Request, response: Response, session: SessionDep, allowed_hosts: AllowedHostsDep
) -> WebhookCreated:
    response.headers["Cache-Control"] = "no-store"
    created = await service.subscribe(session, data, allowed_hosts)
    response.headers["Location"] = request.app.url_path_for("events.get_webhook", subscription_id=str(created.id))
    return created


@router.get(
    "/webhooks",
    summary="Webhook subscriptions: the caller's own (an administrator's: everyone's), without secrets",
    responses=problem_responses(422),
    dependencies=[requires(Permission.WEBHOOKS_MANAGE)],
)
async def list_webhooks(query: Annotated[PageQuery, Query()], session: SessionDep) -> Page[WebhookRead]:
    return await service.list_subscriptions(session, query)


@router.get(
    "/webhooks/{subscription_id}",
    summary="One webhook subscription, without its secret",
    name="events.get_webhook",
    responses=problem_responses(404),
    dependencies=[requires(Permission.WEBHOOKS_MANAGE)],
)
async def get_webhook(subscription_id: uuid.UUID, session: SessionDep) -> WebhookRead:
    return await service.get_subscription(session, subscription_id)


@router.delete(
    "/webhooks/{subscription_id}",
    summary="Delete a webhook subscription: nothing more is sent to it",
    status_code=204,
    responses=problem_responses(404),
    dependencies=[requires(Permission.WEBHOOKS_MANAGE)],
)
async def delete_webhook(subscription_id: uuid.UUID, session: SessionDep) -> Response:
    await service.unsubscribe(session, subscription_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    summary="A webhook's deliveries, newest event first, each with every attempt made",
    description="Each attempt: when, the receiver's status code or the error, and how long it took.",
    responses=problem_responses(404, 422),
    dependencies=[requires(Permission.WEBHOOKS_MANAGE)],
)
async def list_webhook_deliveries(
    subscription_id: uuid.UUID, query: Annotated[PageQuery.sized(20, 100), Query()], session: SessionDep
) -> Page[WebhookDeliveryRead]:
    return await service.deliveries(session, subscription_id, query)
