"""each outcome's country, staff hired, programme and partner

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outcomes') as batch:
        batch.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch.add_column(sa.Column('staff_count', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('programme_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('partner', sa.String(length=100), nullable=True))
        batch.create_index('ix_outcomes_partner', ['partner'])
    # the outcomes recorded so far: their enrolment's programme and its partner
    op.execute("UPDATE outcomes SET programme_id = (SELECT enrolments.programme_id FROM "
               "enrolments WHERE enrolments.id = outcomes.enrolment_id)")
    op.execute("UPDATE outcomes SET partner = (SELECT programmes.partner FROM programmes "
               "WHERE programmes.id = outcomes.programme_id)")


def downgrade():
    with op.batch_alter_table('outcomes') as batch:
        batch.drop_index('ix_outcomes_partner')
        for column in ('partner', 'programme_id', 'staff_count', 'country'):
            batch.drop_column(column)
