"""social stats: creator profiles, platform stats, sync history and counters

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

PLATFORMS = ("tiktok", "instagram", "youtube", "twitch", "twitter")


def upgrade() -> None:
    op.create_table('social_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('avatar_url', sa.String(length=500), nullable=True),
    sa.Column('profile_url', sa.String(length=500), nullable=True),
    sa.Column('niches', giftdesk.db.types.JSONText(), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('state', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', giftdesk.db.types.UTCDateTime(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('total_followers', sa.Integer(), nullable=False),
    sa.Column('avg_engagement_centi', sa.Integer(), nullable=False),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['tiktok_accounts.id'], name=op.f('fk_social_profiles_account_id_tiktok_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_social_profiles_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_profiles')),
    sa.UniqueConstraint('account_id', name=op.f('uq_social_profiles_account_id'))
    )
    with op.batch_alter_table('social_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_profiles_customer_id'), ['customer_id'], unique=False)

    op.create_table('social_platform_stats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=False),
    sa.Column('engagement_centi', sa.Integer(), nullable=False),
    sa.Column('synced_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['social_profiles.id'], name=op.f('fk_social_platform_stats_profile_id_social_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_platform_stats')),
    sa.UniqueConstraint('profile_id', 'platform', name='uq_social_platform_stats_profile_platform')
    )
    op.create_table('social_syncs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=True),
    sa.Column('engagement_centi', sa.Integer(), nullable=True),
    sa.Column('total_followers', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['social_profiles.id'], name=op.f('fk_social_syncs_profile_id_social_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_syncs'))
    )
    with op.batch_alter_table('social_syncs', schema=None) as batch_op:
        batch_op.create_index('ix_social_syncs_at', ['at'], unique=False)
        batch_op.create_index('ix_social_syncs_profile_at', ['profile_id', 'at', 'total_followers'], unique=False)

    counters = op.create_table('social_sync_counters',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('successful', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('slow', sa.Integer(), nullable=False),
    sa.Column('duration_ms_total', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('platform', name=op.f('pk_social_sync_counters'))
    )
    # One row per platform from the start: a sync only ever UPDATEs (no upsert race).
    op.bulk_insert(counters, [
        {"platform": p, "total": 0, "successful": 0, "failed": 0, "slow": 0, "duration_ms_total": 0}
        for p in PLATFORMS
    ])


def downgrade() -> None:
    op.drop_table('social_sync_counters')
    with op.batch_alter_table('social_syncs', schema=None) as batch_op:
        batch_op.drop_index('ix_social_syncs_profile_at')
        batch_op.drop_index('ix_social_syncs_at')
    op.drop_table('social_syncs')
    op.drop_table('social_platform_stats')
    with op.batch_alter_table('social_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_profiles_customer_id'))
    op.drop_table('social_profiles')
