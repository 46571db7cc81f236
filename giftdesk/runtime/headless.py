"""``giftdesk serve``: the runtime without Qt, until SIGINT or SIGTERM.

Runs the same services the window runs (endpoint, Docker monitor, scheduler and every
installed feature: fleet watcher, order sync, instance schedules), prints where the endpoint
listens once, and stops in order on a signal.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from giftdesk.core.errors import ServiceUnavailableError
from giftdesk.runtime import Runtime
from giftdesk.runtime.endpoint_service import EndpointOverrides
from giftdesk.core.storage import write_text_whole

log = logging.getLogger(__name__)

LISTEN_TIMEOUT_S = 15.0


def serve(desk, *, port: int | None = None, bind: str | None = None, hosts=None,
          rate_limit_per_minute: float | None = None, port_file: str | os.PathLike | None = None,
          stop_event: threading.Event | None = None, out=None, inherited_fds: dict[str, int] | None = None,
          owner_wait_s: float | None = None) -> int:
    """``inherited_fds``: listening sockets (host -> descriptor) a closing window handed over; the
    runtime then waits up to ``owner_wait_s`` for that window to let go of the data directory."""
    out = out or sys.stdout
    stop_event = stop_event or threading.Event()
    listening = threading.Event()

    def announce(server, advertised: str) -> None:
        where = ", ".join(f"{host}:{bound}" for host, bound in server.addresses)
        print(f"Tracker endpoint listening on {where}", file=out)
        print(f"Trackers use BACKEND_API_URL={advertised}", file=out, flush=True)
        if port_file:
            write_text_whole(Path(port_file), f"{server.port}\n")
        listening.set()

    inherited = None
    if inherited_fds:
        import socket

        inherited = {host: socket.socket(fileno=fd) for host, fd in inherited_fds.items()}
        for sock in inherited.values():
            sock.setblocking(False)
    overrides = EndpointOverrides(port, bind, hosts, rate_limit_per_minute, force_enabled=True,
                                  inherited_sockets=inherited)
    runtime = Runtime(desk, endpoint_overrides=overrides, on_endpoint_listening=announce, kind="serve",
                      owner_wait_s=owner_wait_s)
    desk.attach_runtime(runtime)
    from giftdesk.runtime.docker_monitor import DockerStateChanged

    stop_engine_news = runtime.desk.events.subscribe(DockerStateChanged, EngineNews(out))
    previous = _install_stop_signals(stop_event)
    try:
        runtime.start()
        # Everything loaded so far lives as long as the process: out of the cyclic GC's way, a full
        # collection no longer walks it (on a slow machine that walk stalled the endpoint's loop ~0.2 s).
        gc.freeze()
        # The first start decides: a port that is taken is an error for `serve`, not a retry loop.
        deadline = time.monotonic() + LISTEN_TIMEOUT_S
        while not listening.is_set() and not stop_event.is_set():
            status = runtime.supervisor.status("endpoint")
            if status.state == "backoff":
                raise ServiceUnavailableError(status.error)
            if time.monotonic() > deadline:
                raise ServiceUnavailableError("The tracker endpoint did not start listening in time.")
            listening.wait(0.05)
        names = ", ".join(s.name for s in runtime.statuses())
        log.info("giftdesk serve running: %s", names)
        while not stop_event.wait(0.5):
            pass
        return 0
    finally:
        _restore_signals(previous)
        stop_engine_news()
        hung = runtime.stop()
        desk.attach_runtime(None)
        if hung:
            print(f"giftdesk: these background services did not stop in time: {', '.join(hung)}", file=sys.stderr)


class EngineNews:
    """Prints and logs once when the Docker engine goes away and once when it answers again (the
    monitor's state events; not every probe)."""

    def __init__(self, out):
        self.out = out
        self.reachable: bool | None = None

    def __call__(self, event) -> None:
        reachable = event.state.reachable
        if reachable is None or reachable == self.reachable:
            return
        was, self.reachable = self.reachable, reachable
        if not reachable:
            message = f"Docker engine lost: {event.state.error or 'it does not answer'}"
            log.warning(message)
        elif was is False:
            message = "Docker engine reconnected"
            log.info(message)
        else:
            return  # reachable from the start: nothing to report
        print(message, file=self.out, flush=True)


def _install_stop_signals(stop_event: threading.Event) -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, lambda *_: stop_event.set())
    return previous


def _restore_signals(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
