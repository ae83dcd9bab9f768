"""questionnaire versions, drafts, explained results and re-assessments of a case

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# 0001 left the unique constraint on case_id unnamed: this names it on SQLite, where batch mode
# rebuilds the table from what it reflects (PostgreSQL named it diagnostics_case_id_key).
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _case_id_unique():
    return ("diagnostics_case_id_key" if op.get_context().dialect.name == "postgresql"
            else "uq_diagnostics_case_id")


def upgrade():
    with op.batch_alter_table('diagnostics', naming_convention=NAMING) as batch:
        batch.drop_constraint(_case_id_unique(), type_='unique')
        batch.add_column(sa.Column('assessment_number', sa.Integer(), nullable=False,
                                   server_default='1'))
        batch.add_column(sa.Column('previous_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('questionnaire_version', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('draft_saved_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('dimension_scores', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('explanation', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('programme_kinds', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('target_markets', sa.JSON(), nullable=True))
        batch.create_unique_constraint('uq_diagnostics_case_assessment',
                                       ['case_id', 'assessment_number'])
        batch.create_index('ix_diagnostics_case_id', ['case_id'])
    # the diagnostics completed so far were answered with the first questionnaire
    op.execute("UPDATE diagnostics SET questionnaire_version = 1 WHERE answers IS NOT NULL")


def downgrade():
    with op.batch_alter_table('diagnostics') as batch:
        batch.drop_index('ix_diagnostics_case_id')
        batch.drop_constraint('uq_diagnostics_case_assessment', type_='unique')
        for column in ('target_markets', 'programme_kinds', 'explanation', 'dimension_scores',
                       'draft_saved_at', 'questionnaire_version', 'previous_id',
                       'assessment_number'):
            batch.drop_column(column)
        batch.create_unique_constraint('diagnostics_case_id_key', ['case_id'])
