"""`Idempotency-Key` for POSTs that start work (sample draws, rating runs).

A request with a key first claims it, in a transaction of its own, so that a repeat arriving while the
work is under way is told so (409, with Retry-After) instead of doing the work beside it. The first
answer is stored in the same transaction as the work it describes, so either both exist or neither
does; if the work fails, the claim is given up and the key can be used again. A repeat with the same key
and the same body gets the first answer again; the same key with a different body is refused, since the
caller has mixed up two requests. A claim left by a process that died is taken over once it is older
than any request runs (`ABANDONED_AFTER`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.casedata.sealing import holds_case_data
from gateway.db import utcnow
from gateway.idempotency.models import IdempotentRequest
from gateway.writes import RETENTION, flush
from inspection_shared.problems import Conflict, Problem

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat a request with the same key to get its first answer instead of doing the work twice.",
    ),
]

Work = Callable[[], Awaitable[tuple[int, Any, dict[str, str]]]]
"""Does the work; returns the status code, the JSON body and any headers of the first answer."""

ABANDONED_AFTER = timedelta(minutes=10)
"""Far longer than any request runs (engine calls have a budget of seconds)."""
RETRY_AFTER_SECONDS = "2"

log = structlog.get_logger("idempotency")


def fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(held: IdempotentRequest) -> JSONResponse:
    return JSONResponse(
        held.response, status_code=held.status_code, headers={**held.headers, "Idempotent-Replayed": "true"}
    )


async def _claim(session: AsyncSession, scope: str, key: str, request_fingerprint: str) -> JSONResponse | None:
    """Claim the key for this request (None), or the first answer to replay; committed either way."""
    held = await session.get(IdempotentRequest, (scope, key))
    if held is not None and held.status_code is None and utcnow() - held.created_at >= ABANDONED_AFTER:
        await session.delete(held)  # left by a request that never finished: claimed afresh below
        await session.flush()
        held = None
    if held is None:
        try:
            async with session.begin_nested():
                session.add(IdempotentRequest(scope=scope, key=key, request_fingerprint=request_fingerprint))
        except IntegrityError:  # claimed by a request that arrived at the same moment
            held = await session.get(IdempotentRequest, (scope, key), populate_existing=True)
    if held is not None:
        if held.request_fingerprint != request_fingerprint:
            raise Problem(
                422, "Idempotency key reused", "This Idempotency-Key was first used with a different "
                "request body; use a new key for a new request.", slug="idempotency-key-reused",
            )
        if held.status_code is not None:
            return _replay(held)
        raise Conflict(
            "The first request with this Idempotency-Key is still in progress; repeat this one shortly to get "
            "its answer.",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    await session.commit()
    return None


async def _give_up(session: AsyncSession, scope: str, key: str) -> None:
    """Free the key after the work failed, so that the request can be made again."""
    await session.rollback()
    try:
        await session.execute(
            delete(IdempotentRequest).where(
                IdempotentRequest.scope == scope, IdempotentRequest.key == key, IdempotentRequest.status_code.is_(None)
            )
        )
        await session.commit()
    except Exception:  # the failure being answered matters more; the claim lapses after ABANDONED_AFTER
        log.warning("idempotency claim left to lapse", scope=scope)


async def run_once(
    session: AsyncSession, request: Request, *, key: str | None, request_body: Any, work: Work
) -> JSONResponse:
    """Answer a work-starting POST, doing the work at most once per idempotency key (keys are kept per
    route and target: the request's method and path)."""
    if key is None:
        status_code, body, headers = await work()
        return JSONResponse(body, status_code=status_code, headers=headers)
    scope = f"{request.method} {request.url.path}"
    replay = await _claim(session, scope, key, fingerprint(request_body))
    if replay is not None:
        return replay
    try:
        status_code, body, headers = await work()
        held = await session.get(IdempotentRequest, (scope, key))
        assert held is not None  # claimed above; only this request completes it
        held.status_code, held.response, held.headers = status_code, body, headers
        await flush(session, clash="The Idempotency-Key's claim changed while this request ran; repeat it.")
    except BaseException:
        await _give_up(session, scope, key)
        raise
    return JSONResponse(body, status_code=status_code, headers=headers)


async def remove_answers_with_case_data(session: AsyncSession, path: str) -> int:
    """Remove, under retention, the stored answers of requests to paths under `path` (an inspection's)
    that hold case data (a sample drawn, say); how many. The others stay, so a repeat still gets them."""
    rows = await session.execute(
        select(IdempotentRequest.scope, IdempotentRequest.key, IdempotentRequest.response).where(
            IdempotentRequest.scope.contains(path, autoescape=True)
        )
    )
    holding = [(scope, key) for scope, key, response in rows.all() if holds_case_data(response)]
    for scope, key in holding:
        await session.execute(
            delete(IdempotentRequest).where(IdempotentRequest.scope == scope, IdempotentRequest.key == key),
            execution_options={RETENTION: True, "synchronize_session": False},
        )
    return len(holding)
