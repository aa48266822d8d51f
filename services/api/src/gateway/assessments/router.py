"""HTTP routes for assessments."""

from fastapi import APIRouter

router = APIRouter(tags=["assessments"])
