"""Typed async clients for the two engines, used by the gateway."""

from inspection_shared.clients.base import EngineClient, EngineError, EngineTimeout, EngineUnavailable
from inspection_shared.clients.rating import RatingEngineClient
from inspection_shared.clients.sampling import SamplingClient

__all__ = [
    "EngineClient",
    "EngineError",
    "EngineTimeout",
    "EngineUnavailable",
    "RatingEngineClient",
    "SamplingClient",
]
