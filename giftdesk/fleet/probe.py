"""The console's health check: the tracker's own ``GET /api/state`` (the image has no HEALTHCHECK).

healthy: it answered; starting: not yet, within the grace time after a start; unhealthy: it did
not answer twice in a row after that (or the engine's own health check says so); none: the
container is not running. The answer also carries the TikTok live status, viewers, gifts and
diamonds the table shows. ``connect``/``disconnect`` make the tracker join or leave the live.

One probe per engine, each with its own pool and only its engine's trackers: trackers on a host
that does not answer hold up no other engine's round. While its watcher cannot reach a named
engine, the probe asks none of its trackers and shows their health as not known ("none", as the
rows of an unreachable engine show it), not as unhealthy.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

from giftdesk.core.errors import ServiceUnavailableError, ValidationError
from giftdesk.fleet.events import InstanceAlert, InstanceProbed, InstanceStateChanged
from giftdesk.core.service import InFlight, Service

log = logging.getLogger(__name__)

PROBE_INTERVAL_S = 5.0
PROBE_TIMEOUT_S = 2.0
START_GRACE_S = 30.0
FAILURES_FOR_UNHEALTHY = 2
PROBE_CONCURRENCY = 8
LIVE_STATUSES = ("DISCONNECTED", "CONNECTING", "ONLINE", "OFFLINE")


@dataclass(frozen=True)
class TrackerState:
    live_status: str | None
    viewers: int | None
    gifts: int | None
    diamonds: int | None
    username: str | None = None
    error_count: int | None = None
    last_error: str | None = None

    def to_json(self) -> dict:
        return {"liveStatus": self.live_status, "viewers": self.viewers, "gifts": self.gifts,
                "diamonds": self.diamonds, "username": self.username, "errorCount": self.error_count,
                "lastError": self.last_error}


def read_state(client, base_url: str, timeout: float = PROBE_TIMEOUT_S) -> TrackerState:
    """One ``GET /api/state``; raises ServiceUnavailableError with the reason when it fails."""
    import httpx

    try:
        response = client.get(f"{base_url}/api/state", timeout=timeout)
    except httpx.HTTPError as exc:
        raise ServiceUnavailableError(f"the tracker did not answer ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise ServiceUnavailableError(f"the tracker answered HTTP {response.status_code}")
    try:
        stats = (response.json() or {}).get("stats") or {}
    except ValueError:
        raise ServiceUnavailableError("the tracker's /api/state is not JSON") from None
    status = stats.get("liveStatus")
    return TrackerState(status if status in LIVE_STATUSES else (str(status) if status else None),
                        _int(stats.get("liveViewers")), _int(stats.get("totalGifts")),
                        _int(stats.get("totalDiamonds")), stats.get("username"), _int(stats.get("errorCount")),
                        stats.get("lastError"))


def send_live_command(client, base_url: str, command: str) -> dict:
    """POST /api/connect or /api/disconnect (the tracker allows one call a second)."""
    import httpx

    if command not in ("connect", "disconnect"):
        raise ValidationError("The command is connect or disconnect.")
    try:
        response = client.post(f"{base_url}/api/{command}", timeout=10.0)
    except httpx.HTTPError as exc:
        raise ServiceUnavailableError(f"The tracker did not answer ({type(exc).__name__}); is it running?") from exc
    if response.status_code == 429:
        raise ServiceUnavailableError("The tracker takes one connect or disconnect a second; try again in a moment.")
    if response.status_code >= 400:
        raise ServiceUnavailableError(f"The tracker refused the {command}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        return {}


def classify(answered: bool, failures: int, started_at: datetime | None, state: str | None,
             engine_health: str | None, now: datetime | None = None, grace: float = START_GRACE_S) -> str:
    if state != "running":
        return "none"
    if engine_health == "unhealthy":
        return "unhealthy"
    if answered:
        return "healthy"
    now = now or datetime.now(timezone.utc)
    if started_at is not None and (now - started_at).total_seconds() < grace:
        return "starting"
    return "unhealthy" if failures >= FAILURES_FOR_UNHEALTHY else "starting"


ENGINE_AWAY = "its Docker engine does not answer: health not known"


class FleetProbe(Service):
    name = "fleet-probe"

    def __init__(self, desk, fleet, live, http, interval: float = PROBE_INTERVAL_S, grace: float = START_GRACE_S,
                 engine: str = "", timeout: float = PROBE_TIMEOUT_S):
        """``engine``: the named engine whose trackers this probe asks ('' the local one)."""
        super().__init__()
        self.grace = grace
        self.desk = desk
        self.fleet = fleet
        self.live = live
        self.http = http
        self.interval = interval
        self.timeout = timeout
        self.engine = engine
        if engine:
            self.name = f"fleet-probe-{engine}"
        self._failures: dict[int, int] = {}
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(PROBE_CONCURRENCY, thread_name_prefix=self.name)
        self._unsubscribe = desk.events.subscribe(InstanceStateChanged, self._on_state)
        self.rounds = 0  # probe rounds made (tests count on it)
        self._asking = InFlight()

    @property
    def asking(self) -> int:
        """Trackers asked and not answered yet."""
        return self._asking.count

    def _on_state(self, event: InstanceStateChanged) -> None:
        if self.live.get(event.instance_id).engine != self.engine:
            return  # the probe of the engine it runs on sees to it
        if event.state == "running":
            self._failures.pop(event.instance_id, None)
            self._wake.set()
        elif event.state in ("exited", "missing", "restarting", "dead", "removed"):
            before, after = self.live.update(event.instance_id, health="none", live_status=None)
            if before.health != "none":
                self.desk.events.publish(InstanceProbed(event.instance_id, "none"))

    def run(self, stop: threading.Event) -> None:
        shown = None
        while not stop.is_set():
            detail = ("paused: waiting for the engine to answer" if self.live.engine_away(self.engine)
                      else "probing trackers' /api/state")
            if detail != shown:
                self.report("running", detail)
                shown = detail
            self.probe_all()
            self._wake.clear()
            deadline = time.monotonic() + self.interval
            while not stop.is_set() and not self._wake.is_set() and time.monotonic() < deadline:
                stop.wait(min(0.2, self.interval))
            if self._wake.is_set() and not stop.is_set():
                stop.wait(0.5)  # let a fresh tracker bind its port

    def interrupt(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._unsubscribe()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def probe_all(self) -> None:
        rows = {row.id: row for row in self.fleet.list() if row.engine == self.engine}
        targets = [i for i in self.live.running_ids() if i in rows]
        if self.live.engine_away(self.engine):
            for instance_id in targets:
                self._health_not_known(instance_id)
            self.rounds += 1
            return
        for future in [self._pool.submit(self.probe_one, rows[i]) for i in targets]:
            try:
                future.result()
            except Exception:
                log.exception("Probing a tracker failed")
        self.rounds += 1

    def _health_not_known(self, instance_id: int) -> None:
        """Its engine does not answer: no call (it would only wait out its timeout), no failure
        counted (the host is away, not the tracker), and no health shown rather than an old one."""
        self._failures.pop(instance_id, None)
        before, after = self.live.update(instance_id, health="none", probe_error=ENGINE_AWAY)
        if before.health != "none":
            self.desk.events.publish(InstanceProbed(instance_id, "none", after.live_status, after.viewers, after.gifts,
                                                    after.diamonds, ENGINE_AWAY))

    def probe_one(self, row) -> str:
        client = self.http.get("trackers")
        current = self.live.get(row.id)
        answered, state, error = False, None, ""
        try:
            # The rows here carry no engine state: the watcher's table says which node a task is on.
            with self._asking:
                state = read_state(client, self.fleet.tracker_url(row, current.node_address), self.timeout)
            answered = True
            self._failures[row.id] = 0
        except ServiceUnavailableError as exc:
            self._failures[row.id] = self._failures.get(row.id, 0) + 1
            error = str(exc)
        health = classify(answered, self._failures.get(row.id, 0), current.started_at, current.state,
                          current.engine_health, grace=self.grace)
        changes = dict(health=health, probe_error=error)
        if state is not None:
            changes.update(live_status=state.live_status, viewers=state.viewers, gifts=state.gifts,
                           diamonds=state.diamonds)
        before, after = self.live.update(row.id, **changes)
        if (before.health, before.live_status, before.viewers, before.gifts, before.diamonds) != (
                after.health, after.live_status, after.viewers, after.gifts, after.diamonds):
            self.desk.events.publish(InstanceProbed(row.id, health, after.live_status, after.viewers, after.gifts,
                                                    after.diamonds, error))
        if health == "unhealthy" and before.health != "unhealthy":
            message = f"Unhealthy: {error or 'the engine health check failed'}"
            self.fleet.record_event(row.id, "warning", message)
            self.desk.events.publish(InstanceAlert(row.id, row.name, "warning", message, {}))
        elif health == "healthy" and before.health == "unhealthy":
            self.fleet.record_event(row.id, "info", "Healthy again")
        return health


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
