"""The window's thin adapter over the background runtime: starts it, shows its state, stops it.

The runtime (giftdesk.runtime) runs the endpoint, the Docker monitor, the scheduler and the
features' services on its own threads; this only turns their status events (coalesced by the
bridge, at most one batch per frame) into Qt signals the status bar and tabs connect to.

When another process (``giftdesk serve``) already runs this data directory's runtime, the window
attaches instead: it starts nothing and shows that runtime's state from ``runtime.json``, read
again every second; once that process is gone the window runs the runtime itself. While attached
it still follows the change feed (a reader, not an owner), so the serve's changes and every other
console's reach its views.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from giftdesk.docker.state import DockerState
from giftdesk.runtime.docker_monitor import DockerStateChanged
from giftdesk.core.service import ServiceStatus
from giftdesk.core.events import ServiceStatusChanged

log = logging.getLogger(__name__)

ATTACHED_REFRESH_MS = 1000


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
        self.attached_to: dict | None = None  # the other process's runtime.json while attached
        self._attached_timer: QTimer | None = None
        self._attached_feed = None  # a Supervisor running only the change feed, while attached
        self.handed_over_to = None  # giftdesk.runtime.detached.Started once a serve took the runtime over
        ctx.bridge.subscribe_batch(ServiceStatusChanged, self._on_statuses, owner=self)
        ctx.bridge.subscribe(DockerStateChanged, self._on_docker, owner=self)

    def start(self) -> None:
        if self.runtime is not None or self.attached_to is not None:
            return
        from giftdesk.runtime.ownership import RuntimeOwnedElsewhere, runtime_owned

        desk = self.ctx.desk
        if desk.runtime is None and runtime_owned(desk.paths.root):
            self._attach()
            return
        if desk.runtime is None:
            from giftdesk.runtime import Runtime

            # One set of job lanes in the window's process: a scheduled stop waits for a person's edit.
            desk.attach_runtime(self._factory(desk) if self._factory else Runtime(desk, jobs=self.ctx.runner.executor))
        runtime = desk.runtime
        try:
            runtime.start()
        except RuntimeOwnedElsewhere:  # a serve started between the look above and now
            runtime.stop()
            desk.attach_runtime(None)
            self._attach()
            return
        self.runtime = runtime
        for status in self.runtime.statuses():
            self.statuses[status.name] = status

    # ---- attached to another process's runtime -----------------------------------------------
    def _attach(self) -> None:
        self.attached_to = {}
        if self._attached_feed is None:
            from giftdesk.feed.service import ChangeFeedService
            from giftdesk.runtime.supervisor import Supervisor

            desk = self.ctx.desk
            self._attached_feed = Supervisor(desk.events)
            self._attached_feed.add(ChangeFeedService(desk.db, desk.events))
            self._attached_feed.start()
        if self._attached_timer is None:
            self._attached_timer = QTimer(self)
            self._attached_timer.setInterval(ATTACHED_REFRESH_MS)
            self._attached_timer.timeout.connect(self._refresh_attached)
        self._attached_timer.start()
        self._refresh_attached()

    def _refresh_attached(self) -> None:
        from giftdesk.runtime.ownership import describe_owner, runtime_owned
        from giftdesk.runtime.status_file import read_runtime_status, status_from_json

        root = self.ctx.desk.paths.root
        owner = read_runtime_status(root)
        if owner is None and not runtime_owned(root):  # that process is gone: the window takes over
            self._attached_timer.stop()
            self.attached_to = None
            self._stop_attached_feed()  # the window's own runtime follows the feed from here
            self.start()
            return
        if owner is None:
            return  # still starting: it describes itself within a second
        self.attached_to = owner
        served_by = describe_owner(owner)
        for document in owner.get("services") or []:
            status = status_from_json(document)
            status.info["servedBy"] = served_by
            self.statuses[status.name] = status
            self.status_changed.emit(status)
            if status.name == "endpoint":
                self.endpoint_changed.emit(status)
            if status.name == "docker" and status.info.get("reachable") is not None:
                state = DockerState(bool(status.info["reachable"]), str(status.info.get("host") or ""),
                                    str(status.info.get("version") or ""), error=status.error or status.detail)
                if state != self.docker_state:
                    self._on_docker(DockerStateChanged(state))

    def _stop_attached_feed(self) -> None:
        feed, self._attached_feed = self._attached_feed, None
        if feed is not None:
            hung = feed.stop(timeout=5)
            if hung:
                log.error("The change feed did not stop in time")

    def status(self, name: str) -> ServiceStatus | None:
        return self.statuses.get(name)

    def stop(self, hand_over: bool = False) -> None:
        """At quit, before the Desk closes: the endpoint answers writes in flight and flushes.
        ``hand_over``: a detached serve takes the runtime over if the keep-running setting says so."""
        if self.attached_to is not None:
            self._attached_timer.stop()
            self.attached_to = None
        self._stop_attached_feed()
        runtime, self.runtime = self.runtime, None
        if runtime is None:
            return
        if hand_over and self._hand_over(runtime):
            hung = []
        else:
            hung = runtime.stop()
        if hung:
            log.error("Background services did not stop in time: %s", ", ".join(hung))
        if self.ctx.desk.runtime is runtime:
            self.ctx.desk.attach_runtime(None)

    def _hand_over(self, runtime) -> bool:
        """Whether a detached serve took the runtime over (which is then stopped here either way)."""
        from giftdesk.core.errors import GiftDeskError
        from giftdesk.runtime.handover import hand_over, keep_running_wanted

        desk = self.ctx.desk
        try:
            if not keep_running_wanted(desk):
                return False
            self.handed_over_to = hand_over(desk, runtime)
        except (GiftDeskError, OSError) as exc:
            log.error("The trackers' backend could not be handed over to giftdesk serve: %s", exc)
        return True

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
    if info.get("servedBy"):
        label += f" ({str(info['servedBy']).split(' (')[0]})"
    lines = [f"The tracker endpoint listens on {status.detail}:"] + [f"  {a}" for a in info.get("addresses", [])]
    if info.get("servedBy"):
        lines.insert(0, f"Run by {info['servedBy']}; this window shows its state.")
    if info.get("advertisedUrl"):
        lines.append(f"Trackers are told to call {info['advertisedUrl']}")
    return label, "\n".join(lines), False


def _short(message: str) -> str:
    lowered = (message or "").lower()
    if "in use" in lowered or "address already" in lowered or "taken" in lowered:
        return "port in use"
    first = (message or "error").split("\n", 1)[0]
    return first if len(first) <= 40 else first[:39] + "…"
