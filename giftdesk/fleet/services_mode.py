"""Instances as Swarm services: a one-replica service on a Swarm manager instead of a container.

The same environment, labels, limits, init and rotated logs as a container (``ContainerConfig``),
restart on failure, the port published in ``host`` mode (on the node the task runs on; the
routing mesh only when asked). Start scales to 1, stop to 0, restart forces an update; the state
is the newest task's: running, pending (with the scheduler's reason, "no suitable node…"),
rejected or failed (with the engine's error).

The engine is the fleet's (``self.docker``): the Swarm calls go through ``SwarmAdapter`` over
that adapter, so a registry of several engines hands each its own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from giftdesk.core.errors import (ConflictError, GiftDeskError, NotFoundError, ServiceUnavailableError,
                                   ValidationError)
from giftdesk.docker.api import STOP_TIMEOUT_S
from giftdesk.docker.swarm import ServiceSpec, ServiceView, SwarmAdapter, SwarmRole
from giftdesk.fleet.docker_api import TRACKER_PORT, ContainerConfig, fleet_filters, labels_match
from giftdesk.fleet.engines import engine_key
from giftdesk.fleet.records import UNKNOWN_STATE, InstanceRow

log = logging.getLogger(__name__)

SERVICE_MODE = "service"
CONTAINER_MODE = "container"
STATS_ELSEWHERE = "stats need the node's engine"
# A constraint as Docker takes it: an attribute, == or !=, a value (node.labels.zone==eu).
_CONSTRAINT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(==|!=)\s*([^\s=!][^\s]*)\s*$")
_SPREAD = re.compile(r"^[A-Za-z0-9_.\-]+$")
MAX_PLACEMENT = 20
NODE_ID_TTL_S = 30.0  # how long an engine's Swarm node id is trusted without asking again
TASK_END_SLACK_S = 5  # beyond the stop timeout, for the engine to report the task ended
TASK_POLL_S = 0.2
# Task states (the engine's) and what the fleet calls them.
_STARTING = frozenset({"new", "assigned", "accepted", "ready", "preparing", "starting"})
_ENDED = frozenset({"complete", "shutdown", "orphaned", "remove"})


@dataclass(frozen=True)
class ServiceOptions:
    """Where and how a service instance runs: placement constraints, spread preferences, ingress."""

    constraints: tuple[str, ...] = ()
    spread: tuple[str, ...] = ()
    ingress: bool = False

    def cleaned(self) -> "ServiceOptions":
        constraints, spread = [], []
        for value in self.constraints:
            found = _CONSTRAINT.match(str(value or ""))
            if not found:
                raise ValidationError(f"'{value}' is not a placement constraint: write it as ATTRIBUTE==VALUE or "
                                      "ATTRIBUTE!=VALUE, e.g. node.labels.zone==eu.", field="constraint")
            constraints.append(f"{found.group(1)}{found.group(2)}{found.group(3)}")
        for value in self.spread:
            text = str(value or "").strip()
            if not _SPREAD.match(text):
                raise ValidationError(f"'{value}' is not a node attribute to spread over, e.g. node.labels.zone.",
                                      field="spread")
            spread.append(text)
        if len(constraints) > MAX_PLACEMENT or len(spread) > MAX_PLACEMENT:
            raise ValidationError(f"At most {MAX_PLACEMENT} constraints and {MAX_PLACEMENT} spread preferences.",
                                  field="constraint")
        return ServiceOptions(tuple(constraints), tuple(spread), bool(self.ingress))

    @classmethod
    def from_text(cls, constraints: str, spread: str, ingress: bool = False) -> "ServiceOptions":
        """From the dialog's fields: items separated by commas or new lines; checked by ``cleaned``."""
        def items(text: str) -> tuple[str, ...]:
            return tuple(part.strip() for part in re.split(r"[,\n]", text or "") if part.strip())

        return cls(items(constraints), items(spread), ingress).cleaned()

    @property
    def publish_mode(self) -> str:
        return "ingress" if self.ingress else "host"


@dataclass(frozen=True)
class ServiceState:
    """What the tasks of one service say, as the fleet shows it."""

    state: str  # running | starting | pending | rejected | failed | exited | missing | unknown
    reason: str | None = None
    node: str | None = None
    task_state: str | None = None
    task_container_id: str | None = None  # when an engine the console has is the task's node
    stats_note: str | None = None
    exit_code: int | None = None
    task_engine: str | None = None  # that engine, when it is not the manager the service is on
    # The address of the task's node when that is another node than the engine's own (and says one):
    # a port published in host mode is open there only.
    node_address: str | None = None


