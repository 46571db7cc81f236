"""The runtime's httpx clients: one per remote API (the Docker clients are ``giftdesk.docker.clients``)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 15.0


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
            try:
                client.close()
            except Exception:
                log.debug("Closing the %s client failed", type(client).__name__, exc_info=True)
