"""Case references sealed at rest: Fernet through MultiFernet (the newest key encrypts, every key held
decrypts), and a blind index to find and tell them apart without the clear text.

What is sealed, and how:

- a column holding a case reference (`SealedCaseRef`: sampled cases, substitutions, case assessments)
  holds a Fernet token; beside it, where the reference is looked up or must be unique, a blind index
  column (`blind_index_of`) holds HMAC-SHA256(index key, reference) in hex, filled from the reference
  as the row is written. The database can only compare indexes: comparing or ordering a sealed column
  in SQL raises, so no query can silently compare ciphertext;
- a frame's canonical CSV (`SealedBytes`) is one token of the whole gzip-compressed content;
- a JSON document (`SealedDocument`: a sample's result and design, a rating snapshot's request, the
  stored answer of an idempotent request) keeps its shape with the case data in it sealed: a list of
  case records (objects with a `case_ref`) becomes one `{"$sealed": token}` of the whole list, as do a
  lone `case_ref` (or `*_case_ref`) value and the values of an exclusion filter on the `case_ref`
  column. Everything else stays readable, as the reads of counts and panel decisions need.

Reads open them again, so the API answers exactly what was written. Fernet tokens are random: the same
reference seals differently each time, and only its index is stable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import JSON, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import MappedColumn, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator, TypeEngine

SEALED = "$sealed"
"""The one key of an object standing for a sealed part of a JSON document."""
CASE_REF = "case_ref"


class CaseKeys:
    """The Fernet keys (newest first) and the blind index's key."""

    def __init__(self, fernet_keys: list[bytes], index_key: bytes):
        self._fernets = [Fernet(key) for key in fernet_keys]
        self._newest = self._fernets[0]
        self._all = MultiFernet(self._fernets)
        self._index_key = index_key

    def seal(self, data: bytes) -> bytes:
        return self._all.encrypt(data)

    def open(self, token: bytes) -> bytes:
        return self._all.decrypt(token)

    def index(self, case_ref: str) -> str:
        return hmac.new(self._index_key, case_ref.encode(), hashlib.sha256).hexdigest()

    def is_current(self, token: bytes) -> bool:
        """Whether the token is sealed under the newest key."""
        try:
            self._newest.decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """The token sealed again under the newest key (any key held opens it)."""
        return self._all.rotate(token)


_held: CaseKeys | None = None
_loading = threading.Lock()


def case_keys() -> CaseKeys:
    """The process's case keys, loaded from the gateway's settings on first use."""
    global _held
    if _held is None:
        with _loading:
            if _held is None:
                from gateway.casedata.keys import load_keys
                from gateway.settings import Settings

                _held = CaseKeys(*load_keys(Settings()))
    return _held


def use_case_keys(keys: CaseKeys | None) -> None:
    """Use these keys from now on (None: load them again from the settings on next use)."""
    global _held
    _held = keys


def blind_index(case_ref: str) -> str:
    return case_keys().index(case_ref)


def seal_text(value: str) -> str:
    return case_keys().seal(value.encode()).decode()


def open_text(token: str) -> str:
    return case_keys().open(token.encode()).decode()


# --- JSON documents ----------------------------------------------------------------------------------


def _sealed(value: Any, keys: CaseKeys) -> dict[str, str]:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return {SEALED: keys.seal(text.encode()).decode()}


def _is_case_list(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(item, dict) for item in value) and any(CASE_REF in item for item in value)


def _is_ref_key(key: str) -> bool:
    return key == CASE_REF or key.endswith("_" + CASE_REF)


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


def seal_document(document: Any, keys: CaseKeys | None = None) -> Any:
    """The document with its case data sealed (see the module docstring); parts already sealed stay so."""
    keys = keys or case_keys()
    if isinstance(document, dict):
        if _is_sealed(document):
            return document
        filters_refs = document.get("column") == CASE_REF and isinstance(document.get("values"), list)
        sealed = {}
        for key, value in document.items():
            if (filters_refs and key == "values") or (_is_ref_key(key) and isinstance(value, str)):
                sealed[key] = _sealed(value, keys)
            else:
                sealed[key] = seal_document(value, keys)
        return sealed
    if isinstance(document, list):
        if _is_case_list(document):
            return _sealed(document, keys)
        return [seal_document(item, keys) for item in document]
    return document


