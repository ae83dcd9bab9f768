"""the firm's data, its establishments, and each arrival of the firm at the single window

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FIRM_COLUMNS = [
    sa.Column('headcount_band', sa.String(length=2), nullable=True),
    sa.Column('creation_date', sa.Date(), nullable=True),
    sa.Column('turnover_eur', sa.BigInteger(), nullable=True),
    sa.Column('export_share_percent', sa.Float(), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=True),
]


def upgrade():
    for column in FIRM_COLUMNS:
        op.add_column('cases', column)
    op.create_table('case_arrivals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('partner', sa.String(length=64), nullable=True),
    sa.Column('person', sa.String(length=64), nullable=True),
    sa.Column('siret', sa.String(length=14), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_case_arrivals_case_id'), 'case_arrivals', ['case_id'], unique=False)
    op.create_table('establishments',
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('siret')
    )
    op.create_index(op.f('ix_establishments_case_id'), 'establishments', ['case_id'],
                    unique=False)
    # the cases opened before: their first arrival is all that is known of them
    op.execute("INSERT INTO case_arrivals (case_id, channel, at) "
               "SELECT id, channel, opened_at FROM cases")


def downgrade():
    op.drop_index(op.f('ix_establishments_case_id'), table_name='establishments')
    op.drop_table('establishments')
    op.drop_index(op.f('ix_case_arrivals_case_id'), table_name='case_arrivals')
    op.drop_table('case_arrivals')
    with op.batch_alter_table('cases') as batch:
        for column in reversed(FIRM_COLUMNS):
            batch.drop_column(column.name)
