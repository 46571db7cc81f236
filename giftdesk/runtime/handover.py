"""A closing window hands its runtime over to a detached ``giftdesk serve``, no request refused.

The window starts the serve with its endpoint's listening sockets (inherited descriptors, so the
very same sockets and their queues), then stops its own runtime, which frees the data directory's
lock; the serve, waiting for that lock, starts the runtime on the inherited sockets. A tracker
connecting in between waits in the socket's queue instead of being refused.

Whether to: the ``runtime.keep_running`` setting, ``auto`` (the default) meaning once there is an
instance to keep serving.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from giftdesk.core.errors import GiftDeskError
from giftdesk.runtime.detached import READY_TIMEOUT_S, Started, spawn_serve, wait_until_ready

log = logging.getLogger(__name__)

SETTING = "runtime.keep_running"


def keep_running_wanted(desk) -> bool:
    choice = str(desk.settings.get(SETTING) or "auto")
    if choice != "auto":
        return choice == "on"
    try:
        return bool(desk.fleet.list())
    except GiftDeskError:  # the fleet cannot be read: the window's closing is not the time to find out why
        return False


def hand_over(desk, runtime, timeout: float = READY_TIMEOUT_S) -> Started | None:
    """Stops ``runtime`` with a detached serve taking over its endpoint's sockets; None when the
    runtime serves no endpoint to hand over (it is then just stopped). Raises when the serve fails."""
    endpoint = runtime.endpoint.server if runtime.endpoint is not None else None
    fds = endpoint.listening_fds() if endpoint is not None else {}
    if not fds or sys.platform == "win32":  # no descriptors to pass on Windows
        runtime.stop()
        return None
    root = Path(desk.paths.root).resolve()
    take_over = ",".join(f"{host}={fd}" for host, fd in fds.items())
    database_url = desk.db.engine.url.render_as_string(hide_password=False)  # the database this window uses
    try:
        process = spawn_serve(root, ["--take-over", take_over], database_url=database_url,
                              pass_fds=tuple(fds.values()))
    except OSError:
        runtime.stop()
        raise
    endpoint.stop_accepting()  # from here on the queued connections wait for the serve
    hung = runtime.stop()
    if hung:
        log.error("Background services did not stop in time: %s", ", ".join(hung))
    started = wait_until_ready(process, root, timeout)
    log.info("The trackers' backend keeps running in giftdesk serve (pid %s, %s)", started.pid, started.address)
    return started
