"""case stages: a row per case and stage reached, instead of a column per stage

A new stage of the pathway is then a new value, not a new column.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# the stage columns of case_progress as revisions 0001 and 0002 left it
STAGES = ("opened", "diagnostic_scheduled", "diagnostic_completed", "enrolment_proposed",
          "enrolment_confirmed", "enrolment_completed", "outcome_recorded")


def upgrade():
    op.create_table(
        'case_stages',
        sa.Column('case_id', sa.String(length=36), nullable=False),
        sa.Column('stage', sa.String(length=40), nullable=False),
        sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('case_id', 'stage'),
    )
    op.create_index('ix_case_stages_stage_reached_at', 'case_stages', ['stage', 'reached_at'])
    for stage in STAGES:
        op.execute(
            "INSERT INTO case_stages (case_id, stage, reached_at) "
            "SELECT case_id, '{0}', {0}_at FROM case_progress WHERE {0}_at IS NOT NULL".format(
                stage))
    with op.batch_alter_table('case_progress') as batch_op:
        for stage in STAGES:
            batch_op.drop_index('ix_case_progress_{}_at'.format(stage))
            batch_op.drop_column('{}_at'.format(stage))
    with op.batch_alter_table('stage_totals') as batch_op:
        batch_op.alter_column('stage', type_=sa.String(length=40),
                              existing_type=sa.String(length=30), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('case_progress') as batch_op:
        for stage in STAGES:
            batch_op.add_column(sa.Column('{}_at'.format(stage), sa.DateTime(timezone=True)))
            batch_op.create_index('ix_case_progress_{}_at'.format(stage), ['{}_at'.format(stage)])
    for stage in STAGES:
        op.execute(
            "UPDATE case_progress SET {0}_at = (SELECT reached_at FROM case_stages "
            "WHERE case_stages.case_id = case_progress.case_id "
            "AND case_stages.stage = '{0}')".format(stage))
    op.drop_index('ix_case_stages_stage_reached_at', table_name='case_stages')
    op.drop_table('case_stages')
