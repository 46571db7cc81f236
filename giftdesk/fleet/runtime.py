"""Plugs the fleet into the background runtime (``giftdesk.runtime.FEATURES``).

``install(runtime)`` adds, for each engine, a watcher (event stream), a probe (``/api/state``) and a
stats sampler (idle unless a view asks), then the instance schedules and the backend recovery (restarts
trackers that started while the endpoint was down, ``fleet/backend_recovery.py``), and installs a ``FleetRuntime``
as the runtime's "fleet" feature: the window and ``giftdesk serve`` read live state from it.
They all work with the runtime desk's one ``FleetService`` (``runtime.desk.fleet``). Operations a killed
process left half-done are recovered when the watcher first reaches the engine (and again after
each reconnect): its reconcile runs ``FleetService.recover`` first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
    # The named engines' own (``watcher``, ``probe`` and ``stats`` are the local engine's).
    engine_watchers: dict[str, FleetWatcher] = field(default_factory=dict)
    engine_probes: dict[str, FleetProbe] = field(default_factory=dict)
    engine_samplers: dict[str, FleetStatsSampler] = field(default_factory=dict)
    make_probe: Callable[[str], FleetProbe] | None = None
    make_sampler: Callable[[str], FleetStatsSampler] | None = None

    def samplers(self) -> list[FleetStatsSampler]:
        return [self.stats, *list(self.engine_samplers.values())]

    def probes(self) -> list[FleetProbe]:
        return [self.probe, *list(self.engine_probes.values())]

    def wake_stats(self) -> None:
        """A view now shows stats: every engine's sampler looks at once, not after its idle pause."""
        for sampler in self.samplers():
            sampler.wake()


def install(runtime, probe_interval: float | None = None, stats_interval: float | None = None,
            probe_grace: float | None = None, recovery_grace: float | None = None,
            probe_timeout: float | None = None) -> FleetRuntime | None:
    if runtime.docker_monitor is None:  # a runtime without Docker (Runtime(docker=False))
        return None
    desk = runtime.desk
    service = desk.fleet
    live = FleetLive()
    watcher = FleetWatcher(desk, service, live)
    options = {k: v for k, v in (("interval", probe_interval), ("grace", probe_grace), ("timeout", probe_timeout))
               if v is not None}

    def make_probe(engine: str) -> FleetProbe:
        return FleetProbe(desk, service, live, runtime.http, engine=engine, **options)

    def make_sampler(engine: str) -> FleetStatsSampler:
        return FleetStatsSampler(desk, service, live, engine=engine,
                                 **({"interval": stats_interval} if stats_interval else {}))

    probe, stats = make_probe(""), make_sampler("")
    schedules = FleetSchedules(desk, service, runtime.scheduler, runtime.jobs)
    recovery = None
    if runtime.endpoint is not None:  # only where this process runs the endpoint trackers call
        recovery = BackendRecovery(desk, service, runtime.jobs, lambda: _endpoint_running(runtime),
                                   **({"grace": recovery_grace} if recovery_grace is not None else {}))
    # Each named engine has a watcher, a probe and a sampler of its own: one that does not answer
    # holds up no other.
    names = [row.name for row in service.engines.list_engines() if not row.local]
    engine_watchers = {name: FleetWatcher(desk, service, live, engine=name) for name in names}
    engine_probes = {name: make_probe(name) for name in names}
    engine_samplers = {name: make_sampler(name) for name in names}
    for item in (watcher, *engine_watchers.values(), probe, *engine_probes.values(), stats,
                 *engine_samplers.values(), recovery):
        if item is not None:
            runtime.add(item)
    schedules.sync()
    fleet = FleetRuntime(service, live, watcher, probe, stats, schedules, recovery, engine_watchers, engine_probes,
                         engine_samplers, make_probe, make_sampler)
    _follow_new_engines(runtime, fleet)
    runtime.install_feature(FEATURE, fleet)
    return fleet


def _follow_new_engines(runtime, fleet: FleetRuntime) -> None:
    """An engine added while the runtime runs gets its watcher, probe and sampler at once (here,
    or, when another process added it, with the first change to the instances). A removed engine's
    watcher stays, trying with its longest pause, and carries on if the name comes back; its
    probe and sampler find no trackers of it meanwhile."""
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
                if name not in fleet.engine_probes and fleet.make_probe is not None:
                    fleet.engine_probes[name] = runtime.add(fleet.make_probe(name))
                if name not in fleet.engine_samplers and fleet.make_sampler is not None:
                    fleet.engine_samplers[name] = runtime.add(fleet.make_sampler(name))

    fleet.watcher.on_close += [runtime.desk.events.subscribe(EnginesChanged, sync),
                               runtime.desk.events.subscribe(InstancesChanged, sync)]


def _endpoint_running(runtime) -> bool:
    return runtime.supervisor.status(ENDPOINT_SERVICE).state == "running"


def fleet_of(desk) -> FleetRuntime | None:
    """The runtime's fleet when a runtime with the feature runs (window, serve), else None (CLI)."""
    return desk.runtime.feature(FEATURE, FleetRuntime) if desk.runtime is not None else None
