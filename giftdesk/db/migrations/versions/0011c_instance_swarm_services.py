"""instances as Swarm services: the mode, the service id, placement and the publish mode

Revision ID: 0011c
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0011c'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('mode', sa.String(length=16), server_default='container', nullable=False))
        batch.add_column(sa.Column('service_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('placement_constraints', giftdesk.db.types.JSONText(), nullable=True))
        batch.add_column(sa.Column('placement_preferences', giftdesk.db.types.JSONText(), nullable=True))
        batch.add_column(sa.Column('publish_mode', sa.String(length=16), server_default='host', nullable=False))
        batch.create_unique_constraint(op.f('uq_instances_service_id'), ['service_id'])


def downgrade() -> None:
    with op.batch_alter_table('instances') as batch:
        batch.drop_constraint(op.f('uq_instances_service_id'), type_='unique')
        batch.drop_column('publish_mode')
        batch.drop_column('placement_preferences')
        batch.drop_column('placement_constraints')
        batch.drop_column('service_id')
        batch.drop_column('mode')
