"""One runtime per data directory: the process holding the OS lock on ``runtime.lock`` runs it.

The endpoint, the fleet watcher, order sync and the schedules must run once per data directory
(two endpoints would fight over the port, two order syncs would buy twice). The owner is whoever
holds an exclusive lock on ``runtime.lock`` (``flock`` on POSIX, ``msvcrt.locking`` on Windows):
the kernel releases it when the process ends however it ends, so a killed owner never leaves a
stale claim behind, as a pid in a file would. ``runtime.json`` (status_file) stays the
description of who holds it: its pid, start time and services.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from giftdesk.core.errors import GiftDeskError

LOCK_FILENAME = "runtime.lock"
# Someone probing the lock (``giftdesk status``, ``serve stop``) holds it for microseconds: an
# owner starting at that moment tries again for this long before it believes another owner.
PROBE_GRACE_S = 0.5

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int, exclusive: bool) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int, exclusive: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class RuntimeOwnedElsewhere(GiftDeskError):
    """Another process runs this data directory's runtime."""

    exit_code = 2

    def __init__(self, root: Path, owner: dict[str, Any] | None):
        self.owner = owner
        super().__init__(f"{describe_owner(owner)} already runs the background services of {root} "
                         "(the tracker endpoint, fleet watcher, order sync and schedules); only one process may."
                         + (" Stop it with `giftdesk serve stop`." if (owner or {}).get("kind") == "serve" else ""))


class OwnerLock:
    """The exclusive lock that makes this process the data directory's runtime owner."""

    def __init__(self, root: Path):
        self.path = Path(root) / LOCK_FILENAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, grace_s: float = PROBE_GRACE_S) -> bool:
        """True when this process now owns the runtime; False when another process does."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (PEP 446)
        deadline = time.monotonic() + grace_s
        while not _try_lock(fd, exclusive=True):
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(0.02)
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _unlock(fd)
            finally:
                os.close(fd)


def runtime_owned(root: Path) -> bool:
    """Whether some process (this one included) holds the data directory's runtime lock."""
    try:
        fd = os.open(Path(root) / LOCK_FILENAME, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if _try_lock(fd, exclusive=False):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


def endpoint_address(owner: dict[str, Any] | None) -> str | None:
    """``host:port`` the owner's tracker endpoint listens on (its first address), if it listens."""
    for service in (owner or {}).get("services") or []:
        if service.get("name") == "endpoint" and service.get("state") == "running":
            addresses = service.get("addresses") or []
            if addresses:
                return str(addresses[0])
            if service.get("port"):
                return f"127.0.0.1:{service['port']}"
    return None


def describe_owner(owner: dict[str, Any] | None) -> str:
    """'giftdesk serve (pid 4242, since 2026-12-06 02:40 UTC, endpoint 127.0.0.1:8787)'."""
    if owner is None:
        return "Another process (still starting)"
    who = {"serve": "giftdesk serve", "window": "A GiftDesk window"}.get(str(owner.get("kind")), "Another process")
    facts = [f"pid {owner.get('pid')}"]
    since = _since_text(owner.get("startedAt"))
    if since:
        facts.append(f"since {since}")
    address = endpoint_address(owner)
    if address:
        facts.append(f"endpoint {address}")
    return f"{who} ({', '.join(facts)})"


def _since_text(value: object) -> str | None:
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except ValueError:
        return None
