"""``EndpointServer``: the tracker endpoint's event loop, in a thread of its own.

The runtime's endpoint service starts one (in the window and in ``giftdesk serve`` alike) with
the routes the desk wires (``Desk.endpoint_routes``)::

    gateway, routes = desk.endpoint_routes()
    server = EndpointServer.from_settings(gateway, desk.settings.all(), routes=routes)
    server.start()          # returns once listening; ServiceUnavailableError if the port is taken
    server.addresses        # [("127.0.0.1", 8787), ("172.17.0.1", 8787)]
    server.stats()          # cheap; the status bar polls it every second
    server.stop()           # answers in-flight writes, closes connections, gateway.close()

The gateway is the key table every route's key is checked against (``authenticate`` for the
tracker headers, ``account_for_key`` for a Bearer key); the server starts it, reloads its keys
and closes it. The routes are the features' (``giftdesk.core.routes``) plus the server's own
``/health`` and ``/openapi.json``.

One event loop thread answers every request; saves go to one writer thread per ``write`` (the
tracker routes share one) that commits the writes waiting together in one transaction
(``giftdesk.endpoint.writer``), so the loop never waits for a database commit. Routes whose
handler works through the ORM (the social sync) run on a small thread pool; their answer leaves
once the handler has committed.

Connection slots, so that a flood of idle or never-authenticated connections cannot lock
trackers out (``ServerState.admit``):

* at most ``max_connections`` connections; when a new one arrives at the limit, the oldest
  connection that never authenticated goes first, then the oldest idle authenticated one; only
  when every slot is busy with a request is the new connection refused;
* an idle keep-alive connection may wait ``idle_timeout`` seconds while the server is at most half
  full; past that the allowance shrinks (quadratically) down to one second when it is full (for
  an authenticated connection, only authenticated ones count: junk cannot shorten a tracker's);
* per client address, at most ``max_unauthenticated_per_address`` connections that have not yet
  sent a valid key: a newcomer past that closes the address's oldest such connection (after a
  grace of half a second from its arrival, so that a burst cannot close a tracker's connection
  before its first request was even read). Only unauthenticated connections count, on purpose:
  trackers on host networking all come from 127.0.0.1, so a cap on everything from one address
  would lock hundreds of legitimate trackers out together with the attacker; a tracker's
  connection leaves the count with its first valid key and is then bound only by
  ``max_connections``.

Taking turns between connections (a pipelining flood must not stall the others) is in
``protocol``; here the loop accepts at most ``ACCEPTS_PER_TURN`` new connections per turn.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from giftdesk.core.errors import ServiceUnavailableError
from giftdesk.core.routes import Route
from giftdesk.endpoint.addressing import bind_hosts
from giftdesk.endpoint.http11 import HEAD, MAX_BODY, READ_SIZE, encode_json
from giftdesk.endpoint.limits import TokenBuckets
from giftdesk.endpoint.openapi import build_openapi
from giftdesk.endpoint.protocol import HttpConnection
from giftdesk.endpoint.cors import CorsPolicy
from giftdesk.endpoint.forwarded import TrustedProxies
from giftdesk.endpoint.routes import Router, health_route, openapi_route
from giftdesk.endpoint.writer import DEFAULT_MAX_GROUP, GroupWriter

log = logging.getLogger(__name__)

DEFAULT_PORT = 8787
DEFAULT_RATE_LIMIT = 600  # requests per minute per account (endpoint.rate_limit_per_minute)
DEFAULT_AUTH_FAILURE_LIMIT = 60  # failed authentications per minute per client address
ACCEPTS_PER_TURN = 64
LISTEN_QUEUE = 1024
DEFAULT_WORKERS = 4  # worker-route threads (social syncs): PostgreSQL commits them side by side, SQLite one at a time
GRACE = 0.5  # seconds a new connection has to authenticate before the per-address cap may close it


@dataclass(frozen=True)
class EndpointStats:
    requests_last_minute: int
    requests_total: int
    status_counts: dict[int, int]
    active_connections: int
    connections_total: int
    writes_in_flight: int
    writes_committed: int = 0
    write_groups: int = 0  # transactions those writes took (group commit)
    connections_evicted: int = 0  # closed to make room for others (connection slots)
    social_syncs: int = 0  # worker routes' requests (the social syncs) answered 200 (committed)


class ServerState:
    """What every connection of one server shares. Touched on the event-loop thread only
    (``stats()`` reads plain counters from other threads, which the GIL makes safe)."""

    def __init__(self, gateway, routes: Sequence[Route], *, rate_limit_per_minute: float,
                 auth_failures_per_minute: float, max_body: int, idle_timeout: float, header_timeout: float,
                 body_timeout: float, max_connections: int, max_unauthenticated_per_address: int | None,
                 write_group: int, workers: int = DEFAULT_WORKERS, cors_origins: Sequence[str] = (),
                 trusted_proxies: Sequence[str] = ()):
        self.gateway = gateway
        self.cors = CorsPolicy(cors_origins)  # for the routes browsers call (``Route.cors``)
        self.proxies = TrustedProxies(trusted_proxies)  # whose X-Forwarded-For names the client
        self.authenticate = gateway.authenticate  # the tracker headers
        self.account_for_key = gateway.account_for_key  # a Bearer key
        self.loop: asyncio.AbstractEventLoop | None = None
        served = [*routes, health_route()]
        self.openapi_body = encode_json(build_openapi(Router([*served, openapi_route(b"")]).entries))
        self.router = Router([*served, openapi_route(self.openapi_body)])
        # One writer thread per route ``write`` (the tracker routes share one: one group commit).
        self.writers = {entry.write: None for entry in self.router.entries if entry.write is not None}
        for write in self.writers:
            self.writers[write] = GroupWriter(write, max_group=write_group)
        self.account_limits = TokenBuckets(rate_limit_per_minute)
        # Per client address, one budget for every route: only requests whose credential proved
        # invalid take from it, so a valid key or token is never refused for others' failures.
        self.auth_failures = TokenBuckets(auth_failures_per_minute)
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.linger_timeout = 2.0
        self.max_connections = max_connections
        self.max_unauthenticated_per_address = (max(8, max_connections // 8) if max_unauthenticated_per_address is None
                                                else max_unauthenticated_per_address)
        # Worker routes (the social sync): their handlers read and commit on these threads, never on the loop.
        has_work = any((entry.work or entry.get_work or entry.put_work) is not None and entry.unserved is None
                       for entry in self.router.entries)
        for entry in self.router.entries:
            if entry.route.per_address_per_minute:
                entry.address_limits = TokenBuckets(entry.route.per_address_per_minute)
        self.work_pool = (ThreadPoolExecutor(max_workers=workers, thread_name_prefix="endpoint-work")
                          if has_work else None)
        self.work_committed = 0  # answered 200
        self.read_buffer = memoryview(bytearray(READ_SIZE))  # every connection reads into it in turn
        self.clock = time.monotonic()  # coarse: advanced by the sweeper, used for timeouts
        self.date_line = b""
        self.requests_total = 0
        self.requests_last_minute = 0
        self.status_counts: dict[int, int] = {}
        self.connections: dict[HttpConnection, None] = {}  # oldest first
        self.transports: weakref.WeakSet[asyncio.Transport] = weakref.WeakSet()  # every one, for the stop
        self.unauthenticated: dict[str, dict[HttpConnection, None]] = {}  # per address, oldest first
        self.evictions = 0
        self.connections_total = 0
        self.inflight: set[asyncio.Future] = set()
        self.stopping = False
        self._floods: dict[str, float] = {}  # client address -> when its flood was last logged
        self.update_date()

    def update_date(self) -> None:
        self.date_line = b"Date: " + formatdate(usegmt=True).encode() + b"\r\n"

    def note_failure_flood(self, ip: str) -> None:
        """Logs a client address that keeps failing authentication, at most once a minute."""
        last = self._floods.get(ip)
        if last is None or self.clock - last >= 60:
            self._floods[ip] = self.clock
            log.warning("Tracker endpoint: too many failed authentications from %s; answering 429 for a while", ip)

    # ---- connection slots (see the module docstring) ---------------------------------------------
    def admit(self, connection: HttpConnection) -> bool:
        """Registers a new connection, closing older ones to make room; False when there is none."""
        waiting = self.unauthenticated.get(connection.ip)
        if waiting is not None and len(waiting) >= self.max_unauthenticated_per_address:
            self._make_room_at(waiting)
        if len(self.connections) >= self.max_connections:
            victim = self._victim()
            if victim is None:
                return False
            self._evict(victim)
        self.connections[connection] = None
        self.unauthenticated.setdefault(connection.ip, {})[connection] = None
        return True

    def _make_room_at(self, waiting: dict[HttpConnection, None]) -> None:
        """The address's oldest unauthenticated connection stops counting against its cap: closed
        now if it has had ``GRACE`` seconds to send a valid key, else when that time is up unless
        it does so meanwhile. (A tracker that has just connected has sent its request, but the
        loop may not have read it yet: a burst of connections must not close it before it could.)"""
        oldest = next(iter(waiting))
        del waiting[oldest]
        age = self.loop.time() - oldest.accepted_at
        if age >= GRACE:
            self._evict(oldest)
        else:
            self.loop.call_later(GRACE - age, self._evict_unless_authenticated, oldest)

    def _evict_unless_authenticated(self, connection: HttpConnection) -> None:
        if not connection.authenticated and not connection.closed:
            self._evict(connection)

    def _victim(self) -> HttpConnection | None:
        """The oldest never-authenticated connection, else the oldest idle one, else None."""
        idle = None
        for candidate in self.connections:
            if not candidate.authenticated:
                return candidate
            if (idle is None and candidate.mode == HEAD and not candidate.busy and not candidate.head_started
                    and candidate.pending is None and not candidate.buf):
                idle = candidate
        return idle

    def _evict(self, connection: HttpConnection) -> None:
        self.evictions += 1
        connection.evict()

    def note_authenticated(self, connection: HttpConnection) -> None:
        waiting = self.unauthenticated.get(connection.ip)
        if waiting is not None:
            waiting.pop(connection, None)
            if not waiting:
                del self.unauthenticated[connection.ip]

    def forget(self, connection: HttpConnection) -> None:
        self.connections.pop(connection, None)
        if not connection.authenticated:
            self.note_authenticated(connection)

    def idle_timeout_now(self, authenticated: bool = False) -> float:
        """How long an idle keep-alive connection may wait: shorter as the slots fill. For a
        tracker's (authenticated) connection only authenticated connections count as filling,
        so a flood of junk connections cannot shorten the trackers' keep-alive."""
        used = len(self.connections)
        if used * 2 <= self.max_connections:  # the common case, on every answered request
            return self.idle_timeout
        if authenticated:
            used -= self.unauthenticated_count()
        fill = used / self.max_connections
        if fill <= 0.5:
            return self.idle_timeout
        return max(min(self.idle_timeout, 1.0), self.idle_timeout * ((1.0 - fill) / 0.5) ** 2)

    def unauthenticated_count(self) -> int:
        return sum(len(waiting) for waiting in self.unauthenticated.values())

    def prune(self) -> None:
        self.account_limits.prune()
        self.auth_failures.prune()
        for entry in self.router.entries:
            if entry.address_limits is not None:
                entry.address_limits.prune()
        self._floods = {ip: at for ip, at in self._floods.items() if self.clock - at < 60}