def open_document(document: Any, keys: CaseKeys | None = None) -> Any:
    """The document as it was before `seal_document`."""
    keys = keys or case_keys()
    if isinstance(document, dict):
        if _is_sealed(document):
            return json.loads(keys.open(document[SEALED].encode()))
        return {key: open_document(value, keys) for key, value in document.items()}
    if isinstance(document, list):
        return [open_document(item, keys) for item in document]
    return document


def holds_case_data(document: Any) -> bool:
    """Whether a document (open or sealed) holds anything `seal_document` seals."""
    if isinstance(document, dict):
        if _is_sealed(document):
            return True
        if document.get("column") == CASE_REF and document.get("values"):
            return True
        return any(
            (_is_ref_key(key) and isinstance(value, str)) or holds_case_data(value) for key, value in document.items()
        )
    if isinstance(document, list):
        return _is_case_list(document) or any(holds_case_data(item) for item in document)
    return False


def rotate_document(document: Any, keys: CaseKeys) -> tuple[Any, int]:
    """The sealed document with every part not under the newest key sealed again; and how many were."""
    if isinstance(document, dict):
        if _is_sealed(document):
            token = document[SEALED].encode()
            if keys.is_current(token):
                return document, 0
            return {SEALED: keys.rotate(token).decode()}, 1
        rotated, count = {}, 0
        for key, value in document.items():
            rotated[key], n = rotate_document(value, keys)
            count += n
        return rotated, count
    if isinstance(document, list):
        items = [rotate_document(item, keys) for item in document]
        return [item for item, _ in items], sum(n for _, n in items)
    return document, 0


# --- column types ------------------------------------------------------------------------------------


class Sealed(TypeDecorator):
    """A column whose values are sealed as they are written and opened as they are read."""

    cache_ok = True

    def raw(self) -> TypeEngine:
        """The column's type as stored, for reading and writing its tokens (key rotation)."""
        return self.impl_instance


class SealedCaseRef(Sealed):
    """A case reference, as a Fernet token. Find it by its blind index: it cannot be compared in SQL."""

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator):  # noqa: N801 (SQLAlchemy's name)
        """Equal to a reference (or one of some) is its blind index equal to theirs; nothing else compares."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in (operators.is_, operators.is_not):
                return super().operate(op, *other, **kwargs)
            index = getattr(self.expr, "table", None) is not None and self.expr.table.c.get(f"{self.expr.key}_index")
            if index is not None and op in (operators.eq, operators.ne) and isinstance(other[0], str):
                return index.operate(op, blind_index(other[0]))
            if index is not None and op in (operators.in_op, operators.not_in_op) and all(
                isinstance(value, str) for value in other[0]
            ):
                return index.operate(op, [blind_index(value) for value in other[0]])
            raise TypeError("a sealed case reference cannot be compared or ordered in SQL: use its blind index")

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            raise TypeError("a sealed case reference cannot be compared or ordered in SQL: use its blind index")

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal_text(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else open_text(value)


class SealedBytes(Sealed):
    """Bytes (a frame's compressed canonical CSV), as one Fernet token."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else case_keys().seal(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else case_keys().open(bytes(value))


class SealedDocument(Sealed):
    """A JSON document (JSONB on PostgreSQL) with its case data sealed."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine:
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def raw(self) -> TypeEngine:
        return JSON().with_variant(JSONB(), "postgresql")

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else seal_document(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else open_document(value)


INDEX_LENGTH = 64
"""HMAC-SHA256 in hex."""


def blind_index_of(reference: str, *, nullable: bool = False) -> MappedColumn[Any]:
    """A column holding the blind index of the case reference in column `reference` of the same row,
    computed as the row is inserted (by the ORM or a bulk INSERT) from the clear value given."""

    def index(context: Any) -> str | None:
        value = context.get_current_parameters().get(reference)
        return None if value is None else blind_index(value)

    return mapped_column(String(INDEX_LENGTH), default=index, nullable=nullable)
