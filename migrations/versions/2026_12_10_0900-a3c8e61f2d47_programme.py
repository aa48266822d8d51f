"""The programme: the criteria topics are prioritised by (each weight change kept with why), and the
thematic inspection and research topics with a score and rationale per criterion.

Revision ID: a3c8e61f2d47
Revises: 9b581b6d8ebf
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'a3c8e61f2d47'
down_revision: str | None = '9b581b6d8ebf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('programme_criteria',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('criterion_group', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("criterion_group IN ('current_risk', 'potential_impact', 'other')", name=op.f('ck_programme_criteria_group_known')),
    sa.CheckConstraint('weight >= 0', name=op.f('ck_programme_criteria_weight_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_criteria'))
    )
    op.create_table('programme_topics',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('programme_year', sa.String(length=7), nullable=False),
    sa.Column('lead', sa.String(length=200), nullable=True),
    sa.Column('partner_inspectorates', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('groups', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("kind IN ('thematic_inspection', 'primary_research', 'secondary_analysis')", name=op.f('ck_programme_topics_kind_known')),
    sa.CheckConstraint("status IN ('proposed', 'agreed', 'fieldwork', 'published')", name=op.f('ck_programme_topics_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_topics')),
    sa.UniqueConstraint('programme_year', 'name', name=op.f('uq_programme_topics_programme_year_name'))
    )
    with op.batch_alter_table('programme_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_topics_programme_year'), ['programme_year'], unique=False)

    op.create_table('programme_criterion_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('criterion_id', sa.String(length=64), nullable=False),
    sa.Column('weight_before', sa.Float(), nullable=False),
    sa.Column('weight_after', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['programme_criteria.id'], name=op.f('fk_programme_criterion_changes_criterion_id_programme_criteria'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_criterion_changes'))
    )
    with op.batch_alter_table('programme_criterion_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_criterion_changes_criterion_id'), ['criterion_id'], unique=False)

    op.create_table('programme_topic_scores',
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.Column('criterion_id', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint('score BETWEEN 0 AND 5', name=op.f('ck_programme_topic_scores_score_in_range')),
    sa.ForeignKeyConstraint(['criterion_id'], ['programme_criteria.id'], name=op.f('fk_programme_topic_scores_criterion_id_programme_criteria'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['topic_id'], ['programme_topics.id'], name=op.f('fk_programme_topic_scores_topic_id_programme_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'criterion_id', name=op.f('pk_programme_topic_scores'))
    )


def downgrade() -> None:
    op.drop_table('programme_topic_scores')
    with op.batch_alter_table('programme_criterion_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_criterion_changes_criterion_id'))

    op.drop_table('programme_criterion_changes')
    with op.batch_alter_table('programme_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_topics_programme_year'))

    op.drop_table('programme_topics')
    op.drop_table('programme_criteria')
