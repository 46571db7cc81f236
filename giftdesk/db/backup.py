"""Consistent copies of the SQLite database, safe while the console is writing to it."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from giftdesk.errors import ValidationError

# Tables every GiftDesk database has; a file without them is refused by restore.
REQUIRED_TABLES = {"alembic_version", "administrators", "customers", "tiktok_accounts", "settings"}


def file_stamp() -> str:
    """UTC time for backup file names: sorts by age, safe on every file system."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def backup_sqlite(source: Path, target: Path) -> Path:
    """Copy with SQLite's online backup API: a transaction-consistent snapshot."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)
    return target


def check_giftdesk_database(path: Path) -> None:
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
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)  # as_uri: '?' and '#' escaped
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ValidationError(f"{path} is not a readable SQLite database ({exc}).", field="path") from exc
    missing = REQUIRED_TABLES - tables
    if missing:
        raise ValidationError(
            f"{path} is not a GiftDesk database (missing tables: {', '.join(sorted(missing))}).", field="path"
        )
    if integrity != "ok":
        raise ValidationError(f"{path} is damaged: {integrity}", field="path")


def restore_sqlite(backup: Path, live: Path, keep_dir: Path) -> Path:
    """Replace the live database with ``backup``; the current one is kept in ``keep_dir`` first.

    Writes through SQLite's backup API into the live file, so other connections see the restored
    data on their next transaction instead of holding a deleted inode.
    """
    check_giftdesk_database(backup)
    stamp = file_stamp()
    kept = Path(keep_dir) / f"before-restore-{stamp}.db"
    if Path(live).exists():
        backup_sqlite(Path(live), kept)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return kept
