"""The engine's state: does it answer, which version, how many containers (the status bar,
``giftdesk status``).

Qt-free and blocking: callers run it off the GUI thread. The SDK is imported on first use: it
costs a third of a second that start-up should not pay.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from giftdesk.core.wording import counted
from giftdesk.docker.clients import DockerClients, check_socket

TIMEOUT_S = 3


@dataclass(frozen=True)
class DockerState:
    reachable: bool | None  # None: not asked yet
    host: str = ""
    version: str = ""
    containers: int = 0
    running: int = 0
    error: str = ""
    engines: int = 1  # with the named ones
    unreachable_engines: tuple[str, ...] = ()  # their names ("local" for this one), when some do not answer

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
        if self.engines > 1 and self.reachable is not None:
            down = len(self.unreachable_engines)
            return f"Docker: {self.engines} engines" + (f", {down} unreachable" if down else "")
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
            return (f"The Docker engine at {where} did not answer:\n{self.error}\n\nSet the Docker host in File → Settings."
                    + self._engines_line())
        local = f"Docker engine {self.version} at {where}\n{counted(self.containers, 'container')}, {self.running:,} running"
        return local + self._engines_line()

    def _engines_line(self) -> str:
        if self.engines <= 1:
            return ""
        named = [name for name in self.unreachable_engines if name != "local"]
        return (f"\n{self.engines} engines" + (f"; not answering: {', '.join(named)}" if named else ", all answering")
                + " (File → Docker engines…)")

    def to_json(self) -> dict:
        return {"reachable": self.reachable, "host": self.host, "version": self.version,
                "containers": self.containers, "running": self.running, "error": self.error or None,
                "engines": self.engines, "unreachableEngines": list(self.unreachable_engines)}


class DockerEngine:
    """Whether one Docker host answers ('' means the environment's: DOCKER_HOST or the default
    socket), through a client pool of its own with the probe's short timeout."""

    def __init__(self, host: str = ""):
        self.host = host.strip()
        self.clients = DockerClients(self.host, call_timeout=TIMEOUT_S, pool_size=1)

    @property
    def where(self) -> str:
        return self.host or os.environ.get("DOCKER_HOST", "")

    def client(self):
        """The SDK client, made on first use (construction talks to the engine)."""
        return self.clients.calls()

    def probe(self) -> DockerState:
        """Version and container counts, or why the engine did not answer. Never raises."""
        try:
            check_socket(self.clients.where, TIMEOUT_S)
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
        self.clients.close()