def service_state(view: ServiceView | None, nodes: dict[str, str], local_node: str,
                  node_engines: dict[str, str] | None = None,
                  node_addresses: dict[str, str] | None = None) -> ServiceState:
    """A service's state from its newest task. ``nodes``: node id → name; ``local_node``: this
    engine's; ``node_engines``: node id → the registered engine that is that node (other nodes');
    ``node_addresses``: node id → the address the node's published ports are reached on."""
    if view is None:
        return ServiceState("missing", "the Swarm service is gone")
    task = view.current_task
    if view.replicas == 0:
        return ServiceState("exited", None, None, task.state if task else None)
    if task is None:
        return ServiceState("pending", "no task yet")
    node = nodes.get(task.node_id) or (task.node_id[:12] or None)
    here = bool(task.node_id) and task.node_id == local_node
    engine = None if here or not task.node_id else (node_engines or {}).get(task.node_id)
    container = task.container_id or None
    note = None if here or engine is not None or not task.node_id else STATS_ELSEWHERE
    address = None if here or not task.node_id else (node_addresses or {}).get(task.node_id) or None
    if task.state == "running":
        seen = here or engine is not None
        return ServiceState("running", None, node, task.state, container if seen else None, note,
                            task_engine=engine, node_address=address)
    if task.state == "pending":
        # The scheduler's error says why ("no suitable node (…)"); its message only "pending task scheduling".
        return ServiceState("pending", _first_line(task.error) or None, node, task.state)
    if task.state in ("rejected", "failed"):
        return ServiceState(task.state, _first_line(task.error or task.message) or None, node, task.state,
                            exit_code=task.exit_code)
    if task.state in _STARTING:
        return ServiceState("starting", None, node, task.state, node_address=address)
    if task.state in _ENDED:
        return ServiceState("exited", None, node, task.state, exit_code=task.exit_code)
    return ServiceState(task.state or "pending", None, node, task.state)


