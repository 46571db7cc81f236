"""imported records: the old id of every company, order, invoice and profile brought in by an import

Revision ID: 0011d
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0011d'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('imported_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('legacy_id', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('imported_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imported_records')),
    sa.UniqueConstraint('kind', 'legacy_id', name='uq_imported_records_kind_legacy_id'),
    )


def downgrade() -> None:
    op.drop_table('imported_records')
