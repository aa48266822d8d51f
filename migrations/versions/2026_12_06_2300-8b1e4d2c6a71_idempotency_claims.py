"""An Idempotency-Key is claimed before its work starts: the answer is null until the work is done.

Revision ID: 8b1e4d2c6a71
Revises: 3f9a1c7e5b20
Create Date: 2026-12-06 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '8b1e4d2c6a71'
down_revision: str | None = '3f9a1c7e5b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.alter_column('status_code', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('response', existing_type=JSON_DOCUMENT, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM idempotent_requests WHERE status_code IS NULL")
    with op.batch_alter_table('idempotent_requests', schema=None) as batch_op:
        batch_op.alter_column('status_code', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('response', existing_type=JSON_DOCUMENT, nullable=False)
