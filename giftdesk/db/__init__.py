"""Persistence: SQLAlchemy models, engine set-up, migrations and backups."""

from giftdesk.db.engine import Database

__all__ = ["Database"]
