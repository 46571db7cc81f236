"""Docker Swarm on one engine: whether it is a manager, and its services, tasks and nodes.

The calls go through a ``DockerAdapter`` (its client pool and its error mapping), so an engine
adapter of its own plugs in here unchanged. Services are made with one replica at most; scaling
to 0 and back is how they stop and start, a forced update how they restart. Ports are
published in ``host`` mode by default: the routing mesh (``ingress``) needs IPVS in the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from giftdesk.core.errors import NotFoundError, ServiceUnavailableError, ValidationError
from giftdesk.docker.api import LOG_MAX_FILE, LOG_MAX_SIZE, STOP_TIMEOUT_S, DockerAdapter, Stream

# Labels the engine puts on a task's container: such a container belongs to a service.
SERVICE_ID_LABEL = "com.docker.swarm.service.id"
TASK_ID_LABEL = "com.docker.swarm.task.id"
PUBLISH_MODES = ("host", "ingress")
UPDATE_ATTEMPTS = 3  # a service updated by someone else meanwhile: read its version again
_ACTIVE_TASK = ("new", "pending", "assigned", "accepted", "ready", "preparing", "starting", "running")


@dataclass(frozen=True)
class SwarmRole:
    """The engine's place in a Swarm: ``state`` is inactive, pending, active, error or locked."""

    state: str
    manager: bool
    node_id: str = ""
    node_name: str = ""
    error: str = ""

    @property
    def role(self) -> str:
        if self.state != "active":
            return "none"
        return "manager" if self.manager else "worker"

    @property
    def not_manager_reason(self) -> str:
        """Why services cannot be made here ('' on a manager)."""
        if self.manager:
            return ""
        if self.state == "active":
            return "the engine is a Swarm worker, not a manager; create services on a manager"
        if self.state in ("", "inactive"):
            return "the engine is not part of a Swarm (docker swarm init makes it a manager)"
        return f"the engine's Swarm is {self.state}{': ' + self.error if self.error else ''}"


@dataclass(frozen=True)
class ServiceSpec:
    """What a one-replica tracker service is made from."""

    name: str
    image: str
    environment: dict[str, str]
    labels: dict[str, str]
    port: int  # the published port
    target_port: int  # the port inside the task
    network: str = "bridge"  # bridge (the node's default), host, or a network the Swarm knows
    memory_limit_mb: int | None = None
    cpu_millis: int | None = None
    constraints: tuple[str, ...] = ()
    spread: tuple[str, ...] = ()  # node labels to spread over, e.g. node.labels.zone
    publish_mode: str = "host"
    replicas: int = 0
    stop_timeout: int = STOP_TIMEOUT_S


@dataclass(frozen=True)
class TaskView:
    """One task of a service: where it runs and how it is doing."""

    id: str
    state: str  # the engine's: new … running, complete, shutdown, failed, rejected, orphaned
    desired_state: str
    message: str
    error: str
    node_id: str
    container_id: str
    exit_code: int | None
    updated: str
    slot: int = 0

    @property
    def active(self) -> bool:
        return self.state in _ACTIVE_TASK

    @classmethod
    def of(cls, raw: dict) -> "TaskView":
        status = raw.get("Status") or {}
        container = status.get("ContainerStatus") or {}
        code = container.get("ExitCode")
        return cls(raw.get("ID", ""), str(status.get("State") or ""), str(raw.get("DesiredState") or ""),
                   str(status.get("Message") or ""), str(status.get("Err") or ""), str(raw.get("NodeID") or ""),
                   str(container.get("ContainerID") or ""), code if isinstance(code, int) else None,
                   str(raw.get("UpdatedAt") or status.get("Timestamp") or ""), int(raw.get("Slot") or 0))


@dataclass(frozen=True)
class ServiceView:
    """A service with its tasks, newest first."""

    id: str
    name: str
    labels: dict[str, str]
    replicas: int
    tasks: tuple[TaskView, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, raw: dict, tasks: list[dict]) -> "ServiceView":
        spec = raw.get("Spec") or {}
        replicated = (spec.get("Mode") or {}).get("Replicated") or {}
        views = sorted((TaskView.of(t) for t in tasks), key=lambda t: t.updated, reverse=True)
        return cls(raw.get("ID", ""), str(spec.get("Name") or ""),
                   dict((spec.get("TaskTemplate") or {}).get("ContainerSpec", {}).get("Labels") or spec.get("Labels") or {}),
                   int(replicated.get("Replicas") or 0), tuple(views))

    @property
    def current_task(self) -> TaskView | None:
        """The task that says how the service is doing: the newest one meant to run, else the newest."""
        wanted = [t for t in self.tasks if t.desired_state == "running"]
        return (wanted or list(self.tasks) or [None])[0]


