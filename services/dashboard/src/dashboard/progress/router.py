"""Page 5, work in progress (for staff): inspections by phase, cases answered of cases sampled, and the
days to the end of fieldwork."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dashboard.pages import PHASE_LABELS, ViewerDep, render

router = APIRouter(include_in_schema=False)

IN_PROGRESS = ("planned", "pre_fieldwork", "fieldwork", "rating")


@router.get("/work-in-progress")
async def work_in_progress_page(request: Request, viewer: ViewerDep) -> Response:
    token = await viewer.token()
    inspections = await viewer.gateway.inspections(token, status=list(IN_PROGRESS))
    summaries = await viewer.gateway.summaries(token, [i.id for i in inspections], viewer=viewer.id)
    today = date.today()
    rows = []
    for inspection in inspections:
        assessments = (summaries.get(inspection.id) or {}).get("assessments") or {}
        end = date.fromisoformat(inspection.fieldwork_end) if inspection.fieldwork_end else None
        rows.append({
            "inspection": inspection,
            "answered": assessments.get("recorded"),
            "sampled": assessments.get("cases_sampled"),
            "days_left": (end - today).days if end else None,
        })
    phases = {phase: [row for row in rows if row["inspection"].status == phase] for phase in IN_PROGRESS}
    return render(request, "work.html", phases=phases, labels=PHASE_LABELS, total=len(rows))
