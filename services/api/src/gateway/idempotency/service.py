"""`Idempotency-Key` for POSTs that start work (sample draws, rating runs).

The first answer is stored in the same transaction as the work it describes, so either both exist or
neither does. A repeat with the same key and the same body gets the first answer again; the same key
with a different body is refused, since the caller has mixed up two requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.idempotency.models import IdempotentRequest
from gateway.writes import flush
from inspection_shared.problems import Problem

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


def fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    session: AsyncSession, request: Request, *, key: str | None, request_body: Any, work: Work
) -> JSONResponse:
    """Answer a work-starting POST, doing the work at most once per idempotency key (keys are kept per
    route and target: the request's method and path)."""
    scope = f"{request.method} {request.url.path}"
    request_fingerprint = fingerprint(request_body)
    if key is not None:
        held = await session.get(IdempotentRequest, (scope, key))
        if held is not None:
            if held.request_fingerprint != request_fingerprint:
                raise Problem(
                    422, "Idempotency key reused", "This Idempotency-Key was first used with a different "
                    "request body; use a new key for a new request.", slug="idempotency-key-reused",
                )
            return JSONResponse(held.response, status_code=held.status_code,
                                headers={**held.headers, "Idempotent-Replayed": "true"})
    status_code, body, headers = await work()
    if key is not None:
        session.add(IdempotentRequest(
            scope=scope, key=key, request_fingerprint=request_fingerprint, status_code=status_code,
            response=body, headers=headers,
        ))
        await flush(session, clash="A request with this Idempotency-Key is already being processed; repeat it shortly.")
    return JSONResponse(body, status_code=status_code, headers=headers)
