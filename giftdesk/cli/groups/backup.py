"""``giftdesk backup``: consistent copies of the SQLite database, and restoring one."""

from __future__ import annotations

from pathlib import Path

from giftdesk.cli.framework import YES, Output, Table, arg, confirm, database_errors, desk_session, prepared_data_dir
from giftdesk.core.wording import age_text, counted
from giftdesk.fleet.units import fmt_size as size_text
from giftdesk.core.errors import GiftDeskError, ValidationError


def register(cli) -> None:
    backup = cli.group("backup", "consistent copies of the database, scheduled or by hand, and restoring one")

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

    @backup.command("schedule", "show or set scheduled backups (run by the window or giftdesk serve)",
                    arg("--daily", metavar="HH:MM", help="every day at this time (this machine's zone)"),
                    arg("--weekly", nargs=2, metavar=("DAY", "HH:MM"), help="every week, e.g. --weekly sun 02:30"),
                    arg("--off", action="store_true", help="no scheduled backups"),
                    arg("--keep", type=int, help="how many scheduled backups stay (the oldest are deleted)"))
    def backup_schedule(desk, args):
        given = [flag for flag, value in (("--daily", args.daily), ("--weekly", args.weekly), ("--off", args.off))
                 if value]
        if len(given) > 1:
            raise ValidationError(f"Give one of {', '.join(given)}.", field="schedule")
        if args.keep is not None and args.keep < 1:
            raise ValidationError("--keep must be 1 or more.", field="keep")
        scheduled = desk.scheduled_backups
        if given or args.keep is not None:
            text = ("off" if args.off else f"daily {args.daily}" if args.daily
                    else f"weekly {' '.join(args.weekly)}" if args.weekly else scheduled.schedule().text())
            scheduled.set_schedule(text, args.keep)
        schedule, keep, last = scheduled.schedule(), scheduled.keep(), scheduled.last_result()
        data = {"schedule": schedule.text(), "keep": keep, "lastResult": last.to_json() if last else None}
        lines = [schedule.sentence()]
        if schedule.kind != "off":
            lines.append(f"The newest {counted(keep, 'scheduled backup')} are kept.")
        lines.append(_last_result_text(last))
        return Output(data, "\n".join(lines))

    @backup.command("run", "take a scheduled backup now: verified, with the oldest scheduled ones pruned")
    def backup_run(desk, args):
        result = desk.scheduled_backups.run()
        if not result.ok:
            raise GiftDeskError(f"The backup failed: {result.error}")
        return Output(result.to_json(), _last_result_text(result))

    @backup.command("list", "the backups in the data directory, newest first", reads_only=True)
    def backup_list(desk, args):
        files = desk.scheduled_backups.list()
        return Output([f.to_json() for f in files], Table(
            ["NAME", "KIND", "SIZE", "AGE"],
            [(f.path.name, f.kind, size_text(f.bytes), age_text(f.created)) for f in files]))

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


def _last_result_text(result) -> str:
    if result is None:
        return "No scheduled backup has run yet."
    if result.ok:
        pruned = f"; deleted the oldest: {', '.join(result.pruned)}" if result.pruned else ""
        return f"Last backup: {Path(result.path).name} ({size_text(result.bytes)}), {age_text(result.at)}{pruned}."
    return f"Last backup FAILED {age_text(result.at)}: {result.error}"


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
