"""the closed cases heard of: their pending enrolments are withdrawn, and none proposed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:20:00
"""
from alembic import op

from parcours_shared.closed_cases import create_closed_cases_table_v1, drop_closed_cases_table_v1


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    create_closed_cases_table_v1(op)


def downgrade():
    drop_closed_cases_table_v1(op)
