"""The outbox: every phase change, publication, rating run and panel decision is written as an event in
the transaction of the change itself, so that a change rolled back tells nothing and one committed is
never lost. The feed (`GET /api/v1/events`) and the webhooks (`delivery`) read it.

The events are derived from the rows that record those changes, as the write path inserts them
(`writes.watch_inserts`): a row of `inspection_status_changes` is a phase change (and, into `published`,
a publication too); a rating snapshot is a rating run or, of kind `override`, a panel decision. So no
route, service or command can make such a change without its event. An event carries the inspection,
its unit, its status once changed (which says who may see the event) and a few figures, never case data.

Ids are the feed's cursor, so they follow the order of the commits: whoever has read event n never later
finds one below n. PostgreSQL hands out sequence values in the order transactions write, not the order
they commit; so an event is written under the advisory lock that serialises the audit log's appends
(`audit.chain.LOCK_KEY`), which its transaction already holds, having just recorded the change, until it
ends. On SQLite a writing transaction holds the database's write lock from its first statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, text

from gateway import announcements
from gateway.audit.chain import LOCK_KEY
from gateway.events.models import Event
from gateway.inspections import repository as inspections
from gateway.inspections.lifecycle import PUBLISHED
from gateway.writes import watch_inserts

PHASE_CHANGED = "inspection.phase_changed"
PUBLISHED_EVENT = "inspection.published"
RATING_RUN_COMPLETED = "rating_run.completed"
PANEL_DECIDED = "panel.decided"
EVENT_TYPES = (PHASE_CHANGED, PUBLISHED_EVENT, RATING_RUN_COMPLETED, PANEL_DECIDED)

CHANNEL = "events_written"
"""Announced as a transaction that wrote events commits: the delivery worker wakes (see `announcements`)."""
STATUS_CHANGES, SNAPSHOTS = "inspection_status_changes", "rating_snapshots"

_TABLE = Event.__table__


def _append(connection: Connection, inspection_id: Any, occurred_at: Any, events: list[tuple[str, dict]]) -> None:
    unit_id, status = inspections.unit_and_status(connection, inspection_id)
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    connection.execute(insert(_TABLE), [
        {"type": kind, "occurred_at": occurred_at, "inspection_id": inspection_id, "unit_id": unit_id,
         "inspection_status": status, "data": data}
        for kind, data in events
    ])


def _status_changed(connection: Connection, change: Any) -> None:
    events = [(PHASE_CHANGED, {"from": change.from_status, "to": change.to_status})]
    if change.to_status == PUBLISHED:
        details = change.details or {}
        inspection = change.inspection  # the move is made with its inspection loaded; else it is the moment
        published_at = (inspection.published_at if inspection is not None else None) or change.changed_at
        events.append((PUBLISHED_EVENT, {
            "published_at": published_at.isoformat(),
            "snapshot_id": details.get("snapshot_id"),
            "overall_rating": details.get("overall_rating"),
        }))
    _append(connection, change.inspection_id, change.changed_at, events)


def _rated(connection: Connection, snapshot: Any) -> None:
    data = {
        "snapshot_id": str(snapshot.id),
        "sequence": snapshot.sequence,
        "overall_rating": snapshot.overall_rating,
        "overall_score": snapshot.overall_score,
    }
    if snapshot.kind == "override":
        event = (PANEL_DECIDED, {**data, "based_on_id": str(snapshot.based_on_id)})
    else:
        event = (RATING_RUN_COMPLETED, data)
    _append(connection, snapshot.inspection_id, snapshot.created_at, [event])


watch_inserts(STATUS_CHANGES, _status_changed)
watch_inserts(SNAPSHOTS, _rated)
announcements.announce(CHANNEL, STATUS_CHANGES, SNAPSHOTS)
