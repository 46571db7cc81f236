"""Where a running runtime says how its services are, for ``giftdesk status`` in another process.

The window and ``giftdesk serve`` write ``runtime.json`` in the data directory (at most every
second, and once more when they stop); ``giftdesk status`` reads it and trusts it only while the
process that wrote it is alive and serves this very data directory: the file records the
directory's real path and the process's start time (from /proc, which a reused pid does not
share), so a copied data directory does not report its source's runtime. Where /proc is missing
the pid being alive and the path must do. With PostgreSQL several consoles share one database
but each has its own data directory, so each reports its own runtime.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from giftdesk.core.processes import process_start, same_process
from giftdesk.core.service import ServiceStatus

FILENAME = "runtime.json"
WRITE_INTERVAL_S = 1.0


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class StatusFileWriter:
    """Subscribed to status changes; writes the file from a timer thread, never from the publisher."""

    def __init__(self, root: Path, statuses, kind: str):
        self.path = Path(root) / FILENAME
        self._data_dir = str(Path(root).resolve())
        self._process_start = process_start(os.getpid())
        self._statuses = statuses  # () -> list[ServiceStatus]
        self._kind = kind
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at: datetime | None = None

    def mark(self, *_args) -> None:
        self._dirty.set()

    def start(self) -> None:
        self._started_at = datetime.now(timezone.utc)
        self.write(running=True)  # at once: whoever looks next finds the new owner described
        self._thread = threading.Thread(target=self._loop, name="runtime-status-file", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.write(running=False)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._dirty.wait(0.5) and not self._stop.is_set():
                self._dirty.clear()
                self.write(running=True)
                self._stop.wait(WRITE_INTERVAL_S)

    def write(self, running: bool) -> None:
        document = {
            "pid": os.getpid(), "processStart": self._process_start, "host": socket.gethostname(),
            "dataDir": self._data_dir, "kind": self._kind, "running": running, "startedAt": self._started_at,
            "writtenAt": datetime.now(timezone.utc), "services": [s.to_json() for s in self._statuses()],
        }
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(document, default=_default, indent=1), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:  # a read-only, vanished or full data directory must not stop the runtime
            temporary.unlink(missing_ok=True)


def read_runtime_status(root: Path) -> dict[str, Any] | None:
    """The last status a live runtime of this data directory wrote; None when none runs."""
    path = Path(root) / FILENAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or not document.get("running"):
        return None
    return document if _writer_serves(document, Path(root)) else None


def _writer_serves(document: dict[str, Any], root: Path) -> bool:
    """Whether the process that wrote ``document`` still runs and serves ``root``: not killed
    without a chance to say it stopped, not a reused pid, not the source of a copied directory."""
    if document.get("host") != socket.gethostname() or document.get("dataDir") != str(root.resolve()):
        return False  # another machine's process (or another directory's) cannot be vouched for
    return same_process(document.get("pid"), document.get("processStart"))


def status_from_json(document: dict[str, Any]) -> ServiceStatus:
    """A service's status as another process wrote it (``ServiceStatus.to_json``)."""
    info = dict(document)
    name = str(info.pop("name", ""))
    state = str(info.pop("state", "stopped"))
    detail = str(info.pop("detail", "") or "")
    error = str(info.pop("error", "") or "")
    restarts = int(info.pop("restarts", 0) or 0)
    retry_at = _timestamp(info.pop("retryAt", None))
    since = _timestamp(info.pop("since", None)) or datetime.now(timezone.utc)
    return ServiceStatus(name, state, detail, error, restarts, retry_at, since, info)


def _timestamp(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def age_seconds(document: dict[str, Any]) -> float | None:
    try:
        written = datetime.fromisoformat(document["writtenAt"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(0.0, time.time() - written.timestamp())
