"""The window's thin adapter over the background runtime: starts it, shows its state, stops it.

The runtime (giftdesk.runtime) runs the endpoint, the Docker monitor, the scheduler and the
features' services on its own threads; this only turns their status events (coalesced by the
bridge, at most one batch per frame) into Qt signals the status bar and tabs connect to.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from giftdesk.docker.state import DockerState
from giftdesk.runtime.docker_monitor import DockerStateChanged
from giftdesk.core.service import ServiceStatus
from giftdesk.core.events import ServiceStatusChanged

log = logging.getLogger(__name__)


class RuntimeView(QObject):
    status_changed = Signal(object)  # ServiceStatus, any service
    endpoint_changed = Signal(object)  # ServiceStatus of "endpoint"
    docker_changed = Signal(object)  # DockerState

    def __init__(self, ctx, parent=None, runtime_factory=None):
        super().__init__(parent)
        self.ctx = ctx
        self._factory = runtime_factory
        self.runtime = None
        self.docker_state = DockerState(None)
        self.statuses: dict[str, ServiceStatus] = {}
        ctx.bridge.subscribe_batch(ServiceStatusChanged, self._on_statuses, owner=self)
        ctx.bridge.subscribe(DockerStateChanged, self._on_docker, owner=self)

    def start(self) -> None:
        if self.runtime is not None:
            return
        desk = self.ctx.desk
        if desk.runtime is None:
            from giftdesk.runtime import Runtime

            desk.attach_runtime((self._factory or Runtime)(desk))
        self.runtime = desk.runtime
        for status in self.runtime.statuses():
            self.statuses[status.name] = status
        self.runtime.start()

    def status(self, name: str) -> ServiceStatus | None:
        return self.statuses.get(name)

    def stop(self) -> None:
        """At quit, before the Desk closes: the endpoint answers writes in flight and flushes."""
        runtime, self.runtime = self.runtime, None
        if runtime is None:
            return
        hung = runtime.stop()
        if hung:
            log.error("Background services did not stop in time: %s", ", ".join(hung))
        if self.ctx.desk.runtime is runtime:
            self.ctx.desk.attach_runtime(None)

    def _on_statuses(self, events: list[ServiceStatusChanged]) -> None:
        for event in events:
            self.statuses[event.name] = event.status
            self.status_changed.emit(event.status)
            if event.name == "endpoint":
                self.endpoint_changed.emit(event.status)

    def _on_docker(self, event: DockerStateChanged) -> None:
        self.docker_state = event.state
        self.docker_changed.emit(event.state)


def endpoint_label(status: ServiceStatus | None) -> tuple[str, str, bool]:
    """(label, tooltip, is_error) for the status bar."""
    if status is None or status.state in ("stopped", "stopping"):
        return "Endpoint: off", "The tracker endpoint is not running.", False
    info = status.info
    if status.state == "off":
        return "Endpoint: off", "The tracker endpoint is turned off in File → Settings.", False
    if status.state == "starting":
        return "Endpoint: starting…", "Starting the tracker endpoint…", False
    if status.state == "backoff":
        reason = _short(status.error)
        retry = f" (retrying at {status.retry_at.astimezone():%H:%M:%S})" if status.retry_at else ""
        return (f"Endpoint: {reason}", f"The tracker endpoint could not start:\n{status.error}{retry}\n\n"
                "Change its port or address in File → Settings.", True)
    rate = info.get("requestsPerMinute")
    label = f"Endpoint: port {info.get('port')}" + (f", {rate} req/min" if rate is not None else "")
    lines = [f"The tracker endpoint listens on {status.detail}:"] + [f"  {a}" for a in info.get("addresses", [])]
    if info.get("advertisedUrl"):
        lines.append(f"Trackers are told to call {info['advertisedUrl']}")
    return label, "\n".join(lines), False


def _short(message: str) -> str:
    lowered = (message or "").lower()
    if "in use" in lowered or "address already" in lowered or "taken" in lowered:
        return "port in use"
    first = (message or "error").split("\n", 1)[0]
    return first if len(first) <= 40 else first[:39] + "…"
