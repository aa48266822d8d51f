"""Each inspection's figures as published, kept by the write path.

Whenever a published version is recorded (`ratings.models.PublishedVersion`: the publication, each
correction, a withdrawal), the inspection's figures are replaced by those of the version's rating
snapshot. A withdrawal's snapshot is the one it withdraws, so a withdrawn inspection keeps the figures it
was counted with, under the withdrawal's version: never counted (statistics count published inspections
only), they place it in the scope a reader asked about, to say why it dropped out. They are derived from the published version's row as the write
path inserts it (`writes.watch_inserts`), in its transaction, so no route, service or command can
publish, correct or withdraw without the statistics following; like the outbox of events they are not
themselves audited: the audit log holds the version and the snapshot they are read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert

from gateway.statistics import repository
from gateway.statistics.models import PublishedFigures, PublishedKeyQuestionFigure, PublishedStandardFigure
from gateway.statistics.periods import ProgrammeYear
from gateway.writes import watch_inserts
from inspection_shared.framework import programme_of

PUBLISHED_VERSIONS = "published_versions"

_FIGURES = PublishedFigures.__table__
_STANDARDS = PublishedStandardFigure.__table__
_KEY_QUESTIONS = PublishedKeyQuestionFigure.__table__


@dataclass(frozen=True)
class Figures:
    """The rows of one inspection's figures."""

    inspection: dict[str, Any]
    standards: list[dict[str, Any]]
    key_questions: list[dict[str, Any]]


def figures_of(result: dict[str, Any], *, applies_to: list[str], inspected_on: date) -> Figures:
    """The figures of a rating result (`inspection_shared.rating.RatingResult`, as stored) for an
    inspection first in the field on `inspected_on`, under a framework for the unit types `applies_to`."""
    overall = result["overall"]
    return Figures(
        inspection={
            "programme": programme_of(applies_to),
            "inspected_on": inspected_on,
            "programme_year": ProgrammeYear.of(inspected_on).start_year,
            "overall_rating": overall["rating"],
            "overall_score": overall["score"],
            "max_score": overall["max_score"],
        },
        standards=[{"standard": s["standard"], "rating": s["rating"]} for s in result["standards"]],
        key_questions=[
            {"standard": s["standard"], "key_question": kq["key_question"], "yes": kq["yes"],
             "applicable": kq["applicable"]}
            for s in result["standards"]
            for kq in s.get("key_questions", [])
        ],
    )


def _published(connection: Connection, version: Any) -> None:
    inspection_id = version.inspection_id
    for table in (_KEY_QUESTIONS, _STANDARDS, _FIGURES):
        connection.execute(delete(table).where(table.c.inspection_id == inspection_id))
    source = repository.published_source(connection, inspection_id, version.snapshot_id)
    if source.draft:
        # Publication refuses a pilot under a draft framework; should one be published by another path,
        # it still has no figures to count.
        return
    figures = figures_of(source.result, applies_to=source.applies_to, inspected_on=source.inspected_on)
    connection.execute(insert(_FIGURES).values(
        inspection_id=inspection_id, version=version.version, snapshot_id=version.snapshot_id, **figures.inspection
    ))
    for table, rows in ((_STANDARDS, figures.standards), (_KEY_QUESTIONS, figures.key_questions)):
        if rows:
            connection.execute(insert(table), [{"inspection_id": inspection_id, **row} for row in rows])


watch_inserts(PUBLISHED_VERSIONS, _published)