class SwarmServices:
    """Part of ``FleetService``: instances that are Swarm services."""

    _node_ids_of_engines: dict[str, tuple[str, float]]  # engine → (its Swarm node id, when asked)

    @property
    def swarm(self) -> SwarmAdapter:
        """The local engine's Swarm calls."""
        return SwarmAdapter(self.docker)

    def swarm_on(self, engine: str | None) -> SwarmAdapter:
        """The Swarm calls of the engine an instance lives on ('' or None: the local one)."""
        return SwarmAdapter(self.docker_for(engine)) if engine else self.swarm

    def swarm_role(self, engine: str | None = None) -> SwarmRole:
        """The engine's place in a Swarm (whether services can be made on it)."""
        return self.swarm_on(engine).role()

    # ---- making and removing ---------------------------------------------------------------
    def _service_spec(self, config: ContainerConfig, options: ServiceOptions) -> ServiceSpec:
        target = config.port if config.network == "host" else TRACKER_PORT
        return ServiceSpec(config.name, config.image, dict(config.environment), dict(config.labels), config.port,
                           target, config.network, config.memory_limit_mb, config.cpu_millis,
                           options.constraints, options.spread, options.publish_mode, 0, config.stop_timeout)

    def _create_swarm_service(self, config: ContainerConfig, options: ServiceOptions, engine: str = "") -> str:
        """The service, stopped (0 replicas); a name taken by another service is explained."""
        try:
            return self.swarm_on(engine).create_service(self._service_spec(config, options))
        except ConflictError as exc:
            raise ConflictError(f"The service name {config.name} is taken on the Swarm by a service that is not "
                                "this instance's; remove or rename it first.") from exc

    def _discard_service(self, service_id: str | None, engine: str = "") -> bool:
        if service_id:
            try:
                self.swarm_on(engine).remove_service(service_id)
            except Exception:
                log.exception("Could not remove the half-made service %s", service_id[:12])
                return False
        return True

    def _service_is_ours(self, row: InstanceRow) -> bool:
        if not row.service_id:
            return False
        try:
            spec = self.swarm_on(row.engine).inspect_service(row.service_id).get("Spec") or {}
        except NotFoundError:
            return False
        return labels_match(spec.get("Labels") or {}, row, self.desk_id)

    def _remove_own_service(self, row: InstanceRow) -> None:
        if self._service_is_ours(row):
            self.swarm_on(row.engine).remove_service(row.service_id)

    def _service_action(self, instance_id: int, name: str, service_id: str | None, action: str,
                        engine: str = "") -> None:
        """start scales to one replica, stop to none, restart replaces the task."""
        if not service_id:
            raise NotFoundError(missing_service_text(name))
        swarm = self.swarm_on(engine)
        try:
            if action == "start":
                swarm.scale(service_id, 1, fresh=True)
            elif action == "stop":
                swarm.scale(service_id, 0)
                self._wait_for_tasks_to_end(swarm, service_id)
            else:
                swarm.force_update(service_id)
        except NotFoundError as exc:
            if swarm.service_exists(service_id):
                raise
            self.note_missing(instance_id, name)
            raise NotFoundError(missing_service_text(name)) from exc

    def _wait_for_tasks_to_end(self, swarm: SwarmAdapter, service_id: str) -> None:
        """A stop returns once the task has ended, as ``docker stop`` does: a start right after it
        would otherwise find the slot still taken by the stopping task, and the Swarm, seeing that
        task end well, would start none."""
        deadline = time.monotonic() + STOP_TIMEOUT_S + TASK_END_SLACK_S
        while time.monotonic() < deadline:
            if not any(t.active for t in swarm.service(service_id).tasks):
                return
            time.sleep(TASK_POLL_S)
        log.warning("The task of service %s had not ended %d s after it was scaled to 0", service_id[:12],
                    STOP_TIMEOUT_S + TASK_END_SLACK_S)

    # ---- reading -----------------------------------------------------------------------------
    def service_states(self, rows: Iterable[InstanceRow]) -> dict[int, ServiceState]:
        """The state of every service row: per engine with services, three requests (services,
        tasks, nodes) and /info."""
        by_engine: dict[str, list[InstanceRow]] = {}
        for row in rows:
            if row.is_service:
                by_engine.setdefault(row.engine or "", []).append(row)
        states: dict[int, ServiceState] = {}
        for engine, engine_rows in by_engine.items():
            if engine and self.engines.believed_unreachable(engine):
                states.update({r.id: ServiceState(UNKNOWN_STATE, f"the engine '{engine}' does not answer")
                               for r in engine_rows})
            else:
                states.update(self._service_states_on(engine, engine_rows))
        return states

    def _service_states_on(self, engine: str, rows: list[InstanceRow]) -> dict[int, ServiceState]:
        swarm = self.swarm_on(engine)
        try:
            role = swarm.role()
            if not role.manager:
                reason = role.not_manager_reason
                return {r.id: ServiceState(UNKNOWN_STATE, reason) for r in rows}
            views = {v.id: v for v in swarm.services(fleet_filters(self.desk_id)["label"])}
            found = swarm.nodes(role.node_id) if views else {}
        except GiftDeskError as exc:
            return {r.id: ServiceState(UNKNOWN_STATE, _first_line(str(exc))) for r in rows}
        elsewhere = {t.node_id for v in views.values() if (t := v.current_task) is not None
                     and t.state == "running" and t.node_id and t.node_id != role.node_id}
        node_engines = self._engines_of_nodes(elsewhere, engine) if elsewhere else {}
        nodes = {node_id: node.name for node_id, node in found.items()}
        addresses = {node_id: node.address for node_id, node in found.items() if node.address}
        return {r.id: service_state(views.get(r.service_id or ""), nodes, role.node_id, node_engines, addresses)
                for r in rows}

    def _engines_of_nodes(self, node_ids: set[str], manager: str) -> dict[str, str]:
        """Node id → the registered engine that is that Swarm node, for the nodes it can name.

        Matched by the Swarm node id each engine reports for itself (``/info``): exact and
        unique in a Swarm, and the same whatever way the engine is reached (a unix socket, TCP,
        SSH). Host names can repeat (computers cloned from one image), and a node's address says
        nothing of an engine reached through a socket or a tunnel. Each engine's answer is kept
        a while: an engine's node id changes only when it leaves or joins a Swarm."""
        cache = self._node_ids_of_engines
        now = time.monotonic()
        names = [engine_key(row.name) for row in self.engines.list_engines()]
        names = [n for n in names if n != engine_key(manager) and not (n and self.engines.believed_unreachable(n))]
        stale = [n for n in names if n not in cache or now - cache[n][1] > NODE_ID_TTL_S]
        if stale and not node_ids <= {cache[n][0] for n in names if n in cache}:
            def node_id(name: str) -> str:
                try:
                    return SwarmAdapter(self.docker_for(name)).role().node_id
                except ServiceUnavailableError:
                    if name:  # as a refresh that found it away: the next ones skip it for a while
                        self.engines.note_unreachable(name)
                    return ""
                except GiftDeskError:
                    return ""

            with ThreadPoolExecutor(min(8, len(stale)), thread_name_prefix="swarm-nodes") as pool:
                for name, found in zip(stale, pool.map(node_id, stale)):
                    cache[name] = (found, now)
        return {cache[n][0]: n for n in names if n in cache and cache[n][0] in node_ids}

    def _attach_service_states(self, rows: list[InstanceRow]) -> list[InstanceRow]:
        states = self.service_states(rows)
        if not states:
            return rows
        return [_with_state(row, states[row.id]) if row.id in states else row for row in rows]

    def instance_id_of_service(self, service_id: str) -> int | None:
        """The instance a Swarm service belongs to (the watcher's service events name only the service)."""
        from sqlalchemy import select

        from giftdesk.db.fleet_models import Instance

        if not service_id:
            return None
        with self.ctx.db.read_session() as session:
            return session.scalar(select(Instance.id).where(Instance.service_id == service_id))

    def missing_services(self, rows: Iterable[InstanceRow]) -> list[InstanceRow]:
        """Service rows whose service is gone from the Swarm (none when the engine is no manager)."""
        states = self.service_states(rows)
        return [r for r in rows if states.get(r.id) is not None and states[r.id].state == "missing"]

    # ---- logs ----------------------------------------------------------------------------------
    def instance_logs(self, row: InstanceRow, tail: int | None = None, since: datetime | None = None,
                      timestamps: bool = False) -> bytes:
        """The tracker's output so far: its container's, or its service's (every task's)."""
        if row.is_service:
            if not row.service_id:
                raise ValidationError(missing_service_text(row.name))
            return self.swarm_on(row.engine).logs(row.service_id, tail=tail, since=since, timestamps=timestamps)
        if not row.container_id:
            raise ValidationError(f"'{row.name}' has no container; recreate it first.")
        return self.docker_for(row.engine).logs(row.container_id, tail=tail, since=since, timestamps=timestamps)

    def open_instance_log_stream(self, row: InstanceRow, tail: int | None = None, since: datetime | None = None,
                                 timestamps: bool = False):
        """The tracker's output as it comes (close the stream to end it)."""
        if row.is_service:
            if not row.service_id:
                raise ValidationError(missing_service_text(row.name))
            return self.swarm_on(row.engine).open_log_stream(row.service_id, tail=tail, since=since,
                                                             timestamps=timestamps)
        if not row.container_id:
            raise ValidationError(f"'{row.name}' has no container; recreate it first.")
        return self.docker_for(row.engine).open_log_stream(row.container_id, tail=tail, since=since,
                                                           timestamps=timestamps)


