"""Consistent copies of the SQLite database, safe while the console is writing to it."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from giftdesk.core.errors import ValidationError
from giftdesk.core.storage import check_verdict, damage_reason, storage_errors

# Tables every GiftDesk database has; a file without them is refused by restore.
REQUIRED_TABLES = {"alembic_version", "administrators", "customers", "tiktok_accounts", "settings"}
SQLITE_SIDE_FILES = ("-wal", "-shm")


def file_stamp() -> str:
    """UTC time for backup file names: sorts by age, safe on every file system."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)  # as_uri: '?' and '#' escaped


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup API from ``source`` into ``target``; storage failures as one sentence."""
    with storage_errors(Path(source), Path(target).parent):
        src = _read_only(source)
        try:
            dst = sqlite3.connect(target, timeout=30)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
            finally:
                dst.close()
        finally:
            src.close()


def backup_sqlite(source: Path, target: Path) -> Path:
    """Copy with SQLite's online backup API: a transaction-consistent snapshot.

    Written to ``<target>.partial`` and renamed at the end; a copy that fails (a full disk, a
    damaged source) leaves nothing behind."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with storage_errors(None, target.parent):
            fd = os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        _copy_database(source, partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def check_giftdesk_database(path: Path, *, thorough: bool = False) -> None:
    """Refuses a file that is not a sound GiftDesk database (``thorough``: ``integrity_check``,
    which also checks every index against its table; otherwise the quicker ``quick_check``)."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ValidationError(f"{path} does not exist or is not a file.", field="path")
        with open(path, "rb") as handle:
            header = handle.read(16)
    except OSError as exc:  # a name too long, a folder without permission…
        raise ValidationError(f"{path} cannot be read: {exc.strerror or exc}.", field="path") from None
    if header != b"SQLite format 3\x00":
        raise ValidationError(f"{path} is not a SQLite database.", field="path")
    try:
        conn = _read_only(path)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            integrity = conn.execute("PRAGMA integrity_check(1)" if thorough else "PRAGMA quick_check(1)").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ValidationError(f"{path} is not a readable SQLite database ({exc}).", field="path") from exc
    missing = REQUIRED_TABLES - tables
    if missing:
        raise ValidationError(
            f"{path} is not a GiftDesk database (missing tables: {', '.join(sorted(missing))}).", field="path"
        )
    finding = check_verdict(integrity)
    if finding is not None:
        raise ValidationError(f"{path} is damaged: {finding}", field="path")


def database_damage(path: Path) -> str | None:
    """What is wrong with the SQLite file at ``path`` (``quick_check``), or None when it is sound."""
    try:
        conn = _read_only(path)
        try:
            verdict = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        reason = damage_reason(exc)
        if reason is None:
            raise
        return reason
    return check_verdict(verdict)


def restore_sqlite(backup: Path, live: Path, keep_dir: Path) -> Path:
    """Replace the live database with ``backup``; returns where the replaced one was put.

    A sound live database is copied to ``keep_dir`` first, then the backup is written into the
    live file through SQLite's backup API, so other connections see the restored data on their
    next transaction instead of holding a deleted inode. A damaged one cannot be read for such
    a copy: it is moved to ``keep_dir`` as it is (see ``_replace_damaged``).
    """
    backup, live = Path(backup), Path(live)
    check_giftdesk_database(backup, thorough=True)
    if live.exists() and database_damage(live) is not None:
        return _replace_damaged(backup, live, Path(keep_dir))
    kept = Path(keep_dir) / f"before-restore-{file_stamp()}.db"
    if live.exists():
        backup_sqlite(live, kept)
    with storage_errors(live, live.parent):
        src = _read_only(backup)
        dst = sqlite3.connect(live, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    return kept


def _replace_damaged(backup: Path, live: Path, keep_dir: Path) -> Path:
    """The backup is copied next to the live file and checked; only then is the damaged file
    (with its -wal and -shm, which belong to it) moved to ``keep_dir`` and the copy renamed in."""
    staged = live.with_name(live.name + ".restoring")
    backup_sqlite(backup, staged)
    try:
        check_giftdesk_database(staged, thorough=True)
        keep_dir.mkdir(parents=True, exist_ok=True)
        moved = keep_dir / f"damaged-{file_stamp()}.db"
        for suffix in ("", *SQLITE_SIDE_FILES):
            side = live.with_name(live.name + suffix)
            if side.exists():
                shutil.move(side, moved.with_name(moved.name + suffix))
        os.replace(staged, live)
    finally:
        staged.unlink(missing_ok=True)
    return moved
