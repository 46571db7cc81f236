"""Schema migrations at start-up, with the SQLite file copied aside first."""

from __future__ import annotations

import logging
from pathlib import Path

from giftdesk.db.backup import backup_sqlite, file_stamp
from giftdesk.db.engine import Database, sqlite_reading

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration. Knowing it here lets start-up skip importing Alembic (~0.1 s) when the
# schema is current; tests/test_database.py checks it against the migration scripts.
SCHEMA_HEAD = "0012"


def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    path = db.sqlite_path
    if path is not None:  # read without SQLAlchemy: a current schema needs nothing more at start-up
        with sqlite_reading(path) as connection:
            if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                                  ).fetchone() is None:
                return None
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            return None if row is None else row[0]
    from sqlalchemy import inspect, text

    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database, backup_dir: Path | None = None) -> str | None:
    """Bring the schema to head. Returns the path of the pre-migration copy, if one was made."""
    current = current_revision(db)
    if current == SCHEMA_HEAD:
        return None
    from alembic import command

    head = head_revision()
    copy_path = None
    if current is not None and db.sqlite_path and backup_dir is not None:
        stamp = file_stamp()
        copy_path = backup_dir / f"pre-migration-{current}-{stamp}.db"
        backup_sqlite(db.sqlite_path, copy_path)
        log.info("Copied the database to %s before migrating %s -> %s", copy_path, current, head)
    config = _alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("Database schema at %s", head)
    return str(copy_path) if copy_path else None
