"""Programme plans: a schedule by quarter, each slot with the unit (or commissioned body), its kind and
the reason it was chosen; the quarters suspended and each re-flow kept.

Revision ID: 5e1d7a9c3b20
Revises: 5e1b7d3c9a20
Create Date: 2026-12-12 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5e1d7a9c3b20'
down_revision: str | None = '5e1b7d3c9a20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('programme_plans',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('programme_years', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('unit_type', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('request', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('capacity_unit', sa.String(length=16), nullable=False),
    sa.Column('per_quarter', sa.Float(), nullable=False),
    sa.Column('full_load', sa.Float(), nullable=False),
    sa.Column('proportionate_load', sa.Float(), nullable=False),
    sa.Column('random_selection', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('suspended', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('not_placed', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("capacity_unit IN ('hours', 'inspections')", name=op.f('ck_programme_plans_capacity_unit_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_plans'))
    )
    with op.batch_alter_table('programme_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_plans_first_day'), ['first_day'], unique=False)

    op.create_table('programme_plan_reflows',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('quarter', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('moved', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('not_placed', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('reflowed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reflowed_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['programme_plans.id'], name=op.f('fk_programme_plan_reflows_plan_id_programme_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_plan_reflows'))
    )
    with op.batch_alter_table('programme_plan_reflows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_plan_reflows_plan_id'), ['plan_id'], unique=False)

    op.create_table('programme_plan_slots',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('quarter', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Uuid(), nullable=True),
    sa.Column('commissioned_body', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('partners', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('load', sa.Float(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('inspection_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.CheckConstraint("kind IN ('full', 'proportionate', 'joint', 'commissioned')", name=op.f('ck_programme_plan_slots_kind_known')),
    sa.CheckConstraint("rule IN ('reinspect_inadequate', 'max_interval', 'random', 'concern', 'commissioned', 'by_hand')", name=op.f('ck_programme_plan_slots_rule_known')),
    sa.CheckConstraint('(unit_id IS NULL) <> (commissioned_body IS NULL)', name=op.f('ck_programme_plan_slots_unit_or_body')),
    sa.CheckConstraint('load >= 0', name=op.f('ck_programme_plan_slots_load_not_negative')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_programme_plan_slots_inspection_id_inspections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['programme_plans.id'], name=op.f('fk_programme_plan_slots_plan_id_programme_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_programme_plan_slots_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_plan_slots'))
    )
    with op.batch_alter_table('programme_plan_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_plan_slots_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_plan_slots_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('programme_plan_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_plan_slots_unit_id'))
        batch_op.drop_index(batch_op.f('ix_programme_plan_slots_plan_id'))

    op.drop_table('programme_plan_slots')
    with op.batch_alter_table('programme_plan_reflows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_plan_reflows_plan_id'))

    op.drop_table('programme_plan_reflows')
    with op.batch_alter_table('programme_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_plans_first_day'))

    op.drop_table('programme_plans')
