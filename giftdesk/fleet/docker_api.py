"""The fleet's Docker adapter: tracker containers through the engine's low-level API.

Everything goes through ``docker.APIClient`` calls that map to one HTTP request each: the fleet
refresh is ONE ``GET /containers/json`` (docker-py's ``containers.list()`` inspects every
container: N+1 requests). Calls use the runtime's shared short-timeout client; event, log and
stats streams a client of their own, closed from another thread to end them.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from giftdesk.core.errors import ConflictError, NotFoundError, ServiceUnavailableError, ValidationError

log = logging.getLogger(__name__)

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
STOP_TIMEOUT_S = 10
LOG_MAX_SIZE = "10m"
LOG_MAX_FILE = "3"

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

    @classmethod
    def of(cls, raw: dict) -> "ContainerSummary":
        names = raw.get("Names") or [""]
        ports = tuple(sorted({p["PublicPort"] for p in raw.get("Ports") or () if p.get("PublicPort")}))
        return cls(raw["Id"], names[0].lstrip("/"), raw.get("Image", ""), raw.get("State", ""),
                   raw.get("Status", ""), dict(raw.get("Labels") or {}),
                   datetime.fromtimestamp(raw.get("Created", 0), timezone.utc), ports)


@dataclass
class StatsSample:
    """CPU %, memory and network I/O as ``docker stats`` computes them.

    ``net_rx``/``net_tx`` are byte counters summed over the container's networks (None for a
    host-network container: it has no interfaces of its own); the rates are bytes per second
    since the previous sample, None when there is none or a counter went down (a restart).
    """

    cpu_percent: float | None
    memory_bytes: int
    memory_limit: int
    net_rx: int | None
    net_tx: int | None
    cpu_total: int = 0
    system_total: int = 0
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    net_rx_rate: float | None = None
    net_tx_rate: float | None = None
    read_at: datetime | None = None  # the engine's own time of the reading (rates use it)


def _engine_time(text: str | None) -> datetime | None:
    """``read`` of a stats answer (RFC 3339 with nanoseconds); the zero time means none."""
    if not text or text.startswith("0001-"):
        return None
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not found:
        return None
    micros = (found.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if found.group(3) == "Z" else found.group(3)
    try:
        return datetime.fromisoformat(f"{found.group(1)}.{micros}{zone}")
    except ValueError:
        return None


def compute_stats(raw: dict, previous: StatsSample | None = None) -> StatsSample:
    """The docker CLI's formulas: memory without the inactive file cache; CPU from positive
    deltas of container and system CPU time, times the number of CPUs. A one-shot sample has no
    ``precpu_stats``, so the previous sample we kept stands in for it; network rates come from
    the previous sample the same way."""
    memory = raw.get("memory_stats") or {}
    usage = int(memory.get("usage") or 0)
    details = memory.get("stats") or {}
    # cgroup v1: total_inactive_file; cgroup v2: inactive_file (what the CLI subtracts).
    inactive = details.get("total_inactive_file", details.get("inactive_file", 0)) or 0
    if inactive < usage:
        usage -= inactive
    cpu = raw.get("cpu_stats") or {}
    total = int((cpu.get("cpu_usage") or {}).get("total_usage") or 0)
    system = int(cpu.get("system_cpu_usage") or 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or ()) or 1
    pre = raw.get("precpu_stats") or {}
    pre_total = int((pre.get("cpu_usage") or {}).get("total_usage") or 0)
    pre_system = int(pre.get("system_cpu_usage") or 0)
    if not pre_system and previous is not None:
        pre_total, pre_system = previous.cpu_total, previous.system_total
    percent = None
    cpu_delta, system_delta = total - pre_total, system - pre_system
    if pre_system and system_delta > 0 and cpu_delta >= 0:
        percent = cpu_delta / system_delta * online * 100.0
    networks = raw.get("networks")
    rx = tx = None
    if networks:  # absent with host (or no) networking: no figure rather than 0
        rx = sum(int(net.get("rx_bytes") or 0) for net in networks.values())
        tx = sum(int(net.get("tx_bytes") or 0) for net in networks.values())
    sample = StatsSample(percent, usage, int(memory.get("limit") or 0), rx, tx, total, system,
                         read_at=_engine_time(raw.get("read")))
    if previous is not None and rx is not None and previous.net_rx is not None and previous.net_tx is not None:
        restarted = (rx < previous.net_rx or tx < previous.net_tx
                     or (previous.cpu_total and total < previous.cpu_total))
        if sample.read_at is not None and previous.read_at is not None:
            seconds = (sample.read_at - previous.read_at).total_seconds()
        else:
            seconds = (sample.at - previous.at).total_seconds()
        if not restarted and seconds > 0:
            sample.net_rx_rate = (rx - previous.net_rx) / seconds
            sample.net_tx_rate = (tx - previous.net_tx) / seconds
    return sample


def fleet_filters(desk_id: str | None = None) -> dict:
    labels = [f"{APP_LABEL}={APP_VALUE}"]
    if desk_id:
        labels.append(f"{DESK_LABEL}={desk_id}")
    return {"label": labels}


class FleetDocker:
    """Tracker containers on one engine. ``clients`` is a ``giftdesk.runtime.clients.DockerClients``."""

    def __init__(self, clients):
        self.clients = clients

    @property
    def api(self):
        where = self.clients.where
        # docker-py leaks the socket of a failed connect: a missing socket file is said plainly here.
        if where.startswith("unix://") and not os.path.exists(where.removeprefix("unix://")):
            raise ServiceUnavailableError(f"The Docker engine at {where} did not answer: there is no socket there.")
        try:
            return self.clients.calls().api
        except Exception as exc:
            raise _unavailable(exc, self.clients.where) from exc

    def _call(self, what: str, fn: Callable, *args, **kwargs):
        import docker.errors
        import requests.exceptions

        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound as exc:
            raise NotFoundError(f"{what}: {_explanation(exc)}") from exc
        except docker.errors.APIError as exc:
            if exc.status_code == 409:
                raise ConflictError(f"{what}: {_explanation(exc)}") from exc
            if exc.status_code == 400:
                raise ValidationError(f"{what}: {_explanation(exc)}") from exc
            raise ServiceUnavailableError(f"{what}: {_explanation(exc)}") from exc
        except (requests.exceptions.RequestException, docker.errors.DockerException, OSError) as exc:
            self.clients.reset()
            raise _unavailable(exc, self.clients.where) from exc

    # ---- reading ------------------------------------------------------------------------
    def list_trackers(self, desk_id: str | None = None) -> list[ContainerSummary]:
        """Every tracker container (of this desk when ``desk_id``): one GET /containers/json."""
        raw = self._call("Listing containers", self.api.containers, all=True, filters=fleet_filters(desk_id))
        return [ContainerSummary.of(item) for item in raw]

    def list_all(self, running_only: bool = False) -> list[ContainerSummary]:
        raw = self._call("Listing containers", self.api.containers, all=not running_only)
        return [ContainerSummary.of(item) for item in raw]

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

    def inspect(self, container_id: str) -> dict:
        return self._call("Inspecting the container", self.api.inspect_container, container_id)

    def exists(self, container_id: str) -> bool:
        try:
            self.inspect(container_id)
            return True
        except NotFoundError:
            return False

    def image_exists(self, reference: str) -> bool:
        try:
            self._call("Reading the image", self.api.inspect_image, reference)
            return True
        except NotFoundError:
            return False

    def networks(self) -> list[str]:
        return sorted(n["Name"] for n in self._call("Listing networks", self.api.networks) if n.get("Name") != "none")

    def version(self) -> dict:
        """``GET /version``: engine, API, OS and architecture."""
        return self._call("Asking the engine", self.api.version)

    def system_info(self) -> dict:
        """``GET /info``: containers by state, images, storage driver, CPUs, memory."""
        return self._call("Asking the engine", self.api.info)

    def ping_ms(self) -> float:
        """The round trip of ``GET /_ping`` on an open connection, in milliseconds."""
        api = self.api  # connecting (and docker-py's version probe) is not part of the round trip
        started = time.perf_counter()
        self._call("Pinging the engine", api.ping)
        return (time.perf_counter() - started) * 1000

    def containers_raw(self) -> list[dict]:
        """Every container as ``GET /containers/json`` gives it (``ImageID`` included)."""
        return self._call("Listing containers", self.api.containers, all=True)

    def images_raw(self) -> list[dict]:
        return self._call("Listing images", self.api.images)

    # ---- lifecycle ----------------------------------------------------------------------
    def create(self, config: ContainerConfig) -> str:
        import docker.types

        api = self.api
        host_options: dict[str, Any] = {
            "init": True,  # node as PID 1 has no SIGTERM handler: tini forwards it
            "restart_policy": {"Name": config.restart_policy} if config.restart_policy != "no" else None,
            "log_config": docker.types.LogConfig(type="json-file",
                                                 config={"max-size": LOG_MAX_SIZE, "max-file": LOG_MAX_FILE}),
            "network_mode": config.network,
        }
        if config.memory_limit_mb:
            host_options["mem_limit"] = f"{config.memory_limit_mb}m"
        if config.cpu_millis:
            host_options["nano_cpus"] = config.cpu_millis * 1_000_000
        ports = None
        if config.network != "host":
            host_options["port_bindings"] = {TRACKER_PORT: (config.publish_address, config.port)}
            ports = [TRACKER_PORT]
        host_options = {k: v for k, v in host_options.items() if v is not None}
        host_config = api.create_host_config(**host_options)
        created = self._call(
            "Creating the container", api.create_container, config.image, name=config.name,
            environment=dict(config.environment), labels=dict(config.labels), ports=ports,
            host_config=host_config, stop_timeout=config.stop_timeout, use_config_proxy=False, detach=True)
        return created["Id"]

    def start(self, container_id: str) -> None:
        self._call("Starting the container", self.api.start, container_id)

    def stop(self, container_id: str, timeout: int = STOP_TIMEOUT_S) -> None:
        self._call("Stopping the container", self.api.stop, container_id, timeout=timeout)

    def restart(self, container_id: str, timeout: int = STOP_TIMEOUT_S) -> None:
        self._call("Restarting the container", self.api.restart, container_id, timeout=timeout)

    def remove(self, container_id: str, force: bool = True) -> None:
        try:
            self._call("Removing the container", self.api.remove_container, container_id, force=force)
        except NotFoundError:
            pass  # already gone: what we wanted
        except ConflictError as exc:
            if "already in progress" not in str(exc):
                raise

    def rename(self, container_id: str, name: str) -> None:
        self._call("Renaming the container", self.api.rename, container_id, name)

    # ---- streams and samples --------------------------------------------------------------
    def logs(self, container_id: str, tail: int | None = None, since: datetime | None = None,
             timestamps: bool = False) -> bytes:
        return self._call("Reading the logs", self.api.logs, container_id, tail="all" if tail is None else tail,
                          since=since, timestamps=timestamps, stream=False)

    def stats_once(self, container_id: str) -> dict:
        return self._call("Reading the statistics", self.api.stats, container_id, stream=False, one_shot=True)

    def open_log_stream(self, container_id: str, tail: int | None = None, since: datetime | None = None,
                        timestamps: bool = False) -> "Stream":
        client = self.clients.open_stream_client()
        try:
            chunks = client.api.logs(container_id, stream=True, follow=True, timestamps=timestamps,
                                     tail="all" if tail is None else tail, since=since)
        except Exception as exc:
            self.clients.close_stream_client(client)
            raise _as_domain(exc, "Following the logs", self.clients.where) from exc
        return Stream(self.clients, client, chunks)

    def open_event_stream(self, since: float | None, desk_id: str | None = None) -> "Stream":
        client = self.clients.open_stream_client()
        filters = {"type": ["container"], **fleet_filters(desk_id)}
        try:
            events = client.api.events(since=since, filters=filters, decode=True)
        except Exception as exc:
            self.clients.close_stream_client(client)
            raise _as_domain(exc, "Following the engine's events", self.clients.where) from exc
        return Stream(self.clients, client, events)

    # ---- images ---------------------------------------------------------------------------
    def remove_image(self, reference: str, force: bool = False) -> None:
        self._call(f"Removing image {reference}", self.api.remove_image, reference, force=force)

    def build_image(self, directory: str, tag: str, cancel=None, on_line: Callable[[str], None] | None = None) -> str:
        """Builds from a folder with a Dockerfile, streaming the log; ``cancel`` (an Event) stops it.

        Cancel closes the build's connection: the engine then kills the step that runs (a
        ``RUN sleep 30`` included) and removes its container. Checking the event between log
        lines alone would wait for the step's next line, and leave the engine building."""
        client = self.clients.open_stream_client()
        responses: list = []
        # The build's HTTP response, to shut its socket from the watcher (api.build hides it).
        client.api.hooks["response"].append(lambda response, *_a, **_k: responses.append(response))
        finished = threading.Event()
        watcher = None
        if cancel is not None:
            watcher = threading.Thread(target=_cancel_watch, args=(cancel, finished, responses),
                                       name="image-build-cancel", daemon=True)
            watcher.start()
        image_id = ""
        interrupted = False
        try:
            stream = client.api.build(path=directory, tag=tag, rm=True, forcerm=True, decode=True)
            for chunk in stream:
                if cancel is not None and cancel.is_set():
                    interrupted = True
                    break
                if "error" in chunk:
                    raise ValidationError(f"The build failed: {chunk['error'].strip()}")
                text = chunk.get("stream") or chunk.get("status") or ""
                if "aux" in chunk and isinstance(chunk["aux"], dict):
                    image_id = chunk["aux"].get("ID", image_id)
                if text and on_line is not None:
                    for line in text.splitlines():
                        if line.strip():
                            on_line(line)
        except (ValidationError, NotFoundError):
            raise
        except Exception as exc:
            if cancel is None or not cancel.is_set():
                raise _as_domain(exc, "Building the image", self.clients.where) from exc
            interrupted = True  # our own shutdown of the socket ended the stream
        finally:
            finished.set()
            if watcher is not None:
                watcher.join(timeout=2)
            if cancel is not None and cancel.is_set() and responses:
                _shut(responses[-1])  # cancelled before the watcher saw the response
            for response in responses:
                response.close()  # a build that failed mid-stream leaves its socket open otherwise
            self.clients.close_stream_client(client)
        if interrupted or (cancel is not None and cancel.is_set() and not image_id):
            raise BuildCancelled("The build was cancelled; the engine stopped it.")
        return image_id


