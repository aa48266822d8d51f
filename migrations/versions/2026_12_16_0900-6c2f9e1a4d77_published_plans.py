"""Programme plans: when a plan is published as the programme, and by whom.

Revision ID: 6c2f9e1a4d77
Revises: 3281aa0e15f8
Create Date: 2026-12-16 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6c2f9e1a4d77'
down_revision: str | None = '3281aa0e15f8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('programme_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('programme_plans', schema=None) as batch_op:
        batch_op.drop_column('published_by')
        batch_op.drop_column('published_at')
