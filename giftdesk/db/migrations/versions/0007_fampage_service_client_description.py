"""fampage service: the description clients see on invoices

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fampage_services') as batch:
        batch.add_column(sa.Column('client_description', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fampage_services') as batch:
        batch.drop_column('client_description')
