"""what each case's latest diagnostic found: maturity, programme kinds, target markets

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_diagnoses',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('diagnostic_id', sa.String(length=36), nullable=False),
    sa.Column('assessment_number', sa.Integer(), nullable=False),
    sa.Column('maturity', sa.String(length=30), nullable=False),
    sa.Column('programme_kinds', sa.JSON(), nullable=False),
    sa.Column('target_markets', sa.JSON(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )


def downgrade():
    op.drop_table('case_diagnoses')
