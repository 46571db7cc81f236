"""social profile fields: the web app's user id, rizz score, preferences, links and handles per platform

Revision ID: 0011e
Revises: 0010

Plain ADD/DROP COLUMN, not a batch: on SQLite a batch rebuilds the table, and dropping the old
social_profiles (foreign keys on) would cascade into its platform stats and sync history.
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0011e'
down_revision = '0010'
branch_labels = None
depends_on = None

_JSON_COLUMNS = (('collaboration_types', "'[]'"), ('preferred_locations', "'[]'"), ('social_links', "'{}'"),
                 ('platform_handles', "'{}'"))


def upgrade() -> None:
    op.add_column('social_profiles', sa.Column('user_id', sa.String(length=24), nullable=True))
    op.add_column('social_profiles', sa.Column('rizz_score', sa.Integer(), server_default=sa.text('0'),
                                               nullable=False))
    for name, default in (('audience_min', '0'), ('audience_max', '1000000'), ('budget_min_cents', '0'),
                          ('budget_max_cents', '1000000')):
        op.add_column('social_profiles', sa.Column(name, sa.BigInteger(), server_default=sa.text(default),
                                                   nullable=False))
    for name, empty in _JSON_COLUMNS:
        op.add_column('social_profiles', sa.Column(name, giftdesk.db.types.JSONText(), server_default=sa.text(empty),
                                                   nullable=False))
    op.create_index(op.f('ix_social_profiles_user_id'), 'social_profiles', ['user_id'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_social_profiles_user_id'), table_name='social_profiles')
    for name in ('user_id', 'rizz_score', 'audience_min', 'audience_max', 'budget_min_cents', 'budget_max_cents',
                 *(name for name, _ in _JSON_COLUMNS)):
        op.drop_column('social_profiles', name)  # native on SQLite 3.35+
