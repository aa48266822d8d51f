"""HTTP routes for ratings."""

from fastapi import APIRouter

router = APIRouter(tags=["ratings"])
