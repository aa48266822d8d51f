"""Inspections and their lifecycle: frames, samples, substitutions, case assessments, judgements,
rating snapshots and idempotency keys.

Revision ID: 28f53fd9bee7
Revises: e87c9e755970
Create Date: 2026-11-26 14:30:34.902502
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '28f53fd9bee7'
down_revision: str | None = 'e87c9e755970'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotent_requests',
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_idempotent_requests'))
    )
    op.create_table('inspections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=False),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('lead', sa.String(length=200), nullable=True),
    sa.Column('partner_inspectorates', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('fieldwork_start', sa.Date(), nullable=True),
    sa.Column('fieldwork_end', sa.Date(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_rating', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('planned', 'pre_fieldwork', 'fieldwork', 'rating', 'published', 'withdrawn')", name=op.f('ck_inspections_status_known')),
    sa.CheckConstraint("type IN ('core', 'joint', 're_inspection', 'pilot', 'thematic')", name=op.f('ck_inspections_type_known')),
    sa.CheckConstraint('fieldwork_start IS NULL OR fieldwork_end IS NULL OR fieldwork_end >= fieldwork_start', name=op.f('ck_inspections_fieldwork_in_order')),
    sa.ForeignKeyConstraint(['framework_id'], ['frameworks.id'], name=op.f('fk_inspections_framework_id_frameworks'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_inspections_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_current_rating'), ['current_rating'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_fieldwork_start'), ['fieldwork_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_framework_id'), ['framework_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_unit_id'), ['unit_id'], unique=False)

    op.create_table('caseload_frames',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('sample_type', sa.String(length=64), nullable=False),
    sa.Column('columns', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_caseload_frames_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caseload_frames')),
    sa.UniqueConstraint('inspection_id', 'sample_type', name=op.f('uq_caseload_frames_inspection_id_sample_type'))
    )
    with op.batch_alter_table('caseload_frames', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caseload_frames_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('inspection_status_changes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_status_changes_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_status_changes'))
    )
    with op.batch_alter_table('inspection_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_status_changes_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('judgements',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('standard_id', sa.String(length=16), nullable=False),
    sa.Column('rating', sa.String(length=32), nullable=False),
    sa.Column('evidence_summary', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("rating IN ('outstanding', 'good', 'requires_improvement', 'inadequate')", name=op.f('ck_judgements_rating_known')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_judgements_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judgements')),
    sa.UniqueConstraint('inspection_id', 'standard_id', name=op.f('uq_judgements_inspection_id_standard_id'))
    )
    with op.batch_alter_table('judgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judgements_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('rating_snapshots',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('based_on_id', sa.Uuid(), nullable=True),
    sa.Column('framework_id', sa.String(length=64), nullable=False),
    sa.Column('framework_version', sa.String(length=32), nullable=False),
    sa.Column('rules_version', sa.String(length=32), nullable=False),
    sa.Column('input_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('request', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('overall_rating', sa.String(length=32), nullable=False),
    sa.Column('overall_score', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['rating_snapshots.id'], name=op.f('fk_rating_snapshots_based_on_id_rating_snapshots'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_rating_snapshots_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_snapshots')),
    sa.UniqueConstraint('inspection_id', 'sequence', name=op.f('uq_rating_snapshots_inspection_id_sequence'))
    )
    with op.batch_alter_table('rating_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_snapshots_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('samples',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('frame_id', sa.Uuid(), nullable=False),
    sa.Column('sample_type', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('design', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('frame_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=100), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('drawn_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['frame_id'], ['caseload_frames.id'], name=op.f('fk_samples_frame_id_caseload_frames'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_samples_inspection_id_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_samples')),
    sa.UniqueConstraint('frame_id', name=op.f('uq_samples_frame_id'))
    )
    with op.batch_alter_table('samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_samples_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('sampled_cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sample_id', sa.Uuid(), nullable=False),
    sa.Column('case_ref', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=True),
    sa.Column('stratum', sa.String(length=200), nullable=False),
    sa.Column('inclusion_probability', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reserve_rank', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_sampled_cases_sample_id_samples'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampled_cases')),
    sa.UniqueConstraint('sample_id', 'case_ref', name=op.f('uq_sampled_cases_sample_id_case_ref'))
    )
    with op.batch_alter_table('sampled_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sampled_cases_sample_id'), ['sample_id'], unique=False)

    op.create_table('substitutions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sample_id', sa.Uuid(), nullable=False),
    sa.Column('replaced_case_ref', sa.String(length=64), nullable=False),
    sa.Column('reserve_case_ref', sa.String(length=64), nullable=False),
    sa.Column('stratum', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('substituted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('substituted_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.id'], name=op.f('fk_substitutions_sample_id_samples'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_substitutions'))
    )
    with op.batch_alter_table('substitutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_substitutions_sample_id'), ['sample_id'], unique=False)

    op.create_table('case_assessments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('sampled_case_id', sa.Uuid(), nullable=False),
    sa.Column('case_ref', sa.String(length=64), nullable=False),
    sa.Column('sample_type', sa.String(length=64), nullable=False),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('evidence_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_case_assessments_inspection_id_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sampled_case_id'], ['sampled_cases.id'], name=op.f('fk_case_assessments_sampled_case_id_sampled_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_assessments')),
    sa.UniqueConstraint('sampled_case_id', name=op.f('uq_case_assessments_sampled_case_id'))
    )
    with op.batch_alter_table('case_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_assessments_inspection_id'), ['inspection_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_assessments_inspection_id'))

    op.drop_table('case_assessments')
    with op.batch_alter_table('substitutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_substitutions_sample_id'))

    op.drop_table('substitutions')
    with op.batch_alter_table('sampled_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sampled_cases_sample_id'))

    op.drop_table('sampled_cases')
    with op.batch_alter_table('samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_samples_inspection_id'))

    op.drop_table('samples')
    with op.batch_alter_table('rating_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_snapshots_inspection_id'))

    op.drop_table('rating_snapshots')
    with op.batch_alter_table('judgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judgements_inspection_id'))

    op.drop_table('judgements')
    with op.batch_alter_table('inspection_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_status_changes_inspection_id'))

    op.drop_table('inspection_status_changes')
    with op.batch_alter_table('caseload_frames', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_caseload_frames_inspection_id'))

    op.drop_table('caseload_frames')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_unit_id'))
        batch_op.drop_index(batch_op.f('ix_inspections_status'))
        batch_op.drop_index(batch_op.f('ix_inspections_framework_id'))
        batch_op.drop_index(batch_op.f('ix_inspections_fieldwork_start'))
        batch_op.drop_index(batch_op.f('ix_inspections_current_rating'))

    op.drop_table('inspections')
    op.drop_table('idempotent_requests')
