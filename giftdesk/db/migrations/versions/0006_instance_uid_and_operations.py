"""instance uid and the fleet's operation journal

Revision ID: 0006
Revises: 0005
"""

import uuid

import sqlalchemy as sa
from alembic import op

import giftdesk.db.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instances') as batch:
        batch.add_column(sa.Column('uid', sa.String(length=32), nullable=True))
    instances = sa.table('instances', sa.column('id', sa.Integer()), sa.column('uid', sa.String(32)))
    connection = op.get_bind()
    for (instance_id,) in connection.execute(sa.select(instances.c.id)).all():
        connection.execute(instances.update().where(instances.c.id == instance_id).values(uid=uuid.uuid4().hex))
    with op.batch_alter_table('instances') as batch:
        batch.alter_column('uid', existing_type=sa.String(length=32), nullable=False)
        batch.create_unique_constraint(op.f('uq_instances_uid'), ['uid'])
    op.create_table('instance_operations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('instance_uid', sa.String(length=32), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('old_container_id', sa.String(length=64), nullable=True),
    sa.Column('new_container_id', sa.String(length=64), nullable=True),
    sa.Column('parked_name', sa.String(length=200), nullable=True),
    sa.Column('payload', giftdesk.db.types.JSONText(), nullable=True),
    sa.Column('owner_host', sa.String(length=255), nullable=False),
    sa.Column('owner_pid', sa.Integer(), nullable=False),
    sa.Column('owner_started', sa.String(length=80), nullable=False),
    sa.Column('started_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', giftdesk.db.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_operations'))
    )
    op.create_index(op.f('ix_instance_operations_instance_uid'), 'instance_operations', ['instance_uid'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_instance_operations_instance_uid'), table_name='instance_operations')
    op.drop_table('instance_operations')
    with op.batch_alter_table('instances') as batch:
        batch.drop_constraint(op.f('uq_instances_uid'), type_='unique')
        batch.drop_column('uid')
