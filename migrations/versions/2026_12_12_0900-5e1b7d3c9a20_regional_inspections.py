"""Regional inspections: each rating snapshot of an inspection of a region keeps the engine's pooled answer
(the region's case-based standards with each PDU's figures beside them), and each PDU of the region has
its own domain-one judgements.

Revision ID: 5e1b7d3c9a20
Revises: 5d2e8f0a7c31
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5e1b7d3c9a20'
down_revision: str | None = '5d2e8f0a7c31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('rating_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('units', _JSON, nullable=True))

    op.create_table('unit_judgements',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('standard_id', sa.String(length=16), nullable=False),
    sa.Column('rating', sa.String(length=32), nullable=False),
    sa.Column('evidence_summary', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("rating IN ('outstanding', 'good', 'requires_improvement', 'inadequate')", name=op.f('ck_unit_judgements_rating_known')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_unit_judgements_inspection_id_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_judgements_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_judgements')),
    sa.UniqueConstraint('inspection_id', 'unit_id', 'standard_id', name=op.f('uq_unit_judgements_inspection_id_unit_id_standard_id'))
    )


def downgrade() -> None:
    op.drop_table('unit_judgements')
    with op.batch_alter_table('rating_snapshots', schema=None) as batch_op:
        batch_op.drop_column('units')
