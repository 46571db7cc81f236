"""The tracker endpoint as a supervised service, in the window and in ``giftdesk serve`` alike.

``run`` builds a server as the settings say (overrides from ``giftdesk serve``'s options win),
serving the routes the desk wires (``Desk.endpoint_routes``: the tracker routes and the social
sync route, with the tracker gateway's key table), listens, then reports requests per minute
every second until told to stop. A
port that is taken is a failure: the supervisor retries with backoff and the status bar says
why. ``endpoint.enabled``/``port``/``bind`` changes and a restored database restart it; the rate
limit is applied to the running server; a new public URL only changes what trackers are told.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from giftdesk.core.service import Service
from giftdesk.core.events import DatabaseReplaced, SettingsChanged

log = logging.getLogger(__name__)

RESTART_KEYS = {"endpoint.enabled", "endpoint.port", "endpoint.bind", "endpoint.cors_origins", "endpoint.trusted_proxies"}
LIVE_KEYS = {"endpoint.rate_limit_per_minute"}
ADDRESS_KEYS = {"endpoint.public_url"}
STATS_INTERVAL_S = 1.0


@dataclass
class EndpointOverrides:
    """``giftdesk serve``'s options: what the settings say unless given."""

    port: int | None = None
    bind: str | None = None
    hosts: Sequence[str] | None = None
    rate_limit_per_minute: float | None = None
    force_enabled: bool = False  # serve runs the endpoint even when the window's setting is off
    inherited_sockets: dict | None = None  # host -> listening socket handed over by the window (used once)


class EndpointService(Service):
    name = "endpoint"

    def __init__(self, desk, overrides: EndpointOverrides | None = None,
                 on_listening: Callable[[object, str], None] | None = None):
        super().__init__()
        self.desk = desk
        self.overrides = overrides or EndpointOverrides()
        self._on_listening = on_listening
        self._server = None
        self._lock = threading.Lock()
        self._restart: Callable[[], None] | None = None  # set by the runtime
        self._unsubscribe = [
            desk.events.subscribe(SettingsChanged, self._on_settings),
            desk.events.subscribe(DatabaseReplaced, lambda _e: self._request_restart()),
        ]

    @property
    def server(self):
        return self._server

    def run(self, stop: threading.Event) -> None:
        from giftdesk.endpoint import addressing
        from giftdesk.endpoint.server import EndpointServer

        settings = self.desk.settings.all()
        o = self.overrides
        port = int(settings["endpoint.port"] if o.port is None else o.port)
        if not settings["endpoint.enabled"] and not o.force_enabled:
            self.report("off", "turned off in Settings", addresses=[], port=port, advertisedUrl="",
                        requestsPerMinute=None)
            stop.wait()
            return
        gateway, routes = self.desk.endpoint_routes()
        inherited, o.inherited_sockets = o.inherited_sockets, None
        server = EndpointServer.from_settings(gateway, settings, port=o.port, bind=o.bind,
                                              hosts=list(inherited) if inherited else o.hosts,
                                              rate_limit_per_minute=o.rate_limit_per_minute, routes=routes,
                                              inherited_sockets=inherited)
        try:
            server.start()  # raises ServiceUnavailableError when the port is taken
        except BaseException:
            gateway.close()
            raise
        with self._lock:
            self._server = server
        try:
            advertised = addressing.advertised_base_url(settings, server.port)
            addresses = [f"{host}:{bound}" for host, bound in server.addresses]
            self.report("running", _describe(server.port, addresses), addresses=addresses, port=server.port,
                        advertisedUrl=advertised, requestsPerMinute=0)
            if self._on_listening is not None:
                self._on_listening(server, advertised)
            while not stop.wait(STATS_INTERVAL_S):
                self.report(requestsPerMinute=int(server.stats().requests_last_minute))
        finally:
            with self._lock:
                self._server = None
            server.stop()  # answers writes in flight, flushes last-access times, closes the gateway

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    # ---- settings ------------------------------------------------------------------------
    def _request_restart(self) -> None:
        if self._restart is not None:
            self._restart()

    def _on_settings(self, event: SettingsChanged) -> None:
        keys = set(event.keys)
        if keys & RESTART_KEYS:
            log.info("Endpoint settings changed (%s); restarting the endpoint", ", ".join(sorted(keys & RESTART_KEYS)))
            self._request_restart()
            return
        with self._lock:
            server = self._server
        if server is not None and keys & LIVE_KEYS and self.overrides.rate_limit_per_minute is None:
            server.rate_limit_per_minute = int(self.desk.settings.get("endpoint.rate_limit_per_minute"))
            log.info("Tracker endpoint rate limit is now %s requests/min per key", server.rate_limit_per_minute)
        if server is not None and keys & ADDRESS_KEYS:
            from giftdesk.endpoint import addressing

            self.report(advertisedUrl=addressing.advertised_base_url(self.desk.settings.all(), server.port))


def _describe(port: int, addresses: list[str]) -> str:
    """'port 8787 on this computer and the Docker bridge' rather than '127.0.0.1:8787 +1'."""
    hosts = [a.rsplit(":", 1)[0] for a in addresses]
    places = []
    if any(h in ("127.0.0.1", "[::1]", "localhost") for h in hosts):
        places.append("this computer")
    if any(h in ("0.0.0.0", "[::]") for h in hosts):
        places.append("every network interface")
    others = [h for h in hosts if h not in ("127.0.0.1", "[::1]", "localhost", "0.0.0.0", "[::]")]
    if others:
        places.append("the Docker bridge" if len(others) == 1 else f"{len(others)} more addresses")
    return f"port {port} on " + " and ".join(places) if places else f"port {port}"
