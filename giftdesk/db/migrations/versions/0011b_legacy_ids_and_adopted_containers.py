"""legacy ids: an imported account's old id, and the container an imported instance took over

Revision ID: 0011b
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011b'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_legacy_ids',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('legacy_id', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['tiktok_accounts.id'],
                            name=op.f('fk_account_legacy_ids_account_id_tiktok_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_account_legacy_ids')),
    sa.UniqueConstraint('legacy_id', name=op.f('uq_account_legacy_ids_legacy_id'))
    )
    # A plain column and a unique index: SQLite adds them in place, without copying the table.
    op.add_column('instances', sa.Column('adopted_container_id', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_instances_adopted_container_id'), 'instances', ['adopted_container_id'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_instances_adopted_container_id'), table_name='instances')
    with op.batch_alter_table('instances') as batch:
        batch.drop_column('adopted_container_id')
    op.drop_table('account_legacy_ids')
