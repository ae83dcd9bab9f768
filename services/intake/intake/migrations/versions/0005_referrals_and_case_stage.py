"""referrals with their steps, and each case's stage on the pathway

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('stage', sa.String(length=30), server_default='opened',
                                     nullable=False))
    op.add_column('cases', sa.Column('stage_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('referrals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('referred_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('rejection_reason', sa.String(length=40), nullable=True),
    sa.Column('advisor', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('closing_note', sa.String(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_referrals_case_id'), 'referrals', ['case_id'], unique=False)
    op.create_index(op.f('ix_referrals_referred_by'), 'referrals', ['referred_by'], unique=False)
    # a case already assigned has reached that stage
    op.execute("UPDATE cases SET stage = 'assigned' WHERE advisor IS NOT NULL")


def downgrade():
    op.drop_index(op.f('ix_referrals_referred_by'), table_name='referrals')
    op.drop_index(op.f('ix_referrals_case_id'), table_name='referrals')
    op.drop_table('referrals')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('stage_at')
        batch.drop_column('stage')