def _cancel_watch(cancel, finished: threading.Event, responses: list) -> None:
    """Until the build ends: once ``cancel`` is set and the response has come, shut its socket."""
    while not finished.wait(0.05):
        if cancel.is_set() and responses:
            _shut(responses[-1])
            return


def _shut(response) -> None:
    from docker.types import CancellableStream

    try:
        CancellableStream(None, response).close()  # shutdown + close of the response's socket
    except Exception:
        log.debug("Closing the build's connection failed", exc_info=True)


class BuildCancelled(ValidationError):
    """The user stopped a build; nothing was tagged."""


class Stream:
    """A long stream on its own client: iterate it; ``close()`` from any thread ends it."""

    def __init__(self, clients, client, iterator):
        self._clients = clients
        self._client = client
        self._iterator = iterator
        self.closed = False

    def __iter__(self) -> Iterator:
        try:
            yield from self._iterator
        except Exception:
            if not self.closed:
                raise

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        closer = getattr(self._iterator, "close", None)
        try:
            if closer is not None:
                closer()
        except Exception:
            log.debug("Closing a stream failed", exc_info=True)
        self._clients.close_stream_client(self._client)


def _explanation(exc) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip()


def _unavailable(exc: BaseException, where: str) -> ServiceUnavailableError:
    return ServiceUnavailableError(f"The Docker engine at {where} did not answer: {str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}")


def _as_domain(exc: BaseException, what: str, where: str) -> Exception:
    import docker.errors

    if isinstance(exc, docker.errors.NotFound):
        return NotFoundError(f"{what}: {_explanation(exc)}")
    if isinstance(exc, docker.errors.APIError):
        return ServiceUnavailableError(f"{what}: {_explanation(exc)}")
    return _unavailable(exc, where)
