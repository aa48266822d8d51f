"""Published versions: what each inspection was published with, version by version, so that a
correction (or a withdrawal) is a new version beside the first, never an edit. Inspections published
before this revision get their version 1: the snapshot they were published with (their latest, as a
published inspection is frozen), when and by whom they were published.

Revision ID: e7b3c1d9a2f6
Revises: d7f5154f545e
Create Date: 2026-12-09 09:00:00.000000
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'e7b3c1d9a2f6'
down_revision: str | None = 'd7f5154f545e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    versions = op.create_table('published_versions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('snapshot_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("kind IN ('publication', 'correction', 'withdrawal')", name=op.f('ck_published_versions_kind_known')),
    sa.CheckConstraint('version = 1 OR reason IS NOT NULL', name=op.f('ck_published_versions_correction_has_reason')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_published_versions_inspection_id_inspections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['snapshot_id'], ['rating_snapshots.id'], name=op.f('fk_published_versions_snapshot_id_rating_snapshots'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_versions')),
    sa.UniqueConstraint('inspection_id', 'version', name=op.f('uq_published_versions_inspection_id_version'))
    )
    _first_versions(versions)


def _first_versions(versions: sa.Table) -> None:
    inspections = sa.table('inspections', sa.column('id', sa.Uuid()), sa.column('status', sa.String()),
                           sa.column('published_at', sa.DateTime(timezone=True)))
    snapshots = sa.table('rating_snapshots', sa.column('id', sa.Uuid()), sa.column('inspection_id', sa.Uuid()),
                         sa.column('sequence', sa.Integer()))
    changes = sa.table('inspection_status_changes', sa.column('inspection_id', sa.Uuid()),
                       sa.column('to_status', sa.String()), sa.column('changed_by', sa.String()))
    latest = (
        sa.select(snapshots.c.inspection_id, sa.func.max(snapshots.c.sequence).label('sequence'))
        .group_by(snapshots.c.inspection_id)
        .subquery()
    )
    publisher = (
        sa.select(sa.func.max(changes.c.changed_by))
        .where(changes.c.inspection_id == inspections.c.id, changes.c.to_status == 'published')
        .scalar_subquery()
    )
    rows = op.get_bind().execute(
        sa.select(inspections.c.id, snapshots.c.id, inspections.c.published_at, publisher)
        .join(latest, latest.c.inspection_id == inspections.c.id)
        .join(snapshots, sa.and_(snapshots.c.inspection_id == inspections.c.id,
                                 snapshots.c.sequence == latest.c.sequence))
        .where(inspections.c.status == 'published', inspections.c.published_at.is_not(None))
    ).all()
    if rows:
        op.bulk_insert(versions, [
            {'id': uuid.uuid4(), 'inspection_id': inspection_id, 'version': 1, 'kind': 'publication',
             'snapshot_id': snapshot_id, 'reason': None, 'changes': None, 'created_at': published_at,
             'created_by': published_by or 'system'}
            for inspection_id, snapshot_id, published_at, published_by in rows
        ])


def downgrade() -> None:
    op.drop_table('published_versions')
