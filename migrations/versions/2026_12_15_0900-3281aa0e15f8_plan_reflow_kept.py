"""Programme plans: each re-flow also keeps the slots it left in the suspended quarter because they were
made inspections already.

Revision ID: 3281aa0e15f8
Revises: a24e6f2e533b
Create Date: 2026-12-15 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '3281aa0e15f8'
down_revision: str | None = 'a24e6f2e533b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('programme_plan_reflows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                                      server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('programme_plan_reflows', schema=None) as batch_op:
        batch_op.drop_column('kept')
