"""The engine client both engine clients build on: timeouts, request id propagation, typed failures.

Retries are left to the caller, which knows whether a call is idempotent.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from inspection_shared.problems import ProblemDetail
from inspection_shared.web import REQUEST_ID_HEADER, request_id_var

Model = TypeVar("Model", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=2.0)


class EngineError(Exception):
    """The engine answered with an error; `problem` is its RFC 9457 body."""

    def __init__(self, engine: str, status: int, problem: ProblemDetail):
        self.engine = engine
        self.status = status
        self.problem = problem
        super().__init__(f"{engine} answered {status}: {problem.detail or problem.title}")


class EngineUnavailable(Exception):
    """The engine could not be reached (refused, reset, DNS)."""

    def __init__(self, engine: str, cause: Exception):
        self.engine = engine
        super().__init__(f"{engine} is unreachable: {type(cause).__name__}")


class EngineTimeout(Exception):
    """The engine did not answer in time."""

    def __init__(self, engine: str):
        self.engine = engine
        super().__init__(f"{engine} did not answer in time")


class EngineClient:
    engine = "engine"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str | None = None,
    ):
        """`token`: the engine's service token, sent with every call when it has one."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport, headers=headers)
        self.budget: float = timeout if isinstance(timeout, int | float) else (timeout.read or DEFAULT_TIMEOUT.read)
        """Seconds a caller gives one call of this engine, its retries included."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        response_model: type[Model] | None = None,
        *,
        json: Any = None,
        content: bytes | None = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent_headers = dict(headers or {})
        request_id = request_id_var.get()
        if request_id:
            sent_headers[REQUEST_ID_HEADER] = request_id
        try:
            response = await self._http.request(
                method, path, json=json, content=content, files=files, data=data, params=params, headers=sent_headers
            )
        except httpx.TimeoutException:
            raise EngineTimeout(self.engine) from None
        except httpx.TransportError as error:
            raise EngineUnavailable(self.engine, error) from None
        if response.status_code >= 400:
            try:
                problem = ProblemDetail.model_validate(response.json())
            except ValueError:
                problem = ProblemDetail(title=response.reason_phrase or "Error", status=response.status_code)
            raise EngineError(self.engine, response.status_code, problem)
        body = response.json()
        return response_model.model_validate(body) if response_model else body

    async def ready(self) -> None:
        """Raises unless the engine says it is ready to serve."""
        await self.request("GET", "/readyz")
