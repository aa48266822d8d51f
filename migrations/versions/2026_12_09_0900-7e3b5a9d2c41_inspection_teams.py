"""Inspection teams: each person's place (lead inspector or inspector) on an inspection's team.

Revision ID: 7e3b5a9d2c41
Revises: c4d9e2a7f310
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7e3b5a9d2c41'
down_revision: str | None = 'c4d9e2a7f310'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inspection_team_members',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("role IN ('lead_inspector', 'inspector')", name=op.f('ck_inspection_team_members_role_known')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_team_members_inspection_id_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inspection_team_members_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_team_members')),
    sa.UniqueConstraint('inspection_id', 'user_id', name=op.f('uq_inspection_team_members_inspection_id_user_id'))
    )
    with op.batch_alter_table('inspection_team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_team_members_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_team_members_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspection_team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_team_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_team_members_inspection_id'))

    op.drop_table('inspection_team_members')
