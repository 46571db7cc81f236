"""Alembic environment: runs on the connection GiftDesk hands over in ``config.attributes``."""

from alembic import context

from giftdesk.db.change_log import schema_changed
from giftdesk.db.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
schema_changed()  # the change log's table may have come or gone
