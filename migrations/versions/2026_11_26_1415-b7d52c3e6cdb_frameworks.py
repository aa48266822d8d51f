"""Framework versions with their standards and key questions.

Revision ID: b7d52c3e6cdb
Revises: 
Create Date: 2026-11-26 14:15:01.038025
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'b7d52c3e6cdb'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('frameworks',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_frameworks'))
    )
    op.create_table('framework_standards',
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('domain_number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scored', sa.Boolean(), nullable=False),
    sa.Column('sample_type', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'], name=op.f('fk_framework_standards_framework_id_frameworks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('framework_id', 'id', name=op.f('pk_framework_standards'))
    )
    op.create_table('framework_key_questions',
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('standard_id', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('theme', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['framework_id', 'standard_id'], ['framework_standards.framework_id', 'framework_standards.id'], name=op.f('fk_framework_key_questions_framework_id_framework_standards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('framework_id', 'id', name=op.f('pk_framework_key_questions'))
    )


def downgrade() -> None:
    op.drop_table('framework_key_questions')
    op.drop_table('framework_standards')
    op.drop_table('frameworks')
