"""the single window's own note on why it closed a case

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:25:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('closure_note', sa.String(length=2000), nullable=True))


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('closure_note')
