"""The fleet's side of the Docker adapter: tracker containers, their labels and their config.

The engine calls are ``giftdesk.docker.api.DockerAdapter``'s; this module knows what makes a
container a tracker of this desk (its labels) and how one is made. The fleet refresh is ONE
``GET /containers/json`` filtered by those labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from typing import TYPE_CHECKING

from giftdesk.docker.api import STOP_TIMEOUT_S, DockerAdapter, Stream
from giftdesk.docker.swarm import SERVICE_ID_LABEL

if TYPE_CHECKING:
    from giftdesk.fleet.records import InstanceRow

APP_LABEL = "app"
APP_VALUE = "gift-tracker"
ID_LABEL = "instance.id"
NAME_LABEL = "instance.name"
MANAGED_LABEL = "managed-by"
MANAGED_VALUE = "giftdesk"
# The database a container belongs to (two data directories may share an engine).
DESK_LABEL = "giftdesk.desk"
# The host port a tracker publishes, also while it is stopped (the engine lists the ports of
# running containers only): another data directory on the same engine must not hand it out.
PORT_LABEL = "giftdesk.port"
# The instance's uid and account: a container is relinked to a record (or reflected in one) only
# when these match it; the numeric instance.id can be handed out again after a crash.
UID_LABEL = "giftdesk.instance.uid"
ACCOUNT_LABEL = "giftdesk.account"
CONTAINER_PREFIX = "gift-tracker-"
TRACKER_PORT = 3000  # inside the container on a bridge network

_EXIT_CODE = re.compile(r"\((-?\d+)\)")


@dataclass(frozen=True)
class ContainerConfig:
    """What a tracker container is created from (the instance record says the same)."""

    name: str  # the container's name: gift-tracker-<instance name>
    image: str
    environment: dict[str, str]
    labels: dict[str, str]
    port: int
    network: str = "bridge"  # bridge | host | a user-defined network
    publish_address: str = "127.0.0.1"
    restart_policy: str = "unless-stopped"
    memory_limit_mb: int | None = 256
    cpu_millis: int | None = None
    stop_timeout: int = STOP_TIMEOUT_S


@dataclass(frozen=True)
class ContainerSummary:
    """One entry of ``GET /containers/json``: all the table needs without an inspect."""

    id: str
    name: str
    image: str
    state: str  # created | running | restarting | paused | exited | dead | removing
    status: str  # "Up 5 minutes (healthy)", "Exited (1) 3 seconds ago"
    labels: dict[str, str]
    created: datetime
    public_ports: tuple[int, ...] = ()

    @property
    def exit_code(self) -> int | None:
        if self.state not in ("exited", "restarting", "dead"):
            return None
        found = _EXIT_CODE.search(self.status)
        return int(found.group(1)) if found else None

    @property
    def engine_health(self) -> str | None:
        """The engine's own health check where the image or the container defines one."""
        if "(healthy)" in self.status:
            return "healthy"
        if "(unhealthy)" in self.status:
            return "unhealthy"
        if "(health: starting)" in self.status:
            return "starting"
        return None

    @property
    def instance_id(self) -> int | None:
        try:
            return int(self.labels.get(ID_LABEL, ""))
        except ValueError:
            return None

    @property
    def uid(self) -> str | None:
        return self.labels.get(UID_LABEL)

    @property
    def owner(self) -> str | None:
        """The data directory (desk id) the container was made for."""
        return self.labels.get(DESK_LABEL)

    @classmethod
    def of(cls, raw: dict) -> "ContainerSummary":
        names = raw.get("Names") or [""]
        ports = tuple(sorted({p["PublicPort"] for p in raw.get("Ports") or () if p.get("PublicPort")}))
        return cls(raw["Id"], names[0].lstrip("/"), raw.get("Image", ""), raw.get("State", ""),
                   raw.get("Status", ""), dict(raw.get("Labels") or {}),
                   datetime.fromtimestamp(raw.get("Created", 0), timezone.utc), ports)


