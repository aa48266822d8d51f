"""Samples may be discarded before the first case answer and another drawn from the same frame: a sample
says whether it is discarded, a frame holds one sample in use at a time (a unique index over the samples
not discarded, in place of one sample per frame), and each discard is kept with its reason, who and when.

The downgrade removes discarded samples (and their cases), since a frame then holds one sample only.

Revision ID: 9d4f2b7a1c65
Revises: e7b3c1d9a2f6
Create Date: 2026-12-09 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9d4f2b7a1c65'
down_revision: str | None = 'e7b3c1d9a2f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_USE = sa.text("NOT discarded")


def upgrade() -> None:
    with op.batch_alter_table('samples', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discarded', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint('uq_samples_frame_id', type_='unique')
        batch_op.create_index(batch_op.f('ix_samples_frame_id'), ['frame_id'], unique=False)
    op.create_index('uq_samples_frame_id_in_use', 'samples', ['frame_id'], unique=True,
                    postgresql_where=IN_USE, sqlite_where=IN_USE)
    op.create_table('sample_discards',
    sa.Column('sample_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('discarded_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_sample_discards_sample_id_samples'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sample_id', name=op.f('pk_sample_discards'))
    )


def downgrade() -> None:
    op.drop_table('sample_discards')
    op.execute("DELETE FROM sampled_cases WHERE sample_id IN (SELECT id FROM samples WHERE discarded)")
    op.execute("DELETE FROM substitutions WHERE sample_id IN (SELECT id FROM samples WHERE discarded)")
    op.execute("DELETE FROM samples WHERE discarded")
    op.drop_index('uq_samples_frame_id_in_use', table_name='samples')
    with op.batch_alter_table('samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_samples_frame_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_samples_frame_id'), ['frame_id'])
        batch_op.drop_column('discarded')
