"""Fixtures for the rating engine's tests: the app in process, and evidence builders."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from rating_engine.app import create_app


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://test") as c:
        yield c
