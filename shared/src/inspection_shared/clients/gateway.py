"""Client for the gateway's public API, as a person signed in to it: used by the dashboard.

Every call carries the person's own access token, so a page shows only what the gateway shows that person.
Lists are read whole, page after page. Summaries are read conditionally: the last answer and its ETag
are kept per person, and a 304 answers from them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from inspection_shared.problems import ProblemDetail
from inspection_shared.web import REQUEST_ID_HEADER, request_id_var

API = "/api/v1"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=2.0)
HELD_SUMMARIES = 2000
"""Summaries kept for conditional reads, all people together; the least recently read go first."""


class GatewayError(Exception):
    """The gateway answered with an error; `problem` is its RFC 9457 body."""

    def __init__(self, status: int, problem: ProblemDetail):
        self.status = status
        self.problem = problem
        super().__init__(f"gateway answered {status}: {problem.detail or problem.title}")


class GatewayUnavailable(Exception):
    """The gateway could not be reached, or did not answer in time."""


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Tokens(_Read):
    access_token: str
    expires_in: int
    refresh_token: str


class Grant(_Read):
    role: str
    unit_id: str | None = None
    unit_code: str | None = None
    permissions: list[str]


class Me(_Read):
    id: str
    name: str
    email: str | None = None
    grants: list[Grant]

    def may(self, permission: str) -> bool:
        """Whether any grant holds `permission` (on some unit at least)."""
        return any(permission in grant.permissions for grant in self.grants)


class Unit(_Read):
    id: str
    code: str
    name: str
    type: str
    nation: str | None = None
    parent_id: str | None = None
    parent_code: str | None = None
    synthetic: bool = False


class Inspection(_Read):
    id: str
    unit_id: str
    unit_code: str
    unit_name: str
    framework_id: str
    type: str
    status: str
    title: str | None = None
    fieldwork_start: str | None = None
    fieldwork_end: str | None = None
    published_at: str | None = None
    current_rating: str | None = None


@dataclass(frozen=True)
class Download:
    """A file the gateway answered: its bytes and the headers a browser needs to save it."""

    content: bytes
    media_type: str
    disposition: str | None


class GatewayClient:
    def __init__(
        self, base_url: str, *, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        self._summaries: OrderedDict[tuple[str, str], tuple[str, dict]] = OrderedDict()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(
        self, method: str, path: str, token: str | None = None, *, params: Any = None, data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        request_id = request_id_var.get()
        if request_id:
            sent[REQUEST_ID_HEADER] = request_id
        try:
            response = await self._http.request(method, API + path, params=params, data=data, headers=sent)
        except httpx.TransportError as error:  # timeouts included
            raise GatewayUnavailable(f"the gateway is unreachable: {type(error).__name__}") from None
        if response.status_code >= 400:
            try:
                problem = ProblemDetail.model_validate(response.json())
            except ValueError:
                problem = ProblemDetail(title=response.reason_phrase or "Error", status=response.status_code)
            raise GatewayError(response.status_code, problem)
        return response

    async def get(self, path: str, token: str, **params: Any) -> dict:
        """One JSON document the gateway answers at `path` (under /api/v1)."""
        return (await self._send("GET", path, token, params=params or None)).json()

    async def all_items(self, path: str, token: str, **params: Any) -> list[dict]:
        """Every item of a list, read page after page (each page's cursor names the next)."""
        items: list[dict] = []
        cursor = None
        while True:
            page = await self.get(path, token, **params, **({"cursor": cursor} if cursor else {}))
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    async def ready(self) -> None:
        """Raises unless the gateway says it is ready to serve."""
        try:
            response = await self._http.get("/readyz")
        except httpx.TransportError as error:
            raise GatewayUnavailable(f"the gateway is unreachable: {type(error).__name__}") from None
        response.raise_for_status()

    # Signing in and out

    async def sign_in(self, email: str, password: str) -> Tokens:
        response = await self._send("POST", "/auth/token", data={"username": email, "password": password})
        return Tokens.model_validate(response.json())

    async def refresh(self, refresh_token: str) -> Tokens:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return Tokens.model_validate((await self._send("POST", "/auth/token", data=data)).json())

    async def sign_out(self, refresh_token: str) -> None:
        """Revoke the sign-in the refresh token belongs to, and every access token of it."""
        await self._send("POST", "/auth/logout", data={"refresh_token": refresh_token})

    async def me(self, token: str) -> Me:
        return Me.model_validate(await self.get("/me", token))

    # What the pages read

    async def units(self, token: str, **filters: Any) -> list[Unit]:
        return [Unit.model_validate(item) for item in await self.all_items("/units", token, limit=500, **filters)]

    async def unit(self, token: str, unit_id: str) -> Unit:
        return Unit.model_validate(await self.get(f"/units/{unit_id}", token))

    async def inspections(self, token: str, **filters: Any) -> list[Inspection]:
        items = await self.all_items("/inspections", token, limit=200, **filters)
        return [Inspection.model_validate(item) for item in items]

    async def inspection(self, token: str, inspection_id: str) -> Inspection:
        return Inspection.model_validate(await self.get(f"/inspections/{inspection_id}", token))

    async def ratings_history(self, token: str, unit_id: str) -> list[dict]:
        return await self.all_items(f"/units/{unit_id}/ratings-history", token, limit=200)

    async def readiness(self, token: str, inspection_id: str) -> dict:
        return await self.get(f"/inspections/{inspection_id}/readiness", token)

    async def report(self, token: str, inspection_id: str) -> dict:
        return await self.get(f"/inspections/{inspection_id}/report", token)

    async def report_file(self, token: str, inspection_id: str, report_format: str, table: str | None) -> Download:
        params = {"format": report_format, **({"table": table} if table else {})}
        response = await self._send("GET", f"/inspections/{inspection_id}/report", token, params=params)
        return Download(
            response.content, response.headers.get("content-type", "application/octet-stream"),
            response.headers.get("content-disposition"),
        )

    async def summary(self, token: str, inspection_id: str, *, viewer: str) -> dict:
        """The inspection's summary as `viewer` (the person's id) sees it, read conditionally: the last
        answer this viewer had is sent back by its ETag, and a 304 answers from it."""
        key = (viewer, inspection_id)
        held = self._summaries.get(key)
        headers = {"If-None-Match": held[0]} if held else None
        response = await self._send("GET", f"/inspections/{inspection_id}/summary", token, headers=headers)
        if response.status_code == 304 and held:
            self._summaries.move_to_end(key)
            return held[1]
        body = response.json()
        if etag := response.headers.get("etag"):
            self._summaries[key] = (etag, body)
            self._summaries.move_to_end(key)
            while len(self._summaries) > HELD_SUMMARIES:
                self._summaries.popitem(last=False)
        return body

    async def summaries(self, token: str, inspection_ids: list[str], *, viewer: str) -> dict[str, dict | None]:
        """Several summaries at once; None for one the gateway has none of (not rated, or not visible)."""

        async def one(inspection_id: str) -> dict | None:
            try:
                return await self.summary(token, inspection_id, viewer=viewer)
            except GatewayError as error:
                if error.status in (403, 404, 409):
                    return None
                raise

        answers = await asyncio.gather(*(one(i) for i in inspection_ids))
        return dict(zip(inspection_ids, answers, strict=True))

    async def statistics(self, token: str, kind: str, **filters: Any) -> dict:
        """`kind`: ratings, key-questions or trends."""
        return await self.get(f"/statistics/{kind}", token, **{k: v for k, v in filters.items() if v})
