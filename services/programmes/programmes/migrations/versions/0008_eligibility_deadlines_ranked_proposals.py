"""eligibility as data, prices, session end and enrolment deadline, ranked proposals, the
waitlist's order, and the firms' data from intake

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programmes') as batch:
        batch.add_column(sa.Column('price_eur', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('subsidy_percent', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('eligibility', sa.JSON(), nullable=True))
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('enrolment_deadline', sa.Date(), nullable=True))
    with op.batch_alter_table('enrolments') as batch:
        batch.add_column(sa.Column('rank', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('reason', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('waitlisted_at', sa.DateTime(timezone=True), nullable=True))
    # the firms waiting already keep their order: the time of their last move
    op.execute("UPDATE enrolments SET waitlisted_at = updated_at WHERE status = 'waitlisted'")
    op.create_table('firm_profiles',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=False),
    sa.Column('company_name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('naf_code', sa.String(length=6), nullable=True),
    sa.Column('headcount_band', sa.String(length=2), nullable=True),
    sa.Column('creation_date', sa.Date(), nullable=True),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )


def downgrade():
    op.drop_table('firm_profiles')
    with op.batch_alter_table('enrolments') as batch:
        for column in ('waitlisted_at', 'reason', 'rank'):
            batch.drop_column(column)
    with op.batch_alter_table('sessions') as batch:
        batch.drop_column('enrolment_deadline')
        batch.drop_column('ends_on')
    with op.batch_alter_table('programmes') as batch:
        for column in ('eligibility', 'subsidy_percent', 'price_eur'):
            batch.drop_column(column)
