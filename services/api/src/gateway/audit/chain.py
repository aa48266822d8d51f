"""The hash chain: appending entries to the audit log, one chain whatever the number of writers, and
walking it to find the first broken link.

Each entry's `hash` is the SHA-256 of its canonical serialisation (`canonical`: every column but the hash
itself, its predecessor's hash included, as JSON with sorted keys), and its `prev_hash` is the hash of the
entry before it (`GENESIS` for the first). Ids are consecutive. So an entry edited in the database no
longer matches its hash, one whose hash was recomputed no longer matches the next entry's `prev_hash`, and
one removed leaves a gap.

Appends are serialised: on PostgreSQL each append takes a transaction-scoped advisory lock (`LOCK_KEY`)
before it reads the chain's head, so the head it extends is the last one committed and no other
transaction can extend it until this one ends; on SQLite a writing transaction already holds the
database's write lock from its first statement. The lock is taken after the change being recorded has
been written (its row locks taken), and held until the transaction ends; taken again by the same
transaction it is simply held twice (and a savepoint rolled back may give it up, hence once per append).
So a transaction that has recorded a change should take no new row lock that another writer, waiting to
record its own, may hold: the gateway's writes to an inspection lock its row before anything else
(`inspections.guards.inspection_for_change`), and PostgreSQL ends any cycle as a deadlock. The primary
key is the last guard: two appends that read the same head cannot both be written.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from gateway.audit.masking import canonical_json
from gateway.audit.models import AuditEntry
from gateway.db import utcnow
from inspection_shared.wording import counted

GENESIS = "0" * 64
"""The `prev_hash` of the first entry."""
LOCK_KEY = int.from_bytes(hashlib.sha256(b"gateway.audit_entries").digest()[:8], "big", signed=True)
"""The PostgreSQL advisory lock that serialises appends."""

TABLE = AuditEntry.__table__
HASHED = ("id", "at", "actor_id", "actor_kind", "action", "entity", "entity_id", "inspection_id", "request_id",
          "before", "after", "details", "prev_hash")
"""The columns an entry's hash covers: all but the hash itself."""


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry before it has its place in the chain."""

    actor_id: str
    actor_kind: str
    action: str
    entity: str
    entity_id: str | None
    inspection_id: uuid.UUID | None
    request_id: str | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    details: dict[str, Any] | None = None


def canonical(entry: dict[str, Any]) -> bytes:
    """The serialisation an entry's hash is taken over, from its columns as written or as read back (its
    documents hold only what `masking.plain` gives, which reads back from JSON or JSONB as it went in)."""
    at: datetime = entry["at"]
    fields = {name: entry[name] for name in HASHED}
    fields["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    fields["inspection_id"] = str(entry["inspection_id"]) if entry["inspection_id"] is not None else None
    return canonical_json(fields).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def append(connection: Connection, drafts: Sequence[Draft]) -> None:
    """Add the entries at the end of the chain, in the connection's transaction."""
    if not drafts:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    head = connection.execute(select(TABLE.c.id, TABLE.c.hash).order_by(TABLE.c.id.desc()).limit(1)).one_or_none()
    last_id, last_hash = (head[0], head[1]) if head is not None else (0, GENESIS)
    at = utcnow()
    rows = []
    for draft in drafts:
        last_id += 1
        row = {
            "id": last_id, "at": at, "actor_id": draft.actor_id, "actor_kind": draft.actor_kind,
            "action": draft.action, "entity": draft.entity, "entity_id": draft.entity_id,
            "inspection_id": draft.inspection_id, "request_id": draft.request_id, "before": draft.before,
            "after": draft.after, "details": draft.details, "prev_hash": last_hash,
        }
        row["hash"] = last_hash = entry_hash(row)
        rows.append(row)
    connection.execute(insert(TABLE), rows)


# --- verification ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    entries: int
    """Entries walked (up to the first broken link)."""
    head_id: int | None
    head_hash: str | None
    broken_at: int | None = None
    """The id of the first entry whose link is broken."""
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None

    def describe(self) -> str:
        if self.intact:
            if self.head_id is None:
                return "audit log: empty"
            return f"audit log intact: {counted(self.entries, 'entry', 'entries')}, head {self.head_id} {self.head_hash}"
        return f"audit log broken at entry {self.broken_at}: {self.problem}"


def _entries(connection: Connection, batch: int) -> Iterator[dict[str, Any]]:
    after = None
    while True:
        statement = select(TABLE).order_by(TABLE.c.id).limit(batch)
        if after is not None:
            statement = statement.where(TABLE.c.id > after)
        rows = connection.execute(statement).mappings().all()
        if not rows:
            return
        yield from rows
        after = rows[-1]["id"]


def verify(connection: Connection, *, batch: int = 2000) -> Verdict:
    """Walk the chain from its first entry and name the first broken link."""
    walked, previous_id, previous_hash = 0, None, GENESIS
    for entry in _entries(connection, batch):
        entry_id = entry["id"]
        if previous_id is not None and entry_id != previous_id + 1:
            missing = f"{previous_id + 1}" if entry_id == previous_id + 2 else f"{previous_id + 1} to {entry_id - 1}"
            return Verdict(walked, previous_id, previous_hash, entry_id,
                           f"it follows entry {previous_id}: entry {missing} is missing")
        if entry["prev_hash"] != previous_hash:
            what = f"the hash of entry {previous_id}" if previous_id is not None else "the start of the chain"
            return Verdict(walked, previous_id, previous_hash, entry_id,
                           f"prev_hash {entry['prev_hash']} does not match {what} ({previous_hash}): "
                           "the entry before it was changed, replaced or removed")
        recomputed = entry_hash(entry)
        if entry["hash"] != recomputed:
            return Verdict(walked, previous_id, previous_hash, entry_id,
                           f"its contents do not match its hash {entry['hash']} (they hash to {recomputed}): "
                           "the entry was changed after it was written")
        walked, previous_id, previous_hash = walked + 1, entry_id, entry["hash"]
    return Verdict(walked, previous_id, previous_hash if previous_id is not None else None)
