"""Schema migrations at start-up, with the SQLite file copied aside first."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from giftdesk.db.backup import backup_sqlite
from giftdesk.db.engine import Database

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database, backup_dir: Path | None = None) -> str | None:
    """Bring the schema to head. Returns the path of the pre-migration copy, if one was made."""
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return None
    copy_path = None
    if current is not None and db.sqlite_path and backup_dir is not None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        copy_path = backup_dir / f"pre-migration-{current}-{stamp}.db"
        backup_sqlite(db.sqlite_path, copy_path)
        log.info("Copied the database to %s before migrating %s -> %s", copy_path, current, head)
    config = _alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("Database schema at %s", head)
    return str(copy_path) if copy_path else None
