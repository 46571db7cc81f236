"""The Swarm's service events for the fleet watcher, beside the container events.

Service events carry the service's id and name, not its labels, so they cannot share the
container stream's label filter: they come on a stream of their own, opened only when the
engine is a Swarm manager, and end with the container stream (the watcher reopens both).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from giftdesk.core.errors import GiftDeskError

log = logging.getLogger(__name__)


class ServiceEventFollower:
    """Reads one service event stream on a thread of its own, handing each event to ``on_event``."""

    def __init__(self, swarm, on_event: Callable[[dict], None], on_tick: Callable[[], None] | None = None,
                 tick_s: float = 5.0):
        self._swarm = swarm
        self._on_event = on_event
        self._on_tick = on_tick
        self._tick_s = tick_s
        self._stream = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stopped = threading.Event()

    def start(self) -> bool:
        """Subscribes (before the watcher's list, so nothing falls between); False when the engine
        is no Swarm manager (nothing to follow)."""
        try:
            if not self._swarm.role().manager:
                return False
            self._stream = self._swarm.open_service_events(since=None)
        except GiftDeskError as exc:
            log.debug("No service events: %s", exc)
            return False
        self._thread = threading.Thread(target=self._read, name="fleet-service-events", daemon=True)
        self._thread.start()
        if self._on_tick is not None:
            self._ticker = threading.Thread(target=self._tick, name="fleet-service-ticks", daemon=True)
            self._ticker.start()
        return True

    def _tick(self) -> None:
        """A task on another node sends no events here: ``on_tick`` looks again now and then."""
        while not self._stopped.wait(self._tick_s):
            try:
                self._on_tick()
            except Exception:
                log.warning("Looking at the Swarm services again failed", exc_info=True)

    def _read(self) -> None:
        stream = self._stream
        try:
            for event in stream:
                if event.get("Type") != "service":
                    continue
                try:
                    self._on_event(event)
                except Exception:
                    log.warning("Handling a service event failed", exc_info=True)
        except Exception:
            log.debug("The service event stream ended", exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        for thread in (self._thread, self._ticker):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=2)
        self._thread = self._ticker = None
