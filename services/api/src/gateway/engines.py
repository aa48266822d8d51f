"""The gateway's clients for the two engines, one pair per process, as request dependencies."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from gateway.settings import Settings
from inspection_shared.clients import RatingEngineClient, SamplingClient


def engine_clients(settings: Settings) -> tuple[RatingEngineClient, SamplingClient]:
    timeout = httpx.Timeout(settings.engine_timeout_seconds, connect=2.0)
    return (
        RatingEngineClient(settings.rating_engine_url, timeout=timeout),
        SamplingClient(settings.sampling_url, timeout=timeout),
    )


def _rating_engine(request: Request) -> RatingEngineClient:
    return request.app.state.rating_engine


def _sampling(request: Request) -> SamplingClient:
    return request.app.state.sampling


RatingEngineDep = Annotated[RatingEngineClient, Depends(_rating_engine)]
SamplingDep = Annotated[SamplingClient, Depends(_sampling)]
