"""HTTP routes for inspections."""

from fastapi import APIRouter

router = APIRouter(tags=["inspections"])