def options_of(row: InstanceRow) -> ServiceOptions | None:
    """A service instance's options, to make another like it (a clone); None for a container."""
    if not row.is_service:
        return None
    return ServiceOptions(row.placement_constraints, row.placement_preferences, row.publish_mode == "ingress")


def service_json(row: InstanceRow) -> dict:
    """An export's fields of a service instance (none for a container)."""
    if not row.is_service:
        return {}
    return {"mode": SERVICE_MODE, "placement": {"constraints": list(row.placement_constraints),
                                                "spread": list(row.placement_preferences)},
            "publishMode": row.publish_mode}


def service_of_json(raw: dict) -> ServiceOptions | None:
    """An export's service options (None: a container); checked as the command line's are."""
    mode = raw.get("mode") or CONTAINER_MODE
    if mode not in (CONTAINER_MODE, SERVICE_MODE):
        raise ValidationError(f"The mode must be container or service, not '{mode}'.", field="mode")
    if mode == CONTAINER_MODE:
        return None
    placement = raw.get("placement") or {}
    constraints, spread = placement.get("constraints") or [], placement.get("spread") or []
    if not isinstance(constraints, list) or not isinstance(spread, list):
        raise ValidationError("The placement's constraints and spread must be lists.", field="placement")
    publish = raw.get("publishMode") or "host"
    if publish not in ("host", "ingress"):
        raise ValidationError(f"The publish mode must be host or ingress, not '{publish}'.", field="publishMode")
    return ServiceOptions(tuple(map(str, constraints)), tuple(map(str, spread)), publish == "ingress").cleaned()


def services_of_uid(fleet, uid: str, engine: str = "") -> list[ServiceView]:
    """The Swarm services of this desk made for the instance ``uid`` on ``engine`` (recovery's
    question). Raises ServiceUnavailableError while the engine is no Swarm manager: the question waits."""
    from giftdesk.fleet.docker_api import DESK_LABEL, UID_LABEL

    swarm = fleet.swarm_on(engine)
    role = swarm.role()
    if not role.manager:
        raise ServiceUnavailableError(f"Swarm services cannot be read: {role.not_manager_reason}.")
    return swarm.services([f"{UID_LABEL}={uid}", f"{DESK_LABEL}={fleet.desk_id}"])


def _with_state(row: InstanceRow, state: ServiceState) -> InstanceRow:
    return row.with_service(state.state, state.reason, state.node, state.task_state, state.task_container_id,
                            state.stats_note, state.exit_code, state.task_engine, state.node_address)


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0][:300] if (text or "").strip() else ""


def missing_service_text(name: str) -> str:
    return f"'{name}' is missing its Swarm service: delete the instance and create it again."
