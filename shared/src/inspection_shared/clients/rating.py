"""Client for the rating engine."""

from __future__ import annotations

from inspection_shared.clients.base import EngineClient
from inspection_shared.framework import Framework, FrameworkSummary
from inspection_shared.rating import PooledRatingRequest, PooledRatingResult, RatingRequest, RatingResult


class RatingEngineClient(EngineClient):
    engine = "rating-engine"

    async def frameworks(self) -> list[FrameworkSummary]:
        body = await self.request("GET", "/v1/frameworks")
        return [FrameworkSummary.model_validate(item) for item in body["items"]]

    async def framework(self, framework_id: str) -> Framework:
        return await self.request("GET", f"/v1/frameworks/{framework_id}", Framework)

    async def rate(self, request: RatingRequest) -> RatingResult:
        """Rate one inspection's evidence. Raises EngineError (422) naming every fault of bad evidence."""
        return await self.request(
            "POST", "/v1/ratings", RatingResult, json=request.model_dump(mode="json", exclude_none=True)
        )

    async def rate_pooled(self, request: PooledRatingRequest) -> PooledRatingResult:
        """Pool several units' case answers (or counts) into one rating per standard."""
        return await self.request(
            "POST",
            "/v1/ratings/pooled",
            PooledRatingResult,
            json=request.model_dump(mode="json", exclude_none=True),
        )
