"""Reports held built in each process, as summaries are (`summaries.documents`): a report shows nothing
that can change without moving the inspection's state on, so the aggregate and its JSON are built once
for each state and served while it holds. The other formats are written from the held aggregate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.actors import Actor
from gateway.reports.schemas import Report, ReportFormat, ReportTable
from gateway.reports.service import build_report, reads_report
from gateway.summaries.documents import HeldDocuments, PostgresStates, Version, etag_of, shape_of
from gateway.summaries.repository import State

_SHAPE = shape_of(Report)


@dataclass(frozen=True)
class ReportDocument:
    state_tag: str
    """The state it was built from and the report's shape, as an ETag's opaque part."""
    report: Report
    json: bytes
    unit_id: uuid.UUID
    public: bool
    versions: int

    def etag(self, report_format: ReportFormat, table: ReportTable | None = None) -> str:
        """A strong ETag for one representation: each format (and CSV table) has its own."""
        return f'"{self.state_tag}-{report_format}{f"-{table}" if table else ""}"'


async def _report_document(
    session: AsyncSession, inspection_id: uuid.UUID, version: Version, state: State
) -> ReportDocument:
    """The report as it is now: the latest published version, with every correction made to it (a report of
    an earlier version is the summary's `?version=`, not kept as a report of its own)."""
    report = await build_report(session, inspection_id)
    return ReportDocument(
        etag_of(state, _SHAPE).strip('"'), report, report.model_dump_json().encode(), report.unit.id,
        report.published_version is not None, report.published_version or 0,
    )


class ReportDocuments(HeldDocuments[ReportDocument]):
    def __init__(self, states: PostgresStates | None, capacity: int):
        super().__init__(states, capacity, _report_document)


async def read_report(request: Request, inspection_id: uuid.UUID, actor: Actor) -> ReportDocument:
    """The report as it is now, from the process's documents; not found for an actor who may not read it."""
    documents: ReportDocuments = request.app.state.reports
    return await documents.read(
        request.app.state.sessionmaker, inspection_id, None, lambda d: reads_report(actor, d.unit_id, d.public)
    )
