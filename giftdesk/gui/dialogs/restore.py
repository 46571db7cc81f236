"""Restore the SQLite database from a backup: the work the main window's File → Restore runs in the runner.

Same steps as ``giftdesk backup restore``: check the file is a GiftDesk database, keep the current
one in ``backups/``, copy the backup into the live file (SQLite's backup API, so open connections
see the restored data on their next transaction), bring an older schema up to date. Then every
listener is told: ``SETTINGS_CHANGED`` for every setting restarts the tracker endpoint with a
fresh gateway (key table and document cache read from the restored file) and re-reads the other
settings; ``CUSTOMERS_CHANGED`` reloads the lists and any other gateway's key table.
"""

from __future__ import annotations

from pathlib import Path

from giftdesk.db.backup import check_giftdesk_database, restore_sqlite
from giftdesk.errors import ValidationError
from giftdesk.services import events as ev
from giftdesk.services.settings import SPECS


def live_database(desk) -> Path:
    path = desk.db.sqlite_path
    if path is None:
        raise ValidationError("Restoring covers SQLite databases; restore PostgreSQL with the server's tools "
                              "(pg_restore).", field="database")
    return path


def check_backup(desk, path: str | Path) -> Path:
    """Runner job: refuses what restore would refuse, before the user is asked anything."""
    desk.ctx.require("admin", "restore the database")
    live_database(desk)
    path = Path(path)
    check_giftdesk_database(path)
    return path


def restore_backup(desk, path: str | Path) -> Path:
    """Runner job. Returns where the replaced database was kept."""
    from giftdesk.db.migrate import upgrade

    desk.ctx.require("admin", "restore the database")
    live = live_database(desk)
    path = Path(path)
    if path.resolve() == live.resolve():
        raise ValidationError("That file is the database in use; choose a backup.", field="path")
    kept = restore_sqlite(path, live, desk.paths.backups)
    upgrade(desk.db, desk.paths.backups)  # an older backup is brought to the current schema
    with desk.db.session() as session:
        desk.ctx.audit(session, "database.restore", f"{desk.actor.username} restored the database from {path.name}",
                       "database", None, {"from": str(path), "previous": str(kept)})
    desk.events.publish(ev.SETTINGS_CHANGED, keys=sorted(SPECS))
    desk.events.publish(ev.CUSTOMERS_CHANGED, customer_id=None)
    return kept
