"""merge: the alerts tables and the shared social sync windows, made side by side, join here

Revision ID: 0010
Revises: 0009a, 0009b
"""

revision = '0010'
down_revision = ('0009a', '0009b')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
