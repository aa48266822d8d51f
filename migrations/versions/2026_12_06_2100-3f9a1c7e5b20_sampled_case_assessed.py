"""A sampled case says whether it has been assessed, so that the sample's own rules (no substitution of
an assessed case) and counts read its own table.

Revision ID: 3f9a1c7e5b20
Revises: 6cad1d513f06
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3f9a1c7e5b20'
down_revision: str | None = '6cad1d513f06'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sampled_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assessed', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE sampled_cases SET assessed = true "
        "WHERE id IN (SELECT sampled_case_id FROM case_assessments)"
    )


def downgrade() -> None:
    with op.batch_alter_table('sampled_cases', schema=None) as batch_op:
        batch_op.drop_column('assessed')
