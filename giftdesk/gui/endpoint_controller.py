"""Runs the embedded tracker endpoint as the settings say, off the GUI thread.

Start, stop and restart happen on one serial worker thread (binding a port, flushing access
times and joining server threads never block the GUI). ``SETTINGS_CHANGED`` for an
``endpoint.*`` key restarts the server; ``state_changed(EndpointState)`` tells the status bar.
Request counters are read once a second with ``server.stats()`` (cheap, lock-free counters).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from giftdesk.errors import GiftDeskError
from giftdesk.services.events import SETTINGS_CHANGED

log = logging.getLogger(__name__)

RESTART_KEYS = {"endpoint.enabled", "endpoint.port", "endpoint.bind"}
LIVE_KEYS = {"endpoint.rate_limit_per_minute"}  # applied to the running server without a restart
ADDRESS_KEYS = {"endpoint.public_url"}
STATS_INTERVAL_MS = 1000
STOP_TIMEOUT_S = 15


@dataclass(frozen=True)
class EndpointState:
    status: str  # "off" | "starting" | "listening" | "error"
    addresses: tuple[str, ...] = ()
    port: int | None = None
    message: str = ""
    advertised_url: str = ""
    requests_per_minute: int | None = None

    @property
    def label(self) -> str:
        if self.status == "listening":
            where = self.addresses[0] if self.addresses else f"port {self.port}"
            if len(self.addresses) > 1:
                where += f" +{len(self.addresses) - 1}"
            rate = f", {self.requests_per_minute} req/min" if self.requests_per_minute is not None else ""
            return f"Endpoint: listening on {where}{rate}"
        if self.status == "starting":
            return "Endpoint: starting…"
        if self.status == "error":
            return f"Endpoint: error: {_short(self.message)}"
        return "Endpoint: off"

    @property
    def tooltip(self) -> str:
        if self.status == "listening":
            lines = ["The tracker endpoint is listening on:"] + [f"  {a}" for a in self.addresses]
            if self.advertised_url:
                lines.append(f"Trackers are told to call {self.advertised_url}")
            return "\n".join(lines)
        if self.status == "error":
            return f"The tracker endpoint could not start:\n{self.message}\n\nChange its port or address in File → Settings."
        if self.status == "starting":
            return "Starting the tracker endpoint…"
        return self.message or "The tracker endpoint is turned off in File → Settings."


def _short(message: str) -> str:
    lowered = message.lower()
    if "in use" in lowered or "address already" in lowered or "taken" in lowered:
        return "port in use"
    first = message.split("\n", 1)[0]
    return first if len(first) <= 40 else first[:39] + "…"


def _requests_per_minute(stats: Any) -> int | None:
    """``EndpointStats.requests_last_minute`` (a dict with that key works too)."""
    value = stats.get("requests_last_minute") if isinstance(stats, dict) else getattr(stats, "requests_last_minute", None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None


def _format_addresses(addresses) -> tuple[str, ...]:
    """``[("127.0.0.1", 8787), ...]`` → ``("127.0.0.1:8787", ...)``."""
    out = []
    for address in addresses or ():
        if isinstance(address, tuple | list) and len(address) >= 2:
            host, port = address[0], address[1]
            out.append(f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}")
        else:
            out.append(str(address))
    return tuple(out)


def _default_factory(desk, settings: dict[str, Any]):
    """Builds (gateway, server, advertised url) as ``settings`` say. Worker thread."""
    from giftdesk.endpoint import addressing
    from giftdesk.endpoint.server import EndpointServer
    from giftdesk.services.tracker_gateway import TrackerGateway

    gateway = TrackerGateway(desk.db, desk.events)
    server = EndpointServer.from_settings(gateway, settings)
    advertised = addressing.advertised_base_url(settings, int(settings["endpoint.port"]))
    return gateway, server, advertised


class EndpointController(QObject):
    state_changed = Signal(object)
    _delivered = Signal(object)

    def __init__(self, desk, bridge=None, parent=None, factory: Callable | None = None):
        super().__init__(parent)
        self.desk = desk
        self.state = EndpointState("off", message="Not started yet.")
        self._factory = factory or _default_factory
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="endpoint-control")
        self._server = None  # touched by the worker; read (stats) by the GUI thread
        self._gateway = None
        self._closed = False
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(STATS_INTERVAL_MS)
        self._timer.timeout.connect(self._poll_stats)
        self._delivered.connect(self._set_state)
        if bridge is not None:
            bridge.event.connect(self._on_event)

    # ---- public --------------------------------------------------------------------------
    def start(self) -> Future:
        """(Re)start as the settings say; returns the worker's future (tests may wait on it)."""
        if self.state.status != "listening":
            self._set_state(EndpointState("starting"))
        return self._submit(self._apply)

    def refresh_address(self) -> Future:
        return self._submit(self._recompute_address)

    def stop(self, wait: bool = True) -> None:
        """Stops the server (flushing last-access times) and the worker. Used at quit, before the Desk closes."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._timer.stop()
        future = self._pool.submit(self._stop_server)
        if wait:
            try:
                future.result(timeout=STOP_TIMEOUT_S)
            except Exception:
                log.exception("Stopping the tracker endpoint failed")
        self._pool.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return self._server is not None

    # ---- worker --------------------------------------------------------------------------
    def _submit(self, fn) -> Future:
        with self._lock:
            if self._closed:
                done: Future = Future()
                done.set_result(None)
                return done

            def work() -> None:
                try:
                    state = fn()
                except Exception as exc:  # never lose the worker; the status bar shows it
                    log.exception("Tracker endpoint control failed")
                    state = EndpointState("error", message=f"{type(exc).__name__}: {exc}")
                if state is not None:
                    with self._lock:
                        if not self._closed:
                            self._delivered.emit(state)

            return self._pool.submit(work)

    def _apply(self) -> EndpointState:
        self._stop_server()
        settings = self.desk.settings.all()
        port = int(settings["endpoint.port"])
        if not settings["endpoint.enabled"]:
            return EndpointState("off", port=port, message="The tracker endpoint is turned off in File → Settings.")
        gateway = server = None
        try:
            gateway, server, advertised = self._factory(self.desk, settings)
            server.start()  # starts the gateway's housekeeping too
        except GiftDeskError as exc:  # ServiceUnavailableError: the port is taken, and the like
            self._close_quietly(server, gateway)
            log.warning("Tracker endpoint not started: %s", exc)
            return EndpointState("error", port=port, message=str(exc))
        except OSError as exc:
            self._close_quietly(server, gateway)
            log.warning("Tracker endpoint not started: %s", exc)
            return EndpointState("error", port=port, message=str(exc))
        except Exception:
            self._close_quietly(server, gateway)
            raise
        self._server, self._gateway = server, gateway
        addresses = _format_addresses(getattr(server, "addresses", ()))
        return EndpointState("listening", addresses=addresses, port=port, advertised_url=advertised,
                             requests_per_minute=0)

    def _apply_rate_limit(self) -> None:
        server = self._server
        if server is not None:
            server.rate_limit_per_minute = int(self.desk.settings.get("endpoint.rate_limit_per_minute"))
            log.info("Tracker endpoint rate limit is now %s requests/min per key", server.rate_limit_per_minute)

    def _recompute_address(self) -> EndpointState | None:
        if self._server is None:
            return None
        from giftdesk.endpoint import addressing

        settings = self.desk.settings.all()
        return replace(self.state, advertised_url=addressing.advertised_base_url(settings, int(settings["endpoint.port"])))

    def _stop_server(self) -> None:
        server, gateway = self._server, self._gateway
        self._server = self._gateway = None
        self._close_quietly(server, gateway)

    @staticmethod
    def _close_quietly(server, gateway) -> None:
        if server is not None:
            try:
                server.stop()  # answers writes in flight, then closes the gateway (last-access times)
            except Exception:
                log.exception("Stopping the endpoint server failed")
        if gateway is not None:
            try:
                gateway.close()  # idempotent; covers a server that never started
            except Exception:
                log.exception("Closing the tracker gateway failed")

    # ---- GUI thread ----------------------------------------------------------------------
    def _set_state(self, state: EndpointState) -> None:
        self.state = state
        if state.status == "listening":
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
        self.state_changed.emit(state)

    def _poll_stats(self) -> None:
        server = self._server
        if server is None or self.state.status != "listening":
            return
        try:
            rate = _requests_per_minute(server.stats() or {})
        except Exception:
            log.exception("Reading endpoint statistics failed")
            return
        if rate != self.state.requests_per_minute:
            self._set_state(replace(self.state, requests_per_minute=rate))

    def _on_event(self, topic: str, payload: dict) -> None:
        if topic != SETTINGS_CHANGED:
            return
        keys = set(payload.get("keys", ()))
        if keys & RESTART_KEYS or (keys & LIVE_KEYS and self._server is None):
            log.info("Endpoint settings changed (%s); restarting the endpoint", ", ".join(sorted(keys & RESTART_KEYS)))
            self.start()
            return
        if keys & LIVE_KEYS:
            self._submit(self._apply_rate_limit)
        if keys & ADDRESS_KEYS:
            self.refresh_address()
