"""Instances: one gift tracker container per TikTok account, on a real Docker engine.

The record (``instances``) and the container are kept together: a create that fails on the
engine leaves no record, a record that fails to commit leaves no container, an edit recreates
the container under the same identity and puts the old one back when the new one cannot be
created or started. Only containers carrying this desk's labels are ever stopped or removed.

The parts live in their own modules (lifecycle, edit, bulk, reconcile, templates, ports, urls,
trackers, environment); ``FleetService`` puts them together over one context and one Docker pool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Protocol

from sqlalchemy import select

from giftdesk.core.context import ServiceContext
from giftdesk.core.errors import GiftDeskError, NotFoundError, ServiceUnavailableError
from giftdesk.db.fleet_models import Instance, InstanceLog
from giftdesk.db.models import AccountLegacyId, Customer, TikTokAccount
from giftdesk.docker.clients import DockerClients
from giftdesk.fleet.bulk import BulkActions
from giftdesk.fleet.docker_api import ContainerSummary, FleetDocker
from giftdesk.fleet.edit import Editing
from giftdesk.fleet.engines import EngineService
from giftdesk.fleet.environment import TrackerEnvironment, scrub
from giftdesk.fleet.journal import Journal
from giftdesk.fleet.lifecycle import Lifecycle
from giftdesk.fleet.move import Moving
from giftdesk.fleet.ports import PortAllocation
from giftdesk.fleet.reconcile import Reconciling
from giftdesk.fleet.services_mode import SwarmServices
from giftdesk.fleet.records import UNKNOWN_STATE, InstanceEventRow, InstanceRow
from giftdesk.fleet.templates import Templates
from giftdesk.fleet.trackers import TrackerCalls
from giftdesk.fleet.urls import PublicUrls

log = logging.getLogger(__name__)


class RuntimeLink(Protocol):
    """What the fleet uses of the background runtime (``giftdesk.runtime.Runtime``) while one runs."""

    http: Any  # HttpClients: the trackers' HTTP client
    scheduler: Any  # Scheduler: the instances' start/stop schedules

    def endpoint_port(self) -> int | None:
        """The port the tracker endpoint listens on, when it runs."""


MISSING_MESSAGE = "The container is missing; recreate it with `giftdesk instance sync --recreate-missing`"
MISSING_SERVICE_MESSAGE = "The Swarm service is missing; delete the instance and create it again"


class FleetService(Lifecycle, Editing, Moving, BulkActions, Reconciling, Templates, PortAllocation, PublicUrls,
                   TrackerCalls, TrackerEnvironment, SwarmServices):
    """Instances of one data directory on one Docker engine.

    ``settings`` and ``keys`` are the desk's SettingsService and KeyService (ports, default image,
    URL pattern; each tracker's credential); ``clients`` the Docker client pool; ``runtime`` gives
    the background runtime while one runs (its HTTP clients, scheduler and endpoint port), else None.
    """

    def __init__(self, ctx: ServiceContext, settings, keys, clients: DockerClients,
                 runtime: Callable[[], RuntimeLink | None] = lambda: None):
        self.ctx = ctx
        self.settings = settings
        self.keys = keys
        self.engines = EngineService(ctx, clients)
        self.docker = self.engines.adapter("")  # the local (configured) engine's
        self.desk_id = ctx.secrets.namespace
        self.journal = Journal(ctx.db)
        self._node_ids_of_engines = {}
        self._runtime = runtime
        self._own_http = None
        self._http_lock = threading.Lock()
        # The named engines the last list found records on: asked before the records are read,
        # so the engines' answers and the database's overlap without a query to learn them first.
        self._engines_seen: list[str] | None = None

    def close(self) -> None:
        if self._own_http is not None:
            self._own_http.close()
        self.engines.close()

    def docker_for(self, engine: str | None) -> FleetDocker:
        """The adapter of the engine an instance lives on ('' or "local": the configured one)."""
        return self.engines.adapter(engine)

    # ---- reading ------------------------------------------------------------------------
    def list(self, with_state: bool = False, search: str | None = None,
             unknown_if_unreachable: bool = False) -> list[InstanceRow]:
        """``unknown_if_unreachable``: with the local engine down, the records with state 'unknown'
        instead of an error (what is known is still shown). A named engine that does not answer
        never fails the list: its rows are 'unknown'. Each engine is asked once, all at once."""
        if with_state and unknown_if_unreachable:
            try:
                return self.list(with_state=True, search=search)
            except ServiceUnavailableError:
                return [row.with_container(UNKNOWN_STATE) for row in self.list(search=search)]
        # With state, the engines' lists run while the database answers (the waits overlap).
        if with_state:
            seen = self._engines_seen
            pending = self._ask_engines(["", *seen] if seen is not None else self._engines_with_records())
        else:
            pending = {}
        try:
            with self.ctx.db.one_statement_read() as connection:
                records = connection.execute(_LIST_QUERY).all()
        except BaseException:
            for future in pending.values():
                future.cancel()
            raise
        if with_state:
            named = sorted({r.engine for r in records if r.engine})
            self._engines_seen = named
            late = [e for e in named if e not in pending]  # an instance moved to an engine not asked yet
            if late:
                pending.update(self._ask_engines(late))
        if search and search.strip():
            needle = search.strip().lower().removeprefix("@")
            records = [r for r in records if needle in r.name or needle in r.tiktok_username
                       or needle in (r.customer_name_ or "").lower()]
        if not with_state:
            return [InstanceRow.of(r, r.customer_id_, r.customer_name_, account_legacy_id=r.legacy_id_)
                    for r in records]
        by_engine = self._listed(pending)
        # Each row made once, with its state (the refresh is on the table's hot path).
        rows = []
        for r in records:
            by_id = by_engine.get(r.engine)
            if by_id is None:  # a named engine that did not answer (or was added meanwhile)
                rows.append(InstanceRow.of(r, r.customer_id_, r.customer_name_, UNKNOWN_STATE,
                                           account_legacy_id=r.legacy_id_))
                continue
            rows.append(InstanceRow.of(r, r.customer_id_, r.customer_name_,
                                       *_container_state(r.container_id, r.status, by_id.get(r.container_id or "")),
                                       account_legacy_id=r.legacy_id_))
        return self._attach_service_states(rows) if any(r.is_service for r in rows) else rows

    def _engines_with_records(self) -> list[str]:
        """The local engine, and every named engine an instance lives on."""
        with self.ctx.db.read_session() as session:
            named = set(session.scalars(select(Instance.engine).where(Instance.engine != "").distinct()))
        return ["", *sorted(named)]

    def _ask_engines(self, engines: list[str]) -> dict:
        """Each engine's tracker list (this desk's, and those an import took over), asked at once.
        A named engine that did not answer lately is not asked (its rows read 'unknown' until it is
        tried again), nor one removed meanwhile (its records went with it)."""
        pending, sent = {}, []
        # The named engines first: a remote one is the slowest to answer, and the local engine's
        # address (a setting: a query) is read while their requests are on their way.
        for engine in sorted(engines, key=lambda name: not name):
            if engine and self.engines.believed_unreachable(engine):
                continue
            try:
                adapter = self.docker_for(engine)
            except NotFoundError:
                if not engine:
                    raise
                continue
            if not engine:
                # A named engine's list thread runs until its request is on its way (it lets go of
                # the GIL to wait for the answer) before this thread's queries take the GIL.
                for started in sent:
                    started.wait(LIST_START_WAIT_S)
            started = threading.Event()
            sent.append(started)
            # The address read here: the local engine's is a setting (a query), which on the list's
            # thread would run beside the records query, both waiting on each other for the GIL.
            pending[engine] = _LIST_POOL.submit(_started_then, started, adapter.list_fleet, self.desk_id,
                                                adapter.clients.host)
        return pending

    def _listed(self, pending: dict) -> dict[str, dict[str, ContainerSummary] | None]:
        """Each engine's containers by id. The local engine's failure raises; a named engine that
        fails, or has not answered within NAMED_ENGINE_WAIT_S, is None (noted as unreachable, so
        the next refreshes do not wait for it either)."""
        listed: dict[str, dict[str, ContainerSummary] | None] = {}
        deadline = time.monotonic() + NAMED_ENGINE_WAIT_S
        for engine, future in sorted(pending.items()):  # the local one ('') first
            try:
                if not engine:
                    listed[engine] = {c.id: c for c in future.result()}
                    continue
                listed[engine] = {c.id: c for c in future.result(timeout=max(0.0, deadline - time.monotonic()))}
                self.engines.note_reachable(engine)
            except (GiftDeskError, FutureTimeout):
                if not engine:
                    raise
                self.engines.note_unreachable(engine)
                listed[engine] = None
        return listed

    def attach_state(self, rows: list[InstanceRow], containers: list[ContainerSummary] | None = None) -> list[InstanceRow]:
        """The engines' view of every row from ONE list call per engine (``containers``: the local
        engine's list, already made)."""
        engines = sorted({row.engine for row in rows} | ({""} if containers is None else set()))
        pending = self._ask_engines([engine for engine in engines if engine or containers is None])
        by_engine = self._listed(pending)
        if containers is not None:
            by_engine[""] = {c.id: c for c in containers}
        result = []
        for row in rows:
            by_id = by_engine.get(row.engine)
            result.append(row.with_container(UNKNOWN_STATE) if by_id is None
                          else _with_summary(row, by_id.get(row.container_id or "")))
        return self._attach_service_states(result) if any(r.is_service for r in result) else result

    def get(self, ref: int | str, with_state: bool = False, unknown_if_unreachable: bool = False) -> InstanceRow:
        with self.ctx.db.read_session() as session:
            record = self._record(session, ref)
            row = self._row(session, record)
        if not with_state:
            return row
        try:
            return self.attach_state([row])[0]
        except ServiceUnavailableError:
            if not unknown_if_unreachable:
                raise
            return row.with_container(UNKNOWN_STATE)

    def resolve(self, refs: Iterable[int | str]) -> list[InstanceRow]:
        with self.ctx.db.read_session() as session:
            return [self._row(session, self._record(session, ref)) for ref in refs]

    def of_account(self, account_id: int) -> list[InstanceRow]:
        return [r for r in self.list() if r.account_id == account_id]

    def events(self, ref: int | str, limit: int = 200) -> list[InstanceEventRow]:
        with self.ctx.db.read_session() as session:
            record = self._record(session, ref)
            entries = session.scalars(select(InstanceLog).where(InstanceLog.instance_id == record.id)
                                      .order_by(InstanceLog.created_at.desc(), InstanceLog.id.desc()).limit(limit))
            return [InstanceEventRow.of(e) for e in entries]

    def record_event(self, instance_id: int, level: str, message: str, details: dict | None = None) -> None:
        """The instance log. Secrets never enter: environment values are scrubbed."""
        details = scrub(details) if details else None
        try:
            with self.ctx.db.session() as session:
                if session.get(Instance, instance_id) is not None:
                    session.add(InstanceLog(instance_id=instance_id, level=level, message=message[:2000],
                                            details=details))
        except Exception:  # an event must never break the action it describes
            log.exception("Could not write an instance event")

    # ---- internals ----------------------------------------------------------------------
    def _record(self, session, ref: int | str) -> Instance:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            record = session.get(Instance, int(ref))
            if record is not None:
                return record
        record = session.scalar(select(Instance).where(Instance.name == str(ref).strip().lower()))
        if record is None:
            raise NotFoundError(f"There is no instance '{ref}'.")
        return record

    @staticmethod
    def _row(session, record: Instance) -> InstanceRow:
        customer = None
        if record.account_id is not None:
            customer = session.execute(select(Customer.id, Customer.name, AccountLegacyId.legacy_id).join(
                TikTokAccount, TikTokAccount.customer_id == Customer.id)
                .outerjoin(AccountLegacyId, AccountLegacyId.account_id == TikTokAccount.id)
                .where(TikTokAccount.id == record.account_id)).first()
        customer_id, customer_name, legacy_id = customer or (None, None, None)
        return InstanceRow.of(record, customer_id, customer_name, account_legacy_id=legacy_id)

    def note_missing(self, instance_id: int, name: str) -> bool:
        """The one place a vanished container is written down, whoever found it (the watcher, sync,
        a start): status 'missing' and the instance event, once. True when it was news."""
        self.ctx.require("operator", "record instance states")
        with self.ctx.db.session() as session:
            record = session.get(Instance, instance_id)
            if record is None or record.status == "missing":
                return False
            record.status = "missing"
            message = MISSING_SERVICE_MESSAGE if record.mode == "service" else MISSING_MESSAGE
            session.add(InstanceLog(instance_id=instance_id, level="warning", message=message))
        return True

    def adopted_container_ids(self) -> set[str]:
        """The containers taken over from another manager that are still this desk's instances'."""
        with self.ctx.db.read_session() as session:
            return set(session.scalars(select(Instance.adopted_container_id)
                                       .where(Instance.adopted_container_id.is_not(None))))

    def instance_id_of_uid(self, uid: str) -> int | None:
        with self.ctx.db.read_session() as session:
            return session.scalar(select(Instance.id).where(Instance.uid == uid))


