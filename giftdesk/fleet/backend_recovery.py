"""Restarts trackers that started while the endpoint was down (they load their config only once).

A tracker fetches its gift groups and config once, when its container starts, and never retries:
one that booted while no console or ``giftdesk serve`` ran its endpoint runs with nothing loaded,
and its next dashboard save would replace what is stored. So when the endpoint comes up (its
service reaches "running", a ``ServiceStatusChanged`` on the bus) ``BackendRecovery`` looks at every
running tracker of this desk, and whenever a tracker starts while it runs, at that one: one whose key has
not been used since its container's ``State.StartedAt`` (the endpoint's last-access time, read
through the desk's key service; the endpoint writes it within a second) and whose start is at
least ``GRACE_S`` old is restarted, one job on the instance's lane, with an instance event and an
audit entry.

Loop protection: a container is never restarted twice for the same ``StartedAt``, and an instance
is restarted at most once per run of the endpoint. A tracker that still does not load after its
restart (a wrong address or key, say) gets a warning event instead of a restart every ``GRACE_S``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from giftdesk.core.errors import GiftDeskError, ServiceUnavailableError
from giftdesk.core.events import ServiceStatusChanged
from giftdesk.core.service import Service
from giftdesk.fleet.events import InstanceStateChanged
from giftdesk.fleet.operations import RESTART

log = logging.getLogger(__name__)

ENDPOINT_SERVICE = "endpoint"  # the runtime's name for the tracker endpoint's service
GRACE_S = 20.0  # a tracker's time to fetch its config after its container started
AUDIT_ACTION = "instance.recover"
RESTARTS_AT_ONCE = 8  # the runtime's job lanes bound it further
RETRY_S = 5.0  # the engine did not answer: look again after this


def parse_started_at(raw: str | None) -> datetime | None:
    """The engine's ``State.StartedAt`` (RFC 3339, nanoseconds) as an aware datetime."""
    if not raw or raw.startswith("0001-"):
        return None
    text = raw.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = ""
        for index, char in enumerate(rest):
            if not char.isdigit():
                rest = rest[index:]
                break
            digits += char
        else:
            rest = ""
        text = f"{head}.{(digits + '000000')[:6]}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class BackendRecovery(Service):
    name = "fleet-backend-recovery"

    def __init__(self, desk, fleet, lanes, endpoint_running: Callable[[], bool] = lambda: False,
                 grace: float = GRACE_S):
        super().__init__()
        self.desk = desk
        self.fleet = fleet
        self.lanes = lanes  # the process's job lanes: a restart queues behind a person's edit
        self.grace = grace
        self._endpoint_running = endpoint_running
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._endpoint_up = False
        self._scan_due = False
        self._started: set[int] = set()  # instances that started while the endpoint ran, to look at
        self._pending: dict[int, tuple[str, str, int]] = {}  # instance id -> (name, container id, account id)
        self._adopted_at: dict[str, datetime] = {}  # adopted container id -> when its instance was imported
        self._restarted: set[tuple[str, str]] = set()  # (container id, StartedAt) restarted once already
        self._recovered_this_run: set[int] = set()  # instances restarted since the endpoint came up
        #: What was decided per container: container id -> (StartedAt, "loaded" | "restarted" | "gave-up" | "adopted").
        self.verdicts: dict[str, tuple[str, str]] = {}
        self.restarts = 0
        self._engine_away = False
        self._due: dict[tuple[int, str], float] = {}  # (instance, container) -> monotonic time to look again
        self._unsubscribe = [desk.events.subscribe(ServiceStatusChanged, self._on_status),
                             desk.events.subscribe(InstanceStateChanged, self._on_state)]

    # ---- what wakes it ------------------------------------------------------------------------
    def _on_status(self, event: ServiceStatusChanged) -> None:
        if event.name != ENDPOINT_SERVICE:
            return
        self._endpoint(getattr(event.status, "state", None) == "running")

    def _endpoint(self, up: bool) -> None:
        with self._lock:
            was, self._endpoint_up = self._endpoint_up, up
            if up and not was:
                self._scan_due = True
                self._recovered_this_run.clear()
            elif not up:
                self._started.clear()
                self._pending.clear()  # judged again once it is back
                self._due.clear()
        self._wake.set()

    def _on_state(self, event: InstanceStateChanged) -> None:
        if event.state != "running":
            return
        with self._lock:
            if not self._endpoint_up:
                return
            self._started.add(event.instance_id)
        self._wake.set()

    # ---- Service ------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        try:
            if self._endpoint_running():  # it came up before this service ran
                self._endpoint(True)
        except Exception:
            log.debug("Could not ask whether the endpoint runs", exc_info=True)
        self.report("running", "restarts trackers that started while the endpoint was down")
        while not stop.is_set():
            try:
                wait = self.step()
            except Exception:
                log.warning("Backend recovery: a check failed; trying again", exc_info=True)
                wait = 5.0
            self._wake.wait(min(wait, 5.0))
            self._wake.clear()

    def interrupt(self) -> None:
        self._wake.set()

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    # ---- the checks ---------------------------------------------------------------------------
    def step(self) -> float:
        """Scans when due and judges every tracker whose grace has passed; returns the seconds until
        the next one is due."""
        with self._lock:
            up, scan, self._scan_due = self._endpoint_up, self._scan_due, False
            started, self._started = self._started, set()
        if not up:
            return 60.0
        if scan:
            try:
                self._scan()
            except (ServiceUnavailableError, OSError) as exc:  # no engine now: the scan waits for it
                with self._lock:
                    self._scan_due = True
                if not self._engine_away:
                    log.info("Backend recovery: the Docker engine does not answer (%s); looking again every %d s",
                             exc, RETRY_S)
                self._engine_away = True
                return RETRY_S
            self._engine_away = False
        elif started:
            self._add(started)
        with self._lock:
            pending = dict(self._pending)
        next_due = 60.0
        now, clock = datetime.now(timezone.utc), time.monotonic()
        restarts: list[tuple[int, str, str, str]] = []
        for instance_id, (name, container_id, account_id) in pending.items():
            due = self._due.get((instance_id, container_id), 0.0)
            if due > clock:  # still in its grace: not asked again before then
                next_due = min(next_due, due - clock)
                continue
            wait = self._check(instance_id, name, container_id, account_id, now, restarts)
            if wait is None:
                with self._lock:
                    self._due.pop((instance_id, container_id), None)
                    if self._pending.get(instance_id, (None, None))[1] == container_id:
                        self._pending.pop(instance_id, None)
            else:
                self._due[(instance_id, container_id)] = clock + wait
                next_due = min(next_due, wait)
        if restarts:  # after a reboot every tracker may need one: they go in parallel, each on its lane
            with ThreadPoolExecutor(max_workers=min(RESTARTS_AT_ONCE, len(restarts)),
                                    thread_name_prefix="backend-recovery") as pool:
                list(pool.map(lambda args: self._restart(*args), restarts))
        return max(0.05, next_due)

    def _scan(self) -> None:
        rows = self.fleet.list(with_state=True)
        with self._lock:
            for row in rows:
                if row.state == "running" and row.container_id and row.account_id is not None:
                    self._pending[row.id] = (row.name, row.container_id, row.account_id)
                    self._note_adopted(row)

    def _add(self, instance_ids: set[int]) -> None:
        """Only the instances that just started (one database read each, no engine list)."""
        for instance_id in instance_ids:
            try:
                row = self.fleet.get(instance_id)
            except GiftDeskError:
                continue
            if row.container_id and row.account_id is not None:
                with self._lock:
                    self._pending[row.id] = (row.name, row.container_id, row.account_id)
                    self._note_adopted(row)

    def _note_adopted(self, row) -> None:
        """A container taken over from another manager loaded its data from the backend it was
        started with: until it starts again under us, it is never restarted for that."""
        adopted = getattr(row, "adopted_container_id", None)
        if adopted and adopted == row.container_id:
            self._adopted_at[row.container_id] = row.created_at

    def _check(self, instance_id: int, name: str, container_id: str, account_id: int, now: datetime,
               restarts: list) -> float | None:
        """None when this container is settled (judged, or gone: one to restart is added to ``restarts``);
        else the seconds until it is due."""
        try:
            state = self._state_of(container_id)
        except ServiceUnavailableError:
            return RETRY_S  # the engine is away for now: still to judge
        if state is None:
            return None
        started_raw, started = state
        if started is None:
            return None
        adopted_at = self._adopted_at.get(container_id)
        if adopted_at is not None and started < adopted_at:
            self.verdicts[container_id] = (started_raw, "adopted")
            return None
        age = (now - started).total_seconds()
        if age < self.grace:
            return self.grace - age
        if (container_id, started_raw) in self._restarted or container_id in self.verdicts and \
                self.verdicts[container_id][0] == started_raw:
            return None  # judged already
        try:
            accessed = self.fleet.keys.get(account_id).last_accessed_at
        except GiftDeskError:
            return None  # no key: nothing it could have loaded
        if accessed is not None and accessed >= started:
            self.verdicts[container_id] = (started_raw, "loaded")
            return None
        with self._lock:
            again = instance_id in self._recovered_this_run
        if again:
            message = ("It has not loaded its config since it started, even after a restart; not restarted again "
                       "(check its BACKEND_API_URL and API key)")
            log.warning("Backend recovery: %s: %s", name, message)
            self.fleet.record_event(instance_id, "warning", message)
            self.verdicts[container_id] = (started_raw, "gave-up")
            return None
        restarts.append((instance_id, name, container_id, started_raw))
        return None

    def _state_of(self, container_id: str) -> tuple[str, datetime | None] | None:
        """(StartedAt as the engine says it, parsed) of a running container; None when it is not."""
        try:
            details = self.fleet.docker.inspect(container_id)
        except ServiceUnavailableError:
            raise
        except GiftDeskError:  # removed meanwhile
            return None
        state = details.get("State") or {}
        if not state.get("Running") or state.get("Restarting") or state.get("Paused"):
            return None
        raw = state.get("StartedAt") or ""
        return raw, parse_started_at(raw)

    def _restart(self, instance_id: int, name: str, container_id: str, started_raw: str) -> None:
        try:
            done = RESTART.run_and_wait(self.lanes, self._restart_job, instance_id, name, container_id, started_raw,
                                        target=instance_id, subject=name)
        except Exception as exc:
            log.warning("Backend recovery: restarting %s failed: %s", name, exc)
            self.fleet.record_event(instance_id, "error", f"Restart after the endpoint came back failed: {exc}")
            return
        if done:
            self.verdicts[container_id] = (started_raw, "restarted")

    def _restart_job(self, instance_id: int, name: str, container_id: str, started_raw: str) -> bool:
        """On the instance's lane: restarts only the very container judged (a person may have stopped,
        edited or restarted it meanwhile)."""
        now = self._state_of(container_id)  # the engine away: the job fails and says so
        if now is None or now[0] != started_raw:
            return False
        key = (container_id, started_raw)
        if key in self._restarted:
            return False
        self._restarted.add(key)
        with self._lock:
            self._recovered_this_run.add(instance_id)
        summary = f"restarted {name}: it started while the endpoint was down"
        log.info("Backend recovery: %s", summary)
        self.fleet.restart(instance_id)
        with self._lock:  # restarts run in parallel
            self.restarts += 1
        self.fleet.record_event(instance_id, "warning",
                                "Restarted: it started while the endpoint was down and had not loaded its config",
                                {"startedAt": started_raw})
        try:
            with self.fleet.ctx.db.session() as session:
                self.fleet.ctx.audit(session, AUDIT_ACTION, summary, "instance", instance_id)
        except Exception:
            log.warning("Could not write the audit entry of %s's restart", name, exc_info=True)
        return True
