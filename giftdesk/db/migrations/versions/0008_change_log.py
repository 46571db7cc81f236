"""change log: every tracked change, for the consoles that follow them

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('change_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log')),
    sqlite_autoincrement=True,
    )
    op.create_index('ix_change_log_at', 'change_log', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_change_log_at', table_name='change_log')
    op.drop_table('change_log')
