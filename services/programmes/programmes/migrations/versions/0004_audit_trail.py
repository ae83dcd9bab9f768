"""who did what: one audit row per event the service publishes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 13:10:00
"""
from alembic import op

from parcours_shared.audit import create_audit_table_v1, drop_audit_table_v1


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    create_audit_table_v1(op)


def downgrade():
    drop_audit_table_v1(op)
