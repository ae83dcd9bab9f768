"""the legal name as it is searched: without accents or case, the same on every database

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:00:00
"""
from alembic import op
import sqlalchemy as sa

from intake.domain import search_key


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('cases', sa.Column('name_key', sa.String(length=200), server_default='',
                                     nullable=False))
    op.create_index(op.f('ix_cases_name_key'), 'cases', ['name_key'], unique=False)
    cases = sa.table('cases', sa.column('id', sa.String), sa.column('company_name', sa.String),
                     sa.column('name_key', sa.String))
    connection = op.get_bind()
    for case_id, name in connection.execute(sa.select(cases.c.id, cases.c.company_name)).all():
        connection.execute(sa.update(cases).where(cases.c.id == case_id).values(
            name_key=search_key(name)))


def downgrade():
    op.drop_index(op.f('ix_cases_name_key'), table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('name_key')
