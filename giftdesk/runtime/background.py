"""``Runtime``: the background runtime's services, lanes and clients (see ``giftdesk.runtime``)."""

from __future__ import annotations

import importlib
import logging

from typing import TypeVar

from giftdesk.docker.clients import DockerClients
from giftdesk.runtime.clients import HttpClients
from giftdesk.runtime.lanes import LaneExecutor
from giftdesk.runtime.scheduler import Scheduler
from giftdesk.core.service import Service, ServiceStatus
from giftdesk.runtime.supervisor import Supervisor

log = logging.getLogger("giftdesk.runtime")  # the name it has always logged under

# Features that plug services or schedules in: "module:function", each ``install(runtime)``. An
# install leaves its live part with ``runtime.install_feature(name, part)``; the front ends find it
# with ``runtime.feature(name, kind)``.
FEATURES: list[str] = [
    "giftdesk.fleet.runtime:install",  # fleet watcher, tracker probe, stats sampler, schedules, backend recovery
    "giftdesk.fampage.runtime:install",  # order status sync, balance check
    "giftdesk.system.runtime:install",  # scheduled backups
    "giftdesk.alerts.runtime:install",  # alert rules held against the bus's events, notifications
    "giftdesk.feed.service:install",  # the change feed: other consoles' changes on the event bus
]

__all__ = ["Runtime", "FEATURES"]

T = TypeVar("T")


class Runtime:
    def __init__(self, desk, *, endpoint: bool = True, docker: bool = True, features: bool = True,
                 endpoint_overrides=None, on_endpoint_listening=None, max_jobs: int = 6, kind: str = "window",
                 owner_wait_s: float | None = None, jobs: LaneExecutor | None = None):
        """``owner_wait_s``: how long ``start`` waits for another owner to let go (a window handing over).
        ``jobs``: the process's job lanes when a front end has them already (the window's): then what
        the schedules do to an instance or an order queues behind what a person started on it."""
        from giftdesk.runtime.docker_monitor import DockerMonitorService
        from giftdesk.runtime.endpoint_service import EndpointService
        from giftdesk.core.context import Actor

        # Background work acts as the console itself, whoever is logged in to the window
        # (a viewer's window still syncs orders and restarts trackers on schedule).
        self.desk = desk.as_actor(Actor("giftdesk-runtime", "admin"))
        desk = self.desk
        desk.attach_runtime(self)  # the runtime's own desk: its services use this runtime's clients
        self._features: dict[str, object] = {}
        self.supervisor = Supervisor(desk.events)
        self._own_jobs = jobs is None  # the window's lanes are the window's to shut down
        self.jobs = jobs if jobs is not None else LaneExecutor(max_jobs, name="runtime-job")
        self.scheduler = self.supervisor.add(Scheduler())
        self.docker = DockerClients(lambda: str(desk.settings.get("docker.host") or ""))
        self.http = HttpClients()
        self.endpoint: EndpointService | None = None
        self.docker_monitor: DockerMonitorService | None = None
        self._started = False
        self._owner_wait_s = owner_wait_s
        from giftdesk.runtime.status_file import StatusFileWriter
        from giftdesk.core.events import ServiceStatusChanged

        from giftdesk.runtime.ownership import OwnerLock

        self._owner_lock = OwnerLock(desk.paths.root)
        self._status_file = StatusFileWriter(desk.paths.root, self.statuses, kind)
        self._unsubscribe_status = desk.events.subscribe(ServiceStatusChanged, self._status_file.mark)
        if endpoint:
            self.endpoint = self.supervisor.add(EndpointService(desk, endpoint_overrides, on_endpoint_listening))
            self.endpoint._restart = lambda: self.supervisor.restart("endpoint")
        if docker:
            self.docker_monitor = self.supervisor.add(DockerMonitorService(desk))
        if features:
            for spec in FEATURES:
                module, _, function = spec.partition(":")
                try:
                    getattr(importlib.import_module(module), function)(self)
                except Exception:  # one broken feature must not keep the endpoint down
                    log.exception("Feature %s could not be installed", spec)

    def install_feature(self, name: str, feature: object) -> None:
        """What a feature's ``install`` leaves for the front ends (the fleet's live state, say)."""
        self._features[name] = feature

    def feature(self, name: str, kind: type[T]) -> T | None:
        """The installed feature ``name`` when it is a ``kind``; None when it is not installed."""
        found = self._features.get(name)
        return found if isinstance(found, kind) else None

    @property
    def fleet(self):
        """The fleet's live part (``giftdesk.fleet.runtime.FleetRuntime``) when installed, else None."""
        return self._features.get("fleet")

    def endpoint_port(self) -> int | None:
        """The port the tracker endpoint listens on; None when it does not run here."""
        if self.endpoint is None:
            return None
        return self.supervisor.status("endpoint").info.get("port")

    def add(self, service: Service) -> Service:
        """Supervise a feature's service; started at once when the runtime already runs."""
        return self.supervisor.add(service, start=self._started)

    def start(self) -> None:
        """Raises RuntimeOwnedElsewhere when another process runs this data directory's runtime."""
        from giftdesk.runtime.ownership import RuntimeOwnedElsewhere
        from giftdesk.runtime.status_file import read_runtime_status

        root = self.desk.paths.root
        wait = {} if self._owner_wait_s is None else {"grace_s": self._owner_wait_s}
        if not self._owner_lock.acquire(**wait):
            raise RuntimeOwnedElsewhere(root, read_runtime_status(root))
        self._started = True
        self._status_file.start()
        self.supervisor.start()

    def statuses(self) -> list[ServiceStatus]:
        return self.supervisor.statuses()

    def stop(self, timeout: float = 15.0) -> list[str]:
        """Orderly and bounded: services newest first (the endpoint answers writes in flight and
        flushes last-access times), then jobs, then the clients. Returns services that hung."""
        was_started, self._started = self._started, False
        hung = self.supervisor.stop(timeout) if was_started else []
        self._unsubscribe_status()
        if was_started:
            self._status_file.stop()
        if self._own_jobs:
            self.jobs.shutdown(wait=True, timeout=min(5.0, timeout))
        for name in self.supervisor.names():
            close = getattr(self.supervisor.get(name), "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("Closing %s failed", name)
        self.docker.close()
        self.http.close()
        self._owner_lock.release()  # last: whoever waits for it finds everything stopped and flushed
        return hung
