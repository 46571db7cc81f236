"""``Desk``: one opened data directory with its database, secret store, event bus and services.

The GUI, the CLI and ``giftdesk serve`` all start by opening a Desk; it is Qt-free.
"""

from __future__ import annotations

import json
import logging
import sys
import threading

from giftdesk.db import Database
from giftdesk.db.engine import sqlite_reading
from giftdesk.db.migrate import upgrade
from giftdesk.core.context import Actor, ServiceContext
from giftdesk.core.errors import GiftDeskError
from giftdesk.core.events import EventBus, SettingsChanged
from giftdesk.core.paths import DataPaths, resolve_data_dir, resolve_database_url
from giftdesk.core.secrets import INSTANCE_ID_KEY, SecretStore
from giftdesk.feed.events import ChangeArrived, ResyncNeeded

log = logging.getLogger(__name__)

URL_PATTERN_KEY = "tracker.url_pattern"


class _MadeOnFirstUse:
    """A service made when first asked for, once, whichever thread asks first: a front end starts
    without its modules (SQLAlchemy and the models, httpx and the Fampage client, invoices,
    analytics, social stats)."""

    def __init__(self, make):
        self.make = make

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, desk, owner=None):
        if desk is None:
            return self
        with desk._making:
            made = desk.__dict__.get(self.name)
            if made is None:
                made = desk.__dict__[self.name] = self.make(desk)  # from now on found without this
        return made


class _DockerClientsOfTheDesk:
    """The Docker client pool a desk's services use: the runtime's while one runs (window, serve),
    else a pool of the desk's own, made on first use (the CLI)."""

    def __init__(self, desk: "Desk"):
        self._desk = desk
        self._own = None
        self._lock = threading.Lock()

    def _pool(self):
        runtime = self._desk.runtime
        if runtime is not None:
            return runtime.docker
        with self._lock:
            if self._own is None:
                from giftdesk.docker.clients import DockerClients

                settings = self._desk.settings
                self._own = DockerClients(lambda: str(settings.get("docker.host") or ""))
            return self._own

    @property
    def host(self) -> str:
        return self._pool().host

    @property
    def where(self) -> str:
        return self._pool().where

    def calls(self, host: str | None = None):
        return self._pool().calls(host)

    def reset(self) -> None:
        self._pool().reset()

    def open_stream_client(self):
        return self._pool().open_stream_client()

    def close_stream_client(self, client) -> None:
        self._pool().close_stream_client(client)

    def close(self) -> None:
        """Closes the desk's own pool; the runtime closes its pool itself."""
        with self._lock:
            own, self._own = self._own, None
        if own is not None:
            own.close()


