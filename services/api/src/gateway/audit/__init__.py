"""The audit log: every change the gateway makes, and the named events that are not changes of a row,
appended in the same transaction, each entry holding the hash of the one before it.

**Changes are recorded by the write hooks, never by a route.** `gateway.writes` hands every unit-of-work
flush (`flushes`) and every bulk INSERT, UPDATE and DELETE executed through a session (`statements`) to
this package, which records one entry per row: who (the actor's id and kind), when, the table and the
row's key, the action (`insert`, `update`, `delete`), the request id, the inspection the row concerns
(its own `inspection_id`, or that of the row it belongs to, as a sampled case's sample), and the fields
before and after (for an update, only those that changed). Case references never appear in clear
(`masking`). A statement marked bookkeeping is not recorded; one the log cannot describe is refused
(`rows.Undescribable`), never let through unrecorded.

**Named events** are recorded by the code that sees them: `sign_in`, `sign_in.refused`,
`sign_in.held_back` and `sign_out` (`gateway.identity.sign_in`, `throttles`), `api_key.created` and
`api_key.revoked` (`gateway.identity.api_keys`)::

    from gateway import audit

    await audit.record(session, "api_key.created", "api_keys", key.id, {"name": key.name, "scopes": [...]})

`record(session, action, entity, entity_id=None, details=None, *, actor=None, inspection_id=None)` writes
in the session's transaction, for the session's actor (or `actor`): it stands or falls with the request.
`action` is the event's name (lower case, digits, `_` and `.`; not insert, update or delete); `entity` is
what it concerns, `entity_id` which one, `details` a small JSON object (a key named like a case reference
column is masked). For an event whose request then fails, such as a refused sign-in answered 401,
`record_apart(sessionmaker, actor, action, entity, entity_id, details)` writes it in a transaction of
its own, committed at once; call it before the request has written anything.

**Tamper-evident** (`chain`): entries are numbered consecutively and each holds the SHA-256 of its
canonical serialisation and the hash of the entry before it; appends are serialised (an advisory lock on
PostgreSQL), so concurrent transactions extend one chain. `python -m gateway.cli audit-verify` walks the
chain and names the first broken link. On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE of
the table.

**Reading**: `GET /api/v1/audit` (permission `audit:read`), newest first, filtered by actor, entity,
entity id, inspection, action and time.
"""

from gateway.audit.events import record, record_apart

__all__ = ["record", "record_apart"]
