"""The Docker adapter: one place that talks to the Docker Engine through the docker SDK.

Qt-free and blocking: callers run it off the GUI thread. This release asks the engine for its
state (the status bar, ``giftdesk status``); fleet management builds on ``client()``.
The SDK is imported on first use: it costs a third of a second that start-up should not pay.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from giftdesk.core.wording import counted

log = logging.getLogger(__name__)
TIMEOUT_S = 3


@dataclass(frozen=True)
class DockerState:
    reachable: bool | None  # None: not asked yet
    host: str = ""
    version: str = ""
    containers: int = 0
    running: int = 0
    error: str = ""

    @property
    def label(self) -> str:
        if self.reachable is None:
            return "Docker: checking…"
        if not self.reachable:
            return "Docker: not reachable"
        count = f"{self.containers} container{'s' if self.containers != 1 else ''}"
        if self.containers:
            count += f" ({self.running} running)"
        return f"Docker: {self.version}, {count}"

    @property
    def short_label(self) -> str:
        """The status bar's: the version and counts are in the tool tip."""
        if not self.reachable:
            return self.label
        if not self.containers:
            return "Docker: no containers"
        return f"Docker: {self.running}/{self.containers} running"

    @property
    def tooltip(self) -> str:
        where = self.host or "the default Docker host"
        if self.reachable is None:
            return f"Checking the Docker engine at {where}…"
        if not self.reachable:
            return f"The Docker engine at {where} did not answer:\n{self.error}\n\nSet the Docker host in File → Settings."
        return f"Docker engine {self.version} at {where}\n{counted(self.containers, 'container')}, {self.running:,} running"

    def to_json(self) -> dict:
        return {"reachable": self.reachable, "host": self.host, "version": self.version,
                "containers": self.containers, "running": self.running, "error": self.error or None}


class DockerEngine:
    """A client for one Docker host ('' means the environment's: DOCKER_HOST or the default socket)."""

    def __init__(self, host: str = ""):
        self.host = host.strip()
        self._client = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return self.host or os.environ.get("DOCKER_HOST", "")

    def client(self):
        """The SDK client, made on first use (construction talks to the engine)."""
        with self._lock:
            if self._client is None:
                import docker

                self._client = (docker.DockerClient(base_url=self.host, timeout=TIMEOUT_S) if self.host
                                else docker.from_env(timeout=TIMEOUT_S))
            return self._client

    def _check_socket(self) -> None:
        """For unix:// hosts, connect once ourselves first: docker-py leaks the socket of a failed
        connect (a ResourceWarning per probe), and a missing socket file deserves a plain sentence."""
        where = self.where or "unix:///var/run/docker.sock"
        if not where.startswith("unix://"):
            return
        path = where.removeprefix("unix://")
        if not os.path.exists(path):
            raise ConnectionError(f"there is no Docker socket at {path}")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(TIMEOUT_S)
            probe.connect(path)

    def probe(self) -> DockerState:
        """Version and container counts, or why the engine did not answer. Never raises."""
        try:
            self._check_socket()
            client = self.client()
            version = client.version().get("Version", "?")
            info = client.info()
            return DockerState(True, self.where, version, int(info.get("Containers", 0) or 0),
                               int(info.get("ContainersRunning", 0) or 0))
        except Exception as exc:  # refused, timeout, bad host URL, permission denied on the socket...
            self.close()  # the next probe starts with a fresh connection
            message = str(exc) or type(exc).__name__
            return DockerState(False, self.where, error=message[:500])

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:
                log.debug("Closing the Docker client failed", exc_info=True)
