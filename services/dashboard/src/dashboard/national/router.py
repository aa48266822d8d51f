"""Page 4, the national picture, from the gateway's statistics."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
