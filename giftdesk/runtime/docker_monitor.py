"""Watches whether the Docker engine answers: a probe every few seconds, at once on a host change.

Publishes ``DockerStateChanged`` when the answer changes; the status bar, ``giftdesk status`` and
the Instances tab's banner read it. The fleet watcher (event stream) builds on the same clients.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

from giftdesk.docker.state import DockerEngine, DockerState
from giftdesk.core.service import Service
from giftdesk.core.events import Event, SettingsChanged

log = logging.getLogger(__name__)
PROBE_INTERVAL_S = 10.0


@dataclass(frozen=True)
class DockerStateChanged(Event):
    state: DockerState


class DockerMonitorService(Service):
    name = "docker"

    def __init__(self, desk, interval: float = PROBE_INTERVAL_S):
        super().__init__()
        self.desk = desk
        self.interval = interval
        self.state = DockerState(None)
        self._wake = threading.Event()
        self._unsubscribe = desk.events.subscribe(SettingsChanged, self._on_settings)

    def probe_now(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        engine: DockerEngine | None = None
        try:
            while not stop.is_set():
                host = str(self.desk.settings.get("docker.host") or "").strip()
                if engine is None or engine.host != host:
                    if engine is not None:
                        engine.close()
                    engine = DockerEngine(host)
                state = self._with_named_engines(engine.probe())
                if state != self.state:
                    self.state = state
                    self.desk.events.publish(DockerStateChanged(state))
                self.report("running", state.label.removeprefix("Docker: "), reachable=state.reachable,
                            host=state.host, version=state.version)
                self._wake.clear()
                deadline = self.interval
                while deadline > 0 and not stop.is_set() and not self._wake.is_set():
                    stop.wait(min(0.25, deadline))
                    deadline -= 0.25
        finally:
            if engine is not None:
                engine.close()

    def _with_named_engines(self, state: DockerState) -> DockerState:
        """The local engine's state, with how many engines there are and which do not answer."""
        try:
            named = self.desk.fleet.engines.named_reachability()
        except Exception:  # the registry cannot be read now: the local engine's state alone
            log.debug("The named engines could not be asked", exc_info=True)
            return state
        if not named:
            return state
        down = tuple(sorted(name for name, why in named.items() if why))
        return replace(state, engines=1 + len(named),
                       unreachable_engines=(("local",) if state.reachable is False else ()) + down)

    def interrupt(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._unsubscribe()

    def _on_settings(self, event: SettingsChanged) -> None:
        if "docker.host" in event.keys:
            self._wake.set()