class EndpointServer:
    """The tracker endpoint (the trackers' API as documented) on one or more addresses, in its own thread."""

    def __init__(
        self,
        gateway,
        hosts: Sequence[str] | str = ("127.0.0.1",),
        port: int = DEFAULT_PORT,
        *,
        rate_limit_per_minute: float = DEFAULT_RATE_LIMIT,
        auth_failures_per_minute: float = DEFAULT_AUTH_FAILURE_LIMIT,
        max_body: int = MAX_BODY,
        idle_timeout: float = 75.0,
        header_timeout: float = 10.0,
        body_timeout: float = 30.0,
        max_connections: int = 1000,
        max_unauthenticated_per_address: int | None = None,
        write_group: int = DEFAULT_MAX_GROUP,
        routes: Sequence[Route] = (),
        workers: int = DEFAULT_WORKERS,
        cors_origins: Sequence[str] = (),
        trusted_proxies: Sequence[str] = (),
        inherited_sockets: Mapping[str, socket.socket] | None = None,
    ):
        """``gateway``: the key table (see the module docstring); ``routes``: the features' routes;
        ``workers``: threads for the routes whose handler runs off the loop. ``inherited_sockets``:
        listening sockets (by host) handed over by a process that served before; used once, on the
        first start."""
        self.gateway = gateway
        self.hosts = [hosts] if isinstance(hosts, str) else list(hosts)
        if not self.hosts:
            raise ValueError("EndpointServer needs at least one host to listen on.")
        self.requested_port = port
        self._options = dict(
            auth_failures_per_minute=auth_failures_per_minute, max_body=max_body, idle_timeout=idle_timeout,
            header_timeout=header_timeout, body_timeout=body_timeout, max_connections=max_connections,
            max_unauthenticated_per_address=max_unauthenticated_per_address, write_group=write_group,
            workers=workers, cors_origins=tuple(cors_origins), trusted_proxies=tuple(trusted_proxies),
        )
        self.routes = list(routes)
        self._state = ServerState(gateway, self.routes, rate_limit_per_minute=rate_limit_per_minute, **self._options)
        self._state_used = False
        self._tick = max(0.05, min(1.0, header_timeout / 4, idle_timeout / 4, body_timeout / 4))
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[asyncio.Server] = []
        self._addresses: list[tuple[str, int]] = []
        self._sweeper: asyncio.TimerHandle | None = None
        self._start_error: BaseException | None = None
        self._history: deque[tuple[float, int]] = deque()
        self._inherited = dict(inherited_sockets or {})

    @classmethod
    def from_settings(
        cls,
        gateway,
        settings: Mapping[str, Any],
        *,
        port: int | None = None,
        bind: str | None = None,
        hosts: Sequence[str] | None = None,
        rate_limit_per_minute: float | None = None,
        **options: Any,
    ) -> EndpointServer:
        """A server as the ``endpoint.*`` settings say; keyword arguments override them."""
        return cls(
            gateway,
            list(hosts) if hosts else bind_hosts(bind or settings.get("endpoint.bind", "local")),
            settings.get("endpoint.port", DEFAULT_PORT) if port is None else port,
            rate_limit_per_minute=rate_limit_per_minute or settings.get("endpoint.rate_limit_per_minute",
                                                                        DEFAULT_RATE_LIMIT),
            **{"cors_origins": settings.get("endpoint.cors_origins", ()),
               "trusted_proxies": settings.get("endpoint.trusted_proxies", ()), **options},
        )

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Listens on every host and returns; raises ServiceUnavailableError if it cannot."""
        if self._thread is not None:
            raise RuntimeError("The endpoint is already running.")
        if self._state_used:  # started before: counters, limits and the writer start afresh
            self._state = ServerState(self.gateway, self.routes, rate_limit_per_minute=self.rate_limit_per_minute,
                                      **self._options)
        self._state_used = True
        # Subscribe to key and data events first, then re-read the keys: a gateway built before
        # keys changed (and before it listened for the events) must not answer with a stale table.
        self.gateway.start()
        self.gateway.reload_keys()
        ready = threading.Event()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, args=(ready,), name="tracker-endpoint", daemon=True)
        self._thread.start()
        ready.wait()
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            for writer in self._state.writers.values():
                writer.shutdown(wait=False)
            if self._state.work_pool is not None:
                self._state.work_pool.shutdown(wait=False)
            self.gateway.close()
            error, self._start_error = self._start_error, None
            raise error
        log.info("Tracker endpoint listening on %s", ", ".join(f"{h}:{p}" for h, p in self._addresses))

    def stop_accepting(self, settle_s: float = 0.2) -> None:
        """Takes no more connections from the listening sockets (a process that inherited them takes
        them from the same queues) and lets those already taken arrive and be answered, not turned
        away as ``stop`` would."""
        loop = self._loop
        if loop is None or not loop.is_running():
            return

        async def pause() -> None:
            # Not Server.close(): a connection accepted in the same turn would find the server
            # closed and be dropped unanswered. Only the reader goes; ``stop`` closes the rest.
            for server in self._servers:
                for listening in server.sockets:
                    loop.remove_reader(listening.fileno())
            await asyncio.sleep(settle_s)

        try:
            asyncio.run_coroutine_threadsafe(pause(), loop).result(settle_s + 5)
        except Exception:
            log.exception("Tracker endpoint: could not stop accepting connections")

    def stop(self, timeout: float = 10.0) -> None:
        """Stops listening, answers the writes in flight (up to ``timeout`` s), closes every
        connection, then closes the gateway (which writes the last-access times)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            done = asyncio.run_coroutine_threadsafe(self._shutdown(timeout), loop)
            try:
                done.result(timeout + 5)
            except Exception:
                log.exception("Tracker endpoint: stopping did not finish cleanly")
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        for writer in self._state.writers.values():
            writer.shutdown(wait=True)  # every save handed over has committed or failed
        if self._state.work_pool is not None:
            self._state.work_pool.shutdown(wait=True)  # ... and every social sync
        self.gateway.close()
        log.info("Tracker endpoint stopped")

    def __enter__(self) -> EndpointServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every listening socket, with the real port when 0 was asked for."""
        return list(self._addresses)

    def listening_fds(self) -> dict[str, int]:
        """The listening sockets' descriptors by host, for handing over to another process: it
        inherits the sockets with their queues, so no connection is refused in between."""
        return {host: server.sockets[0].fileno() for (host, _port), server in zip(self._addresses, self._servers)}

    @property
    def port(self) -> int:
        return self._addresses[0][1] if self._addresses else self.requested_port

    @property
    def rate_limit_per_minute(self) -> float:
        return self._state.account_limits.per_minute

    @rate_limit_per_minute.setter
    def rate_limit_per_minute(self, per_minute: float) -> None:
        self._state.account_limits.configure(per_minute)  # takes effect for the next request

    def stats(self) -> EndpointStats:
        state = self._state
        return EndpointStats(
            requests_last_minute=state.requests_last_minute,
            requests_total=state.requests_total,
            status_counts=dict(state.status_counts),
            active_connections=len(state.connections),
            connections_total=state.connections_total,
            writes_in_flight=len(state.inflight),
            writes_committed=sum(writer.writes_committed for writer in state.writers.values()),
            write_groups=sum(writer.groups_committed for writer in state.writers.values()),
            connections_evicted=state.evictions,
            social_syncs=state.work_committed,
        )

    # ---- the loop thread ---------------------------------------------------------------------
    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # this thread's only
        self._loop = loop
        self._state.loop = loop
        for writer in self._state.writers.values():
            writer.start(loop)
        try:
            try:
                loop.run_until_complete(self._listen(loop))
            except BaseException as exc:
                self._start_error = exc
                return
            finally:
                ready.set()
            self._history = deque([(time.monotonic(), 0)])
            self._sweeper = loop.call_later(self._tick, self._sweep)
            loop.run_forever()
        finally:
            try:
                leftovers = asyncio.all_tasks(loop)  # e.g. connections accepted while stopping
                for task in leftovers:
                    task.cancel()
                if leftovers:
                    loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
                loop.run_until_complete(asyncio.sleep(0))  # lets closed transports finish
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    async def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        state = self._state
        port = self.requested_port
        servers: list[asyncio.Server] = []
        addresses: list[tuple[str, int]] = []
        for index, host in enumerate(self.hosts):
            try:
                # asyncio accepts up to ``backlog`` connections per turn of the loop and queues as
                # many in the kernel: a small number for the first keeps a burst of connections
                # from holding up every other client; listen() again gives the queue its room.
                listening = self._inherited.pop(host, None) or _listening_socket(host, port)
                server = await loop.create_server(lambda: HttpConnection(state), sock=listening,
                                                  backlog=ACCEPTS_PER_TURN)
                listening.listen(LISTEN_QUEUE)
            except OSError as exc:
                if index and exc.errno == errno.EADDRNOTAVAIL:
                    log.warning("Tracker endpoint: %s is not an address of this host any more; not listening there", host)
                    continue
                for opened in servers:
                    opened.close()
                raise ServiceUnavailableError(_bind_error(host, port or self.requested_port, exc)) from exc
            servers.append(server)
            bound = server.sockets[0].getsockname()
            port = bound[1]
            addresses.append((host, port))
        self._servers = servers
        self._addresses = addresses

    def _sweep(self) -> None:
        """Every tick: the coarse clock, the Date header, the last-minute count, timeouts."""
        state = self._state
        now = time.monotonic()
        previous_second = int(state.clock)
        state.clock = now
        if int(now) != previous_second:
            state.update_date()
        history = self._history  # (time, requests_total) each tick; the first is at most a minute old
        history.append((now, state.requests_total))
        while len(history) > 1 and history[1][0] <= now - 60:
            history.popleft()
        state.requests_last_minute = state.requests_total - history[0][1]
        if len(state.connections) * 2 > state.max_connections:  # filling up: idle connections wait less
            allowances = {False: state.idle_timeout_now(False), True: state.idle_timeout_now(True)}
            for connection in state.connections:
                allowance = allowances[connection.authenticated]
                if connection.idle_since and connection.deadline > connection.idle_since + allowance:
                    connection.deadline = connection.idle_since + allowance
        for connection in [c for c in state.connections if c.deadline and c.deadline < now]:
            connection.timed_out()
        if int(now) // 60 != previous_second // 60:
            state.prune()
        self._sweeper = state.loop.call_later(self._tick, self._sweep)

    async def _shutdown(self, timeout: float) -> None:
        state = self._state
        state.stopping = True
        for server in self._servers:
            server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for _ in range(3):  # connections accepted just before: let them arrive (and be turned away)
            await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        # Idle connections go at once; those with a write in flight once it is answered.
        for connection in [c for c in state.connections if not c.busy]:
            connection.shutdown()
        give_up = loop.time() + timeout
        while state.inflight and loop.time() < give_up:
            await asyncio.wait(list(state.inflight), timeout=give_up - loop.time())
        if state.inflight:
            log.warning("Tracker endpoint: %d write(s) still running at stop", len(state.inflight))
        for connection in list(state.connections):
            connection.shutdown()
        flush_until = loop.time() + 1.0
        while state.connections and loop.time() < flush_until:
            await asyncio.sleep(0.01)
        for connection in list(state.connections):  # a client that does not read its answers
            if connection.transport is not None:
                connection.transport.abort()
        # Also those no longer counted (evicted or turned away) whose close still waits on a flush.
        for transport in list(state.transports):
            transport.abort()
        for _ in range(3):
            await asyncio.sleep(0)
        for server in self._servers:
            await server.wait_closed()


def _listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"Port {port} is in use on {host}: another program (or another GiftDesk) is listening there. "
                "Stop it, or choose another port in Settings (endpoint.port).")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"Not allowed to listen on {host}:{port} ({exc.strerror}); choose a port above 1023."
    return f"Cannot listen on {host}:{port}: {exc.strerror or exc}."
