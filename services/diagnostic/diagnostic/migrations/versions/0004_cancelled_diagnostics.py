"""a diagnostic cancelled when its case closes first, and the closed cases heard of

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:20:00
"""
from alembic import op
import sqlalchemy as sa

from parcours_shared.closed_cases import create_closed_cases_table_v1, drop_closed_cases_table_v1


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('diagnostics', sa.Column('cancelled_at', sa.DateTime(timezone=True),
                                           nullable=True))
    op.add_column('diagnostics', sa.Column('cancellation_reason', sa.String(length=200),
                                           nullable=True))
    create_closed_cases_table_v1(op)


def downgrade():
    drop_closed_cases_table_v1(op)
    with op.batch_alter_table('diagnostics') as batch:
        batch.drop_column('cancellation_reason')
        batch.drop_column('cancelled_at')
