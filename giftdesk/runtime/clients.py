"""The stateful clients the runtime owns: Docker (calls and streams) and one httpx client per API.

Docker calls share one client with a short timeout and a pool big enough for bulk actions in
parallel. Event, log and stats streams each get a client of their own with no read timeout (a
quiet container's log stream must not die after a few seconds) and are closed from another
thread to end them. The SDK is imported on first use (a third of a second start-up should not pay).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 10
CALL_POOL_SIZE = 32  # bulk start/stop runs 16 calls at once, plus the table's own calls
HTTP_TIMEOUT_S = 15.0


class DockerClients:
    def __init__(self, host: Callable[[], str] | str = ""):
        self._host = host if callable(host) else (lambda: host)
        self._calls = None
        self._calls_host: str | None = None
        self._streams: set = set()
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return (self._host() or "").strip()

    @property
    def where(self) -> str:
        return self.host or os.environ.get("DOCKER_HOST", "") or "unix:///var/run/docker.sock"

    def _make(self, timeout: int | None, pool: int):
        import docker

        host = self.host
        if host:
            return docker.DockerClient(base_url=host, timeout=timeout, max_pool_size=pool)
        return docker.from_env(timeout=timeout, max_pool_size=pool)

    def calls(self):
        """The shared client for request/response calls (short timeout). Thread-safe to use."""
        with self._lock:
            host = self.host
            if self._calls is None or self._calls_host != host:
                old, self._calls = self._calls, None
                if old is not None:
                    _close(old)
                self._calls = self._make(CALL_TIMEOUT_S, CALL_POOL_SIZE)
                self._calls_host = host
            return self._calls

    def reset(self) -> None:
        """Drop the shared client (the engine went away, or the host setting changed)."""
        with self._lock:
            old, self._calls = self._calls, None
        if old is not None:
            _close(old)

    def open_stream_client(self):
        """A client of its own for one long stream; close it with ``close_stream_client``."""
        client = self._make(None, 1)
        with self._lock:
            self._streams.add(client)
        return client

    def close_stream_client(self, client) -> None:
        with self._lock:
            self._streams.discard(client)
        _close(client)

    def close(self) -> None:
        with self._lock:
            clients = [c for c in (self._calls, *self._streams) if c is not None]
            self._calls = None
            self._streams.clear()
        for client in clients:
            _close(client)


def _close(client) -> None:
    try:
        client.close()
    except Exception:
        log.debug("Closing a client (%s) failed", type(client).__name__, exc_info=True)


class HttpClients:
    """One ``httpx.Client`` per remote API name, made on first use, closed with the runtime."""

    def __init__(self) -> None:
        self._clients: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, name: str, **options):
        import httpx

        with self._lock:
            client = self._clients.get(name)
            if client is None or client.is_closed:
                options.setdefault("timeout", HTTP_TIMEOUT_S)
                options.setdefault("limits", httpx.Limits(max_connections=16, max_keepalive_connections=8))
                client = httpx.Client(**options)
                self._clients[name] = client
            return client

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            _close(client)