class Desk:
    def __init__(self, paths: DataPaths, db: Database, secrets: SecretStore, events: EventBus, actor: Actor,
                 runtime=None):
        self.paths = paths
        self.runtime = runtime  # giftdesk.runtime.Runtime once a front end starts one
        self.db = db
        self.secrets = secrets
        self.events = events
        self.ctx = ServiceContext(db, secrets, events, actor)
        self._making = threading.RLock()
        self._fampage_shared_with: Desk | None = None  # as_actor: one Fampage connection for both
        self._fleet = None
        self._docker = _DockerClientsOfTheDesk(self)

    @_MadeOnFirstUse
    def admins(self):
        from giftdesk.system.admins import AdminService

        return AdminService(self.ctx)

    @_MadeOnFirstUse
    def audit(self):
        from giftdesk.system.audit import AuditService

        return AuditService(self.ctx)

    @_MadeOnFirstUse
    def customers(self):
        from giftdesk.accounts.customers import CustomerService

        return CustomerService(self.ctx)

    @_MadeOnFirstUse
    def keys(self):
        from giftdesk.accounts.keys import KeyService

        return KeyService(self.ctx)

    @_MadeOnFirstUse
    def tracker_data(self):
        from giftdesk.accounts.tracker_data import TrackerDataService

        return TrackerDataService(self.ctx)

    @_MadeOnFirstUse
    def settings(self):
        from giftdesk.system.settings import SettingsService

        return SettingsService(self.ctx)

    @_MadeOnFirstUse
    def backups(self):
        from giftdesk.system.backups import BackupService

        return BackupService(self.ctx, self.paths.backups)

    @_MadeOnFirstUse
    def scheduled_backups(self):
        from giftdesk.system.scheduled_backups import ScheduledBackups

        return ScheduledBackups(self.ctx, self.settings, self.paths.backups)

    @_MadeOnFirstUse
    def alerts(self):
        from giftdesk.alerts.service import AlertService

        return AlertService(self.ctx)

    @_MadeOnFirstUse
    def social(self):
        from giftdesk.social.service import SocialService

        return SocialService(self.ctx)

    @_MadeOnFirstUse
    def fampage(self):
        from giftdesk.fampage.service import FampageService

        service = FampageService(self.ctx, self.settings)
        if self._fampage_shared_with is not None:
            service.share_connection(self._fampage_shared_with.fampage)
        return service

    @_MadeOnFirstUse
    def companies(self):
        from giftdesk.fampage.companies import CompanyService

        return CompanyService(self.ctx, self.settings)

    @_MadeOnFirstUse
    def invoices(self):
        from giftdesk.fampage.invoices import InvoiceService

        return InvoiceService(self.ctx, self.settings)

    @_MadeOnFirstUse
    def invoice_documents(self):
        from giftdesk.fampage.invoices import InvoiceDocuments

        return InvoiceDocuments(self.invoices, self.settings)

    @_MadeOnFirstUse
    def orders(self):
        from giftdesk.fampage.orders import OrderService

        return OrderService(self.ctx, self.settings, self.fampage, self.companies, self.invoices)

    @_MadeOnFirstUse
    def analytics(self):
        from giftdesk.fampage.analytics import AnalyticsService

        return AnalyticsService(self.ctx)

    @property
    def fleet(self):
        """Instances; made on first use (the Docker SDK is imported only then)."""
        with self._making:
            if self._fleet is None:
                from giftdesk.fleet.service import FleetService

                self._fleet = FleetService(self.ctx, self.settings, self.keys, self._docker,
                                           runtime=lambda: self.runtime)
        return self._fleet

    @property
    def engines(self):
        """The Docker engines instances run on (the fleet's registry and client pools)."""
        return self.fleet.engines

    @classmethod
    def open(
        cls,
        data_dir: str | None = None,
        database_url: str | None = None,
        actor: Actor | None = None,
        migrate: bool = True,
        check_integrity: bool = False,
    ) -> "Desk":
        """Resolve the data directory, migrate the schema (copying the file first) and wire services.

        ``check_integrity``: read the whole SQLite file first (``Database.check_integrity``), for
        the front ends that run for long; damage is otherwise found where a query meets it."""
        paths = resolve_data_dir(data_dir).ensure()
        db = Database(resolve_database_url(paths, database_url))
        if check_integrity:
            try:
                db.check_integrity()
            except Exception:
                db.dispose()
                raise
        try:
            if migrate:
                upgrade(db, paths.backups)
            namespace = _instance_id(db)
        except Exception:
            db.dispose()
            raise
        secrets = SecretStore(paths.secrets_fallback, namespace=namespace)
        desk = cls(paths, db, secrets, EventBus(), actor or Actor("owner", "admin"))
        desk.events.subscribe(SettingsChanged, desk._on_settings_changed, owner=desk)
        desk.events.subscribe(ChangeArrived, desk._relay_change, owner=desk)
        desk.events.subscribe(ResyncNeeded, desk._relay_resync, owner=desk)
        return desk

    @staticmethod
    def orm_loaded() -> bool:
        """Whether SQLAlchemy and the models are loaded (the first use of most services loads them)."""
        return "giftdesk.db.models" in sys.modules

    def needs_first_admin(self) -> bool:
        """``admins.needs_first_admin()``: whether nobody can log in yet. Asked before the ORM is
        loaded (the login's first paint), a SQLite file is read straight."""
        path = self.db.sqlite_path
        if path is not None and not self.orm_loaded():
            with sqlite_reading(path) as connection:
                return connection.execute("SELECT count(id) FROM administrators").fetchone()[0] == 0
        return self.admins.needs_first_admin()

    def customer_list(self) -> list:
        """Every customer, as ``customers.list()`` gives them. Asked for before the ORM is loaded
        (the window's first paint), a SQLite file is read straight with the same query."""
        path = self.db.sqlite_path
        if path is not None and not self.orm_loaded():
            from giftdesk.accounts.first_list import read_customer_list

            with sqlite_reading(path) as connection:
                return read_customer_list(connection)
        return self.customers.list()

    # Another console's changes, as the change feed reports them, become the events this process's
    # own changes publish, so every view and runtime service that follows those follows the others' too.
    def _relay_change(self, change: ChangeArrived) -> None:
        if change.here:
            return  # published already, with its details, by the service that made it
        if change.entity == "alert":
            self._relay_alert(change)
            return
        event = relayed_event(change)
        if event is not None:
            self.events.publish(event)

    def _relay_alert(self, change: ChangeArrived) -> None:
        """An alert the runtime of another process opened: told here too (the window attached to a
        ``giftdesk serve`` says it from its tray), unless it opened under a snooze."""
        from giftdesk.alerts.events import AlertRaised, AlertsChanged

        self.events.publish(AlertsChanged())
        if change.action != "created":
            return
        try:
            alert = self.alerts.get(int(change.id))
        except (GiftDeskError, TypeError, ValueError):
            return  # gone already (its rule removed)
        if alert.state() in ("open", "acknowledged"):
            self.events.publish(AlertRaised(alert.id, alert.rule_name, alert.kind, alert.subject, alert.message))

    def _relay_resync(self, _event: ResyncNeeded) -> None:
        for event in resync_events():
            self.events.publish(event)

    def _on_settings_changed(self, event: SettingsChanged) -> None:
        # A new public URL pattern: every account's instance URL (the tracker API's instanceUrl) follows it,
        # whoever changed it (Settings dialog, `giftdesk settings set`, the public URLs dialog).
        if URL_PATTERN_KEY in event.keys:
            try:
                self.fleet.apply_public_urls()
            except GiftDeskError as exc:
                log.warning("The instance URLs could not follow the new URL pattern: %s", exc)

    @property
    def actor(self) -> Actor:
        return self.ctx.actor

    def as_actor(self, actor: Actor) -> "Desk":
        """The same data directory and event bus, acting as someone else (after a GUI login)."""
        other = Desk(self.paths, self.db, self.secrets, self.events, actor, self.runtime)
        other._fampage_shared_with = self
        return other

    def endpoint_routes(self) -> tuple[object, list]:
        """What the tracker endpoint serves (the runtime's endpoint service starts it with these):
        the tracker gateway, whose key table checks every route's key, and the features' routes."""
        from giftdesk.accounts.tracker_gateway import TrackerGateway
        from giftdesk.social.http import SocialSyncHandler

        gateway = TrackerGateway(self.db, self.events)
        return gateway, feature_routes(gateway, SocialSyncHandler(self.social), (self.companies, self.settings))

    def attach_runtime(self, runtime) -> None:
        self.runtime = runtime

    def close(self) -> None:
        """Stops the background runtime first (it flushes into the database), then the database."""
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            runtime.stop()
        if "fampage" in self.__dict__:  # made (else there is no connection to close)
            self.fampage.close()
        if self._fleet is not None:
            self._fleet.close()
        self._docker.close()
        self.db.dispose()


