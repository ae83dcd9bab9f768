"""the figures are read by grouping, value and quarter: an index for that, so that a figure
reads its own rows, whatever the number of others

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:00:00
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_figure_counts_lookup', 'figure_counts',
                    ['grouping', 'value', 'quarter', 'measure'])
    op.create_index('ix_stage_durations_lookup', 'stage_durations',
                    ['grouping', 'value', 'quarter'])


def downgrade():
    op.drop_index('ix_stage_durations_lookup', 'stage_durations')
    op.drop_index('ix_figure_counts_lookup', 'figure_counts')