def fleet_filters(desk_id: str | None = None) -> dict:
    labels = [f"{APP_LABEL}={APP_VALUE}"]
    if desk_id:
        labels.append(f"{DESK_LABEL}={desk_id}")
    return {"label": labels}


class FleetDocker(DockerAdapter):
    """Tracker containers on one engine (the adapter's calls plus the fleet's labels)."""

    def list_trackers(self, desk_id: str | None = None, host: str | None = None) -> list[ContainerSummary]:
        """Every tracker container (of this desk when ``desk_id``): one GET /containers/json. The
        containers of a Swarm service's tasks carry the same labels but are the service's, not records'.
        ``host``: the engine's address, already read (``DockerAdapter.api_at``)."""
        return [ContainerSummary.of(item) for item in self.list_containers(filters=fleet_filters(desk_id), host=host)
                if SERVICE_ID_LABEL not in (item.get("Labels") or {})]

    def list_fleet(self, desk_id: str, host: str | None = None) -> list[ContainerSummary]:
        """This desk's trackers and those no desk made (another manager's, some of which an import
        took over, known then by their container id): one GET /containers/json."""
        return [summary for summary in self.list_trackers(host=host) if summary.owner in (None, desk_id)]

    def list_all(self, running_only: bool = False) -> list[ContainerSummary]:
        return [ContainerSummary.of(item) for item in self.list_containers(include_stopped=not running_only)]

    def published_ports(self, desk_id: str | None = None) -> set[int]:
        """Host ports published by any running container on the engine, ours or not, and those
        stopped trackers of other data directories (not ``desk_id``) will publish when started."""
        ports: set[int] = set()
        for summary in self.list_all():
            ports.update(summary.public_ports)
            owner, port = summary.labels.get(DESK_LABEL), summary.labels.get(PORT_LABEL, "")
            if owner and owner != desk_id and port.isdigit():
                ports.add(int(port))
        return ports

    def create(self, config: ContainerConfig) -> str:
        return self.create_container(
            config.image, config.name, config.environment, config.labels, network=config.network,
            ports={TRACKER_PORT: (config.publish_address, config.port)}, restart_policy=config.restart_policy,
            memory_limit_mb=config.memory_limit_mb, cpu_millis=config.cpu_millis, stop_timeout=config.stop_timeout)

    def open_event_stream(self, since: float | None, desk_id: str | None = None) -> Stream:
        return self.open_container_events(since, {"type": ["container"], **fleet_filters(desk_id)})


def is_adopted(container_id: str | None, row: InstanceRow) -> bool:
    """The container another manager made that this record took over as it was (its labels are
    that manager's: only its exact id makes it this record's)."""
    return bool(container_id) and container_id == row.adopted_container_id


def labels_match(labels: dict, row: InstanceRow, desk_id: str) -> bool:
    """The record's own container: its uid label when it has one (legacy ones: the id label)."""
    if labels.get(APP_LABEL) != APP_VALUE or labels.get(DESK_LABEL) != desk_id:
        return False
    if UID_LABEL in labels:
        return labels[UID_LABEL] == row.uid
    return labels.get(ID_LABEL) == str(row.id)


def belongs_to(container: ContainerSummary, row: InstanceRow, desk_id: str) -> bool:
    """Whether a container may be (re)linked to a record: its uid, account and port labels all say
    so. The numeric id label alone never decides: a crash can hand that id out twice."""
    labels = container.labels
    return (bool(row.uid) and labels.get(UID_LABEL) == row.uid and labels.get(DESK_LABEL) == desk_id
            and labels.get(ACCOUNT_LABEL) == str(row.account_id) and labels.get(PORT_LABEL) == str(row.port))


def env_of(details: dict) -> dict[str, str]:
    """A container's environment from its inspect answer."""
    return dict(item.split("=", 1) for item in (details.get("Config") or {}).get("Env") or () if "=" in item)
