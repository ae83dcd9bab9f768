"""co-export calls and the firms' interest in them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('co_export_calls',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('partner', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('needs', sa.String(length=2000), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('sectors', sa.JSON(), nullable=False),
    sa.Column('maturity_levels', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('co_export_interests',
    sa.Column('call_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expressed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expressed_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['co_export_calls.id'], ),
    sa.PrimaryKeyConstraint('call_id', 'case_id')
    )


def downgrade():
    op.drop_table('co_export_interests')
    op.drop_table('co_export_calls')
