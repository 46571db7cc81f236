"""The fleet watcher: one list at start, then the engine's event stream (no polling).

The stream is filtered by this desk's labels. When it ends (the engine restarted, the socket
went away) the watcher reconnects with ``since`` = the last event it saw, so nothing that happened
in between is lost, and reconciles with one list call. Deaths, restart loops and unhealthy
reports become instance events and ``InstanceAlert``s.

While the engine is away (no Docker on this machine, say) the pause between attempts doubles up
to ``RECONNECT_MAX_S``, and the log says so once when it goes and once when it is back: a
desk without Docker must not push the log's real entries out of the rotation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone

from giftdesk.db.types import utcnow
from giftdesk.docker.clients import check_socket
from giftdesk.docker.swarm import SERVICE_ID_LABEL
from giftdesk.fleet.docker_api import DESK_LABEL, NAME_LABEL, UID_LABEL
from giftdesk.fleet.events import FleetConnectionChanged, InstanceAlert, InstancesChanged, InstanceStateChanged
from giftdesk.fleet.service_events import ServiceEventFollower
from giftdesk.core.service import Service

log = logging.getLogger(__name__)

RESTART_LOOP_DEATHS = 3
RESTART_LOOP_WINDOW_S = 60.0
RECONNECT_FIRST_S = 0.25
RECONNECT_MAX_S = 10.0  # an engine back from an outage is seen within this; attempts cost a connect() each
# After a Swarm service changed, its state is read again after these pauses too: a task on another
# node sends no container events here, and a task's state lags its container's start.
SERVICE_RECHECKS_S = (1.0, 3.0)
# How often services whose task is not on this engine's node (or not placed yet) are read again.
SERVICE_POLL_S = 5.0


class FleetWatcher(Service):
    name = "fleet-watcher"

    def __init__(self, desk, fleet, live, engine: str = ""):
        """``engine``: the named engine this watcher follows ('' the local one); one watcher each."""
        super().__init__()
        self.desk = desk
        self.fleet = fleet
        self.live = live
        self.engine = engine
        if engine:
            self.name = f"fleet-watcher-{engine}"
        self._stream = None
        self._lock = threading.Lock()
        self._last_event: float | None = None
        self._deaths: dict[int, deque] = defaultdict(deque)
        self._looping: dict[int, float] = {}
        self._stopping: set[str] = set()  # containers the console or the CLI is stopping (a kill came first)
        self._current: dict[int, str] = {}
        # Which instance an event's container belongs to: by its uid label; a legacy container
        # (no uid label) only by the exact container id its record stores.
        self._by_uid: dict[str, int] = {}
        self._by_container: dict[str, int] = {}
        self._names: dict[int, str] = {}  # for containers whose labels do not name the instance (adopted)
        self._by_service: dict[str, int] = {}  # Swarm service id → instance id
        self._elsewhere: set[int] = set()  # service instances whose task this engine sends no events of
        self._services: ServiceEventFollower | None = None
        self.reconnects = 0
        self.resyncs = 0  # list calls made (a change the event stream carried needs none)
        self.failed_attempts = 0  # in a row, since the engine last answered
        self._sync = threading.Event()
        self._unsubscribe = desk.events.subscribe(InstancesChanged, lambda _e: self._sync.set())
        self.on_close: list = []  # more to undo when the runtime closes its services

    # ---- Service -------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        delay = RECONNECT_FIRST_S
        first = True
        while not stop.is_set():
            try:
                since = self._last_event
                docker = self.fleet.docker_for(self.engine)
                check_socket(docker.clients.where)
                # Every tracker's events, not only this desk's: a container taken over from another
                # manager carries that manager's labels; ``_instance_of`` keeps only ours.
                stream = docker.open_event_stream(since=since)
                with self._lock:
                    self._stream = stream
                if stop.is_set():
                    stream.close()
                    return
                services = ServiceEventFollower(self.fleet.swarm_on(self.engine), self._service_event,
                                                self._look_elsewhere, SERVICE_POLL_S)
                with self._lock:
                    self._services = services
                services.start()
                # The list after subscribing: nothing can fall between the two.
                self.resync(reconcile=True)
                was = self._connection("connected", "")
                detail = "watching the engine's events"
                if not first:
                    self.reconnects += 1
                    detail = "reconnected after the engine went away; reconciled"
                self.report("running", detail, reconnects=self.reconnects)
                self._engine_answered()
                if was != "connected" and not self.engine:
                    self.desk.events.publish(FleetConnectionChanged("connected", detail))
                first = False
                delay = RECONNECT_FIRST_S
                for event in stream:
                    if stop.is_set():
                        break
                    self._handle(event)
                    if self._sync.is_set():
                        self._sync.clear()
                        self.resync()
            except Exception as exc:  # the engine is away: say so and try again soon
                if stop.is_set():
                    break
                self._attempt_failed(exc)
            finally:
                with self._lock:
                    stream, self._stream = self._stream, None
                    services, self._services = self._services, None
                if stream is not None:
                    stream.close()
                if services is not None:
                    services.stop()
            if stop.is_set():
                break
            if self._connection("reconnecting") != "reconnecting" and not self.engine:
                self.desk.events.publish(FleetConnectionChanged("reconnecting", "the engine's event stream ended"))
            self.report("running", "reconnecting to the Docker engine…", reconnects=self.reconnects)
            stop.wait(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    def _connection(self, state: str, detail: str | None = None) -> str:
        """Sets this watcher's engine connection state; returns the one before. The local engine's
        is the fleet's ``connection``; a named engine's is kept beside it."""
        if not self.engine:
            was = self.live.connection
            self.live.connection = state
            if detail is not None:
                self.live.connection_detail = detail
            return was
        was, old_detail = self.live.engine_connection(self.engine)
        self.live.engine_connections[self.engine] = (state, old_detail if detail is None else detail)
        return was

    def _attempt_failed(self, exc: Exception) -> None:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if self.engine:
            state, _old = self.live.engine_connection(self.engine)
            self.live.engine_connections[self.engine] = (state, reason)
        else:
            self.live.connection_detail = reason
        self.failed_attempts += 1
        if self.failed_attempts == 1:
            log.warning("Fleet watcher: the Docker engine is away (%s); trying again with pauses growing to %d s",
                        reason, RECONNECT_MAX_S)
        else:
            log.debug("Fleet watcher: attempt %d failed: %s", self.failed_attempts, reason)

    def _engine_answered(self) -> None:
        if self.failed_attempts:
            log.info("Fleet watcher: the Docker engine is back (after %d failed attempts)", self.failed_attempts)
        self.failed_attempts = 0

    def interrupt(self) -> None:
        with self._lock:
            stream, services = self._stream, self._services
        if stream is not None:
            stream.close()
        if services is not None:
            services.stop()

    def close(self) -> None:
        self._unsubscribe()
        for undo in self.on_close:
            undo()

    # ---- state -----------------------------------------------------------------------------
    def resync(self, reconcile: bool = False) -> None:
        """One list call: every instance's state, published where it changed."""
        self.resyncs += 1
        if reconcile:
            try:
                self.fleet.reconcile(engine=self.engine)
            except Exception:
                log.warning("Reconciling the fleet failed", exc_info=True)
        every = self.fleet.list()
        rows = self.fleet.attach_state([row for row in every if row.engine == self.engine])
        self._by_uid = {row.uid: row.id for row in rows}
        self._by_container = {row.container_id: row.id for row in rows if row.container_id}
        self._names = {row.id: row.name for row in rows}
        self._by_service = {row.service_id: row.id for row in rows if row.service_id}
        self._elsewhere = {row.id for row in rows if _not_seen_here(row)}
        known = {row.id for row in every}
        for row in rows:
            if row.container_id:
                self._current[row.id] = row.container_id
            started = row.last_started_at if row.state == "running" else None
            # A service's task container is what its stats are sampled from (on its node's engine).
            self._set(row.id, row.name, row.state or row.status, row.exit_code,
                      row.stats_container_id if row.is_service else row.container_id,
                      started_at=started, engine_health=row.engine_health,
                      stats_engine=row.task_engine if row.is_service else None,
                      node_address=row.node_address if row.is_service else None)
        for instance_id in set(self.live.all()) - known:
            self.live.forget(instance_id)

    def _set(self, instance_id: int, name: str, state: str, exit_code: int | None, container_id: str | None,
             started_at: datetime | None = None, engine_health: str | None = None, force: bool = False,
             stats_engine: str | None = None, node_address: str | None = None) -> None:
        """``stats_engine``: the engine holding ``container_id`` when not this one (a Swarm task's node's);
        ``node_address``: that node's address, where the tracker's host-mode port answers."""
        changes = dict(name=name, state=state, exit_code=exit_code, container_id=container_id,
                       engine_health=engine_health, engine=self.engine, stats_engine=stats_engine,
                       node_address=node_address)
        if started_at is not None:
            changes["started_at"] = started_at
        if state != "running":
            changes.update(cpu_percent=None, memory_bytes=None)
        before, after = self.live.update(instance_id, **changes)
        if force or (before.state, before.exit_code, before.engine_health, before.container_id) != (
                after.state, after.exit_code, after.engine_health, after.container_id):
            self.desk.events.publish(InstanceStateChanged(instance_id, name, state, exit_code, container_id,
                                                          after.started_at, engine_health))

    def _handle(self, event: dict) -> None:
        if event.get("Type") != "container":
            return
        self._last_event = event.get("timeNano", 0) / 1e9 or event.get("time") or self._last_event
        action = event.get("Action") or event.get("status") or ""
        actor = event.get("Actor") or {}
        attributes = actor.get("Attributes") or {}
        container_id = actor.get("ID") or event.get("id")
        instance_id = self._instance_of(attributes, container_id)
        if instance_id is None:
            return  # not a container of any record of ours
        if SERVICE_ID_LABEL in attributes:  # a Swarm task's container: the service's tasks say the state
            if action in ("start", "die", "destroy", "oom"):
                self._service_changed(instance_id)
            return
        name = self._names.get(instance_id) or attributes.get(NAME_LABEL, "")
        at = datetime.fromtimestamp(self._last_event or time.time(), timezone.utc)
        current = self.live.get(instance_id)
        if action == "create":
            self._current[instance_id] = container_id
            return
        if not self._lives_here(instance_id):
            return  # moved to (or not yet moved from) another engine: that engine's watcher decides
        if self._current.get(instance_id) not in (None, container_id) and action != "start":
            return  # a parked or replaced container of this instance (an edit in progress)
        if action == "start":
            self._current[instance_id] = container_id
            self._stopping.discard(container_id)
            self._write_status(instance_id, "running", last_started_at=at)
            self._set(instance_id, name, "running", None, container_id, started_at=at,
                      engine_health=None)
        elif action == "kill":
            self._stopping.add(container_id)
        elif action == "die":
            code = _int(attributes.get("exitCode"))
            stopped_on_purpose = container_id in self._stopping
            restarting = not stopped_on_purpose and self._will_restart(instance_id, code)
            state = "restarting" if restarting else "exited"
            self._write_status(instance_id, state, last_stopped_at=at)
            self._set(instance_id, name, state, code, container_id)
            if not stopped_on_purpose:
                self._died(instance_id, name, code, restarting)
        elif action == "stop":
            self._stopping.discard(container_id)
        elif action == "destroy":
            self._stopping.discard(container_id)
            if self._current.get(instance_id) == container_id:
                self._current.pop(instance_id, None)
                if self._busy(instance_id):
                    self._sync.set()  # an operation under way removed it: its record decides (list once)
                    return
                self.fleet.note_missing(instance_id, name)
                self._set(instance_id, name, "missing", None, None)
        elif action.startswith("health_status"):
            health = action.split(":", 1)[-1].strip()
            self._set(instance_id, name, current.state or "running", current.exit_code, container_id,
                      engine_health=health)
            if health == "unhealthy":
                self.alert(instance_id, name, "warning", "The engine's health check says unhealthy")
        elif action in ("pause", "unpause"):
            self._set(instance_id, name, "paused" if action == "pause" else "running", None, container_id)
        elif action == "oom":
            self.alert(instance_id, name, "error", "Ran out of memory (the memory limit was reached)")

    # ---- Swarm services -------------------------------------------------------------------------
    def _service_event(self, event: dict) -> None:
        """A service created, updated or removed (by the console or from outside)."""
        action = event.get("Action") or ""
        service_id = (event.get("Actor") or {}).get("ID") or ""
        instance_id = self._by_service.get(service_id)
        if instance_id is None:
            try:
                instance_id = self.fleet.instance_id_of_service(service_id)
            except Exception:
                log.warning("Could not look a service up", exc_info=True)
                return
            if instance_id is None:
                return  # not one of ours
            self._by_service[service_id] = instance_id
        if action == "remove":
            if self._busy(instance_id):
                self._sync.set()  # an operation under way removed it: its record decides
                return
            name = self.live.get(instance_id).name
            self.fleet.note_missing(instance_id, name)
            self._set(instance_id, name, "missing", None, None)
            return
        self._service_changed(instance_id)

    def _look_elsewhere(self) -> None:
        """Services placed on other nodes, or not placed yet, are read again (their changes send
        no events to this engine)."""
        for instance_id in list(self._elsewhere):
            self._refresh_service(instance_id)

    def _service_changed(self, instance_id: int) -> None:
        self._refresh_service(instance_id)
        for pause in SERVICE_RECHECKS_S:
            timer = threading.Timer(pause, self._refresh_service, (instance_id,))
            timer.daemon = True
            timer.start()

    def _refresh_service(self, instance_id: int) -> None:
        """The service's state from its tasks, stored and published where it changed."""
        try:
            row = self.fleet.get(instance_id, with_state=True)
        except Exception:  # deleted meanwhile, or the engine went away (the stream says so)
            log.debug("Could not read the state of service instance %s", instance_id, exc_info=True)
            return
        if not row.is_service or row.state in (None, "unknown") or row.engine != self.engine:
            return  # (a task container of another engine's service: that engine's watcher follows it)
        if row.state == "missing":
            self.fleet.note_missing(instance_id, row.name)  # the status and the instance event, once
        elif row.state != row.status:
            times = {"last_started_at": utcnow()} if row.state == "running" else {}
            self._write_status(instance_id, row.state, **times)
        if _not_seen_here(row):
            self._elsewhere.add(row.id)
        else:
            self._elsewhere.discard(row.id)
        started = row.last_started_at if row.state == "running" else None
        self._set(row.id, row.name, row.state, row.exit_code, row.stats_container_id, started_at=started,
                  stats_engine=row.task_engine, node_address=row.node_address)

    def _instance_of(self, attributes: dict, container_id: str | None) -> int | None:
        if attributes.get(DESK_LABEL, self.fleet.desk_id) != self.fleet.desk_id:
            return None  # another data directory's tracker
        uid = attributes.get(UID_LABEL)
        if uid is None:  # a legacy or adopted container: only the exact id its record stores
            return self._by_container.get(container_id or "")
        found = self._by_uid.get(uid)
        if found is None:  # made since the last list (by another process, say): one query
            try:
                found = self.fleet.instance_id_of_uid(uid)
            except Exception:
                log.warning("Could not look an instance uid up", exc_info=True)
                return None
            if found is not None:
                self._by_uid[uid] = found
        return found

    def _lives_here(self, instance_id: int) -> bool:
        """Whether the instance's record says it is on this watcher's engine (a gone record: yes)."""
        from sqlalchemy import select

        from giftdesk.db.fleet_models import Instance

        try:
            with self.desk.db.read_session() as session:
                engine = session.scalar(select(Instance.engine).where(Instance.id == instance_id))
        except Exception:
            return True
        return engine is None or engine == self.engine

    def _busy(self, instance_id: int) -> bool:
        try:
            return any(e.instance_id == instance_id for e in self.fleet.journal.entries())
        except Exception:
            return False

    def _will_restart(self, instance_id: int, code: int | None) -> bool:
        """Whether the engine restarts a container that died by itself, from its restart policy
        (no inspect: at an engine shutdown the call would race the closing socket)."""
        try:
            policy = self.fleet.get(instance_id).restart_policy
        except Exception:
            return False
        return policy in ("always", "unless-stopped") or (policy == "on-failure" and code not in (0, None))

    def _died(self, instance_id: int, name: str, code: int | None, restarting: bool) -> None:
        now = time.monotonic()
        deaths = self._deaths[instance_id]
        deaths.append(now)
        while deaths and now - deaths[0] > RESTART_LOOP_WINDOW_S:
            deaths.popleft()
        if len(deaths) >= RESTART_LOOP_DEATHS:
            if now - self._looping.get(instance_id, -1e9) > RESTART_LOOP_WINDOW_S:
                self._looping[instance_id] = now
                self.alert(instance_id, name, "error",
                           f"Restart loop: died {len(deaths)} times in a minute (last exit code {code})",
                           {"exitCode": code, "deaths": len(deaths)})
            return
        suffix = "; the engine restarts it" if restarting else ""
        self.alert(instance_id, name, "error", f"Died with exit code {code}{suffix}", {"exitCode": code})

    def alert(self, instance_id: int, name: str, level: str, message: str, details: dict | None = None) -> None:
        self.fleet.record_event(instance_id, level, message, details)
        self.desk.events.publish(InstanceAlert(instance_id, name, level, message, details or {}))

    def _write_status(self, instance_id: int, status: str, **times) -> None:
        from giftdesk.db.fleet_models import Instance

        try:
            with self.desk.db.session() as session:
                record = session.get(Instance, instance_id)
                if record is not None:
                    record.status = status
                    for key, value in times.items():
                        setattr(record, key, value)
        except Exception:
            log.warning("Could not store the state of instance %s", instance_id, exc_info=True)


def _not_seen_here(row) -> bool:
    """A service instance meant to run whose task is not a container of this engine (none, or
    another node's: that node's engine sends this one no events of it)."""
    return row.is_service and row.state not in ("exited", "missing", "unknown", None) and (
        not row.task_container_id or row.task_engine is not None)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = ["FleetWatcher", "utcnow"]
