"""``giftdesk serve --detach`` and ``giftdesk serve stop``: the runtime as a background process.

The detached serve runs in its own session (a closed terminal's SIGHUP does not reach it), reads
nothing (stdin is /dev/null) and writes into ``serve.log`` in the data directory. Starting returns
once its endpoint answers; stopping sends SIGTERM and waits until the runtime lock is free, which
is when the runtime has stopped in order (``Runtime.stop`` releases it last).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from giftdesk.core.errors import GiftDeskError, ServiceUnavailableError
from giftdesk.runtime.ownership import RuntimeOwnedElsewhere, endpoint_address, runtime_owned
from giftdesk.runtime.status_file import read_runtime_status

LOG_FILENAME = "serve.log"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
LOG_TAIL_LINES = 15

# The serve outlives its Popen on purpose: kept here, the Popen is not collected (and does not warn
# that its process still runs) while this process lives.
_OUTLIVING: list[subprocess.Popen] = []


class NoServeRunning(GiftDeskError):
    """``serve stop`` with nothing to stop: exit 1, as ``systemctl stop`` of a stopped unit would be an error."""


def giftdesk_command() -> list[str]:
    """How to run this very giftdesk again: the frozen bundle is its own interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "giftdesk"]


@dataclass
class Started:
    pid: int
    address: str
    log: Path


def start_detached(root: Path, serve_arguments: list[str], database_url: str | None = None,
                   timeout: float = READY_TIMEOUT_S) -> Started:
    """Starts ``giftdesk serve`` in the background and waits until its endpoint answers."""
    root = Path(root).resolve()
    if runtime_owned(root):
        raise RuntimeOwnedElsewhere(root, read_runtime_status(root))
    process = spawn_serve(root, serve_arguments, database_url)
    return wait_until_ready(process, root, timeout)


def spawn_serve(root: Path, serve_arguments: list[str], database_url: str | None = None,
                pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
    """``giftdesk serve`` in a session of its own, reading nothing, writing into serve.log."""
    log_path = root / LOG_FILENAME
    env = dict(os.environ)
    if database_url:  # in the environment, not the arguments: `ps` shows arguments to everyone
        env["GIFTDESK_DATABASE_URL"] = database_url
    command = [*giftdesk_command(), "serve", "--data-dir", str(root), *serve_arguments]
    options: dict[str, Any] = {}
    if sys.platform == "win32":  # pragma: no cover - Windows only
        options["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
        options["pass_fds"] = pass_fds
    with open(log_path, "ab") as log:
        log.write(f"\n--- giftdesk serve --detach at {time.strftime('%Y-%m-%d %H:%M:%S %z')} ---\n".encode())
        log.flush()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   env=env, close_fds=True, **options)
    _OUTLIVING.append(process)
    return process


def wait_until_ready(process: subprocess.Popen, root: Path, timeout: float = READY_TIMEOUT_S) -> Started:
    """Until the serve's runtime.json names it and its endpoint answers; stopped when it does not in time."""
    log_path = root / LOG_FILENAME
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise ServiceUnavailableError(f"giftdesk serve stopped at once (exit status {code}); "
                                          f"the end of {log_path}: {log_tail(log_path)}")
        owner = read_runtime_status(root)
        address = endpoint_address(owner) if owner and owner.get("pid") == process.pid else None
        if address and _answers(address):
            return Started(process.pid, address, log_path)
        if time.monotonic() > deadline:
            process.terminate()
            raise ServiceUnavailableError(f"giftdesk serve (pid {process.pid}) was not ready within {timeout:g} s "
                                          f"and was stopped; the end of {log_path}: {log_tail(log_path)}")
        time.sleep(0.1)


def stop_serve(root: Path, timeout: float = STOP_TIMEOUT_S) -> dict[str, Any]:
    """SIGTERM to the data directory's ``giftdesk serve``, then waits for the runtime lock to be free."""
    root = Path(root).resolve()
    owner = read_runtime_status(root)
    if not runtime_owned(root):
        raise NoServeRunning(f"No giftdesk serve runs on {root}.")
    if owner is None:
        raise NoServeRunning(f"The process running the background services of {root} is still starting "
                             "(runtime.json does not name it yet); try again in a moment.")
    if owner.get("kind") != "serve":
        raise NoServeRunning(f"No giftdesk serve runs on {root}: a GiftDesk window (pid {owner.get('pid')}) runs "
                             "its background services; closing the window stops them.")
    pid = int(owner["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass  # gone between the look and the signal: the wait below sees the lock free
    deadline = time.monotonic() + timeout
    while runtime_owned(root):
        if time.monotonic() > deadline:
            raise ServiceUnavailableError(f"giftdesk serve (pid {pid}) did not stop within {timeout:g} s; it still "
                                          f"runs. Its log: {root / LOG_FILENAME}; `kill -KILL {pid}` ends it at once.")
        time.sleep(0.1)
    for process in _OUTLIVING:  # a serve this process started: reaped, not left a zombie
        if process.pid == pid:
            try:
                process.wait(timeout=10)  # the lock is free: it is only closing its files
            except subprocess.TimeoutExpired:
                pass
    return {"stopped": True, "pid": pid, "startedAt": owner.get("startedAt")}


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    tail = [line for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(tail) or "(empty)"


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False
