"""Withdrawn figures: a withdrawn inspection keeps the figures it was withdrawn with, under the
withdrawal's version, so that statistics name it in the scope it dropped out of (it is never counted).
Inspections withdrawn before this revision lost theirs; they get them back here, from the snapshot of
their withdrawal (the one it withdrew).

Revision ID: c4e2a9f71b38
Revises: a3c8e61f2d47
Create Date: 2026-12-11 09:00:00.000000
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c4e2a9f71b38'
down_revision: str | None = 'a3c8e61f2d47'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
_INSPECTIONS = sa.table('inspections', sa.column('id', sa.Uuid()), sa.column('status', sa.String()),
                        sa.column('framework_id', sa.String()), sa.column('fieldwork_start', sa.Date()),
                        sa.column('published_at', sa.DateTime(timezone=True)))
_FIGURES = sa.table('published_figures', sa.column('inspection_id', sa.Uuid()), sa.column('snapshot_id', sa.Uuid()),
                    sa.column('inspected_on', sa.Date()), *(sa.column(c) for c in (
                        'version', 'programme', 'programme_year', 'overall_rating', 'overall_score', 'max_score')))
_STANDARDS = sa.table('published_standard_figures', sa.column('inspection_id', sa.Uuid()), sa.column('standard'),
                      sa.column('rating'))
_KEY_QUESTIONS = sa.table('published_key_question_figures', sa.column('inspection_id', sa.Uuid()),
                          sa.column('standard'), sa.column('key_question'), sa.column('yes'), sa.column('applicable'))


def _programme(applies_to: list) -> str:
    return 'youth' if 'yos' in applies_to else 'probation'


def _programme_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def upgrade() -> None:
    versions = sa.table('published_versions', sa.column('inspection_id', sa.Uuid()), sa.column('version', sa.Integer()),
                        sa.column('kind', sa.String()), sa.column('snapshot_id', sa.Uuid()))
    snapshots = sa.table('rating_snapshots', sa.column('id', sa.Uuid()), sa.column('result', _JSON))
    frameworks = sa.table('frameworks', sa.column('id', sa.String()), sa.column('definition', _JSON))
    held = sa.select(_FIGURES.c.inspection_id)
    rows = op.get_bind().execute(
        sa.select(_INSPECTIONS.c.id, versions.c.version, versions.c.snapshot_id, snapshots.c.result,
                  frameworks.c.definition, _INSPECTIONS.c.fieldwork_start, _INSPECTIONS.c.published_at)
        .join(versions, sa.and_(versions.c.inspection_id == _INSPECTIONS.c.id, versions.c.kind == 'withdrawal'))
        .join(snapshots, snapshots.c.id == versions.c.snapshot_id)
        .join(frameworks, frameworks.c.id == _INSPECTIONS.c.framework_id)
        .where(_INSPECTIONS.c.status == 'withdrawn', _INSPECTIONS.c.id.not_in(held))
    ).all()
    for inspection_id, version, snapshot_id, result, definition, fieldwork_start, published_at in rows:
        inspected_on = fieldwork_start or published_at.date()
        overall = result['overall']
        op.bulk_insert(_FIGURES, [{
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
        for table, values in ((_STANDARDS, rated), (_KEY_QUESTIONS, counted)):
            if values:
                op.bulk_insert(table, values)


def downgrade() -> None:
    withdrawn = sa.select(_INSPECTIONS.c.id).where(_INSPECTIONS.c.status == 'withdrawn')
    for table in (_KEY_QUESTIONS, _STANDARDS, _FIGURES):
        op.execute(sa.delete(table).where(table.c.inspection_id.in_(withdrawn)))
