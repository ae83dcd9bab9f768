"""the event store, each case's facts, and the figures by measure, quarter and grouping

The case rows and stage rows become each case's facts (who took each step was not kept), and
the figures are computed from them as the events would have moved them. Those cases are in no
event store: a rebuild leaves them out, unless the publishers' outboxes are replayed to it
(README, "Rebuilding reporting").

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 18:00:00
"""
from collections import Counter

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'received_events',
        sa.Column('seq', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('source', sa.String(100), nullable=False),
        sa.Column('event_id', sa.String(36), nullable=False),
        sa.Column('type', sa.String(100), nullable=False),
        sa.Column('subject', sa.String(100), nullable=False),
        sa.Column('time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('partner', sa.String(64)),
        sa.Column('person', sa.String(64)),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('source', 'event_id', name='uq_received_events_source_id'),
    )
    op.create_table(
        'case_facts',
        sa.Column('case_id', sa.String(36), primary_key=True),
        sa.Column('facts', sa.JSON(), nullable=False),
    )
    op.create_table(
        'figure_counts',
        sa.Column('measure', sa.String(40), primary_key=True),
        sa.Column('quarter', sa.String(7), primary_key=True),
        sa.Column('grouping', sa.String(40), primary_key=True),
        sa.Column('value', sa.String(120), primary_key=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'stage_durations',
        sa.Column('transition', sa.String(60), primary_key=True),
        sa.Column('quarter', sa.String(7), primary_key=True),
        sa.Column('grouping', sa.String(40), primary_key=True),
        sa.Column('value', sa.String(120), primary_key=True),
        sa.Column('days', sa.Integer(), primary_key=True),
        sa.Column('cases', sa.Integer(), nullable=False),
    )
    op.create_table(
        'rebuilds',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True)),
    )
    _carry_the_cases_over()
    op.drop_table('stage_totals')
    op.drop_table('case_stages')
    op.drop_table('case_progress')


def _carry_the_cases_over():
    from reporting.domain import CaseFacts, moment
    from reporting import store

    connection = op.get_bind()
    progress = sa.table("case_progress", sa.column("case_id"), sa.column("region_code"),
                        sa.column("channel"), sa.column("maturity"))
    stages = sa.table("case_stages", sa.column("case_id"), sa.column("stage"),
                      sa.column("reached_at"))
    cases = {}
    for case_id, stage, reached_at in connection.execute(sa.select(stages)):
        facts = cases.setdefault(case_id, CaseFacts(case_id))
        facts.stages[stage] = ["", moment(reached_at).isoformat()]
    for case_id, region_code, channel, maturity in connection.execute(sa.select(progress)):
        facts = cases.setdefault(case_id, CaseFacts(case_id))
        said_at = min((at for _, at in facts.stages.values()), default="2026-01-01T00:00:00")
        for name, value in (("region", region_code), ("channel", channel),
                            ("maturity", maturity)):
            if value is not None:
                facts.attributes[name] = [value, said_at]
    counts, durations = Counter(), Counter()
    for facts in cases.values():
        case_counts, case_durations = facts.contributions()
        counts.update(case_counts)
        durations.update(case_durations)
    if cases:
        connection.execute(sa.insert(store.case_facts), [
            {"case_id": facts.case_id, "facts": facts.as_json()} for facts in cases.values()])
    if counts:
        connection.execute(sa.insert(store.figure_counts), [
            {"measure": m, "quarter": q, "grouping": g, "value": v, "amount": amount}
            for (m, q, g, v), amount in counts.items()])
    if durations:
        connection.execute(sa.insert(store.stage_durations), [
            {"transition": t, "quarter": q, "grouping": g, "value": v, "days": d, "cases": n}
            for (t, q, g, v, d), n in durations.items()])


def downgrade():
    for table in ('rebuilds', 'stage_durations', 'figure_counts', 'case_facts',
                  'received_events'):
        op.drop_table(table)
    op.create_table(
        'case_progress',
        sa.Column('case_id', sa.String(36), primary_key=True),
        sa.Column('region_code', sa.String(3)),
        sa.Column('channel', sa.String(20)),
        sa.Column('maturity', sa.String(30)),
    )
    op.create_table(
        'case_stages',
        sa.Column('case_id', sa.String(36), primary_key=True),
        sa.Column('stage', sa.String(40), primary_key=True),
        sa.Column('reached_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_case_stages_stage_reached_at', 'case_stages', ['stage', 'reached_at'])
    op.create_table(
        'stage_totals',
        sa.Column('region_code', sa.String(3), primary_key=True),
        sa.Column('stage', sa.String(40), primary_key=True),
        sa.Column('cases', sa.Integer(), nullable=False),
    )
