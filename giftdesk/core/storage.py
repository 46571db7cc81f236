"""Recognising a full disk and a damaged SQLite file in whatever exception they surface as.

SQLite reports them as result codes (``SQLITE_FULL``, ``SQLITE_CORRUPT``, ``SQLITE_NOTADB``),
Python's file calls as ``OSError`` with ``ENOSPC``/``EDQUOT``; SQLAlchemy wraps the first and
callers chain both. ``storage_error`` turns any of them into the one sentence the user sees.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from giftdesk.core.errors import DatabaseDamagedError, DiskFullError, StorageError

SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 10, 11, 13, 26
POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full: the database server's disk, not this machine's
SERVER_DATA = "the database server's data"
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})  # no EDQUOT on Windows
# SQLite says only "disk I/O error" when it cannot even grow its -shm file; with less free space
# than this on the disk, that is a full disk rather than a failing one.
NEARLY_FULL_BYTES = 1024 * 1024


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what SQLAlchemy wrapped (``orig``) and what it was raised from."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _sqlite_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None  # extended codes carry the primary in the low byte


def nearly_full(folder: Path) -> bool:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # gone, or no statvfs (Windows)
        return False
    return stats.f_bavail * stats.f_frsize < NEARLY_FULL_BYTES


def _on_server(exc: BaseException) -> bool:
    return any(getattr(cause, "sqlstate", None) == POSTGRES_DISK_FULL for cause in _chain(exc))


def is_disk_full(exc: BaseException, folder: Path | None = None) -> bool:
    if _on_server(exc):
        return True
    for cause in _chain(exc):
        if isinstance(cause, DiskFullError):
            return True
        if isinstance(cause, OSError) and cause.errno in DISK_FULL_ERRNOS:
            return True
        code = _sqlite_code(cause)
        if code == SQLITE_FULL or (code == SQLITE_IOERR and folder is not None and nearly_full(folder)):
            return True
    return False


def damage_reason(exc: BaseException) -> str | None:
    """SQLite's own words ("database disk image is malformed") when ``exc`` says the file is damaged."""
    for cause in _chain(exc):
        if _sqlite_code(cause) in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return str(cause).strip() or "damaged"
    return None


def check_verdict(verdict: str) -> str | None:
    """What ``PRAGMA quick_check``/``integrity_check`` found, on one line; None for "ok"."""
    if verdict == "ok":
        return None
    findings = [line.strip() for line in verdict.splitlines() if line.strip() and not line.startswith("***")]
    return "; ".join(findings) or verdict.strip()


def storage_error(exc: BaseException, database: Path | None, folder: Path | None) -> StorageError | None:
    """The sentence for a full disk (``folder``: where the data was going) or a damaged ``database``."""
    if isinstance(exc, StorageError):
        return exc
    if _on_server(exc):
        return DiskFullError(SERVER_DATA)
    if is_disk_full(exc, folder):
        return DiskFullError(folder if folder is not None else "the data")
    reason = damage_reason(exc)
    if reason is not None and database is not None:
        return DatabaseDamagedError(database, reason)
    return None


@contextmanager
def storage_errors(database: Path | None, folder: Path | None) -> Iterator[None]:
    """Re-raises a full disk or a damaged ``database`` met inside the block as its sentence."""
    try:
        yield
    except Exception as exc:
        problem = storage_error(exc, database, folder)
        if problem is None or problem is exc:
            raise
        raise problem from exc


def write_text_whole(target: Path, text: str, newline: str | None = None) -> None:
    """``text`` into ``target`` whole or not at all: written beside it and renamed over it.

    The temporary file is removed when anything fails, so a full disk leaves no half-written
    export behind; a full disk is raised as DiskFullError, other OSErrors as they are."""
    target = Path(target)
    temporary = target.with_name(target.name + ".tmp")
    try:
        with storage_errors(None, target.parent):
            temporary.write_text(text, encoding="utf-8", newline=newline)
            os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
