"""the assignment rule's turn in each region

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assignment_rotation',
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('last_assigned', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('region_code')
    )


def downgrade():
    op.drop_table('assignment_rotation')
