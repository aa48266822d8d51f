"""How a column's value is written into the audit log: as JSON, and never a case reference in clear.

- A column named `case_ref`, `replaced_case_ref` or `reserve_case_ref` (or their blind indexes) is
  recorded as `MASKED`, as are the hashes of secrets (`SECRET_COLUMNS`) and people's contact details
  (`PERSONAL_COLUMNS`).
- Binary content (a frame's compressed CSV) is recorded by its SHA-256 and size.
- A JSON document is recorded by the SHA-256 of its canonical form, unless it is one of the few known to
  hold no case reference (`CLEAR_DOCUMENTS`). So a document added later is kept out of the log until
  someone says it is safe: a sample's `result`, a rating snapshot's `request`, an idempotent request's
  stored `response` and a sample's `design` (its exclusion filters may list case references) are hashed.
  Even in a document recorded in clear, a key named like a case reference column is masked.
- Anything else as JSON: times and dates in ISO 8601, UUIDs as text.

A hash proves what was written without saying it; for a case reference alone (a short, guessable string)
a plain hash would not hide it, which is why those are masked rather than hashed.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Table, TypeDecorator

MASKED = "[masked]"
CASE_REF_COLUMNS = frozenset({
    "case_ref", "replaced_case_ref", "reserve_case_ref",
    # Their blind indexes: keyed, but the same for a case wherever it appears, so they would link entries.
    "case_ref_index", "replaced_case_ref_index", "reserve_case_ref_index",
})
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "key_hash", "signing_key"})
"""Hashes of passwords, refresh tokens and API keys, and the keys webhooks are signed with: recorded as
`MASKED`, so that whoever reads the log holds nothing to test guesses against, nor to sign with."""
PERSONAL_COLUMNS = frozenset({"contact_details"})
"""Contact details of people outside the inspectorate (consultation recipients and respondents): personal
data, recorded as `MASKED` (a hash of an address would be as easy to guess as a case reference's)."""
CLEAR_DOCUMENTS = frozenset({
    ("case_assessments", "answers"),  # key question -> yes / no / not_applicable
    ("case_assessments", "attributes"),  # the attributes case filters read
    ("caseload_frames", "columns"),  # column names
    ("inspections", "partner_inspectorates"),
    ("inspection_status_changes", "details"),  # the notice given, the snapshot published
    ("published_versions", "changes"),  # ratings, panel decisions, judgements, counts of case assessments
    ("idempotent_requests", "headers"),  # Location, ETag
    ("webhook_subscriptions", "event_types"),
    ("programme_topics", "partner_inspectorates"),
    ("programme_topics", "groups"),  # adults, youth, cohorts
    ("consultations", "programme_years"),
    # A plan's rules, capacity, quarters and reasons: units and commissioned bodies, never a case.
    ("programme_plans", "programme_years"),
    ("programme_plans", "request"),
    ("programme_plans", "random_selection"),
    ("programme_plans", "suspended"),
    ("programme_plans", "not_placed"),
    ("programme_plan_slots", "partners"),
    ("programme_plan_slots", "figures"),
    ("programme_plan_reflows", "moved"),
    ("programme_plan_reflows", "not_placed"),
})
"""JSON documents recorded as they are: none of them holds a case reference."""

Recorder = Callable[[Any], Any]


def canonical_json(value: Any) -> str:
    """One text for one value (as `plain` gives it): keys sorted, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def plain(value: Any) -> Any:
    """A value of a column as JSON. A float that is a whole number is written as an integer: PostgreSQL's
    JSONB gives 1e16 back as 10000000000000000, and an entry must hash the same when read back."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return by_hash_of_bytes(bytes(value))
    if isinstance(value, dict):
        return {str(k): MASKED if k in CASE_REF_COLUMNS and v is not None else plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def by_hash_of_bytes(content: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}


def by_hash_of_document(document: Any) -> dict[str, Any] | None:
    if document is None:
        return None
    return {"sha256": hashlib.sha256(canonical_json(plain(document)).encode()).hexdigest()}


def _masked(value: Any) -> Any:
    return None if value is None else MASKED


def _binary(value: Any) -> Any:
    return None if value is None else by_hash_of_bytes(bytes(value))


def _kinds(column: Column) -> list[Any]:
    """The column's type, what a type decorator (such as a sealed column) stores it as, and its variants."""
    kinds = [column.type, *getattr(column.type, "_variant_mapping", {}).values()]
    return [*kinds, *(kind.impl_instance for kind in kinds if isinstance(kind, TypeDecorator))]


def _is_json(column: Column) -> bool:
    return any(isinstance(kind, JSON) for kind in _kinds(column))


def recorder(table: Table, column: Column) -> Recorder:
    """How the values of `column` are recorded."""
    if column.name in CASE_REF_COLUMNS or column.name in SECRET_COLUMNS or column.name in PERSONAL_COLUMNS:
        return _masked
    if any(isinstance(kind, LargeBinary) for kind in _kinds(column)):
        return _binary
    if _is_json(column) and (table.name, column.name) not in CLEAR_DOCUMENTS:
        return by_hash_of_document
    return plain


@cache
def recorders(table: Table) -> dict[str, Recorder]:
    """Column key -> how its values are recorded, for every column of the table."""
    return {column.key: recorder(table, column) for column in table.columns}


def image(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Column values as the audit log records them."""
    record = recorders(table)
    return {key: record[key](value) for key, value in values.items()}
