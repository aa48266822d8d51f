"""Fixtures for the sampling service tests: the app in process, with the usual and with small limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sampling.app import create_app
from sampling.settings import Settings


@pytest.fixture(scope="session")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://test") as c:
        yield c


@pytest.fixture(scope="session")
async def small_client() -> AsyncIterator[httpx.AsyncClient]:
    """The service with small limits, to reach the 413 refusals cheaply."""
    app = create_app(Settings(max_frame_rows=50, max_upload_bytes=20_000))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c
