"""Consultations on the programme: the consultation (programme years, period, deadline), its recipients by
group and questions by section, and the responses received, each linked to the programme topics it names.
Contact details of recipients and respondents are kept as given, in columns the audit log masks.

Revision ID: 5d2e8f0a7c31
Revises: c4e2a9f71b38
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5d2e8f0a7c31'
down_revision: str | None = 'c4e2a9f71b38'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('consultations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('programme_years', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('opens', sa.Date(), nullable=False),
    sa.Column('closes', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint('deadline <= closes', name=op.f('ck_consultations_deadline_within_period')),
    sa.CheckConstraint('opens <= deadline', name=op.f('ck_consultations_deadline_not_before_opening')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations'))
    )
    op.create_table('consultation_questions',
    sa.Column('consultation_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('section', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("section IN ('core_inspections', 'thematic_inspections', 'research')", name=op.f('ck_consultation_questions_section_known')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_questions_consultation_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('consultation_id', 'key', name=op.f('pk_consultation_questions'))
    )
    op.create_table('consultation_recipients',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('consultation_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('recipient_group', sa.String(length=32), nullable=False),
    sa.Column('contact_details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("recipient_group IN ('ministers', 'chief_inspectors', 'inspected', 'interested_parties')", name=op.f('ck_consultation_recipients_group_known')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_recipients_consultation_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_recipients'))
    )
    with op.batch_alter_table('consultation_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_recipients_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('consultation_responses',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('consultation_id', sa.Uuid(), nullable=False),
    sa.Column('question_key', sa.String(length=32), nullable=False),
    sa.Column('respondent_name', sa.String(length=200), nullable=False),
    sa.Column('respondent_organisation', sa.String(length=200), nullable=True),
    sa.Column('respondent_group', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('contact_details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("respondent_group IN ('ministers', 'chief_inspectors', 'inspected', 'interested_parties')", name=op.f('ck_consultation_responses_group_known')),
    sa.ForeignKeyConstraint(['consultation_id', 'question_key'], ['consultation_questions.consultation_id', 'consultation_questions.key'], name=op.f('fk_consultation_responses_consultation_id_consultation_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_responses_consultation_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_responses'))
    )
    with op.batch_alter_table('consultation_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_responses_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('consultation_response_topics',
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('topic_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['consultation_responses.id'], name=op.f('fk_consultation_response_topics_response_id_consultation_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['programme_topics.id'], name=op.f('fk_consultation_response_topics_topic_id_programme_topics'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('response_id', 'topic_id', name=op.f('pk_consultation_response_topics'))
    )
    with op.batch_alter_table('consultation_response_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_response_topics_topic_id'), ['topic_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consultation_response_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_response_topics_topic_id'))

    op.drop_table('consultation_response_topics')
    with op.batch_alter_table('consultation_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_responses_consultation_id'))

    op.drop_table('consultation_responses')
    with op.batch_alter_table('consultation_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_recipients_consultation_id'))

    op.drop_table('consultation_recipients')
    op.drop_table('consultation_questions')
    op.drop_table('consultations')
