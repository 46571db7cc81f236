"""The Docker engine the fleet runs on: what it is, and whether it answers.

``engine_info`` and ``check_engine`` are what the engine panel and ``giftdesk engine info|test``
show, so the window and the command line always agree. Blocking (several engine calls): run
them off the GUI thread.

Both take what runs trackers on the engine (``FleetService`` is one): its ``docker`` adapter,
which lists the tracker containers of every data directory (``list_trackers()``, each with the
``owner`` it was made for), and its ``desk_id``. The container labels stay the fleet's.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

from giftdesk.core.errors import GiftDeskError
from giftdesk.docker.clients import DockerClients


@dataclass(frozen=True)
class EngineInfo:
    host: str  # the address in use
    host_source: str  # "Settings", "DOCKER_HOST" or "default"
    version: str
    api_version: str
    min_api_version: str
    os: str
    os_type: str
    architecture: str
    kernel: str
    name: str
    cpus: int
    memory_bytes: int
    containers: int
    running: int
    paused: int
    stopped: int
    images: int
    storage_driver: str
    cgroup_version: str
    trackers: int  # this desk's tracker containers
    trackers_running: int
    trackers_on_engine: int  # every container labelled app=gift-tracker (other desks too)
    ping_ms: float
    swarm: str = ""  # the node's Swarm role: manager, worker, inactive…

    def to_json(self) -> dict:
        return {_camel(k): v for k, v in asdict(self).items()}

    @property
    def host_text(self) -> str:
        return f"{self.host} (from {self.host_source})" if self.host_source != "default" else f"{self.host} (default)"

    def pairs(self) -> list[tuple[str, str]]:
        """The panel's and ``engine info``'s rows, in reading order."""
        return [
            ("Host", self.host_text),
            ("Engine", f"Docker {self.version} on {self.name}" if self.name else f"Docker {self.version}"),
            ("API version", f"{self.api_version} (minimum {self.min_api_version})" if self.min_api_version
             else self.api_version),
            ("Operating system", f"{self.os} ({self.os_type}/{self.architecture})"),
            ("Kernel", self.kernel),
            ("Containers", f"{self.containers}: {self.running} running, {self.paused} paused, {self.stopped} stopped"),
            ("Images", str(self.images)),
            ("Storage driver", self.storage_driver + (f", cgroup v{self.cgroup_version}" if self.cgroup_version else "")),
            ("CPUs / memory", f"{self.cpus} CPUs, {self.memory_bytes / 1073741824:.1f} GiB"),
            ("Swarm", self.swarm or "unknown"),
            ("GiftDesk trackers", (f"{self.trackers} of this desk ({self.trackers_running} running), "
                                   f"{self.trackers_on_engine} on the engine")),
            ("Round trip", f"{self.ping_ms:.1f} ms"),
        ]


@dataclass(frozen=True)
class EngineCheck:
    """The connection test: a ping and the tracker list, or the one sentence why not."""

    reachable: bool
    host: str
    host_source: str
    ping_ms: float | None = None
    round_trip_ms: float | None = None  # ping + version + tracker list, as a console refresh costs
    version: str = ""
    api_version: str = ""
    trackers: int = 0
    error: str = ""

    def to_json(self) -> dict:
        data = {_camel(k): v for k, v in asdict(self).items()}
        data["error"] = self.error or None
        return data

    @property
    def sentence(self) -> str:
        if not self.reachable:
            return self.error
        return (f"The Docker engine {self.version} (API {self.api_version}) at {self.host} answers: "
                f"ping {self.ping_ms:.1f} ms, {self.trackers} tracker container(s) listed in "
                f"{self.round_trip_ms:.0f} ms.")


def host_source(clients: DockerClients) -> str:
    """Where the address in use comes from: Settings' Docker host wins over DOCKER_HOST."""
    if (clients.host or "").strip():
        return "Settings"
    if os.environ.get("DOCKER_HOST", "").strip():
        return "DOCKER_HOST"
    return "default"


def engine_info(fleet) -> EngineInfo:
    """Everything the panel shows. Raises ``ServiceUnavailableError`` (one sentence) when the
    engine does not answer."""
    docker = fleet.docker
    ping = docker.ping_ms()
    version = docker.version()
    info = docker.system_info()
    trackers = docker.list_trackers()  # every desk's: one GET /containers/json
    adopted = fleet.adopted_container_ids()  # another manager's containers an import took over
    ours = [c for c in trackers if c.owner == fleet.desk_id or c.id in adopted]
    return EngineInfo(
        host=docker.clients.where, host_source=host_source(docker.clients),
        version=str(version.get("Version") or info.get("ServerVersion") or ""),
        api_version=str(version.get("ApiVersion") or ""), min_api_version=str(version.get("MinAPIVersion") or ""),
        os=str(info.get("OperatingSystem") or ""), os_type=str(info.get("OSType") or version.get("Os") or ""),
        architecture=str(info.get("Architecture") or version.get("Arch") or ""),
        kernel=str(info.get("KernelVersion") or ""), name=str(info.get("Name") or ""),
        cpus=int(info.get("NCPU") or 0), memory_bytes=int(info.get("MemTotal") or 0),
        containers=int(info.get("Containers") or 0), running=int(info.get("ContainersRunning") or 0),
        paused=int(info.get("ContainersPaused") or 0), stopped=int(info.get("ContainersStopped") or 0),
        images=int(info.get("Images") or 0), storage_driver=str(info.get("Driver") or ""),
        cgroup_version=str(info.get("CgroupVersion") or ""),
        trackers=len(ours), trackers_running=sum(1 for c in ours if c.state == "running"),
        trackers_on_engine=len(trackers), ping_ms=round(ping, 2), swarm=swarm_role(info))


def swarm_role(info: dict) -> str:
    """The node's Swarm role from ``GET /info``: manager, worker, or the local node state."""
    swarm = info.get("Swarm") or {}
    state = str(swarm.get("LocalNodeState") or "")
    if state == "active":
        return "manager" if swarm.get("ControlAvailable") else "worker"
    return state


def check_engine(fleet) -> EngineCheck:
    """Never raises for an engine that does not answer: ``reachable`` is False with the sentence."""
    docker = fleet.docker
    where, source = docker.clients.where, host_source(docker.clients)
    started = time.perf_counter()
    try:
        ping = docker.ping_ms()
        version = docker.version()
        adopted = fleet.adopted_container_ids()
        listed = [c for c in docker.list_fleet(fleet.desk_id) if c.owner or c.id in adopted]
    except GiftDeskError as exc:
        return EngineCheck(False, where, source, error=str(exc))
    elapsed = (time.perf_counter() - started) * 1000
    return EngineCheck(True, where, source, round(ping, 2), round(elapsed, 1), str(version.get("Version") or ""),
                       str(version.get("ApiVersion") or ""), len(listed))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
