"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 03:16:37.178317
"""

from alembic import op
import sqlalchemy as sa
import giftdesk.db.types


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('administrators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_super', sa.Boolean(), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_administrators')),
    sa.UniqueConstraint('username', name=op.f('uq_administrators_username'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=True),
    sa.Column('target_id', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', giftdesk.db.types.JSONText(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('email', name=op.f('uq_customers_email'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', giftdesk.db.types.JSONText(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('tiktok_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tiktok_accounts_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_tiktok_accounts_username'))
    )
    with op.batch_alter_table('tiktok_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tiktok_accounts_customer_id'), ['customer_id'], unique=False)

    op.create_table('tracker_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('api_key_sha256', sa.String(length=64), nullable=False),
    sa.Column('key_hint', sa.String(length=8), nullable=False),
    sa.Column('instance_url', sa.String(length=500), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_accessed_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('key_generated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['tiktok_accounts.id'], name=op.f('fk_tracker_credentials_account_id_tiktok_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_credentials')),
    sa.UniqueConstraint('account_id', name=op.f('uq_tracker_credentials_account_id')),
    sa.UniqueConstraint('api_key_sha256', name=op.f('uq_tracker_credentials_api_key_sha256'))
    )
    op.create_table('tracker_data',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('data_type', sa.String(length=32), nullable=False),
    sa.Column('data', giftdesk.db.types.JSONText(), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['tiktok_accounts.id'], name=op.f('fk_tracker_data_account_id_tiktok_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracker_data')),
    sa.UniqueConstraint('account_id', 'data_type', name='uq_tracker_data_account_type')
    )


def downgrade() -> None:
    op.drop_table('tracker_data')
    op.drop_table('tracker_credentials')
    with op.batch_alter_table('tiktok_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tiktok_accounts_customer_id'))

    op.drop_table('tiktok_accounts')
    op.drop_table('settings')
    op.drop_table('customers')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')
    op.drop_table('administrators')
