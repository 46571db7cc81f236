"""What the console knows about each instance right now, kept by the runtime's fleet services.

``FleetLive`` is one thread-safe table (instance id → ``LiveInstance``) that the watcher, the
probe and the stats sampler update and every view reads; each change is also published as a
typed event (coalesced per instance for the GUI).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

STATS_HISTORY = 450  # 15 minutes at one sample every 2 s


@dataclass(frozen=True)
class LiveInstance:
    instance_id: int
    name: str = ""
    container_id: str | None = None
    state: str | None = None
    exit_code: int | None = None
    started_at: datetime | None = None
    engine_health: str | None = None
    health: str = "none"  # healthy | unhealthy | starting | none
    live_status: str | None = None
    viewers: int | None = None
    gifts: int | None = None
    diamonds: int | None = None
    probe_error: str = ""
    cpu_percent: float | None = None
    memory_bytes: int | None = None
    memory_limit: int | None = None
    net_rx: int | None = None
    net_tx: int | None = None
    net_rx_rate: float | None = None  # bytes/s received, from the previous sample
    net_tx_rate: float | None = None
    engine: str = ""  # the named engine it runs on ('' the local one)
    stats_engine: str | None = None  # the engine holding ``container_id`` when not ``engine`` (a Swarm task's node)
    # A Swarm task's node's address when it is not ``engine``'s node: where a host-mode port answers.
    node_address: str | None = None

    @property
    def uptime_seconds(self) -> float | None:
        if self.state != "running" or self.started_at is None:
            return None
        return max(0.0, (datetime.now(timezone.utc) - self.started_at).total_seconds())

    def to_json(self) -> dict:
        return {"state": self.state, "exitCode": self.exit_code, "health": self.health,
                "engineHealth": self.engine_health, "liveStatus": self.live_status, "viewers": self.viewers,
                "gifts": self.gifts, "diamonds": self.diamonds, "cpuPercent": self.cpu_percent,
                "memoryBytes": self.memory_bytes, "memoryLimitBytes": self.memory_limit,
                "netRxBytes": self.net_rx, "netTxBytes": self.net_tx,
                "netRxRate": self.net_rx_rate, "netTxRate": self.net_tx_rate,
                "startedAt": self.started_at.isoformat() if self.started_at else None,
                "uptimeSeconds": self.uptime_seconds}


@dataclass
class StatsPoint:
    at: datetime
    cpu_percent: float | None
    memory_bytes: int
    net_rx_rate: float | None = None
    net_tx_rate: float | None = None


@dataclass
class FleetLive:
    _items: dict[int, LiveInstance] = field(default_factory=dict)
    _history: dict[int, deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stats_wanted: dict[object, tuple[int, ...] | None] = field(default_factory=dict)
    connection: str = "starting"  # connected | reconnecting | down | starting
    connection_detail: str = ""
    # The named engines' watchers: engine name -> (connected | reconnecting | starting, detail).
    engine_connections: dict[str, tuple[str, str]] = field(default_factory=dict)

    def engine_connection(self, engine: str) -> tuple[str, str]:
        """A named engine's watcher state and its detail ("starting" until the watcher has said)."""
        return self.engine_connections.get(engine, ("starting", ""))

    def engine_away(self, engine: str) -> bool:
        """Whether a named engine's watcher does not have it connected now: calls to it would only
        wait out their timeout ('' the local engine: never said here, its failure is the fleet's)."""
        return bool(engine) and self.engine_connection(engine)[0] != "connected"

    def get(self, instance_id: int) -> LiveInstance:
        with self._lock:
            return self._items.get(instance_id) or LiveInstance(instance_id)

    def all(self) -> dict[int, LiveInstance]:
        with self._lock:
            return dict(self._items)

    def update(self, instance_id: int, **changes) -> tuple[LiveInstance, LiveInstance]:
        """Returns (before, after)."""
        with self._lock:
            before = self._items.get(instance_id) or LiveInstance(instance_id)
            after = replace(before, **changes)
            self._items[instance_id] = after
            if "cpu_percent" in changes or "memory_bytes" in changes:
                history = self._history.setdefault(instance_id, deque(maxlen=STATS_HISTORY))
                history.append(StatsPoint(datetime.now(timezone.utc), after.cpu_percent, after.memory_bytes or 0,
                                          after.net_rx_rate, after.net_tx_rate))
            return before, after

    def forget(self, instance_id: int) -> None:
        with self._lock:
            self._items.pop(instance_id, None)
            self._history.pop(instance_id, None)

    def history(self, instance_id: int) -> list[StatsPoint]:
        with self._lock:
            return list(self._history.get(instance_id, ()))

    def running_ids(self) -> list[int]:
        with self._lock:
            return [i for i, item in self._items.items() if item.state == "running"]

    # ---- who wants stats (only sampled while a view shows them) ------------------------------
    def want_stats(self, owner: object, instance_ids: tuple[int, ...] | None = None) -> None:
        """``owner`` shows stats of these instances (None: every running one) until ``release_stats``."""
        with self._lock:
            self._stats_wanted[owner] = instance_ids

    def release_stats(self, owner: object) -> None:
        with self._lock:
            self._stats_wanted.pop(owner, None)

    def stats_targets(self) -> list[int]:
        with self._lock:
            if not self._stats_wanted:
                return []
            running = {i for i, item in self._items.items() if item.state == "running"}
            if any(ids is None for ids in self._stats_wanted.values()):
                return sorted(running)
            wanted = set().union(*(set(ids) for ids in self._stats_wanted.values() if ids))
            return sorted(wanted & running)
