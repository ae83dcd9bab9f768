"""the firms' contacts, kept for co-export matching while they consent to it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('firm_contacts',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('contacts', sa.JSON(), nullable=True),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )


def downgrade():
    op.drop_table('firm_contacts')
