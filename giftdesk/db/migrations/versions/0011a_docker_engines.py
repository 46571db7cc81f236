"""docker engines: named engines besides the configured one (the TLS client key is in the keyring)

Revision ID: 0011a
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0011a'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('docker_engines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('host', sa.String(length=500), nullable=False),
    sa.Column('context_name', sa.String(length=200), nullable=True),
    sa.Column('tls_ca_path', sa.String(length=1000), nullable=True),
    sa.Column('tls_cert_path', sa.String(length=1000), nullable=True),
    sa.Column('backend_url', sa.String(length=500), nullable=True),
    sa.Column('created_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_docker_engines')),
    sa.UniqueConstraint('name', name=op.f('uq_docker_engines_name')),
    )


def downgrade() -> None:
    op.drop_table('docker_engines')
