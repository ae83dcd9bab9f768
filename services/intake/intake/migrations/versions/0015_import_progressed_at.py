"""when each member list import last moved: a stalled one was cut off, whichever replica sees it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('imports', sa.Column('progressed_at', sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table('imports') as batch:
        batch.drop_column('progressed_at')
