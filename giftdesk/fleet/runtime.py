"""Plugs the fleet into the background runtime (``giftdesk.runtime.FEATURES``).

``install(runtime)`` adds the watcher (event stream), the probe (``/api/state``), the stats
sampler (idle unless a view asks) and the instance schedules, and installs a ``FleetRuntime``
as the runtime's "fleet" feature: the window and ``giftdesk serve`` read live state from it.
They all work with the runtime desk's one ``FleetService`` (``runtime.desk.fleet``). Operations a killed
process left half-done are recovered when the watcher first reaches the engine (and again after
each reconnect): its reconcile runs ``FleetService.recover`` first.
"""

from __future__ import annotations

from dataclasses import dataclass

from giftdesk.fleet.live import FleetLive
from giftdesk.fleet.probe import FleetProbe
from giftdesk.fleet.schedules import FleetSchedules
from giftdesk.fleet.service import FleetService
from giftdesk.fleet.stats import FleetStatsSampler
from giftdesk.fleet.watcher import FleetWatcher


FEATURE = "fleet"


@dataclass
class FleetRuntime:
    service: FleetService
    live: FleetLive
    watcher: FleetWatcher
    probe: FleetProbe
    stats: FleetStatsSampler
    schedules: FleetSchedules


def install(runtime, probe_interval: float | None = None, stats_interval: float | None = None,
            probe_grace: float | None = None) -> FleetRuntime | None:
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
    for item in (watcher, probe, stats):
        runtime.add(item)
    schedules.sync()
    fleet = FleetRuntime(service, live, watcher, probe, stats, schedules)
    runtime.install_feature(FEATURE, fleet)
    return fleet


def fleet_of(desk) -> FleetRuntime | None:
    """The runtime's fleet when a runtime with the feature runs (window, serve), else None (CLI)."""
    return desk.runtime.feature(FEATURE, FleetRuntime) if desk.runtime is not None else None
