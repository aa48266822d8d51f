"""Client for the rating engine."""

from __future__ import annotations

from inspection_shared.clients.base import EngineClient
from inspection_shared.framework import Framework, FrameworkSummary


class RatingEngineClient(EngineClient):
    engine = "rating-engine"

    async def frameworks(self) -> list[FrameworkSummary]:
        body = await self.request("GET", "/v1/frameworks")
        return [FrameworkSummary.model_validate(item) for item in body["items"]]

    async def framework(self, framework_id: str) -> Framework:
        return await self.request("GET", f"/v1/frameworks/{framework_id}", Framework)
