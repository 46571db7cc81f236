"""Plugs the fleet into the background runtime (``giftdesk.runtime.FEATURES``).

``install(runtime)`` adds the watcher (event stream), the probe (``/api/state``), the stats
sampler (idle unless a view asks), the instance schedules and the backend recovery (restarts
trackers that started while the endpoint was down, ``fleet/backend_recovery.py``), and installs a ``FleetRuntime``
as the runtime's "fleet" feature: the window and ``giftdesk serve`` read live state from it.
They all work with the runtime desk's one ``FleetService`` (``runtime.desk.fleet``). Operations a killed
process left half-done are recovered when the watcher first reaches the engine (and again after
each reconnect): its reconcile runs ``FleetService.recover`` first.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from giftdesk.fleet.events import EnginesChanged, InstancesChanged
from giftdesk.fleet.backend_recovery import ENDPOINT_SERVICE, BackendRecovery
from giftdesk.fleet.live import FleetLive
from giftdesk.fleet.probe import FleetProbe
from giftdesk.fleet.schedules import FleetSchedules
from giftdesk.fleet.service import FleetService
from giftdesk.fleet.stats import FleetStatsSampler
from giftdesk.fleet.watcher import FleetWatcher


log = logging.getLogger(__name__)
FEATURE = "fleet"


@dataclass
class FleetRuntime:
    service: FleetService
    live: FleetLive
    watcher: FleetWatcher
    probe: FleetProbe
    stats: FleetStatsSampler
    schedules: FleetSchedules
    recovery: BackendRecovery | None = None
    engine_watchers: dict[str, FleetWatcher] = field(default_factory=dict)  # the named engines'


def install(runtime, probe_interval: float | None = None, stats_interval: float | None = None,
            probe_grace: float | None = None, recovery_grace: float | None = None) -> FleetRuntime | None:
    if runtime.docker_monitor is None:  # a runtime without Docker (Runtime(docker=False))
        return None
    desk = runtime.desk
    service = desk.fleet
    live = FleetLive()
    watcher = FleetWatcher(desk, service, live)
    options = {k: v for k, v in (("interval", probe_interval), ("grace", probe_grace)) if v is not None}
    probe = FleetProbe(desk, service, live, runtime.http, **options)
    stats = FleetStatsSampler(desk, service, live, **({"interval": stats_interval} if stats_interval else {}))
    schedules = FleetSchedules(desk, service, runtime.scheduler, runtime.jobs)
    recovery = None
    if runtime.endpoint is not None:  # only where this process runs the endpoint trackers call
        recovery = BackendRecovery(desk, service, runtime.jobs, lambda: _endpoint_running(runtime),
                                   **({"grace": recovery_grace} if recovery_grace is not None else {}))
    # Each named engine has a watcher of its own: one that does not answer holds up no other.
    engine_watchers = {row.name: FleetWatcher(desk, service, live, engine=row.name)
                       for row in service.engines.list_engines() if not row.local}
    for item in (watcher, *engine_watchers.values(), probe, stats, recovery):
        if item is not None:
            runtime.add(item)
    schedules.sync()
    fleet = FleetRuntime(service, live, watcher, probe, stats, schedules, recovery, engine_watchers)
    _follow_new_engines(runtime, fleet)
    runtime.install_feature(FEATURE, fleet)
    return fleet


def _follow_new_engines(runtime, fleet: FleetRuntime) -> None:
    """An engine added while the runtime runs gets its watcher at once (here, or, when another
    process added it, with the first change to the instances). A removed engine's watcher stays,
    trying with its longest pause, and carries on if the name comes back."""
    lock = threading.Lock()

    def sync(_event=None) -> None:
        try:
            names = [row.name for row in fleet.service.engines.list_engines() if not row.local]
        except Exception:
            log.warning("Could not read the engines to watch", exc_info=True)
            return
        with lock:
            for name in names:
                if name not in fleet.engine_watchers:
                    fleet.engine_watchers[name] = runtime.add(FleetWatcher(runtime.desk, fleet.service, fleet.live,
                                                                           engine=name))

    fleet.watcher.on_close += [runtime.desk.events.subscribe(EnginesChanged, sync),
                               runtime.desk.events.subscribe(InstancesChanged, sync)]


def _endpoint_running(runtime) -> bool:
    return runtime.supervisor.status(ENDPOINT_SERVICE).state == "running"


def fleet_of(desk) -> FleetRuntime | None:
    """The runtime's fleet when a runtime with the feature runs (window, serve), else None (CLI)."""
    return desk.runtime.feature(FEATURE, FleetRuntime) if desk.runtime is not None else None
