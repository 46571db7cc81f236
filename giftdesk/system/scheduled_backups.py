"""Scheduled backups: a copy of the database every day or week, verified, with the oldest pruned.

The schedule is a setting (``backup.schedule``: ``off``, ``daily 02:30`` or ``weekly sun 02:30``,
in the machine's time zone; ``backup.keep``: how many scheduled copies stay), so the window, the
CLI and ``giftdesk serve`` share it; the runtime runs it (``system/runtime.py``), so a backup is
taken with no window open. SQLite is copied with the online backup API and the copy checked with
``PRAGMA integrity_check``; PostgreSQL is dumped with ``pg_dump`` (custom format, checked with
``pg_restore --list``) when the client tools are installed. Only scheduled copies are pruned:
manual backups and the copies taken before migrations and restores are the admin's.
The last run's result is kept in the database, for the window's Storage page and ``backup
schedule``; a failed run publishes ``BackupFailed``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from giftdesk.core.clock import iso, parse_time_of_day
from giftdesk.core.context import ServiceContext
from giftdesk.core.errors import ValidationError
from giftdesk.db.backup import backup_sqlite, check_giftdesk_database, file_stamp
from giftdesk.db.models import Setting
from giftdesk.system.events import BackupFailed, BackupTaken

PREFIX = "scheduled-"
LAST_RESULT_KEY = "internal.backup.last_result"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DUMP_TIMEOUT_S = 3600
_DAY_NAMES = {**{d: d for d in WEEKDAYS}, **{full: full[:3] for full in (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}}


@dataclass(frozen=True)
class Schedule:
    kind: str  # "off", "daily" or "weekly"
    time: str = ""  # "HH:MM"
    weekday: str = ""  # "mon".."sun" for weekly

    def text(self) -> str:
        return " ".join(part for part in (self.kind, self.weekday, self.time) if part)

    def sentence(self) -> str:
        if self.kind == "off":
            return "No scheduled backups."
        when = f"every {self.weekday.capitalize()} at {self.time}" if self.kind == "weekly" else f"every day at {self.time}"
        return f"A backup {when} (this machine's time)."

    def due_on(self, moment: datetime) -> bool:
        """Whether a daily trigger at ``moment`` (local time) is this schedule's day."""
        return self.kind == "daily" or (self.kind == "weekly" and WEEKDAYS[moment.weekday()] == self.weekday)


def parse_schedule(value, key: str = "backup.schedule") -> Schedule:
    """``off`` | ``daily HH:MM`` | ``weekly DAY HH:MM``; a sentence for anything else."""
    words = str(value or "").strip().lower().split()
    if words in ([], ["off"]):
        return Schedule("off")
    if words[0] == "daily" and len(words) == 2:
        hours, minutes = parse_time_of_day(words[1])
        return Schedule("daily", f"{hours:02d}:{minutes:02d}")
    if words[0] == "weekly" and len(words) == 3:
        day = _DAY_NAMES.get(words[1])
        if day is None:
            raise ValidationError(f"{words[1]!r} is not a day of the week; use mon, tue, … sun.", field=key)
        hours, minutes = parse_time_of_day(words[2])
        return Schedule("weekly", f"{hours:02d}:{minutes:02d}", day)
    raise ValidationError(f"{value!r} is not a backup schedule; use off, daily HH:MM or weekly DAY HH:MM "
                          f"(e.g. weekly sun 02:30).", field=key)


def check_schedule(value, key: str) -> str:
    """The setting's check: the schedule in its one spelling."""
    return parse_schedule(value, key).text()


@dataclass(frozen=True)
class BackupFile:
    path: Path
    bytes: int
    created: datetime
    kind: str  # scheduled, manual, before-migration, before-restore

    def to_json(self) -> dict:
        return {"path": str(self.path), "name": self.path.name, "bytes": self.bytes, "created": iso(self.created),
                "kind": self.kind}


@dataclass(frozen=True)
class BackupResult:
    ok: bool
    at: datetime
    path: str | None = None
    bytes: int = 0
    error: str | None = None
    pruned: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"ok": self.ok, "at": iso(self.at), "path": self.path, "bytes": self.bytes, "error": self.error,
                "pruned": list(self.pruned)}

    @classmethod
    def of_json(cls, data: dict) -> BackupResult:
        return cls(bool(data["ok"]), datetime.fromisoformat(data["at"]), data.get("path"), int(data.get("bytes") or 0),
                   data.get("error"), tuple(data.get("pruned") or ()))


def _kind(name: str) -> str:
    if name.startswith(PREFIX):
        return "scheduled"
    if name.startswith("pre-migration-"):
        return "before-migration"
    if name.startswith(("before-restore-", "damaged-")):
        return "before-restore"
    return "manual"


