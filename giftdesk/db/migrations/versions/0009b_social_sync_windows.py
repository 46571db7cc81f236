"""social sync windows: the sync route's rate limit, shared by every endpoint on the database

Revision ID: 0009b
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009b'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('social_sync_windows',
    sa.Column('account_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('recent', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_social_sync_windows')),
    )


def downgrade() -> None:
    op.drop_table('social_sync_windows')
