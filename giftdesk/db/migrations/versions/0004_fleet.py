"""fleet: instances, instance_logs, instance_templates

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
import giftdesk.db.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instance_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('image', sa.String(length=300), nullable=True),
    sa.Column('network', sa.String(length=100), nullable=False),
    sa.Column('publish_address', sa.String(length=64), nullable=False),
    sa.Column('restart_policy', sa.String(length=32), nullable=False),
    sa.Column('memory_limit_mb', sa.Integer(), nullable=True),
    sa.Column('cpu_millis', sa.Integer(), nullable=True),
    sa.Column('debug_mode', sa.Boolean(), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_templates')),
    sa.UniqueConstraint('name', name=op.f('uq_instance_templates_name'))
    )
    op.create_table('instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('container_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('tiktok_username', sa.String(length=64), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('backend_api_url', sa.String(length=500), nullable=False),
    sa.Column('debug_mode', sa.Boolean(), nullable=False),
    sa.Column('last_started_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('last_stopped_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('engine', sa.String(length=200), nullable=False),
    sa.Column('image', sa.String(length=300), nullable=False),
    sa.Column('network', sa.String(length=100), nullable=False),
    sa.Column('publish_address', sa.String(length=64), nullable=False),
    sa.Column('restart_policy', sa.String(length=32), nullable=False),
    sa.Column('memory_limit_mb', sa.Integer(), nullable=True),
    sa.Column('cpu_millis', sa.Integer(), nullable=True),
    sa.Column('schedule_start', sa.String(length=5), nullable=True),
    sa.Column('schedule_stop', sa.String(length=5), nullable=True),
    sa.Column('schedule_tz', sa.String(length=64), nullable=True),
    sa.Column('public_url', sa.String(length=500), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['tiktok_accounts.id'], name=op.f('fk_instances_account_id_tiktok_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['instance_templates.id'], name=op.f('fk_instances_template_id_instance_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instances')),
    sa.UniqueConstraint('container_id', name=op.f('uq_instances_container_id')),
    sa.UniqueConstraint('engine', 'port', name='uq_instances_engine_port'),
    sa.UniqueConstraint('name', name=op.f('uq_instances_name'))
    )
    op.create_index('ix_instances_account_id', 'instances', ['account_id'], unique=False)
    op.create_table('instance_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', giftdesk.db.types.JSONText(), nullable=True),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], name=op.f('fk_instance_logs_instance_id_instances'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_logs'))
    )
    op.create_index('ix_instance_logs_instance_created', 'instance_logs', ['instance_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_instance_logs_instance_created', table_name='instance_logs')
    op.drop_table('instance_logs')
    op.drop_index('ix_instances_account_id', table_name='instances')
    op.drop_table('instances')
    op.drop_table('instance_templates')
