"""Case references sealed at rest: every stored case reference encrypted in place (Fernet, the newest
of GATEWAY_CASE_KEYS), a blind index (HMAC-SHA256 with GATEWAY_CASE_INDEX_KEY) beside those looked up
or kept unique, and room for the retention purge (a frame's content and a sampled case's reference may
be gone). The downgrade opens everything again.

The sealing is written out here as it is at this revision (the format of `gateway.casedata.sealing`), so
that a later change to the gateway cannot change what this step did. The keys are the gateway's own
(`gateway.casedata.keys`); they are loaded only when there are rows to convert.

Revision ID: c4a5e0d91f3b
Revises: 5d2a7c9e1f43
Create Date: 2026-12-08 09:00:00.000000
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c4a5e0d91f3b'
down_revision: str | None = '5d2a7c9e1f43'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
INDEX = sa.String(length=64)
BATCH = 200
SEALED = "$sealed"


class _Keys:
    def __init__(self) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        from gateway.casedata.keys import load_keys
        from gateway.settings import Settings

        fernet_keys, self.index_key = load_keys(Settings())
        self.fernet = MultiFernet([Fernet(k) for k in fernet_keys])

    def index(self, ref: str) -> str:
        return hmac.new(self.index_key, ref.encode(), hashlib.sha256).hexdigest()

    def seal_text(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode()

    def open_text(self, token: str) -> str:
        return self.fernet.decrypt(token.encode()).decode()

    def seal_document(self, document: Any) -> Any:
        if isinstance(document, dict):
            if len(document) == 1 and isinstance(document.get(SEALED), str):
                return document
            refs_filter = document.get("column") == "case_ref" and isinstance(document.get("values"), list)
            return {
                key: self._sealed(value)
                if (refs_filter and key == "values") or ((key == "case_ref" or key.endswith("_case_ref")) and isinstance(value, str))
                else self.seal_document(value)
                for key, value in document.items()
            }
        if isinstance(document, list):
            if document and all(isinstance(i, dict) for i in document) and any("case_ref" in i for i in document):
                return self._sealed(document)
            return [self.seal_document(item) for item in document]
        return document

    def _sealed(self, value: Any) -> dict[str, str]:
        return {SEALED: self.seal_text(json.dumps(value, separators=(",", ":"), ensure_ascii=False))}

    def open_document(self, document: Any) -> Any:
        if isinstance(document, dict):
            if len(document) == 1 and isinstance(document.get(SEALED), str):
                return json.loads(self.open_text(document[SEALED]))
            return {key: self.open_document(value) for key, value in document.items()}
        if isinstance(document, list):
            return [self.open_document(item) for item in document]
        return document


_keys: list[_Keys] = []


def keys() -> _Keys:
    if not _keys:
        _keys.append(_Keys())
    return _keys[0]


def _convert(table: str, key: Sequence[str], columns: dict[str, sa.types.TypeEngine],
             change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Every row of `table`, a batch at a time in the order of its primary key `key`, changed by `change`
    (the columns' new values, of those it returns)."""
    connection = op.get_bind()
    rows_table = sa.table(table, *(sa.column(k) for k in key), *(sa.column(c, t) for c, t in columns.items()))
    pk = [rows_table.c[k] for k in key]
    last: tuple | None = None
    while True:
        statement = sa.select(*pk, *(rows_table.c[c] for c in columns)).order_by(*pk).limit(BATCH)
        if last is not None:
            statement = statement.where(sa.tuple_(*pk) > sa.tuple_(*last))
        rows = connection.execute(statement).mappings().all()
        if not rows:
            return
        for row in rows:
            values = change(dict(row))
            if values:
                connection.execute(
                    sa.update(rows_table)
                    .where(*(c == row[c.name] for c in pk))
                    .values({name: sa.bindparam(f"new_{name}", type_=columns[name]) for name in values}),
                    {f"new_{name}": value for name, value in values.items()},
                )
        last = tuple(rows[-1][k] for k in key)


def _any_rows() -> bool:
    connection = op.get_bind()
    return any(
        connection.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
        for table in ("caseload_frames", "samples", "sampled_cases", "substitutions", "case_assessments",
                      "rating_snapshots", "idempotent_requests")
    )


