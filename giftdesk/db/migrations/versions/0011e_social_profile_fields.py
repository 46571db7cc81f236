"""social profile fields: the web app's user id, rizz score, preferences, links and handles per platform

Revision ID: 0011e
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0011e'
down_revision = '0010'
branch_labels = None
depends_on = None

_COLUMNS = ('user_id', 'rizz_score', 'audience_min', 'audience_max', 'budget_min_cents', 'budget_max_cents',
            'collaboration_types', 'preferred_locations', 'social_links', 'platform_handles')


def upgrade() -> None:
    with op.batch_alter_table('social_profiles') as batch:
        batch.add_column(sa.Column('user_id', sa.String(length=24), nullable=True))
        batch.add_column(sa.Column('rizz_score', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch.add_column(sa.Column('audience_min', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch.add_column(sa.Column('audience_max', sa.BigInteger(), server_default=sa.text('1000000'),
                                   nullable=False))
        batch.add_column(sa.Column('budget_min_cents', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
        batch.add_column(sa.Column('budget_max_cents', sa.BigInteger(), server_default=sa.text('1000000'),
                                   nullable=False))
        for name, empty in (('collaboration_types', "'[]'"), ('preferred_locations', "'[]'"),
                            ('social_links', "'{}'"), ('platform_handles', "'{}'")):
            batch.add_column(sa.Column(name, giftdesk.db.types.JSONText(), server_default=sa.text(empty),
                                       nullable=False))
        batch.create_unique_constraint(batch.f('uq_social_profiles_user_id'), ['user_id'])


def downgrade() -> None:
    with op.batch_alter_table('social_profiles') as batch:
        batch.drop_constraint(batch.f('uq_social_profiles_user_id'), type_='unique')
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
