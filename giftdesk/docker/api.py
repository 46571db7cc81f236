"""The Docker adapter: one engine through the engine's low-level API.

Everything goes through ``docker.APIClient`` calls that map to one HTTP request each (docker-py's
``containers.list()`` inspects every container: N+1 requests). Calls use the pool's shared
short-timeout client; event, log and stats streams a client of their own, closed from another
thread to end them. Engine errors become the domain's: NotFoundError, ConflictError,
ValidationError, ServiceUnavailableError (one sentence saying which engine did not answer).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from giftdesk.core.errors import ConflictError, NotFoundError, ServiceUnavailableError, ValidationError
from giftdesk.docker.clients import DockerClients, engine_address, socket_file_missing

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10
LOG_MAX_SIZE = "10m"
LOG_MAX_FILE = "3"


class DockerAdapter:
    """One engine's calls, through ``clients`` (a ``DockerClients`` pool)."""

    def __init__(self, clients: DockerClients):
        self.clients = clients

    @property
    def api(self):
        return self.api_at(self.clients.host)

    def api_at(self, host: str):
        """The low-level client for ``host``, the engine's address as ``clients.host`` gave it: read
        once per call (the local engine's comes from the settings, a database query)."""
        where = engine_address(host)
        # docker-py leaks the socket of a failed connect: a missing socket file is said plainly here.
        if socket_file_missing(where):
            raise ServiceUnavailableError(f"The Docker engine at {where} did not answer: there is no socket there.")
        try:
            return self.clients.calls(host).api
        except Exception as exc:
            raise _unavailable(exc, where) from exc

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
        except ValueError as exc:
            # docker-py's ssh transport: the ssh program ended (refused, no key, no docker there),
            # and reading its closed pipe is all the client sees. ssh says why on stderr.
            if not self.clients.where.startswith("ssh://"):
                raise
            self.clients.reset()
            raise ServiceUnavailableError(f"The Docker engine at {self.clients.where} did not answer: the ssh "
                                          "connection ended (ssh says why on its own).") from exc

    # ---- reading ------------------------------------------------------------------------
    def list_containers(self, include_stopped: bool = True, filters: dict | None = None,
                        host: str | None = None) -> list[dict]:
        """``GET /containers/json``: one request, whatever the number of containers (``host``: the
        engine's address, already read; see ``api_at``)."""
        api = self.api if host is None else self.api_at(host)
        return self._call("Listing containers", api.containers, all=include_stopped, filters=filters)

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

    # ---- containers ---------------------------------------------------------------------
    def create_container(self, image: str, name: str, environment: dict[str, str], labels: dict[str, str], *,
                         network: str = "bridge", ports: dict[int, tuple[str, int]] | None = None,
                         restart_policy: str = "no", memory_limit_mb: int | None = None,
                         cpu_millis: int | None = None, stop_timeout: int = STOP_TIMEOUT_S) -> str:
        """A container with tini as PID 1 and a rotated json-file log; ``ports``: container port ->
        (host address, host port), ignored on the host network. Returns its id."""
        import docker.types

        api = self.api
        host_options: dict[str, Any] = {
            "init": True,  # node as PID 1 has no SIGTERM handler: tini forwards it
            "restart_policy": {"Name": restart_policy} if restart_policy != "no" else None,
            "log_config": docker.types.LogConfig(type="json-file",
                                                 config={"max-size": LOG_MAX_SIZE, "max-file": LOG_MAX_FILE}),
            "network_mode": network,
        }
        if memory_limit_mb:
            host_options["mem_limit"] = f"{memory_limit_mb}m"
        if cpu_millis:
            host_options["nano_cpus"] = cpu_millis * 1_000_000
        exposed = None
        if network != "host" and ports:
            host_options["port_bindings"] = dict(ports)
            exposed = list(ports)
        host_options = {k: v for k, v in host_options.items() if v is not None}
        host_config = api.create_host_config(**host_options)
        created = self._call(
            "Creating the container", api.create_container, image, name=name,
            environment=dict(environment), labels=dict(labels), ports=exposed,
            host_config=host_config, stop_timeout=stop_timeout, use_config_proxy=False, detach=True)
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

    def open_container_events(self, since: float | None, filters: dict) -> "Stream":
        """The engine's container events from ``since`` (a UNIX time), as a stream."""
        client = self.clients.open_stream_client()
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
