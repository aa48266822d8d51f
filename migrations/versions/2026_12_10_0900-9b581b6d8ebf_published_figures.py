"""Published figures: each published inspection's overall rating and score, each standard's final rating
and each key question's yes / applicable counts, as rows the database aggregates into national
statistics. The write path keeps them from each published version recorded; inspections published before
this revision get theirs here, from the snapshot of their latest published version.

Revision ID: 9b581b6d8ebf
Revises: 9d4f2b7a1c65
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '9b581b6d8ebf'
down_revision: str | None = '9d4f2b7a1c65'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    figures = op.create_table('published_figures',
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Uuid(), nullable=False),
    sa.Column('programme', sa.String(length=16), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('programme_year', sa.Integer(), nullable=False),
    sa.Column('overall_rating', sa.String(length=32), nullable=False),
    sa.Column('overall_score', sa.Integer(), nullable=True),
    sa.Column('max_score', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_published_figures_inspection_id_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['rating_snapshots.id'], name=op.f('fk_published_figures_snapshot_id_rating_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', name=op.f('pk_published_figures'))
    )
    with op.batch_alter_table('published_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_figures_inspected_on'), ['inspected_on'], unique=False)
        batch_op.create_index('ix_published_figures_programme_year', ['programme', 'programme_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_published_figures_snapshot_id'), ['snapshot_id'], unique=False)

    key_questions = op.create_table('published_key_question_figures',
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('key_question', sa.String(length=24), nullable=False),
    sa.Column('standard', sa.String(length=16), nullable=False),
    sa.Column('yes', sa.Integer(), nullable=False),
    sa.Column('applicable', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['published_figures.inspection_id'], name=op.f('fk_published_key_question_figures_inspection_id_published_figures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', 'key_question', name=op.f('pk_published_key_question_figures'))
    )
    standards = op.create_table('published_standard_figures',
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('standard', sa.String(length=16), nullable=False),
    sa.Column('rating', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['inspection_id'], ['published_figures.inspection_id'], name=op.f('fk_published_standard_figures_inspection_id_published_figures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('inspection_id', 'standard', name=op.f('pk_published_standard_figures'))
    )
    _published_figures(figures, standards, key_questions)


def _programme(applies_to: list) -> str:
    return 'youth' if 'yos' in applies_to else 'probation'


def _programme_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _published_figures(figures: sa.Table, standards: sa.Table, key_questions: sa.Table) -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    inspections = sa.table('inspections', sa.column('id', sa.Uuid()), sa.column('status', sa.String()),
                           sa.column('framework_id', sa.String()), sa.column('fieldwork_start', sa.Date()),
                           sa.column('published_at', sa.DateTime(timezone=True)))
    versions = sa.table('published_versions', sa.column('inspection_id', sa.Uuid()), sa.column('version', sa.Integer()),
                        sa.column('snapshot_id', sa.Uuid()))
    snapshots = sa.table('rating_snapshots', sa.column('id', sa.Uuid()), sa.column('result', json))
    frameworks = sa.table('frameworks', sa.column('id', sa.String()), sa.column('definition', json))
    latest = (
        sa.select(versions.c.inspection_id, sa.func.max(versions.c.version).label('version'))
        .group_by(versions.c.inspection_id)
        .subquery()
    )
    rows = op.get_bind().execute(
        sa.select(inspections.c.id, versions.c.version, versions.c.snapshot_id, snapshots.c.result,
                  frameworks.c.definition, inspections.c.fieldwork_start, inspections.c.published_at)
        .join(latest, latest.c.inspection_id == inspections.c.id)
        .join(versions, sa.and_(versions.c.inspection_id == inspections.c.id, versions.c.version == latest.c.version))
        .join(snapshots, snapshots.c.id == versions.c.snapshot_id)
        .join(frameworks, frameworks.c.id == inspections.c.framework_id)
        .where(inspections.c.status == 'published')
    ).all()
    for inspection_id, version, snapshot_id, result, definition, fieldwork_start, published_at in rows:
        inspected_on = fieldwork_start or published_at.date()
        overall = result['overall']
        op.bulk_insert(figures, [{
            'inspection_id': inspection_id, 'version': version, 'snapshot_id': snapshot_id,
            'programme': _programme(definition.get('applies_to', [])), 'inspected_on': inspected_on,
            'programme_year': _programme_year(inspected_on), 'overall_rating': overall['rating'],
            'overall_score': overall['score'], 'max_score': overall['max_score'],
        }])
        rated = [{'inspection_id': inspection_id, 'standard': s['standard'], 'rating': s['rating']}
                 for s in result['standards']]
        counted = [{'inspection_id': inspection_id, 'standard': s['standard'], 'key_question': kq['key_question'],
                    'yes': kq['yes'], 'applicable': kq['applicable']}
                   for s in result['standards'] for kq in s.get('key_questions', [])]
        for table, values in ((standards, rated), (key_questions, counted)):
            if values:
                op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_table('published_standard_figures')
    op.drop_table('published_key_question_figures')
    with op.batch_alter_table('published_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_figures_snapshot_id'))
        batch_op.drop_index('ix_published_figures_programme_year')
        batch_op.drop_index(batch_op.f('ix_published_figures_inspected_on'))

    op.drop_table('published_figures')
