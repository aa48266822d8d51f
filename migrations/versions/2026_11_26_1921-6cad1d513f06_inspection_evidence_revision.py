"""The inspection's evidence revision: moves on with every change to what is recorded for it, so that
documents derived from it (the summary) can be served until it does.

Revision ID: 6cad1d513f06
Revises: 28f53fd9bee7
Create Date: 2026-11-26 19:21:16.329047
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6cad1d513f06'
down_revision: str | None = '28f53fd9bee7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_revision', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('evidence_revision')
