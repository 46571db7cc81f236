"""``Desk``: one opened data directory with its database, secret store, event bus and services.

The GUI, the CLI and ``giftdesk serve`` all start by opening a Desk; it is Qt-free.
"""

from __future__ import annotations

import logging

from giftdesk.db import Database
from giftdesk.db.migrate import upgrade
from giftdesk.paths import DataPaths, resolve_data_dir, resolve_database_url
from giftdesk.secrets import SecretStore
from giftdesk.services.admins import AdminService
from giftdesk.services.backups import BackupService
from giftdesk.services.audit import AuditService
from giftdesk.services.context import Actor, ServiceContext
from giftdesk.services.customers import CustomerService
from giftdesk.services.events import EventBus
from giftdesk.services.keys import KeyService
from giftdesk.services.social import SocialService
from giftdesk.services.settings import SettingsService, ensure_instance_id
from giftdesk.services.tracker_data import TrackerDataService

log = logging.getLogger(__name__)


class Desk:
    def __init__(self, paths: DataPaths, db: Database, secrets: SecretStore, events: EventBus, actor: Actor,
                 runtime=None):
        self.paths = paths
        self.runtime = runtime  # giftdesk.runtime.Runtime once a front end starts one
        self.db = db
        self.secrets = secrets
        self.events = events
        self.ctx = ServiceContext(db, secrets, events, actor)
        self.admins = AdminService(self.ctx)
        self.audit = AuditService(self.ctx)
        self.customers = CustomerService(self.ctx)
        self.keys = KeyService(self.ctx)
        self.tracker_data = TrackerDataService(self.ctx)
        self.settings = SettingsService(self.ctx)
        self.backups = BackupService(self.ctx, paths.backups)
        self.social = SocialService(self.ctx)

    @classmethod
    def open(
        cls,
        data_dir: str | None = None,
        database_url: str | None = None,
        actor: Actor | None = None,
        migrate: bool = True,
    ) -> "Desk":
        """Resolve the data directory, migrate the schema (copying the file first) and wire services."""
        paths = resolve_data_dir(data_dir).ensure()
        db = Database(resolve_database_url(paths, database_url))
        if migrate:
            upgrade(db, paths.backups)
        with db.session() as session:
            namespace = ensure_instance_id(session)
        secrets = SecretStore(paths.secrets_fallback, namespace=namespace)
        return cls(paths, db, secrets, EventBus(), actor or Actor("owner", "admin"))

    @property
    def actor(self) -> Actor:
        return self.ctx.actor

    def as_actor(self, actor: Actor) -> "Desk":
        """The same data directory and event bus, acting as someone else (after a GUI login)."""
        return Desk(self.paths, self.db, self.secrets, self.events, actor, self.runtime)

    def attach_runtime(self, runtime) -> None:
        self.runtime = runtime

    def close(self) -> None:
        """Stops the background runtime first (it flushes into the database), then the database."""
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            runtime.stop()
        self.db.dispose()
