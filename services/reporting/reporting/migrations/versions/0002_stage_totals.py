"""stage totals: running counts per stage and region, so the funnel does not scan every case

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

STAGES = ("opened", "diagnostic_scheduled", "diagnostic_completed", "enrolment_proposed",
          "enrolment_confirmed", "enrolment_completed", "outcome_recorded")


def upgrade():
    op.create_table(
        'stage_totals',
        sa.Column('region_code', sa.String(length=3), nullable=False),
        sa.Column('stage', sa.String(length=30), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('region_code', 'stage'),
    )
    # backfill from the cases already recorded ('' = region not known yet)
    for stage in STAGES:
        op.execute(
            "INSERT INTO stage_totals (region_code, stage, cases) "
            "SELECT coalesce(region_code, ''), '{0}', count({0}_at) FROM case_progress "
            "GROUP BY coalesce(region_code, '')".format(stage))


def downgrade():
    op.drop_table('stage_totals')
