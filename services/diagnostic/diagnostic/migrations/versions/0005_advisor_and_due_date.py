"""each diagnostic's advisor and due date, and the cases' assignments heard of

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 23:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('diagnostics', sa.Column('advisor', sa.String(length=100), nullable=True))
    op.add_column('diagnostics', sa.Column('partner', sa.String(length=100), nullable=True))
    op.add_column('diagnostics', sa.Column('due_on', sa.Date(), nullable=True))
    op.create_table('case_assignments',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('advisor', sa.String(length=100), nullable=False),
    sa.Column('partner', sa.String(length=100), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )


def downgrade():
    op.drop_table('case_assignments')
    with op.batch_alter_table('diagnostics') as batch:
        batch.drop_column('due_on')
        batch.drop_column('partner')
        batch.drop_column('advisor')
