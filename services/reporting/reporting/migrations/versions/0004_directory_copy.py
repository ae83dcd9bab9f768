"""the service's copy of the network directory (partners and people, from intake's events)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 13:05:00
"""
from alembic import op

from parcours_shared.directory import create_directory_tables_v1, drop_directory_tables_v1


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    create_directory_tables_v1(op)


def downgrade():
    drop_directory_tables_v1(op)
