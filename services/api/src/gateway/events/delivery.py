"""The delivery worker: runs inside every gateway process (started and stopped with the app) and carries
the outbox's events to the webhook subscriptions.

Each round, in short transactions of its own, never holding one while it waits on a receiver:

1. **Considers** the events each subscription has not yet considered: those of its types that its owner
   may see (as the feed would show them to the owner now; an owner who may no longer act, a deactivated
   person or a revoked key, gets nothing) become deliveries, due at once. A subscription is taken with
   `FOR UPDATE SKIP LOCKED`, so two processes never consider one at once.
2. **Claims** the deliveries that are due (`FOR UPDATE SKIP LOCKED`; on SQLite, where one process serves,
   the write lock serialises claims), moving their next attempt past the claim's end, and commits: no
   other process takes them before the claim runs out, which it does only if this one died sending.
3. **Sends** each (no redirect followed, a short timeout, the target's addresses checked again), signed
   (`signing`), the same `webhook-id` on every attempt.
4. **Records** each attempt (when, the status code or the error, how long it took), and marks the delivery
   delivered on a 2xx, or due again after an exponential backoff with jitter, or failed once it has been
   retried for `GATEWAY_WEBHOOK_RETRY_FOR_SECONDS` (a day).

A commit that writes events wakes this process's worker at once (`outbox.CHANNEL`); others find the work
within `GATEWAY_WEBHOOK_POLL_SECONDS`. A process killed between the commit and the delivery leaves the
event in the outbox and the delivery (if it was made) pending: the next round of any process delivers it.
Delivery is at least once: a receiver that answered but whose answer was lost is sent the event again,
under the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway import announcements
from gateway.actors import Actor
from gateway.db import DATABASE_UNREACHABLE, utcnow
from gateway.events import repository, signing
from gateway.events.outbox import CHANNEL
from gateway.events.schemas import EventRead
from gateway.events.targets import TargetRefused, check_target
from gateway.identity.authentication import IdentityCache
from gateway.inspections.guards import sees
from gateway.inspections.lifecycle import PUBLISHED
from gateway.settings import Settings

log = structlog.get_logger("webhooks")

Owners = Callable[[str], Awaitable[Actor | None]]
"""The actor of an owner's id, as it may act now; None if it may not act at all."""

