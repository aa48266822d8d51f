"""The engines' optional shared service token.

An engine given a token (`RATING_ENGINE_TOKEN`, `SAMPLING_TOKEN`) refuses every call to its API that does
not carry it as `Authorization: Bearer <token>` (a 401 problem), and the gateway, given the same token,
sends it. Health, readiness, metrics and the API documents stay open, for the orchestrator's checks.
Without a token the engine is open: fit only for loopback, as `make run` starts it.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from inspection_shared.problems import Problem


def service_token_check(token: str | None) -> list[DependsParam]:
    """The dependencies of an engine's API routes: none without a token, else the check that the call
    carries it (compared in constant time)."""
    if not token:
        return []
    expected = f"Bearer {token}".encode()

    async def carries_the_token(request: Request) -> None:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise Problem(
                401, "Not authorised", "Calls to this service carry its service token (Authorization: Bearer).",
                slug="service-token-required", headers={"WWW-Authenticate": "Bearer"},
            )

    return [Depends(carries_the_token)]
