"""when programmes had nothing to propose to a case's firm

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('nothing_proposed_at', sa.DateTime(timezone=True),
                                     nullable=True))


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('nothing_proposed_at')
