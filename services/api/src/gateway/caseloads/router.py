"""HTTP routes for caseloads."""

from fastapi import APIRouter

router = APIRouter(tags=["caseloads"])