_LIST_POOL = ThreadPoolExecutor(8, thread_name_prefix="fleet-list")
LIST_START_WAIT_S = 0.05


def _started_then(started: threading.Event, fn, *args):
    started.set()
    return fn(*args)
# How long a refresh waits for a named engine's list before showing its rows as 'unknown'.
NAMED_ENGINE_WAIT_S = 3.0
# Core rows, not ORM entities, from a statement built once: the refresh is on the table's hot path.
_LIST_QUERY = (select(Instance.__table__, Customer.id.label("customer_id_"), Customer.name.label("customer_name_"),
                      AccountLegacyId.legacy_id.label("legacy_id_"))
               .outerjoin(TikTokAccount, Instance.account_id == TikTokAccount.id)
               .outerjoin(AccountLegacyId, AccountLegacyId.account_id == TikTokAccount.id)
               .outerjoin(Customer, TikTokAccount.customer_id == Customer.id)
               .order_by(Instance.name))


def _container_state(container_id: str | None, status: str,
                     summary: ContainerSummary | None) -> tuple[str, int | None, str | None]:
    """A record's state, exit code and engine health from the engine's summary of its container."""
    if summary is None:
        return ("missing" if container_id or status == "missing" else status), None, None
    return summary.state, summary.exit_code, summary.engine_health


def _with_summary(row: InstanceRow, summary: ContainerSummary | None) -> InstanceRow:
    return row.with_container(*_container_state(row.container_id, row.status, summary))