_NO_ADDRESS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class SwarmNode:
    """A node of the Swarm: its host name and the address its published ports are reached on."""

    id: str
    name: str
    address: str | None = None  # None when the node does not say one that can be used

    @classmethod
    def of(cls, raw: dict, local_node: str = "") -> "SwarmNode":
        node_id = str(raw.get("ID") or "")
        name = str((raw.get("Description") or {}).get("Hostname") or node_id[:12])
        address = str((raw.get("Status") or {}).get("Addr") or "").strip()
        if address in _NO_ADDRESS:
            # A manager can report 0.0.0.0 as its own address; the one it manages the Swarm on says more.
            manager = str((raw.get("ManagerStatus") or {}).get("Addr") or "").strip()
            address = _host_of(manager)
        if address in _NO_ADDRESS or (_is_loopback(address) and node_id != local_node):
            return cls(node_id, name, None)
        return cls(node_id, name, address)


def _host_of(address: str) -> str:
    """'10.0.0.1:2377' → '10.0.0.1', '[fd00::1]:2377' → 'fd00::1'."""
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def _is_loopback(address: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


class SwarmAdapter:
    """The Swarm calls of one engine, through its ``DockerAdapter`` (errors already the domain's)."""

    def __init__(self, docker: DockerAdapter):
        self.docker = docker

    def role(self) -> SwarmRole:
        """From ``GET /info``; raises ServiceUnavailableError when the engine does not answer."""
        swarm = self.docker.system_info().get("Swarm") or {}
        return SwarmRole(str(swarm.get("LocalNodeState") or "inactive"), bool(swarm.get("ControlAvailable")),
                         str(swarm.get("NodeID") or ""), "", str(swarm.get("Error") or ""))

    def require_manager(self) -> SwarmRole:
        role = self.role()
        if not role.manager:
            raise ValidationError(f"Cannot run the tracker as a Swarm service: {role.not_manager_reason}.",
                                  field="service")
        return role

    # ---- services -----------------------------------------------------------------------
    def create_service(self, spec: ServiceSpec) -> str:
        """A one-replica (or 0, stopped) service; returns its id."""
        import docker.types as types

        if spec.publish_mode not in PUBLISH_MODES:
            raise ValidationError(f"The publish mode must be host or ingress, not '{spec.publish_mode}'.",
                                  field="publish mode")
        api = self.docker.api
        container = types.ContainerSpec(
            spec.image, env=dict(spec.environment), labels=dict(spec.labels), init=True,
            stop_grace_period=spec.stop_timeout * 1_000_000_000)
        resources = types.Resources(
            mem_limit=spec.memory_limit_mb * 1024 * 1024 if spec.memory_limit_mb else None,
            cpu_limit=spec.cpu_millis * 1_000_000 if spec.cpu_millis else None)
        placement = types.Placement(constraints=list(spec.constraints) or None,
                                    preferences=[("spread", label) for label in spec.spread] or None)
        template = types.TaskTemplate(
            container, resources=resources, restart_policy=types.RestartPolicy(condition="on-failure"),
            placement=placement,
            log_driver=types.DriverConfig("json-file", {"max-size": LOG_MAX_SIZE, "max-file": LOG_MAX_FILE}),
            networks=[spec.network] if spec.network not in ("bridge", "") else None)
        endpoint = None
        if spec.network != "host":
            endpoint = types.EndpointSpec(ports={spec.port: (spec.target_port, "tcp", spec.publish_mode)})
        created = self.docker._call("Creating the Swarm service", api.create_service, template, name=spec.name,
                                    labels=dict(spec.labels), mode=types.ServiceMode("replicated", spec.replicas),
                                    endpoint_spec=endpoint)
        return created["ID"]

    def inspect_service(self, service_id: str) -> dict:
        return self.docker._call("Reading the Swarm service", self.docker.api.inspect_service, service_id)

    def service_exists(self, service_id: str) -> bool:
        try:
            self.inspect_service(service_id)
            return True
        except NotFoundError:
            return False

    def scale(self, service_id: str, replicas: int, fresh: bool = False) -> None:
        """``fresh``: a new task too. With restart on failure, a slot whose task ended well (exit 0,
        as a stopped tracker does) can count as done, and scaling back up alone may start nothing."""
        self._update(service_id, "Scaling the Swarm service", replicas=replicas, fresh=fresh)

    def force_update(self, service_id: str) -> None:
        """Replaces the task with a new one (a restart), whatever else changed."""
        self._update(service_id, "Restarting the Swarm service", fresh=True)

    def _update(self, service_id: str, what: str, replicas: int | None = None, fresh: bool = False) -> None:
        """An update from the service's current version; one changed meanwhile (someone else's
        update) is read again and the update made on the new version."""
        for attempt in range(UPDATE_ATTEMPTS):
            current = self.inspect_service(service_id)
            count = int((current.get("Spec") or {}).get("TaskTemplate", {}).get("ForceUpdate") or 0)
            try:
                self.docker._call(what, self.docker.api.update_service, service_id, current["Version"]["Index"],
                                  mode={"Replicated": {"Replicas": replicas}} if replicas is not None else None,
                                  task_template={"ForceUpdate": count + 1} if fresh else None,
                                  fetch_current_spec=True)
                return
            except ServiceUnavailableError as exc:
                if "out of sequence" not in str(exc) or attempt == UPDATE_ATTEMPTS - 1:
                    raise

    def remove_service(self, service_id: str) -> None:
        try:
            self.docker._call("Removing the Swarm service", self.docker.api.remove_service, service_id)
        except NotFoundError:
            pass  # already gone: what we wanted

    def services(self, label_filters: list[str]) -> list[ServiceView]:
        """The services carrying these labels, each with its tasks: two requests whatever their number."""
        raw = self.docker._call("Listing Swarm services", self.docker.api.services, filters={"label": label_filters})
        if not raw:
            return []
        tasks = self.docker._call("Listing Swarm tasks", self.docker.api.tasks,
                                  filters={"service": [s["ID"] for s in raw]})
        by_service: dict[str, list[dict]] = {}
        for task in tasks:
            by_service.setdefault(task.get("ServiceID", ""), []).append(task)
        return [ServiceView.of(s, by_service.get(s["ID"], [])) for s in raw]

    def service(self, service_id: str) -> ServiceView:
        raw = self.inspect_service(service_id)
        tasks = self.docker._call("Listing Swarm tasks", self.docker.api.tasks, filters={"service": [service_id]})
        return ServiceView.of(raw, tasks)

    def node_names(self) -> dict[str, str]:
        """Node id → host name."""
        return {node_id: node.name for node_id, node in self.nodes().items()}

    def nodes(self, local_node: str = "") -> dict[str, "SwarmNode"]:
        """Node id → its name and address, from one request. ``local_node``: this engine's node id
        (a loopback address another node reports says nothing of where it is)."""
        nodes = self.docker._call("Listing Swarm nodes", self.docker.api.nodes)
        return {n["ID"]: SwarmNode.of(n, local_node) for n in nodes}

    # ---- logs and events ----------------------------------------------------------------
    def logs(self, service_id: str, tail: int | None = None, since: datetime | None = None,
             timestamps: bool = False) -> bytes:
        """The service's output so far (every task's)."""
        stream = self.open_log_stream(service_id, tail, since, timestamps, follow=False)
        try:
            return b"".join(stream)
        finally:
            stream.close()

    def open_log_stream(self, service_id: str, tail: int | None = None, since: datetime | None = None,
                        timestamps: bool = False, follow: bool = True) -> Stream:
        from giftdesk.docker.api import _as_domain

        clients = self.docker.clients
        client = clients.open_stream_client()
        try:
            chunks = client.api.service_logs(service_id, follow=follow, stdout=True, stderr=True,
                                             since=_unix(since), timestamps=timestamps,
                                             tail="all" if tail is None else tail, is_tty=False)
        except Exception as exc:
            clients.close_stream_client(client)
            raise _as_domain(exc, "Following the service's logs", clients.where) from exc
        return Stream(clients, client, chunks)

    def open_service_events(self, since: float | None) -> Stream:
        """Service create, update and remove events (they carry the service's name, not its labels)."""
        return self.docker.open_container_events(since, {"type": ["service"]})


def _unix(moment: datetime | None) -> Any:
    return int(moment.timestamp()) if moment is not None else 0
