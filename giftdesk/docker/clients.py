"""The Docker client pool the runtime owns: one engine's calls and streams.

Docker calls share one client with a short timeout and a pool big enough for bulk actions in
parallel. Event, log and stats streams each get a client of their own with no read timeout (a
quiet container's log stream must not die after a few seconds) and are closed from another
thread to end them. The SDK is imported on first use (a third of a second start-up should not pay).

The engine is a parameter (``host``: an address, or a function giving the current one), never a
global: a pool per engine when there are several.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 10
CALL_POOL_SIZE = 32  # bulk start/stop runs 16 calls at once, plus the table's own calls
SOCKET_CHECK_TIMEOUT_S = 3
DEFAULT_HOST = "unix:///var/run/docker.sock"


def engine_address(host: str = "") -> str:
    """The address in use: the given host, else DOCKER_HOST, else the default socket."""
    return host.strip() or os.environ.get("DOCKER_HOST", "") or DEFAULT_HOST


def socket_file_missing(where: str) -> bool:
    """A unix:// address whose socket file is not there (the engine is not running, or elsewhere)."""
    return where.startswith("unix://") and not os.path.exists(where.removeprefix("unix://"))


def check_socket(where: str, timeout: float = SOCKET_CHECK_TIMEOUT_S) -> None:
    """For unix:// hosts, connect once ourselves first: docker-py leaks the socket of a failed
    connect (a ResourceWarning per probe, and the watcher retries every few seconds while the
    engine is away), and a missing socket file deserves a plain sentence. Raises OSError
    (``ConnectionError`` when there is no socket file)."""
    if not where.startswith("unix://"):
        return
    path = where.removeprefix("unix://")
    if socket_file_missing(where):
        raise ConnectionError(f"there is no Docker socket at {path}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        probe.connect(path)


class DockerClients:
    """The clients of one engine. ``host``: its address ('' = the environment's: DOCKER_HOST or
    the default socket), or a function giving it (the Settings' ``docker.host``, read each time)."""

    def __init__(self, host: Callable[[], str] | str = "", call_timeout: float = CALL_TIMEOUT_S,
                 pool_size: int = CALL_POOL_SIZE, maker=None):
        """``maker``: a ``giftdesk.docker.connection.ClientMaker`` for a named engine (its address,
        TLS or ssh); without one, the address alone (or the environment's)."""
        self._maker = maker
        if maker is not None:
            host = maker.host
        self._host = host if callable(host) else (lambda: host)
        self._call_timeout = call_timeout
        self._pool_size = pool_size
        self._calls = None
        self._calls_host: str | None = None
        self._streams: set = set()
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return (self._host() or "").strip()

    @property
    def where(self) -> str:
        return engine_address(self.host)

    def _make(self, timeout: float | None, pool: int):
        import docker

        if self._maker is not None:
            return self._maker.make(timeout, pool)
        host = self.host
        if host:
            return docker.DockerClient(base_url=host, timeout=timeout, max_pool_size=pool)
        return docker.from_env(timeout=timeout, max_pool_size=pool)

    def calls(self, host: str | None = None):
        """The shared client for request/response calls (short timeout). Thread-safe to use.
        ``host``: the address already read by the caller (reading it may cost a database query)."""
        if host is None:
            host = self.host
        with self._lock:
            if self._calls is None or self._calls_host != host:
                old, self._calls = self._calls, None
                if old is not None:
                    close_quietly(old)
                self._calls = self._make(self._call_timeout, self._pool_size)
                self._calls_host = host
            return self._calls

    def reset(self) -> None:
        """Drop the shared client (the engine went away, or the host setting changed)."""
        with self._lock:
            old, self._calls = self._calls, None
        if old is not None:
            close_quietly(old)

    def open_stream_client(self):
        """A client of its own for one long stream; close it with ``close_stream_client``."""
        client = self._make(None, 1)
        with self._lock:
            self._streams.add(client)
        return client

    def close_stream_client(self, client) -> None:
        with self._lock:
            self._streams.discard(client)
        close_quietly(client)

    def close(self) -> None:
        with self._lock:
            clients = [c for c in (self._calls, *self._streams) if c is not None]
            self._calls = None
            self._streams.clear()
        for client in clients:
            close_quietly(client)
        if self._maker is not None:
            self._maker.close()


def close_quietly(client) -> None:
    try:
        client.close()
    except Exception:
        log.debug("Closing a client (%s) failed", type(client).__name__, exc_info=True)
