"""``giftdesk backup``: consistent copies of the SQLite database, and restoring one."""

from __future__ import annotations

from pathlib import Path

from giftdesk.cli.framework import YES, Output, arg, confirm, desk_session
from giftdesk.errors import ValidationError


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
        return Output(result, f"Backup written to {written} ({result['bytes']} bytes)")

    @backup.command("restore", "replace the database with a backup", arg("path"), YES, needs_desk=False)
    def backup_restore(args):
        from giftdesk.db.backup import check_giftdesk_database

        path = Path(args.path)
        check_giftdesk_database(path)  # before touching anything, even the data directory
        with desk_session(args, migrate=False) as desk:
            desk.backups.check(path)
            confirm(args, f"Replace the database {desk.backups.live_database()} with {path}? "
                          f"The current one is kept in {desk.paths.backups}.")
            kept = desk.backups.restore(path)
        return Output({"restored": str(path), "previous": str(kept)},
                      f"Restored {path}. The previous database is at {kept}.")
