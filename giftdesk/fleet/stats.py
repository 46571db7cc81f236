"""Stats of running trackers, sampled in the background only while a view asks for them.

One-shot samples (no stream per container: streams keep dockerd busy), ``STATS_CONCURRENCY``
at a time (dockerd's collector ticks once a second and a one-shot call waits for the next tick,
so the calls mostly wait: a round of N takes about N / STATS_CONCURRENCY seconds); CPU % and
network rates from the previous sample we kept (a one-shot sample has no ``precpu_stats``),
memory without the inactive file cache, as the docker CLI computes them.

One sampler per engine, each with its own pool and only its engine's trackers: an engine that
answers slowly, or not at all, holds up no other engine's round.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from giftdesk.docker.stats import StatsSample, compute_stats
from giftdesk.fleet.events import InstanceStatsSampled
from giftdesk.core.service import InFlight, Service

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 2.0
STATS_CONCURRENCY = 16


class FleetStatsSampler(Service):
    name = "fleet-stats"

    def __init__(self, desk, fleet, live, interval: float = STATS_INTERVAL_S, concurrency: int = STATS_CONCURRENCY,
                 engine: str = ""):
        """``engine``: the named engine whose trackers this sampler samples ('' the local one)."""
        super().__init__()
        self.desk = desk
        self.fleet = fleet
        self.live = live
        self.interval = interval
        self.engine = engine
        if engine:
            self.name = f"fleet-stats-{engine}"
        self._previous: dict[tuple[int, str], StatsSample] = {}  # per container: a restart starts afresh
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix=self.name)
        self._wake = threading.Event()
        self.rounds = 0  # sampling rounds made
        self.idle_looks = 0  # times it looked and found no view asking (tests count on both)
        self._asking = InFlight()

    @property
    def asking(self) -> int:
        """Samples asked of the engine and not answered yet."""
        return self._asking.count

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            targets = self.targets()
            if not targets:
                away = self.live.engine_away(self.engine)
                self.report("running", "paused: waiting for the engine to answer" if away
                            else "idle: no view shows stats of this engine's trackers")
                self.idle_looks += 1
                self._previous.clear()
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            started = time.monotonic()
            self.report("running", f"sampling {len(targets)} tracker{'s' if len(targets) != 1 else ''}")
            self.sample(targets)
            self.rounds += 1
            rest = self.interval - (time.monotonic() - started)
            if rest > 0:
                stop.wait(rest)

    def wake(self) -> None:
        self._wake.set()

    def interrupt(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def targets(self) -> list[int]:
        """The trackers whose stats this sampler's engine gives (a Swarm task's: its node's engine)
        that a view asks stats of; none while its watcher cannot reach a named engine (the calls
        would only wait out their timeout)."""
        if self.live.engine_away(self.engine):
            return []
        return [i for i in self.live.stats_targets() if _stats_engine(self.live.get(i)) == self.engine]

    def sample(self, instance_ids: list[int]) -> None:
        futures = [self._pool.submit(self._sample_one, i) for i in instance_ids]
        for future in futures:
            try:
                future.result()
            except Exception:
                log.debug("A stats sample failed", exc_info=True)

    def _sample_one(self, instance_id: int) -> None:
        live = self.live.get(instance_id)
        if not live.container_id or live.state != "running":
            return
        with self._asking:
            raw = self.fleet.docker_for(_stats_engine(live)).stats_once(live.container_id)
        key = (instance_id, live.container_id)
        sample = compute_stats(raw, self._previous.get(key))
        if sample.read_at is None:
            # A container stopping under the call answers with the zero time and no figures:
            # not a reading (it would show 0 MiB and lose the counters the next rate needs).
            return
        self._previous[key] = sample
        self.live.update(instance_id, cpu_percent=sample.cpu_percent, memory_bytes=sample.memory_bytes,
                         memory_limit=sample.memory_limit, net_rx=sample.net_rx, net_tx=sample.net_tx,
                         net_rx_rate=sample.net_rx_rate, net_tx_rate=sample.net_tx_rate)
        self.desk.events.publish(InstanceStatsSampled(instance_id, sample.cpu_percent, sample.memory_bytes,
                                                      sample.memory_limit, sample.net_rx, sample.net_tx, sample.at,
                                                      sample.net_rx_rate, sample.net_tx_rate))


def _stats_engine(live) -> str:
    return live.stats_engine if live.stats_engine is not None else live.engine
