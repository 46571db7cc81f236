"""Backups and restores of the SQLite database, for the GUI and the CLI alike.

A restore checks the file is a GiftDesk database, keeps the current one in ``backups/``, copies
the backup into the live file (SQLite's backup API, so open connections see the restored data on
their next transaction) and brings an older schema up to date. A damaged live database is moved
to ``backups/`` instead and the checked backup renamed into its place. Then ``DatabaseReplaced`` tells
every listener: the tracker gateway drops its cache and key table (a backup's old timestamps
would slip past its change poll), the runtime restarts what reads settings, views reload.
"""

from __future__ import annotations

from pathlib import Path

from giftdesk.db.backup import backup_sqlite, check_giftdesk_database, file_stamp, restore_sqlite
from giftdesk.core.errors import ValidationError
from giftdesk.core.events import DatabaseReplaced
from giftdesk.core.context import ServiceContext


class BackupService:
    def __init__(self, ctx: ServiceContext, backup_dir: Path):
        self.ctx = ctx
        self.backup_dir = backup_dir

    def live_database(self) -> Path:
        path = self.ctx.db.sqlite_path
        if path is None:
            raise ValidationError("Backups and restores cover SQLite databases; use the server's tools "
                                  "(pg_dump, pg_restore) for PostgreSQL.", field="database")
        return path

    def target_path(self, target: str | Path | None = None) -> Path:
        """Where ``create`` writes: the file given, or a stamped file in the folder given (or in backups/)."""
        stamp = file_stamp()
        path = Path(target) if target else self.backup_dir / f"giftdesk-{stamp}.db"
        if path.is_dir():
            path = path / f"giftdesk-{stamp}.db"
        return path

    def create(self, target: str | Path | None = None, *, overwrite: bool = True) -> Path:
        """A consistent copy, safe while the console and the endpoint write.

        ``overwrite=False`` refuses an existing file (the GUI's save dialog has asked already)."""
        self.ctx.require("admin", "back up the database")
        live = self.live_database()
        path = self.target_path(target)
        if path.exists() and path.resolve() == live.resolve():
            raise ValidationError("That file is the database in use; choose another file for the backup.", field="path")
        if path.exists() and not overwrite:
            raise ValidationError(f"{path} exists already; nothing was written.", field="path")
        if not path.parent.is_dir() and path.parent.exists():
            raise ValidationError(f"{path.parent} is not a folder.", field="path")
        return backup_sqlite(live, path)

    def check(self, path: str | Path) -> Path:
        """Refuses what ``restore`` would refuse, before anyone is asked to confirm."""
        self.ctx.require("admin", "restore the database")
        live = self.live_database()
        path = Path(path)
        check_giftdesk_database(path)
        if path.resolve() == live.resolve():
            raise ValidationError("That file is the database in use; choose a backup.", field="path")
        return path

    def restore(self, path: str | Path) -> Path:
        """Replaces the database with the backup; returns where the replaced one was kept."""
        path = self.check(path)
        kept = restore_sqlite(path, self.live_database(), self.backup_dir)
        # A damaged file was replaced by a new one: pooled connections still point at the old.
        self.ctx.db.dispose()
        self.record_restore(path, kept)
        return kept

    def record_restore(self, path: Path, kept: Path) -> None:
        """After the file is in place: the current schema, the audit entry, and every listener told."""
        from giftdesk.db.migrate import upgrade
        from giftdesk.db.credentials import renew_credentials_generation

        self.ctx.require("admin", "restore the database")
        upgrade(self.ctx.db, self.backup_dir)  # an older backup is brought to the current schema
        with self.ctx.db.session() as session:
            # Endpoints in other processes hold keys and documents in memory and reload when this
            # token changes; the triggers that renew it do not see a restore, which swaps the file.
            renew_credentials_generation(session)
            self.ctx.audit(session, "database.restore", f"{self.ctx.actor.username} restored the database from {path.name}",
                           "database", None, {"from": str(path), "previous": str(kept)})
        self.ctx.events.publish(DatabaseReplaced(str(path)))
