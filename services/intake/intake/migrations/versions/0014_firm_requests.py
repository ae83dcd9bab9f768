"""the firms' own requests from the public page, and the attempts counted by its rate limit

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'firm_requests',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('case_id', sa.String(36), nullable=False, index=True),
        sa.Column('source', sa.String(100)),
        sa.Column('campaign', sa.String(40)),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('target_market', sa.String(100)),
        sa.Column('message', sa.String(2000)),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'request_attempts',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('address_key', sa.String(64), nullable=False, index=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade():
    op.drop_table('request_attempts')
    op.drop_table('firm_requests')
