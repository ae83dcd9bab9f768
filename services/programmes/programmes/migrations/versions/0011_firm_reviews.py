"""the firm's word on each outcome: confirmed or corrected, with its figures

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outcomes') as batch:
        batch.add_column(sa.Column('firm_verdict', sa.String(20), nullable=True))
        batch.add_column(sa.Column('firm_figures', sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outcomes') as batch:
        for column in ('reviewed_at', 'firm_figures', 'firm_verdict'):
            batch.drop_column(column)