def _instance_id(db: Database) -> str:
    """The database's instance id (``ensure_instance_id``); read straight from a SQLite file that
    has one, without loading the ORM."""
    path = db.sqlite_path
    if path is not None:
        with sqlite_reading(path) as connection:
            row = connection.execute("SELECT value FROM settings WHERE key = ?", (INSTANCE_ID_KEY,)).fetchone()
        if row is not None:
            return json.loads(row[0])
    from giftdesk.system.settings import ensure_instance_id

    with db.session() as session:
        return ensure_instance_id(session)


def relayed_event(change: ChangeArrived):
    """The event this process would have published for ``change`` had it made it (None: nothing
    listens for that entity)."""
    from giftdesk.accounts.events import AccountChanged, CustomerChanged, KeyChanged
    from giftdesk.fampage.events import CompanyChanged, InvoiceChanged, OrdersChanged
    from giftdesk.fleet.events import InstancesChanged
    from giftdesk.social.events import SocialProfileChanged

    try:
        number = int(change.id)
    except (TypeError, ValueError):
        number = None
    make = {
        "customer": lambda: CustomerChanged(number),
        "account": lambda: AccountChanged(number, None),
        # A key changed elsewhere: the tracker's key may be new, but which change it was is not known.
        "key": lambda: KeyChanged(number, "deleted" if change.action == "deleted" else "changed"),
        "instance": lambda: InstancesChanged((number,) if number is not None else ()),
        "order": lambda: OrdersChanged(None),
        "invoice": lambda: InvoiceChanged(number, change.action),
        "company": lambda: CompanyChanged(number),
        "social_profile": lambda: SocialProfileChanged(number),
        "setting": lambda: SettingsChanged((str(change.id),)),
    }.get(change.entity)
    if make is None or (number is None and change.entity != "setting"):
        return None
    return make()


def resync_events() -> list:
    """Too many changes were missed to tell which: every view reloads what it shows."""
    from giftdesk.accounts.events import CustomerChanged
    from giftdesk.fampage.events import OrdersChanged
    from giftdesk.fleet.events import InstancesChanged
    from giftdesk.social.events import SocialProfileChanged

    return [CustomerChanged(None), InstancesChanged(), OrdersChanged(None), SocialProfileChanged(None)]


def feature_routes(gateway, social_sync=None, intake=None) -> list:
    """The features' endpoint routes: the tracker routes on ``gateway``, the social sync route
    (served by ``social_sync``, a ``SocialSyncHandler``; without one it answers 404) and, with it,
    the web client's profile routes on the same social service; given ``intake`` (the company and
    settings services), the company intake route."""
    from giftdesk.accounts.http import tracker_routes
    from giftdesk.social.http import profile_routes_beside, sync_routes

    routes = [*tracker_routes(gateway), *sync_routes(social_sync), *profile_routes_beside(social_sync)]
    if intake is not None:
        from giftdesk.fampage.http import intake_routes

        routes += intake_routes(*intake)
    return routes
