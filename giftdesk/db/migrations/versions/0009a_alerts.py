"""alerts: rules and the alerts they open, with their webhook's delivery state

Revision ID: 0009a
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0009a'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('threshold', giftdesk.db.types.DecimalText(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('webhook_url', sa.String(length=1000), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_rules_name')),
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('opened_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=100), nullable=True),
    sa.Column('snoozed_until', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('webhook_attempts', sa.Integer(), nullable=False),
    sa.Column('webhook_last_error', sa.Text(), nullable=True),
    sa.Column('webhook_delivered_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], name=op.f('fk_alerts_rule_id_alert_rules'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    )
    op.create_index('ix_alerts_rule_subject_resolved', 'alerts', ['rule_id', 'subject', 'resolved_at'], unique=False)
    op.create_index(op.f('ix_alerts_resolved_at'), 'alerts', ['resolved_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alerts_resolved_at'), table_name='alerts')
    op.drop_index('ix_alerts_rule_subject_resolved', table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('alert_rules')
