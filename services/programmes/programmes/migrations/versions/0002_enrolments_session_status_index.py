"""index enrolments by session and status: the seat count scanned every enrolment

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrolments_session_status', 'enrolments', ['session_id', 'status'])


def downgrade():
    op.drop_index('ix_enrolments_session_status', table_name='enrolments')