def _samples_after_frames() -> None:
    """SQLite rebuilt caseload_frames at the end of its schema; it applies the actions of foreign keys in
    the reverse order of its schema, so deleting an inspection would now delete its frames before its
    samples, which refuse that (RESTRICT). Rebuilt after them, samples go first again, as before."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('samples', schema=None, recreate='always'):
            pass


def upgrade() -> None:
    with op.batch_alter_table('caseload_frames', schema=None) as batch_op:
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=True)
    _samples_after_frames()
    with op.batch_alter_table('sampled_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_ref_index', INDEX, nullable=True))
        batch_op.alter_column('case_ref', existing_type=sa.String(length=64), type_=sa.Text(), nullable=True)
        batch_op.drop_constraint('uq_sampled_cases_sample_id_case_ref', type_='unique')
    with op.batch_alter_table('substitutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaced_case_ref_index', INDEX, nullable=True))
        batch_op.add_column(sa.Column('reserve_case_ref_index', INDEX, nullable=True))
        batch_op.alter_column('replaced_case_ref', existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.alter_column('reserve_case_ref', existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=False)
    with op.batch_alter_table('case_assessments', schema=None) as batch_op:
        batch_op.alter_column('case_ref', existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=False)

    if _any_rows():
        k = keys()
        _convert("caseload_frames", ["id"], {"content": sa.LargeBinary()},
                 lambda r: {"content": k.fernet.encrypt(bytes(r["content"]))})
        _convert("sampled_cases", ["id"], {"case_ref": sa.Text(), "case_ref_index": INDEX},
                 lambda r: {"case_ref": k.seal_text(r["case_ref"]), "case_ref_index": k.index(r["case_ref"])})
        _convert("substitutions", ["id"],
                 {"replaced_case_ref": sa.Text(), "reserve_case_ref": sa.Text(),
                  "replaced_case_ref_index": INDEX, "reserve_case_ref_index": INDEX},
                 lambda r: {"replaced_case_ref": k.seal_text(r["replaced_case_ref"]),
                            "reserve_case_ref": k.seal_text(r["reserve_case_ref"]),
                            "replaced_case_ref_index": k.index(r["replaced_case_ref"]),
                            "reserve_case_ref_index": k.index(r["reserve_case_ref"])})
        _convert("case_assessments", ["id"], {"case_ref": sa.Text()},
                 lambda r: {"case_ref": k.seal_text(r["case_ref"])})
        _convert("samples", ["id"], {"result": JSON_DOCUMENT, "design": JSON_DOCUMENT},
                 lambda r: {"result": k.seal_document(r["result"]), "design": k.seal_document(r["design"])})
        _convert("rating_snapshots", ["id"], {"request": JSON_DOCUMENT},
                 lambda r: {"request": k.seal_document(r["request"])})
        _convert("idempotent_requests", ["scope", "key"], {"response": JSON_DOCUMENT},
                 lambda r: {"response": k.seal_document(r["response"])} if r["response"] is not None else {})

    with op.batch_alter_table('sampled_cases', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_sampled_cases_sample_id_case_ref_index'),
                                          ['sample_id', 'case_ref_index'])
    with op.batch_alter_table('substitutions', schema=None) as batch_op:
        batch_op.alter_column('replaced_case_ref_index', existing_type=INDEX, nullable=False)
        batch_op.alter_column('reserve_case_ref_index', existing_type=INDEX, nullable=False)


def downgrade() -> None:
    if _any_rows():
        k = keys()
        # What the purge removed cannot come back: a placeholder stands where the old schema wants a value.
        _convert("caseload_frames", ["id"], {"content": sa.LargeBinary()},
                 lambda r: {"content": k.fernet.decrypt(bytes(r["content"])) if r["content"] is not None else b""})
        _convert("sampled_cases", ["id"], {"case_ref": sa.Text()},
                 lambda r: {"case_ref": k.open_text(r["case_ref"]) if r["case_ref"] is not None
                            else "purged:" + str(r["id"]).replace("-", "")})
        _convert("substitutions", ["id"], {"replaced_case_ref": sa.Text(), "reserve_case_ref": sa.Text()},
                 lambda r: {"replaced_case_ref": k.open_text(r["replaced_case_ref"]),
                            "reserve_case_ref": k.open_text(r["reserve_case_ref"])})
        _convert("case_assessments", ["id"], {"case_ref": sa.Text()},
                 lambda r: {"case_ref": k.open_text(r["case_ref"])})
        _convert("samples", ["id"], {"result": JSON_DOCUMENT, "design": JSON_DOCUMENT},
                 lambda r: {"result": k.open_document(r["result"]), "design": k.open_document(r["design"])})
        _convert("rating_snapshots", ["id"], {"request": JSON_DOCUMENT},
                 lambda r: {"request": k.open_document(r["request"])})
        _convert("idempotent_requests", ["scope", "key"], {"response": JSON_DOCUMENT},
                 lambda r: {"response": k.open_document(r["response"])} if r["response"] is not None else {})

    with op.batch_alter_table('case_assessments', schema=None) as batch_op:
        batch_op.alter_column('case_ref', existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=False)
    with op.batch_alter_table('substitutions', schema=None) as batch_op:
        batch_op.alter_column('reserve_case_ref', existing_type=sa.Text(), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.alter_column('replaced_case_ref', existing_type=sa.Text(), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.drop_column('reserve_case_ref_index')
        batch_op.drop_column('replaced_case_ref_index')
    with op.batch_alter_table('sampled_cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sampled_cases_sample_id_case_ref_index', type_='unique')
        batch_op.alter_column('case_ref', existing_type=sa.Text(), type_=sa.String(length=64), nullable=False)
        batch_op.drop_column('case_ref_index')
        batch_op.create_unique_constraint('uq_sampled_cases_sample_id_case_ref', ['sample_id', 'case_ref'])
    with op.batch_alter_table('caseload_frames', schema=None) as batch_op:
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=False)
    _samples_after_frames()
