"""Client for the sampling service."""

from __future__ import annotations

from inspection_shared.clients.base import EngineClient


class SamplingClient(EngineClient):
    engine = "sampling"
