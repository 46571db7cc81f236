"""merge: the revisions made side by side after 0010 (engines, legacy account ids, Swarm services, imported records, profile fields) join here

Revision ID: 0012
Revises: 0011a, 0011b, 0011c, 0011d, 0011e
"""

revision = '0012'
down_revision = ('0011a', '0011b', '0011c', '0011d', '0011e')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
