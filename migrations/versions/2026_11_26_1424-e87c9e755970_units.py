"""Units of inspection: one tree of units with type, nation, parent, validity dates and caseload.

Revision ID: e87c9e755970
Revises: b7d52c3e6cdb
Create Date: 2026-11-26 14:24:50.173546
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e87c9e755970'
down_revision: str | None = 'b7d52c3e6cdb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('units',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('nation', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('caseload_size', sa.Integer(), nullable=True),
    sa.Column('synthetic', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("type IN ('region', 'pdu', 'nps_division', 'crc', 'ldu', 'yos', 'other')", name=op.f('ck_units_type_known')),
    sa.CheckConstraint('caseload_size IS NULL OR caseload_size >= 0', name=op.f('ck_units_caseload_size_not_negative')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_units_not_own_parent')),
    sa.CheckConstraint('valid_from IS NULL OR valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_units_validity_in_order')),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code'))
    )
    op.create_index(op.f('ix_units_parent_id'), 'units', ['parent_id'], unique=False)
    op.create_index(op.f('ix_units_type'), 'units', ['type'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_units_type'), table_name='units')
    op.drop_index(op.f('ix_units_parent_id'), table_name='units')
    op.drop_table('units')
