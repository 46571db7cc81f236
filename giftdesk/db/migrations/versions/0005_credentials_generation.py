"""credentials generation: a token that every credential change replaces (triggers)

Revision ID: 0005
Revises: 0004
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Only the columns that decide who authenticates: the endpoint's last-access flush (once a second)
# updates the same rows and must not make every endpoint reload its keys.
WATCHED_COLUMNS = "account_id, api_key_sha256, status"

SQLITE_NEW_TOKEN = "UPDATE credentials_generation SET token = lower(hex(randomblob(16)));"
SQLITE_TRIGGERS = {
    "tracker_credentials_generation_insert": "AFTER INSERT ON tracker_credentials",
    "tracker_credentials_generation_delete": "AFTER DELETE ON tracker_credentials",
    "tracker_credentials_generation_update": f"AFTER UPDATE OF {WATCHED_COLUMNS} ON tracker_credentials",
}

POSTGRES_FUNCTION = """
CREATE FUNCTION credentials_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE credentials_generation SET token = md5(random()::text || clock_timestamp()::text);
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGER = f"""
CREATE TRIGGER tracker_credentials_generation
AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF {WATCHED_COLUMNS} ON tracker_credentials
FOR EACH STATEMENT EXECUTE PROCEDURE credentials_generation_bump()
"""


def upgrade() -> None:
    generation = op.create_table('credentials_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials_generation'))
    )
    op.bulk_insert(generation, [{'id': 1, 'token': uuid.uuid4().hex}])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for name, when in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {SQLITE_NEW_TOKEN} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER tracker_credentials_generation ON tracker_credentials")
        op.execute("DROP FUNCTION credentials_generation_bump()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('credentials_generation')
