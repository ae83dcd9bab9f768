"""follow-up: each case's last activity, and the deadline raised since on cases and referrals

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('last_activity_at', sa.DateTime(timezone=True),
                                     nullable=True))
    op.add_column('cases', sa.Column('follow_up_level', sa.String(length=20), nullable=True))
    op.add_column('referrals', sa.Column('follow_up_level', sa.String(length=20), nullable=True))
    # what is known of the cases opened before: when they opened, or last moved on the pathway
    op.execute("UPDATE cases SET last_activity_at = COALESCE(stage_at, opened_at)")


def downgrade():
    with op.batch_alter_table('referrals') as batch:
        batch.drop_column('follow_up_level')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('follow_up_level')
        batch.drop_column('last_activity_at')