EVENTS_PER_ROUND = 500
"""Events one subscription considers in one transaction."""


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float = 5.0
    retry_first: float = 10.0
    retry_longest: float = 3600.0
    retry_for: float = 86_400.0
    poll: float = 2.0
    allowed_hosts: frozenset[str] = frozenset()
    batch: int = 20
    """Deliveries claimed, and sent side by side, at once."""

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout=settings.webhook_timeout_seconds, retry_first=settings.webhook_retry_first_seconds,
            retry_longest=settings.webhook_retry_longest_seconds, retry_for=settings.webhook_retry_for_seconds,
            poll=settings.webhook_poll_seconds, allowed_hosts=settings.webhook_hosts_allowed(),
        )

    @property
    def claim(self) -> timedelta:
        """How long a claim lasts: past the longest a send can take (its check, connection and answer)."""
        return timedelta(seconds=3 * self.timeout + 5)

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure: doubling from `retry_first` up to
        `retry_longest`, each wait drawn between half and all of that (so retries do not arrive in step)."""
        ceiling = min(self.retry_longest, self.retry_first * 2 ** min(failures - 1, 32))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        owners: Owners,
        policy: DeliveryPolicy,
        client: httpx.AsyncClient | None = None,
    ):
        self._sessions = sessions
        self._owners = owners
        self.policy = policy
        self._client = client or httpx.AsyncClient(follow_redirects=False, timeout=policy.timeout, trust_env=False)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        announcements.subscribe(self)

    # --- running inside the app ---------------------------------------------------------------------

    def changed(self, channel: str, tables: frozenset[str]) -> None:
        if channel == CHANNEL:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-deliveries")

    async def aclose(self) -> None:
        """Stop: the round under way may finish its sends (up to their timeout); then the worker is cancelled."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, self.policy.timeout + 1)
            except TimeoutError:
                pass  # cancelled by wait_for: its claims run out and another round sends them
            self._task = None
        await self._client.aclose()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                wait = await self.run_once()
            except (*DATABASE_UNREACHABLE, TimeoutError, PoolTimeout) as error:  # an outage: the requests say so
                log.warning("webhook deliveries wait for the database", error=type(error).__name__)
                wait = self.policy.poll
            except Exception:  # anything else is a fault of this code: try again in a while
                log.exception("a round of webhook deliveries failed")
                wait = self.policy.poll
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass

    async def run_once(self) -> float:
        """One round: consider new events, send what is due; the seconds until more is due (at most `poll`)."""
        await self.consider()
        while await self.send_due() == self.policy.batch and not self._stopping:
            pass
        async with self._sessions() as session:
            due = await repository.next_due(session)
        if due is None:
            return self.policy.poll
        return min(self.policy.poll, max(0.0, (due - utcnow()).total_seconds()))

    # --- 1. considering events ----------------------------------------------------------------------

    async def consider(self) -> None:
        async with self._sessions() as session:
            behind = await repository.subscriptions_behind(session, await repository.latest_event_id(session))
        for subscription_id, owner_id, through in behind:
            owner = await self._owners(owner_id)  # before the transaction: it may read the database itself
            while through is not None:
                through = await self._consider_some(subscription_id, owner, through)

    async def _consider_some(self, subscription_id: uuid.UUID, owner: Actor | None, through: int) -> int | None:
        """Make deliveries of the next events for the subscription; the last event considered, if there may
        be more, else None."""
        async with self._sessions() as session, session.begin():
            await repository.lightly(session)
            subscription = await repository.claim_subscription(session, subscription_id, through)
            if subscription is None:
                return None  # another process is considering it, or it is gone
            events = await repository.events_from(session, through, EVENTS_PER_ROUND)
            if not events:
                return None
            wanted = [
                e.id for e in events
                if e.type in subscription.event_types and owner is not None
                and sees(owner, e.unit_id, e.inspection_status == PUBLISHED)
            ]
            await repository.add_deliveries(session, subscription_id, wanted, utcnow(), events[-1].id)
        return events[-1].id if len(events) == EVENTS_PER_ROUND else None

    # --- 2 to 4. claiming, sending, recording -------------------------------------------------------

    async def send_due(self) -> int:
        """Claim the deliveries due now, send them side by side, then record what came of each; how many."""
        now = utcnow()
        async with self._sessions() as session, session.begin():
            await repository.lightly(session)
            claims = await repository.claim_due(session, now, now + self.policy.claim, self.policy.batch)
        if not claims:
            return 0
        sent = await asyncio.gather(*(self._attempt(claim) for claim in claims))
        async with self._sessions() as session, session.begin():
            await repository.lightly(session)
            for claim, (attempt, outcome) in zip(claims, sent):
                status, next_attempt_at = (repository.DELIVERED, None) if outcome.delivered else self._after_failure(claim)
                await repository.record_attempt(session, claim, attempt, status, next_attempt_at)
                log.info("webhook attempt", delivery_id=str(claim.delivery_id), event_id=claim.event.id,
                         status_code=outcome.status_code, error=outcome.error, outcome=status)
        return len(claims)

    async def _attempt(self, claim: repository.Claim) -> tuple[dict, Outcome]:
        attempted_at = utcnow()
        outcome = await self.send(claim)
        return {"attempted_at": attempted_at, "status_code": outcome.status_code, "error": outcome.error,
                "duration_ms": outcome.duration_ms}, outcome

    def _after_failure(self, claim: repository.Claim) -> tuple[str, datetime | None]:
        """Due again after the backoff (the last time at the end of the retries), or failed after them."""
        now, deadline = utcnow(), claim.created_at + timedelta(seconds=self.policy.retry_for)
        if now >= deadline:
            return repository.FAILED, None
        return repository.PENDING, min(now + timedelta(seconds=self.policy.backoff(claim.attempts + 1)), deadline)

    async def send(self, claim: repository.Claim) -> Outcome:
        """One attempt: the target checked, the event posted, signed; what came of it."""
        body = json.dumps(EventRead.model_validate(claim.event).model_dump(mode="json"), separators=(",", ":")).encode()
        headers = signing.headers(claim.signing_key, f"msg_{claim.delivery_id.hex}", int(time.time()), body)
        started = time.perf_counter()

        def outcome(status_code: int | None = None, error: str | None = None) -> Outcome:
            return Outcome(status_code, error, round((time.perf_counter() - started) * 1000, 3))

        try:
            await check_target(claim.url, self.policy.allowed_hosts)
            response = await self._client.post(claim.url, content=body, headers=headers)
        except TargetRefused as refused:
            return outcome(error=f"refused: the URL {refused}"[:300])
        except httpx.TimeoutException:
            return outcome(error=f"no answer within {self.policy.timeout:g} s")
        except httpx.HTTPError as error:
            return outcome(error=f"{type(error).__name__}: {error}"[:300])
        return outcome(status_code=response.status_code)


def owners_from(identities: IdentityCache, sessions: async_sessionmaker[AsyncSession]) -> Owners:
    """Owners as the process's identities know them."""

    async def owner(actor_id: str) -> Actor | None:
        return await identities.acting(sessions, actor_id)

    return owner
