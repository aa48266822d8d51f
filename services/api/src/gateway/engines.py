"""The gateway's clients for the two engines, and what an engine failure means to the gateway's caller.

Engine calls are pure computations, so every one is safe to retry: a refused connection or a time-out
is retried with backoff, then answered as 503 or 504 with Retry-After. The whole call, its retries
included, has the engine's budget (`GATEWAY_ENGINE_TIMEOUT_SECONDS`): a stalled engine is a 504 once it
is spent, never three budgets later. An engine's 422 is the caller's input at fault and is passed on as
422; any other engine error is a 502. No caller waits here holding a database connection (see
`db.release`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Annotated, TypeVar

import httpx
import stamina
from fastapi import Depends, Request
from pydantic import SecretStr

from gateway.settings import Settings
from inspection_shared.clients import (
    EngineClient,
    EngineError,
    EngineTimeout,
    EngineUnavailable,
    RatingEngineClient,
    SamplingClient,
)
from inspection_shared.problems import Problem

Result = TypeVar("Result")
RETRY_AFTER_SECONDS = "5"


def engine_clients(settings: Settings) -> tuple[RatingEngineClient, SamplingClient]:
    timeout = httpx.Timeout(settings.engine_timeout_seconds, connect=2.0)
    def token(secret: SecretStr | None) -> str | None:
        return secret.get_secret_value() if secret else None

    return (
        RatingEngineClient(settings.rating_engine_url, timeout=timeout, token=token(settings.rating_engine_token)),
        SamplingClient(settings.sampling_url, timeout=timeout, token=token(settings.sampling_token)),
    )


_deadline: ContextVar[float | None] = ContextVar("engine_deadline", default=None)
"""When the request that asked for an engine must have its answer (loop time): its budget counts from
when the request reached the route, so the time spent reading before the call is part of it."""


def _reached(engine: EngineClient) -> EngineClient:
    _deadline.set(asyncio.get_running_loop().time() + engine.budget)
    return engine


async def _rating_engine(request: Request) -> RatingEngineClient:
    return _reached(request.app.state.rating_engine)


async def _sampling(request: Request) -> SamplingClient:
    return _reached(request.app.state.sampling)


def _timed_out(engine: str) -> Problem:
    return Problem(
        504, "Engine timed out", f"The {engine} service did not answer in time; nothing was saved.",
        slug="engine-timeout", headers={"Retry-After": RETRY_AFTER_SECONDS}, engine=engine,
    )


RatingEngineDep = Annotated[RatingEngineClient, Depends(_rating_engine)]
SamplingDep = Annotated[SamplingClient, Depends(_sampling)]


async def call_engine(engine: EngineClient, call: Callable[[], Awaitable[Result]], *, attempts: int = 3) -> Result:
    """Run one call of `engine` with retries within its budget, translating its failure into the gateway's
    problem response."""
    budget, deadline = engine.budget, _deadline.get()
    if deadline is not None:  # what the request's reads before the call left of it, and a moment at least
        budget = max(min(budget, deadline - asyncio.get_running_loop().time()), 0.5)
    try:
        async with asyncio.timeout(budget):
            async for attempt in stamina.retry_context(
                on=(EngineUnavailable, EngineTimeout),
                attempts=attempts,
                timeout=budget,
                wait_initial=0.2,
                wait_max=1.0,
            ):
                with attempt:
                    return await call()
    except TimeoutError:
        raise _timed_out(engine.engine) from None
    except EngineUnavailable as error:
        raise Problem(
            503, "Engine unavailable", f"The {error.engine} service cannot be reached; nothing was saved.",
            slug="engine-unavailable", headers={"Retry-After": RETRY_AFTER_SECONDS}, engine=error.engine,
        ) from None
    except EngineTimeout as error:
        raise _timed_out(error.engine) from None
    except EngineError as error:
        if error.status in (413, 422):
            raise Problem(
                error.status, error.problem.title, error.problem.detail, slug="engine-refused-input",
                errors=error.problem.errors, engine=error.engine,
            ) from None
        raise Problem(
            502, "Engine error", f"The {error.engine} service failed ({error.status}); nothing was saved.",
            slug="engine-error", engine=error.engine,
        ) from None
    raise AssertionError("unreachable: stamina re-raises after the last attempt")
