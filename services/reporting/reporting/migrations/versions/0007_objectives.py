"""each partner's yearly objectives, and the network's

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'objectives',
        sa.Column('year', sa.Integer(), primary_key=True),
        sa.Column('partner', sa.String(64), primary_key=True),
        sa.Column('measure', sa.String(40), primary_key=True),
        sa.Column('target', sa.Integer(), nullable=False),
        sa.Column('set_by', sa.String(64)),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table('objectives')
