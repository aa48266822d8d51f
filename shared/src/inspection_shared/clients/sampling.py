"""Client for the sampling service: one typed method per endpoint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from inspection_shared.clients.base import EngineClient
from inspection_shared.sampling import (
    AllocationRequest,
    AllocationResult,
    FrameValue,
    SampleDesign,
    SampleResult,
    SampleSizeRequest,
    SampleSizeResult,
    UnitSelectionRequest,
    UnitSelectionResult,
)


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


class SamplingClient(EngineClient):
    engine = "sampling"

    async def sample_size(self, request: SampleSizeRequest) -> SampleSizeResult:
        """POST /v1/sample-size: cases needed for a precision target, with the working."""
        return await self.request(
            "POST", "/v1/sample-size", SampleSizeResult, json=request.model_dump(mode="json", exclude_none=True)
        )

    async def allocate(self, request: AllocationRequest) -> AllocationResult:
        """POST /v1/allocations: share a total over strata."""
        return await self.request(
            "POST", "/v1/allocations", AllocationResult, json=request.model_dump(mode="json", exclude_none=True)
        )

    async def draw_sample(
        self,
        frame: Sequence[Mapping[str, FrameValue]],
        design: SampleDesign,
        *,
        idempotency_key: str | None = None,
    ) -> SampleResult:
        """POST /v1/samples with the frame as JSON rows."""
        body = {"frame": list(frame), "design": design.model_dump(mode="json", exclude_none=True)}
        return await self.request(
            "POST", "/v1/samples", SampleResult, json=body, headers=_idempotency(idempotency_key)
        )

    async def draw_sample_csv(
        self, frame_csv: bytes, design: SampleDesign, *, idempotency_key: str | None = None
    ) -> SampleResult:
        """POST /v1/samples with the frame as a CSV file and the design beside it, both in the body (a
        multipart form): a design names case references and reasons in its exclusions, and a URL is logged
        by every proxy on the way, so the design is never put in one."""
        return await self.request(
            "POST",
            "/v1/samples",
            SampleResult,
            files={"frame": ("frame.csv", frame_csv, "text/csv")},
            data={"design": design.model_dump_json(exclude_none=True)},
            headers=_idempotency(idempotency_key),
        )

    async def select_units(self, request: UnitSelectionRequest) -> UnitSelectionResult:
        """POST /v1/unit-selections: choose units for a programme."""
        return await self.request(
            "POST",
            "/v1/unit-selections",
            UnitSelectionResult,
            json=request.model_dump(mode="json", exclude_none=True),
        )
