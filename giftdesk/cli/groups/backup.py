"""``giftdesk backup``: consistent copies of the SQLite database, and restoring one."""

from __future__ import annotations

from pathlib import Path

from giftdesk.cli.framework import YES, Output, arg, confirm, database_errors, desk_session, prepared_data_dir
from giftdesk.core.errors import ValidationError
from giftdesk.core.wording import counted


def register(cli) -> None:
    backup = cli.group("backup", "consistent copies of the SQLite database")

    @backup.command("create", "write a backup (safe while the console runs)",
                    arg("path", nargs="?", help="file or folder (default: the data directory's backups/)"),
                    arg("--force", action="store_true", help="replace the file if it exists"),
                    reads_only=True)
    def backup_create(desk, args):
        target = desk.backups.target_path(args.path)
        if target.exists():
            if not target.is_file():
                raise ValidationError(f"{target} exists and is not a file.", field="path")
            confirm(args, f"{target} exists. Replace it?", flag="force")
        written = desk.backups.create(target, overwrite=True)
        result = {"path": str(written), "bytes": written.stat().st_size}
        return Output(result, f"Backup written to {written} ({counted(result['bytes'], 'byte')})")

    @backup.command("restore", "replace the database with a backup", arg("path"), YES, needs_desk=False)
    def backup_restore(args):
        from giftdesk.db.backup import check_giftdesk_database

        path = Path(args.path)
        check_giftdesk_database(path)  # before touching anything, even the data directory
        damaged = _damaged_live_database(args)
        if damaged is not None:
            return _replace_damaged(args, path, *damaged)
        with desk_session(args, migrate=False) as desk:
            desk.backups.check(path)
            confirm(args, f"Replace the database {desk.backups.live_database()} with {path}? "
                          f"The current one is kept in {desk.paths.backups}.")
            kept = desk.backups.restore(path)
        return Output({"restored": str(path), "previous": str(kept)},
                      f"Restored {path}. The previous database is at {kept}.")


def _damaged_live_database(args) -> tuple[Path, str] | None:
    """(file, what is wrong) when the data directory's SQLite database is damaged.

    Checked before a Desk is opened: opening reads the schema, which a damaged file may not have."""
    from giftdesk.db.backup import database_damage
    from giftdesk.db.engine import sqlite_file
    from giftdesk.core.paths import resolve_database_url

    paths = prepared_data_dir(args)
    url = resolve_database_url(paths, args.database_url)
    with database_errors(url):
        live = sqlite_file(url)
    if live is None or not live.is_file():
        return None
    reason = database_damage(live)
    return None if reason is None else (live, reason)


def _replace_damaged(args, path: Path, live: Path, reason: str) -> Output:
    from giftdesk.db.backup import restore_sqlite
    from giftdesk.core.paths import resolve_data_dir

    backups = resolve_data_dir(args.data_dir).backups
    confirm(args, f"The database {live} is damaged ({reason}). Replace it with {path}? "
                  f"The damaged file is moved to {backups}.")
    moved = restore_sqlite(path, live, backups)
    with desk_session(args, migrate=False) as desk:
        desk.backups.record_restore(path, moved)
    return Output({"restored": str(path), "previous": str(moved), "damaged": True},
                  f"Restored {path}. The damaged database was moved to {moved}.")
