"""The voice of people under supervision: per inspection, survey counts per question and answer and the
themes of interviews with how many raised each, never who said what.

Revision ID: a24e6f2e533b
Revises: 5e1d7a9c3b20
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'a24e6f2e533b'
down_revision: str | None = '5e1d7a9c3b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('voice_evidence',
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('surveys', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('interviews', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_voice_evidence_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', name=op.f('pk_voice_evidence'))
    )


def downgrade() -> None:
    op.drop_table('voice_evidence')
