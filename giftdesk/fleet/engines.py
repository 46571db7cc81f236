"""Engines: the named Docker engines trackers run on, beside the console's configured one ("local").

An engine is reached at an address (unix://, tcp:// with mutual TLS, ssh://user@host) or through a
Docker CLI context by name. Adding or editing one tests the connection first: an engine that does
not answer, or whose certificate does not fit, is refused with one sentence and nothing is stored.
The TLS client key goes to the keyring, never to the database or the log.

Each engine has its own client pool (``clients``), made on first use and remade when its record
changes. Instances store the engine's name ('' for the local one).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import func, select

from giftdesk.core import validation
from giftdesk.core.errors import ConflictError, GiftDeskError, NotFoundError, ValidationError
from giftdesk.db.fleet_models import DockerEngineRecord, Instance
from giftdesk.docker.clients import DockerClients
from giftdesk.docker.engine import swarm_role
from giftdesk.docker.connection import (ClientMaker, EngineConnection, check_host, is_loopback_host,
                                        on_this_computer, read_context)
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import FleetDocker
from giftdesk.fleet.environment import dash_password_secret
from giftdesk.fleet.events import EnginesChanged, InstancesChanged

LOCAL = "local"
CHECK_TIMEOUT_S = 8  # adding an engine waits at most this for its answer
TRACKER_HOST_TTL_S = 5.0
# A pool is compared with its engine's record (an edit by another process) at most this often:
# not on every call, which put a database read on the path of every Docker call to that engine.
POOL_RECHECK_S = 1.0
UNREACHABLE_PAUSE_S = 15.0  # a named engine that did not answer a refresh is asked again after this


def key_secret(name: str) -> str:
    return f"engine-tls-key/{name}"


def engine_key(name: str | None) -> str:
    """The name instances store: '' for the local engine."""
    name = (name or "").strip().lower()
    return "" if name in ("", LOCAL) else name


def shown_name(engine: str) -> str:
    return engine or LOCAL


@dataclass(frozen=True)
class EngineRow:
    name: str
    host: str  # the address (a context's resolved address when it can be read)
    context: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    backend_url: str | None = None
    local: bool = False

    @property
    def tls(self) -> bool:
        return bool(self.tls_ca and self.tls_cert)

    def to_json(self) -> dict:
        return {"name": self.name, "host": self.host, "context": self.context, "tls": self.tls,
                "tlsCa": self.tls_ca, "tlsCert": self.tls_cert, "backendUrl": self.backend_url,
                "local": self.local}


@dataclass(frozen=True)
class EngineStatus:
    """An engine and what it said: reachable, version, its Swarm role, the instances it runs."""

    engine: EngineRow
    reachable: bool
    version: str = ""
    api_version: str = ""
    swarm: str = ""  # manager | worker | inactive | pending | error | locked ('' unknown)
    instances: int = 0
    ping_ms: float | None = None
    error: str = ""
    name_on_engine: str = ""
    cpus: int = 0
    memory_bytes: int = 0

    @property
    def name(self) -> str:
        return self.engine.name

    def to_json(self) -> dict:
        return {**self.engine.to_json(), "reachable": self.reachable, "version": self.version or None,
                "apiVersion": self.api_version or None, "swarm": self.swarm or None, "instances": self.instances,
                "pingMs": self.ping_ms, "error": self.error or None, "engineName": self.name_on_engine or None,
                "cpus": self.cpus or None, "memoryBytes": self.memory_bytes or None}

    @property
    def sentence(self) -> str:
        if not self.reachable:
            return self.error
        return (f"The engine '{self.name}' at {self.engine.host} answers: Docker {self.version} (API "
                f"{self.api_version}), Swarm {self.swarm or 'unknown'}, ping {self.ping_ms:.1f} ms, "
                f"{self.instances} instance(s).")

    def pairs(self) -> list[tuple[str, str]]:
        rows = [("Name", self.name), ("Host", self.engine.host)]
        if self.engine.context:
            rows.append(("Docker context", self.engine.context))
        if self.engine.tls:
            rows.append(("TLS", f"CA {self.engine.tls_ca}, certificate {self.engine.tls_cert}, key in the keyring"))
        if self.engine.backend_url:
            rows.append(("Backend URL", self.engine.backend_url))
        rows.append(("Reachable", "yes" if self.reachable else f"no: {self.error}"))
        if self.reachable:
            rows += [("Engine", f"Docker {self.version} (API {self.api_version})"
                      + (f" on {self.name_on_engine}" if self.name_on_engine else "")),
                     ("Swarm", self.swarm or "unknown"),
                     ("CPUs / memory", f"{self.cpus} CPUs, {self.memory_bytes / 1073741824:.1f} GiB"),
                     ("Round trip", f"{self.ping_ms:.1f} ms")]
        rows.append(("Instances", str(self.instances)))
        return rows


class EngineService:
    """The engine registry and one client pool per engine (the local one is the desk's)."""

    def __init__(self, ctx, local_clients):
        self.ctx = ctx
        self._local = local_clients
        self._pools: dict[str, tuple[tuple, DockerClients, FleetDocker]] = {}
        self._lock = threading.Lock()
        self._tracker_hosts: dict[str, tuple[str | None, float]] = {}
        self._unreachable_until: dict[str, float] = {}
        self._unreachable_since: dict[str, datetime] = {}
        self._checked_at: dict[str, float] = {}  # when a pool's record was last compared with the database

    # ---- reading ------------------------------------------------------------------------
    def list_engines(self) -> list[EngineRow]:
        """The local engine first, then the named ones by name."""
        with self.ctx.db.read_session() as session:
            records = session.scalars(select(DockerEngineRecord).order_by(DockerEngineRecord.name)).all()
        return [self._local_row(), *(self._row(r) for r in records)]

    def engine(self, name: str | None) -> EngineRow:
        key = engine_key(name)
        if not key:
            return self._local_row()
        with self.ctx.db.read_session() as session:
            return self._row(self._record(session, key))

    def exists(self, name: str | None) -> bool:
        key = engine_key(name)
        if not key:
            return True
        with self.ctx.db.read_session() as session:
            return session.scalar(select(DockerEngineRecord.id).where(DockerEngineRecord.name == key)) is not None

    def instance_counts(self) -> dict[str, int]:
        with self.ctx.db.read_session() as session:
            return {engine: count for engine, count in session.execute(
                select(Instance.engine, func.count(Instance.id)).group_by(Instance.engine)).all()}

    def status(self, name: str | None = None) -> EngineStatus:
        """Never raises for an engine that does not answer: ``reachable`` is False with the sentence."""
        row = self.engine(name)
        return self._status(row, self.adapter(engine_key(row.name)), self.instance_counts().get(engine_key(row.name), 0))

    def statuses(self) -> list[EngineStatus]:
        """Every engine's status, asked in parallel (one that does not answer delays no other)."""
        rows = self.list_engines()
        counts = self.instance_counts()
        with ThreadPoolExecutor(min(8, len(rows)), thread_name_prefix="engine-status") as pool:
            futures = [pool.submit(self._status_quietly, row, counts.get(engine_key(row.name), 0)) for row in rows]
            return [f.result() for f in futures]

    def suggest_engine(self, image: str) -> str:
        """The engine to offer first for a new tracker of ``image``: of the engines that answer and
        have the image, the one with the most memory not yet promised to trackers (its total less
        their memory limits); the local one on a tie, and when none has the image."""
        with self.ctx.db.read_session() as session:
            promised = {engine: int(total or 0) for engine, total in session.execute(
                select(Instance.engine, func.sum(Instance.memory_limit_mb)).group_by(Instance.engine)).all()}
        candidates: list[tuple[int, bool, str]] = []
        for status in self.statuses():
            key = engine_key(status.name)
            if not status.reachable:
                continue
            try:
                if not self.adapter(key).image_exists(image):
                    continue
            except GiftDeskError:
                continue
            free = status.memory_bytes - promised.get(key, 0) * 1024 * 1024
            candidates.append((free, not key, key))
        return max(candidates)[2] if candidates else ""

    def named_reachability(self) -> dict[str, str]:
        """Each named engine: '' when it answers a ping, else why not (asked in parallel: one that
        hangs delays no other beyond the client's timeout)."""
        rows = [row for row in self.list_engines() if not row.local]
        if not rows:
            return {}

        def ping(row: EngineRow) -> str:
            try:
                self.adapter(engine_key(row.name)).ping_ms()
            except GiftDeskError as exc:
                return str(exc).splitlines()[0] if str(exc) else "it does not answer"
            return ""

        with ThreadPoolExecutor(min(8, len(rows)), thread_name_prefix="engine-ping") as pool:
            return dict(zip((row.name for row in rows), pool.map(ping, rows)))

    def on_this_computer(self, name: str | None) -> bool:
        """Whether the engine's containers run here (ports can be checked by binding them)."""
        key = engine_key(name)
        return True if not key else on_this_computer(self.engine(key).host)

    def sharing_ports_with(self, name: str | None) -> list[str]:
        """The engines whose published ports are the same host's as ``name``'s: every engine on this
        computer for one on this computer (a stopped tracker of one keeps its port from the others),
        else the engine alone."""
        key = engine_key(name)
        if not self.on_this_computer(key):
            return [key]
        return [engine_key(row.name) for row in self.list_engines()
                if row.local or on_this_computer(row.host)]

    def tracker_host_of(self, name: str | None) -> str | None:
        """Where this console reaches the trackers of an engine on another computer (its address's
        host name), or None for an engine on this computer (loopback, or the published address).
        Kept for a few seconds: the probe asks for every tracker every few seconds."""
        key = engine_key(name)
        if not key:
            return None
        now = time.monotonic()
        cached = self._tracker_hosts.get(key)
        if cached is not None and now - cached[1] < TRACKER_HOST_TTL_S:
            return cached[0]
        row = self.engine(key)
        host = None if on_this_computer(row.host) else (urlparse(row.host).hostname or None)
        self._tracker_hosts[key] = (host, now)
        return host

    def backend_url_of(self, name: str | None) -> str | None:
        key = engine_key(name)
        return None if not key else self.engine(key).backend_url

    # ---- reachability, as the refreshes find it -------------------------------------------
    def note_unreachable(self, name: str) -> None:
        """A named engine did not answer a refresh in time: the next ones skip it for a while."""
        key = engine_key(name)
        self._unreachable_until[key] = time.monotonic() + UNREACHABLE_PAUSE_S
        self._unreachable_since.setdefault(key, datetime.now().astimezone())

    def note_reachable(self, name: str) -> None:
        self._unreachable_until.pop(engine_key(name), None)
        self._unreachable_since.pop(engine_key(name), None)

    def unreachable_since(self, name: str) -> datetime | None:
        """When a refresh first found the named engine not answering (None: it answers, or was not asked)."""
        return self._unreachable_since.get(engine_key(name))

    def believed_unreachable(self, name: str) -> bool:
        until = self._unreachable_until.get(engine_key(name))
        return until is not None and time.monotonic() < until

    # ---- clients ------------------------------------------------------------------------
    def clients(self, name: str | None) -> DockerClients:
        return self._pool(engine_key(name))[0]

    def adapter(self, name: str | None) -> FleetDocker:
        return self._pool(engine_key(name))[1]

    def _pool(self, key: str) -> tuple[DockerClients, FleetDocker]:
        if not key:
            with self._lock:
                entry = self._pools.get("")
                if entry is None:
                    entry = self._pools[""] = ((), self._local, FleetDocker(self._local))
            return entry[1], entry[2]
        with self._lock:
            entry = self._pools.get(key)
            if entry is not None and time.monotonic() - self._checked_at.get(key, -POOL_RECHECK_S) < POOL_RECHECK_S:
                return entry[1], entry[2]
        with self.ctx.db.read_session() as session:
            record = self._record(session, key)
            signature = (record.host, record.context_name, record.tls_ca_path, record.tls_cert_path,
                         record.updated_at)
            host, ca, cert, context = record.host, record.tls_ca_path, record.tls_cert_path, record.context_name
        with self._lock:
            entry = self._pools.get(key)
            if entry is not None and entry[0] == signature:
                self._checked_at[key] = time.monotonic()
                return entry[1], entry[2]
        pem = self.ctx.secrets.get(key_secret(key)) if (ca and cert) else None
        connection = EngineConnection(key, host, ca, cert, pem, context)
        clients = DockerClients(maker=ClientMaker(connection))
        with self._lock:
            old = self._pools.get(key)
            if old is not None and old[0] == signature:
                # Another thread made the same pool meanwhile (two refreshes at once): use that one,
                # not close it under the thread already asking through it.
                entry, unused, old = old, clients, None
            else:
                entry = self._pools[key] = (signature, clients, FleetDocker(clients))
                unused = None
            self._checked_at[key] = time.monotonic()
        if unused is not None:
            unused.close()
        if old is not None:
            old[1].close()
        return entry[1], entry[2]

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, {}
        for key, (_sig, clients, _adapter) in pools.items():
            if key:  # the local pool is the desk's or the runtime's
                clients.close()

    # ---- changing -----------------------------------------------------------------------
    def add(self, name: str, host: str | None = None, *, tls_ca: str | None = None, tls_cert: str | None = None,
            tls_key: str | None = None, context: str | None = None, backend_url: str | None = None) -> EngineStatus:
        """Checks the connection first; stores nothing when the engine does not answer."""
        self.ctx.require("admin", "add Docker engines")
        key = self._new_name(name)
        if self.exists(key):
            raise ConflictError(f"An engine called '{key}' exists already.")
        connection, row = self._connection(key, host, tls_ca, tls_cert, tls_key, context, backend_url)
        status = self._try(connection, row)
        with self.ctx.db.session() as session:
            if session.scalar(select(DockerEngineRecord.id).where(DockerEngineRecord.name == key)) is not None:
                raise ConflictError(f"An engine called '{key}' exists already.")
            session.add(DockerEngineRecord(name=key, host=connection.host if not context else "",
                                           context_name=connection.context, tls_ca_path=connection.tls_ca,
                                           tls_cert_path=connection.tls_cert, backend_url=row.backend_url))
            if connection.key_pem:
                self.ctx.secrets.set(key_secret(key), connection.key_pem)
            self.ctx.audit(session, "engine.add", f"Added the Docker engine '{key}' at {row.host}", "engine", None,
                           details={"host": row.host, "context": context, "tls": row.tls})
        self.ctx.events.publish(EnginesChanged(key))
        return status

    def edit(self, name: str, *, host: str | None = None, tls_ca: str | None = None, tls_cert: str | None = None,
             tls_key: str | None = None, context: str | None = None, backend_url: str | None = None,
             clear_backend_url: bool = False) -> EngineStatus:
        """Changes what is given (the rest stays), tests the connection, then stores it."""
        self.ctx.require("admin", "edit Docker engines")
        key = engine_key(name)
        if not key:
            raise ValidationError("The local engine is set in Settings (docker.host), not here.", field="name")
        with self.ctx.db.read_session() as session:
            record = self._record(session, key)
            current = (record.host, record.context_name, record.tls_ca_path, record.tls_cert_path, record.backend_url)
        new_host = host if host is not None else (None if context else current[0])
        new_context = context if context is not None else (None if host else current[1])
        tls_given = any(v is not None for v in (tls_ca, tls_cert, tls_key))
        # A new tcp:// address keeps the certificates; another kind of address or a context drops them.
        keep_tls = not tls_given and context is None and (host is None or (new_host or "").startswith("tcp://"))
        ca = tls_ca if tls_given else (current[2] if keep_tls else None)
        cert = tls_cert if tls_given else (current[3] if keep_tls else None)
        backend = None if clear_backend_url else (backend_url if backend_url is not None else current[4])
        if keep_tls and ca and cert:
            connection, row = self._connection(key, new_host, None, None, None, new_context, backend)
            pem = self.ctx.secrets.get(key_secret(key))
            connection = EngineConnection(key, connection.host, ca, cert, pem, None)
            row = EngineRow(key, row.host, None, ca, cert, row.backend_url)
        else:
            connection, row = self._connection(key, new_host, ca, cert, tls_key, new_context, backend)
        status = self._try(connection, row)
        with self.ctx.db.session() as session:
            record = self._record(session, key)
            record.host = connection.host if not connection.context else ""
            record.context_name = connection.context
            record.tls_ca_path, record.tls_cert_path = connection.tls_ca, connection.tls_cert
            record.backend_url = row.backend_url
            if tls_key is not None and connection.key_pem:
                self.ctx.secrets.set(key_secret(key), connection.key_pem)
            elif not connection.tls_ca:
                self.ctx.secrets.delete(key_secret(key))
            self.ctx.audit(session, "engine.edit", f"Changed the Docker engine '{key}'", "engine", record.id,
                           details={"host": row.host, "context": connection.context, "tls": row.tls})
        self._checked_at.pop(key, None)  # this process uses the new settings at once
        self.ctx.events.publish(EnginesChanged(key))
        return status

    def instances_on(self, name: str) -> list[str]:
        key = engine_key(name)
        with self.ctx.db.read_session() as session:
            return list(session.scalars(select(Instance.name).where(Instance.engine == key).order_by(Instance.name)))

    def remove(self, name: str, force: bool = False) -> list[str]:
        """Forgets the engine. Refused while instances live there unless ``force``, which forgets
        their records too (nothing on the engine is touched). Returns the instances forgotten."""
        self.ctx.require("admin", "remove Docker engines")
        key = engine_key(name)
        if not key:
            raise ValidationError("The local engine cannot be removed.", field="name")
        with self.ctx.db.session() as session:
            record = self._record(session, key)
            instances = session.execute(select(Instance.id, Instance.name).where(Instance.engine == key)).all()
            if instances and not force:
                raise ConflictError(f"The engine '{key}' still runs {len(instances)} instance(s) "
                                    f"({', '.join(i.name for i in instances[:5])}{'…' if len(instances) > 5 else ''});"
                                    " delete or move them first, or forget them with --force.")
            for instance in instances:
                session.delete(session.get(Instance, instance.id))
            session.delete(record)
            self.ctx.audit(session, "engine.remove", f"Removed the Docker engine '{key}'"
                           + (f" and forgot {len(instances)} instance(s) on it" if instances else ""), "engine",
                           None, details={"forgotten": [i.name for i in instances]})
        self.ctx.secrets.delete(key_secret(key))
        for instance in instances:
            self.ctx.secrets.delete(dash_password_secret(instance.id))
        with self._lock:
            entry = self._pools.pop(key, None)
        if entry is not None:
            entry[1].close()
        if instances:
            self.ctx.events.publish(InstancesChanged(tuple(i.id for i in instances)))
        self.ctx.events.publish(EnginesChanged(key))
        return [i.name for i in instances]

    # ---- internals ----------------------------------------------------------------------
    def _local_row(self) -> EngineRow:
        return EngineRow(LOCAL, self._local.where, local=True)

    @staticmethod
    def _record(session, key: str) -> DockerEngineRecord:
        record = session.scalar(select(DockerEngineRecord).where(DockerEngineRecord.name == key))
        if record is None:
            raise NotFoundError(f"There is no Docker engine called '{key}' (`giftdesk engine list` shows them).")
        return record

    @staticmethod
    def _row(record: DockerEngineRecord) -> EngineRow:
        host = record.host
        if record.context_name:
            try:
                host = read_context(record.context_name).host
            except ValidationError:
                host = f"context {record.context_name} (unreadable)"
        return EngineRow(record.name, host, record.context_name, record.tls_ca_path, record.tls_cert_path,
                         record.backend_url)

    @staticmethod
    def _new_name(name: str) -> str:
        try:
            key = checks.instance_name(name)
        except ValidationError:
            raise ValidationError(f"'{name}' cannot be an engine name: use letters, digits and '-' only.",
                                  field="name") from None
        if key in (LOCAL, "default"):
            raise ValidationError(f"'{key}' is the configured engine's name; choose another.", field="name")
        return key

    def _connection(self, key, host, tls_ca, tls_cert, tls_key, context, backend_url) -> tuple[EngineConnection, EngineRow]:
        if context and host:
            raise ValidationError("Give either an address (--host) or a Docker context (--context), not both.",
                                  field="host")
        tls_parts = [tls_ca, tls_cert, tls_key]
        if any(tls_parts) and not all(tls_parts):
            raise ValidationError("Mutual TLS needs all three files: --tls-ca, --tls-cert and --tls-key.", field="tls")
        if context:
            if any(tls_parts):
                raise ValidationError("A Docker context brings its own certificates; give no --tls files with it.",
                                      field="tls")
            endpoint = read_context(context)
            address = endpoint.host
            connection = EngineConnection(key, "", context=endpoint.name)
            tls = (endpoint.tls.ca, endpoint.tls.cert) if endpoint.tls else (None, None)
        else:
            address = check_host(host or "")
            ca, cert, pem = (_readable(tls_ca, "CA certificate"), _readable(tls_cert, "client certificate"),
                             _key_text(tls_key)) if tls_ca else (None, None, None)
            parsed = urlparse(address)
            if parsed.scheme == "tcp" and not ca and not is_loopback_host(parsed.hostname):
                raise ValidationError(f"'{address}' is reached over the network: give --tls-ca, --tls-cert and "
                                      "--tls-key (mutual TLS), or use ssh://user@host.", field="tls")
            if ca and parsed.scheme != "tcp":
                raise ValidationError("TLS files go with a tcp:// address only.", field="tls")
            connection = EngineConnection(key, address, ca, cert, pem)
            tls = (ca, cert)
        backend = check_backend_url(backend_url, address)
        return connection, EngineRow(key, address, connection.context, tls[0], tls[1], backend)

    def _try(self, connection: EngineConnection, row: EngineRow) -> EngineStatus:
        """The connection test before anything is stored: one sentence naming the engine when it fails."""
        maker = ClientMaker(connection)
        clients = DockerClients(maker=maker, call_timeout=CHECK_TIMEOUT_S)
        try:
            status = self._status(row, FleetDocker(clients), 0)
        finally:
            clients.close()
        if not status.reachable:
            raise ValidationError(f"The engine '{row.name}' at {row.host} cannot be used: {status.error}",
                                  field="host")
        return status

    def _status_quietly(self, row: EngineRow, count: int) -> EngineStatus:
        try:
            return self._status(row, self.adapter(engine_key(row.name)), count)
        except GiftDeskError as exc:
            return EngineStatus(row, False, instances=count, error=str(exc))

    @staticmethod
    def _status(row: EngineRow, docker: FleetDocker, count: int) -> EngineStatus:
        try:
            ping = docker.ping_ms()
            version = docker.version()
            info = docker.system_info()
        except GiftDeskError as exc:
            return EngineStatus(row, False, instances=count, error=_reason(str(exc)))
        return EngineStatus(row, True, str(version.get("Version") or ""), str(version.get("ApiVersion") or ""),
                            swarm_role(info), count, round(ping, 2), name_on_engine=str(info.get("Name") or ""),
                            cpus=int(info.get("NCPU") or 0), memory_bytes=int(info.get("MemTotal") or 0))


def check_backend_url(value: str | None, engine_host: str) -> str | None:
    """The address an engine's trackers reach the endpoint at. An engine on another computer cannot
    use a loopback address (its trackers' loopback is their own host)."""
    url = validation.http_url(value, "The backend URL") if value not in (None, "") else None
    if url is None:
        return None
    hostname = urlparse(url).hostname or ""
    if not on_this_computer(engine_host) and is_loopback_host(hostname):
        raise ValidationError(f"The backend URL {url} is a loopback address, which the engine at {engine_host} "
                              "cannot reach: give an address of this computer its trackers can reach.",
                              field="backend url")
    try:
        if ipaddress.ip_address(hostname).is_unspecified:
            raise ValidationError(f"The backend URL {url} has no host trackers can reach.", field="backend url")
    except ValueError:
        pass
    return url.rstrip("/")


def _readable(path: str | None, what: str) -> str:
    file = Path(path or "").expanduser()
    try:
        with open(file, "rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise ValidationError(f"The {what} {file} cannot be read: {exc.strerror or exc}.", field="tls") from None
    if b"-----BEGIN" not in head:
        raise ValidationError(f"The {what} {file} is not a PEM file.", field="tls")
    return str(file.resolve())


def _key_text(path: str | None) -> str:
    file = Path(path or "").expanduser()
    try:
        text = file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"The client key {file} cannot be read: {getattr(exc, 'strerror', None) or exc}.",
                              field="tls") from None
    if "PRIVATE KEY-----" not in text:
        raise ValidationError(f"The client key {file} is not a PEM private key.", field="tls")
    return text


def _reason(text: str) -> str:
    """The engine adapter's sentence, shortened to what went wrong (TLS failures said plainly)."""
    lowered = text.lower()
    if "certificate verify failed" in lowered or "certificate_verify_failed" in lowered:
        return "its certificate is not signed by the given CA (certificate verify failed)."
    if "tlsv1 alert" in lowered or "bad certificate" in lowered or "certificate required" in lowered:
        return "it refused the client certificate (TLS handshake failed)."
    if "connection refused" in lowered:
        return "nothing listens there (connection refused)."
    return text

