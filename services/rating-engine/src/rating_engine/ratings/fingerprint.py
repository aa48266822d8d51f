"""The input fingerprint: SHA-256 of the canonical JSON of what was rated.

The canonical document holds the framework by its content hash (so a library id and the same definition
sent inline agree), the confidence, every standard's evidence and every override, with everything whose
order carries no meaning put in a fixed order: standards by id, units by id, overrides by standard, cases
by reference, keys sorted. Cases are written column-wise, which is both canonical and cheap to build for
tens of thousands of cases:

    {"answers": {each key question of the standard: [each case's answer in case_refs order, or null]},
     "attributes": [each case's attributes, or null],        <- only when some case has attributes
     "case_refs": [the case references, sorted]}

The bytes hashed are those of `json.dumps(document, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)` in UTF-8. pydantic-core writes them: the document is built with its keys already
in order, and pydantic-core's writer is three times faster than the standard library's on a national
pooled request. Reordering the input never changes the fingerprint; changing any answer, count, rating,
reason, confidence or the framework's content always does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pydantic_core

from inspection_shared.rating import Override, PooledRatingRequest, RatingRequest, StandardEvidence

CaseColumnsByStandard = Mapping[str, dict[str, Any]]
"""Each case-based standard's cases in canonical column form (see `evidence.CaseColumns`), by standard id."""


def sort_keys(value: Any) -> Any:
    """The value with every mapping's keys in sorted order, for the few small parts built elsewhere."""
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value


def canonical_standard(entry: StandardEvidence, case_columns: CaseColumnsByStandard) -> dict[str, Any]:
    out: dict[str, Any] = {}  # keys added in sorted order
    if entry.cases is not None:
        out["cases"] = case_columns[entry.standard]
    if entry.confidence is not None:
        out["confidence"] = entry.confidence
    if entry.counts is not None:
        out["counts"] = {k: {"applicable": entry.counts[k].applicable, "yes": entry.counts[k].yes} for k in sorted(entry.counts)}
    if entry.evidence_summary is not None:
        out["evidence_summary"] = entry.evidence_summary
    if entry.rating is not None:
        out["rating"] = entry.rating
    out["standard"] = entry.standard
    return out


def _standards(entries: list[StandardEvidence], case_columns: CaseColumnsByStandard) -> list[dict[str, Any]]:
    return [canonical_standard(e, case_columns) for e in sorted(entries, key=lambda e: e.standard)]


def _overrides(overrides: list[Override]) -> list[dict[str, Any]]:
    return [
        {"rating": o.rating, "reason": o.reason, "standard": o.standard}
        for o in sorted(overrides, key=lambda o: o.standard)
    ]


def digest(document: dict[str, Any]) -> str:
    """SHA-256 of a document's canonical JSON; the document's mappings must have their keys in order."""
    try:
        text = pydantic_core.to_json(document)
    except pydantic_core.PydanticSerializationError:
        # A string pydantic-core will not write (a lone surrogate, which no JSON request can carry).
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
    return hashlib.sha256(text).hexdigest()


def rating_document(request: RatingRequest, framework_hash: str, case_columns: CaseColumnsByStandard) -> dict[str, Any]:
    """The canonical document of one inspection's rating input."""
    return {
        "confidence": request.confidence,
        "framework": framework_hash,
        "kind": "rating",
        "overrides": _overrides(request.overrides),
        "standards": _standards(request.standards, case_columns),
    }


def pooled_document(
    request: PooledRatingRequest, framework_hash: str, case_columns: Mapping[str, CaseColumnsByStandard]
) -> dict[str, Any]:
    """The canonical document of a pooled rating's input."""
    return {
        "case_filter": sort_keys(request.case_filter.model_dump(mode="json", exclude_none=True))
        if request.case_filter
        else None,
        "confidence": request.confidence,
        "framework": framework_hash,
        "kind": "pooled",
        "units": [
            {"standards": _standards(u.standards, case_columns[u.unit]), "unit": u.unit}
            for u in sorted(request.units, key=lambda u: u.unit)
        ],
    }


def rating_fingerprint(request: RatingRequest, framework_hash: str, case_columns: CaseColumnsByStandard) -> str:
    """Fingerprint of one inspection's rating input."""
    return digest(rating_document(request, framework_hash, case_columns))


def pooled_fingerprint(
    request: PooledRatingRequest, framework_hash: str, case_columns: Mapping[str, CaseColumnsByStandard]
) -> str:
    """Fingerprint of a pooled rating's input."""
    return digest(pooled_document(request, framework_hash, case_columns))
