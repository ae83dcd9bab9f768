"""the firm's own word: the mail outbox, personal links, completed enrolments, recorded outcomes
and survey answers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_outbox',
        sa.Column('seq', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('key', sa.String(120), nullable=False, unique=True),
        sa.Column('message_id', sa.String(200), nullable=False),
        sa.Column('template', sa.String(60), nullable=False),
        sa.Column('case_id', sa.String(36), index=True),
        sa.Column('to_address', sa.String(254), nullable=False),
        sa.Column('subject', sa.String(300), nullable=False),
        sa.Column('text_body', sa.Text(), nullable=False),
        sa.Column('html_body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True)),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(500)),
        sa.Column('sent_at', sa.DateTime(timezone=True), index=True),
    )
    op.create_table(
        'firm_links',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('purpose', sa.String(40), nullable=False),
        sa.Column('case_id', sa.String(36), nullable=False, index=True),
        sa.Column('subject_id', sa.String(36)),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True)),
        sa.Column('revoked_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'completed_enrolments',
        sa.Column('enrolment_id', sa.String(36), primary_key=True),
        sa.Column('case_id', sa.String(36), nullable=False, index=True),
        sa.Column('programme_id', sa.String(36), nullable=False),
        sa.Column('programme_name', sa.String(200), nullable=False),
        sa.Column('partner', sa.String(64)),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'recorded_outcomes',
        sa.Column('outcome_id', sa.String(36), primary_key=True),
        sa.Column('case_id', sa.String(36), nullable=False, index=True),
        sa.Column('enrolment_id', sa.String(36), index=True),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('amount_eur', sa.BigInteger()),
        sa.Column('country', sa.String(2)),
        sa.Column('staff_count', sa.Integer()),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('verdict', sa.String(20)),
        sa.Column('reviewed_at', sa.DateTime(timezone=True)),
    )
    op.create_table(
        'survey_answers',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('link_id', sa.String(36), nullable=False, unique=True),
        sa.Column('case_id', sa.String(36), nullable=False, index=True),
        sa.Column('enrolment_id', sa.String(36)),
        sa.Column('usefulness', sa.Integer(), nullable=False),
        sa.Column('would_recommend', sa.Boolean(), nullable=False),
        sa.Column('comment', sa.String(2000)),
        sa.Column('comment_shareable', sa.Boolean(), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    for table in ('survey_answers', 'recorded_outcomes', 'completed_enrolments', 'firm_links',
                  'mail_outbox'):
        op.drop_table(table)