class ScheduledBackups:
    def __init__(self, ctx: ServiceContext, settings, backup_dir: Path):
        self.ctx = ctx
        self.settings = settings
        self.backup_dir = Path(backup_dir)

    # --- the schedule -----------------------------------------------------------------------
    def schedule(self) -> Schedule:
        return parse_schedule(self.settings.get("backup.schedule"))

    def keep(self) -> int:
        return int(self.settings.get("backup.keep"))

    def set_schedule(self, schedule: str, keep: int | None = None) -> Schedule:
        """``schedule`` as the setting takes it (``daily 02:30``…); ``keep`` how many copies stay."""
        changes = {"backup.schedule": schedule}
        if keep is not None:
            changes["backup.keep"] = keep
        self.settings.update(changes)  # checks both first, applies both or none, audited
        return self.schedule()

    # --- the copies -------------------------------------------------------------------------
    def list(self) -> list[BackupFile]:
        """Every backup in the data directory's backups folder, newest first."""
        files = []
        if self.backup_dir.is_dir():
            for path in self.backup_dir.iterdir():
                if path.is_file() and path.suffix in (".db", ".dump") and not path.name.endswith(".partial"):
                    stat = path.stat()
                    files.append(BackupFile(path, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC),
                                            _kind(path.name)))
        return sorted(files, key=lambda f: (f.created, f.path.name), reverse=True)

    def last_result(self) -> BackupResult | None:
        with self.ctx.db.read_session() as session:
            row = session.get(Setting, LAST_RESULT_KEY)
        if row is None or not isinstance(row.value, dict):
            return None
        try:
            return BackupResult.of_json(row.value)
        except (KeyError, TypeError, ValueError):
            return None

    def run(self) -> BackupResult:
        """Take a scheduled backup now: copy, verify, prune the oldest beyond ``backup.keep``.

        A failure is a result, not an exception (the runtime runs this unattended): it is kept as the
        last result, audited and published as ``BackupFailed``."""
        self.ctx.require("admin", "back up the database")
        now = datetime.now(UTC)
        try:
            path = self._copy(self._free_stem())
            result = BackupResult(True, now, str(path), path.stat().st_size, pruned=tuple(self._prune()))
        except (ValidationError, OSError, subprocess.SubprocessError) as exc:
            result = BackupResult(False, now, error=str(exc))
        with self.ctx.db.session() as session:
            row = session.get(Setting, LAST_RESULT_KEY)
            if row is None:
                session.add(Setting(key=LAST_RESULT_KEY, value=result.to_json()))
            else:
                row.value = result.to_json()
            summary = (f"Scheduled backup written to {Path(result.path).name}" if result.ok
                       else f"Scheduled backup failed: {result.error}")
            self.ctx.audit(session, "backup.scheduled", summary, details=result.to_json())
        if result.ok:
            self.ctx.events.publish(BackupTaken(result.path or ""))
        else:
            self.ctx.events.publish(BackupFailed(result.error or "unknown error"))
        return result

    def _free_stem(self) -> Path:
        """``scheduled-<UTC stamp>``, with a counter when a copy was taken in the same second."""
        stem = self.backup_dir / f"{PREFIX}{file_stamp()}"
        taken = {p.stem for p in self.backup_dir.glob(f"{stem.name}*")} if self.backup_dir.is_dir() else set()
        n = 1
        while (candidate := stem.name if n == 1 else f"{stem.name}-{n}") in taken:
            n += 1
        return stem.with_name(candidate)

    def _copy(self, stem: Path) -> Path:
        live = self.ctx.db.sqlite_path
        if live is not None:
            path = backup_sqlite(live, stem.with_suffix(".db"))
            try:
                check_giftdesk_database(path, thorough=True)  # integrity_check on the copy, not the source
            except ValidationError:
                path.unlink(missing_ok=True)
                raise
            return path
        return self._dump(stem.with_suffix(".dump"))

    def _dump(self, path: Path) -> Path:
        pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
        if pg_dump is None:
            raise ValidationError("PostgreSQL is backed up with pg_dump, which is not installed on this machine "
                                  "(Debian: apt install postgresql-client).", field="database")
        url = make_url(self.ctx.db.url)
        env = {**os.environ, "PGPASSWORD": url.password or ""}  # never on the command line, where ps shows it
        args = [pg_dump, "--format=custom", "--no-owner", f"--file={path}.partial", "--dbname",
                url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S)
            if done.returncode != 0:
                raise ValidationError(f"pg_dump failed: {done.stderr.strip()[-500:] or done.returncode}", field="database")
            if pg_restore is not None:
                listed = subprocess.run([pg_restore, "--list", f"{path}.partial"], capture_output=True, text=True,
                                        timeout=DUMP_TIMEOUT_S)
                if listed.returncode != 0:
                    raise ValidationError(f"The dump cannot be read back: {listed.stderr.strip()[-500:]}",
                                          field="database")
            os.chmod(f"{path}.partial", 0o600)
            os.replace(f"{path}.partial", path)
        finally:
            Path(f"{path}.partial").unlink(missing_ok=True)
        return path

    def _prune(self) -> list[str]:
        scheduled = [f for f in self.list() if f.kind == "scheduled"]
        gone = []
        for old in scheduled[self.keep():]:
            old.path.unlink(missing_ok=True)
            gone.append(old.path.name)
        return gone
