"""Moving in from the gift instance manager: its instances, with their running containers
adopted as they are, their accounts, keys, dashboard passwords and logs; its users on request.

No tracker is restarted, renamed or relabelled: the record takes over the container by its id
(``instances.adopted_container_id``; its labels stay the manager's and are never read as ours).
The account keeps its old ObjectId as an alias, so the tracker's ``ACCOUNT_ID`` keeps working;
the same API key string keeps working (its digest is stored, the key in the keyring, as ours).

``plan`` reads and decides, changing nothing (the preview); ``apply`` plans again and writes
everything in one transaction, or nothing. A second run finds everything imported and writes
nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import func, select

from giftdesk.accounts.events import AccountChanged, CustomerChanged, KeyChanged
from giftdesk.accounts.keys import key_secret_name
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.core.events import SettingsChanged
from giftdesk.db.credentials import digest_key, renew_credentials_generation
from giftdesk.db.fleet_models import Instance, InstanceLog
from giftdesk.db.models import AccountLegacyId, Administrator, Customer, Setting, TikTokAccount, TrackerCredential
from giftdesk.db.types import utcnow
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import APP_LABEL, APP_VALUE, DESK_LABEL, TRACKER_PORT, env_of
from giftdesk.fleet.environment import dash_password_secret, scrub
from giftdesk.fleet.events import InstancesChanged
from giftdesk.move_in.manager_database import ManagerDatabase, ManagerInstance, moment, read_manager_database
from giftdesk.move_in.manager_settings import UPDATE, SettingPlan, plan_settings
from giftdesk.system.settings import default_of

log = logging.getLogger(__name__)

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
ADOPT, UNCHANGED, SKIP, CREATE = "adopt", "unchanged", "skip", "create"
# The manager's roles as ours; anything else it may have had becomes an operator.
ROLE_OF = {"admin": "admin", "superadmin": "admin", "operator": "operator", "viewer": "viewer", "user": "operator"}


@dataclass(frozen=True)
class InstancePlan:
    """What one of the manager's instances becomes: adopted (with its account and key), already
    here (unchanged), or skipped with the reason."""

    name: str
    outcome: str  # adopt | unchanged | skip
    reason: str = ""
    container_id: str | None = None
    state: str | None = None
    port: int | None = None
    legacy_account_id: str | None = None
    tiktok_username: str | None = None
    account_outcome: str = ""  # create | link (an account here by that handle takes the old id) | existing
    account_id: int | None = None
    key_outcome: str = ""  # create | existing
    source: ManagerInstance | None = field(default=None, repr=False, compare=False)
    container: dict | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        return {"name": self.name, "outcome": self.outcome, "reason": self.reason or None,
                "containerId": self.container_id, "state": self.state, "port": self.port,
                "legacyAccountId": self.legacy_account_id,
                "tiktokUsername": f"@{self.tiktok_username}" if self.tiktok_username else None,
                "account": self.account_outcome or None, "accountId": self.account_id, "key": self.key_outcome or None}

    def text(self) -> str:
        if self.outcome == SKIP:
            return f"skipped: {self.reason}"
        if self.outcome == UNCHANGED:
            return self.reason or "imported already"
        account = {"create": "new account", "link": "existing account by handle", "existing": "account here"}
        return (f"adopt container {(self.container_id or '')[:12]} ({self.state}), port {self.port}; "
                f"{account.get(self.account_outcome, '')} @{self.tiktok_username} (old id {self.legacy_account_id})"
                f"{', its key' if self.key_outcome == CREATE else ''}")


@dataclass(frozen=True)
class UserPlan:
    username: str
    outcome: str  # create | unchanged | skip
    role: str = ""
    reason: str = ""
    password_hash: str = field(default="", repr=False)

    def to_json(self) -> dict:
        return {"username": self.username, "outcome": self.outcome, "role": self.role or None,
                "reason": self.reason or None}


@dataclass(frozen=True)
class ManagerImportPlan:
    path: str
    instances: list[InstancePlan]
    users: list[UserPlan]
    users_asked: bool
    applied: bool = False
    settings: list[SettingPlan] = field(default_factory=list)  # its settings table, onto ours

    @property
    def adopted(self) -> list[InstancePlan]:
        return [p for p in self.instances if p.outcome == ADOPT]

    @property
    def settings_changed(self) -> list[SettingPlan]:
        return [s for s in self.settings if s.outcome == UPDATE]

    @property
    def changes_anything(self) -> bool:
        return bool(self.adopted) or any(u.outcome == CREATE for u in self.users) or bool(self.settings_changed)

    def summary(self) -> str:
        adopted = len(self.adopted)
        accounts = sum(1 for p in self.adopted if p.account_outcome == CREATE)
        skipped = sum(1 for p in self.instances if p.outcome == SKIP)
        unchanged = sum(1 for p in self.instances if p.outcome == UNCHANGED)
        users = sum(1 for u in self.users if u.outcome == CREATE)
        settings = [s.setting for s in self.settings_changed]
        settings_skipped = sum(1 for s in self.settings if s.outcome == SKIP)
        if not self.changes_anything:
            skips = [f"{skipped} skipped"] if skipped else []
            skips += [f"{settings_skipped} setting{'s' if settings_skipped != 1 else ''} skipped"] if settings_skipped else []
            return (f"Nothing to import: everything in {self.path} is here already"
                    + (f" ({', '.join(skips)}, see why above)." if skips else "."))
        verb = "Imported" if self.applied else "Would import"
        parts = [f"{adopted} instance{'s' if adopted != 1 else ''} (containers adopted as they run, none restarted)",
                 f"{accounts} new account{'s' if accounts != 1 else ''}"]
        if self.users_asked:
            parts.append(f"{users} administrator{'s' if users != 1 else ''}")
        if settings:
            parts.append(f"{len(settings)} setting{'s' if len(settings) != 1 else ''} ({', '.join(settings)})")
        tails = [f"{unchanged} already here, {skipped} skipped"] if unchanged or skipped else []
        if settings_skipped:
            tails.append(f"{settings_skipped} setting{'s' if settings_skipped != 1 else ''} skipped")
        tail = "".join(f"; {t}" for t in tails)
        return f"{verb} {', '.join(parts)} from {self.path}{tail}."

    def to_json(self) -> dict:
        return {"source": self.path, "applied": self.applied, "changes": self.changes_anything,
                "instances": [p.to_json() for p in self.instances],
                "users": [u.to_json() for u in self.users] if self.users_asked else None,
                "settings": [s.to_json() for s in self.settings], "summary": self.summary()}


class InstanceManagerImport:
    """The instance manager's database moved into a desk (an operator's job; users need an admin)."""

    def __init__(self, desk):
        self.desk = desk
        self.ctx = desk.ctx
        self.fleet = desk.fleet

    # ---- the preview ------------------------------------------------------------------------------
    def plan(self, path: str | Path, users: bool = False) -> ManagerImportPlan:
        self.ctx.require("operator", "import instances")
        if users:
            self.ctx.require("admin", "import administrators")
        source = read_manager_database(path)
        return self._plan(source, users)

    def _plan(self, source: ManagerDatabase, users: bool) -> ManagerImportPlan:
        # Only its instances need the engine: a database of settings alone moves in without one.
        containers = {c.id: c for c in self.fleet.docker.list_all()} if source.instances else {}
        with self.ctx.db.read_session() as session:
            plans: list[InstancePlan] = []
            taken_names: set[str] = set()
            taken_ports: set[int] = set()
            taken_accounts: set[str] = set()
            for item in source.instances:
                plan = self._plan_instance(session, item, containers, taken_names, taken_ports, taken_accounts)
                if plan.outcome == ADOPT:
                    taken_names.add(plan.name)
                    taken_ports.add(plan.port or 0)
                    taken_accounts.add(plan.legacy_account_id or "")
                plans.append(plan)
            user_plans = [self._plan_user(session, user) for user in source.users] if users else []
            stored = set(session.scalars(select(Setting.key)))
        settings = plan_settings(source.settings, self.desk.settings.all(), stored, self.ctx.actor.can("admin"))
        return ManagerImportPlan(str(source.path), plans, user_plans, users, settings=settings)

    def _plan_instance(self, session, item: ManagerInstance, containers: dict, taken_names: set, taken_ports: set,
                       taken_accounts: set) -> InstancePlan:
        base = InstancePlan(item.name or "(no name)", SKIP, container_id=item.container_id, port=item.port,
                            legacy_account_id=(item.account_id or "").lower() or None,
                            tiktok_username=(item.tiktok_username or "").strip().removeprefix("@").lower() or None,
                            source=item)
        try:
            name = checks.instance_name(item.name)
        except ValidationError as exc:
            return replace(base, reason=f"its name cannot be an instance name here ({exc})")
        base = replace(base, name=name)
        if not base.legacy_account_id or not OBJECT_ID.match(base.legacy_account_id):
            return replace(base, reason=f"its account id '{item.account_id or ''}' is not a 24-hex ObjectId")
        if not base.tiktok_username:
            return replace(base, reason="it has no TikTok username")
        existing = session.scalar(select(Instance).where(Instance.name == name))
        if existing is not None:
            old_id = session.scalar(select(AccountLegacyId.legacy_id)
                                    .where(AccountLegacyId.account_id == existing.account_id))
            if existing.adopted_container_id == item.container_id or old_id == base.legacy_account_id:
                return replace(base, outcome=UNCHANGED, reason="imported already", account_id=existing.account_id)
            return replace(base, reason=f"name clash: an instance called '{name}' exists here already")
        if item.container_id and session.scalar(select(Instance.id).where(
                (Instance.container_id == item.container_id) | (Instance.adopted_container_id == item.container_id))):
            return replace(base, reason="its container is another instance's here already")
        if name in taken_names:
            return replace(base, reason=f"name clash: '{name}' is listed twice")
        container = self._container(item, containers)
        if isinstance(container, str):
            return replace(base, reason=container)
        summary, details = container
        env = env_of(details)
        running_as = env.get("ACCOUNT_ID", "").strip().lower()
        if OBJECT_ID.match(running_as) and running_as != base.legacy_account_id:
            base = replace(base, legacy_account_id=running_as)  # what the tracker calls with decides
        if base.legacy_account_id in taken_accounts:
            return replace(base, reason=f"account {base.legacy_account_id} has another instance in this import "
                                        "(clone it here after the import)")
        port = _published_port(details, item.port) or item.port
        if port is None:
            return replace(base, reason="it publishes no port")
        base = replace(base, container_id=summary.id, state=summary.state, port=port, container=details)
        holder = self._port_holder(session, port, summary.id, containers)
        if holder or port in taken_ports:
            return replace(base, reason=f"port taken: {port} is held by {holder or 'another instance of this import'}")
        key = env.get("API_KEY") or item.api_key
        if not key:
            return replace(base, reason="it has no API key (neither in the database nor in its container)")
        try:
            account_outcome, account_id, key_outcome = self._account(session, base, key)
        except ConflictError as exc:
            return replace(base, reason=str(exc))
        return replace(base, outcome=ADOPT, account_outcome=account_outcome, account_id=account_id,
                       key_outcome=key_outcome)

    def _container(self, item: ManagerInstance, containers: dict):
        """(summary, inspect) of the instance's container, or the reason it cannot be adopted."""
        if not item.container_id:
            return "container missing: the database names none"
        summary = next((c for c in containers.values() if c.id.startswith(item.container_id)), None)
        if summary is None or len(item.container_id) < 12:
            return f"container missing: {item.container_id[:12]} is not on the Docker engine"
        try:
            details = self.fleet.docker.inspect(summary.id)
        except NotFoundError:
            return f"container missing: {item.container_id[:12]} went away meanwhile"
        labels = (details.get("Config") or {}).get("Labels") or {}
        if labels.get(DESK_LABEL):
            return "its container is a GiftDesk container already"
        if labels.get(APP_LABEL) != APP_VALUE:
            return f"its container does not carry the tracker label {APP_LABEL}={APP_VALUE}"
        return summary, details

    def _port_holder(self, session, port: int, container_id: str, containers: dict) -> str | None:
        held = session.scalar(select(Instance.name).where(Instance.port == port, Instance.engine == ""))
        if held:
            return f"instance '{held}'"
        for other in containers.values():
            if other.id != container_id and (port in other.public_ports
                                             or other.labels.get("giftdesk.port") == str(port)):
                return f"container {other.name}"
        return None

    def _account(self, session, plan: InstancePlan, key: str) -> tuple[str, int | None, str]:
        """(account outcome, its id here when it exists, key outcome); ConflictError says why not."""
        digest = digest_key(key)
        by_old = session.scalar(select(AccountLegacyId.account_id).where(AccountLegacyId.legacy_id == plan.legacy_account_id))
        by_name = session.scalar(select(TikTokAccount).where(TikTokAccount.username == plan.tiktok_username))
        key_owner = session.scalar(select(TrackerCredential.account_id).where(TrackerCredential.api_key_sha256 == digest))
        if by_old is not None:
            account_id, outcome = by_old, "existing"
        elif by_name is not None:
            if session.get(AccountLegacyId, by_name.id) is not None:
                raise ConflictError(f"@{plan.tiktok_username} is here already, imported with another old id")
            account_id, outcome = by_name.id, "link"
        else:
            if key_owner is not None:
                raise ConflictError(f"its API key is account {key_owner}'s here")
            return CREATE, None, CREATE
        stored = session.scalar(select(TrackerCredential.api_key_sha256).where(TrackerCredential.account_id == account_id))
        if stored is None:
            if key_owner is not None:
                raise ConflictError(f"its API key is account {key_owner}'s here")
            return outcome, account_id, CREATE
        if stored != digest:
            raise ConflictError(f"account {account_id} has another API key here; the tracker's key would stop working")
        return outcome, account_id, "existing"

    def _plan_user(self, session, user) -> UserPlan:
        role = ROLE_OF.get((user.role or "").lower(), "operator")
        if not user.username or not all(c.isalnum() or c in "._-@" for c in user.username) or len(user.username) > 64:
            return UserPlan(user.username, SKIP, role, "its name cannot be an administrator's name here")
        if not user.password_hash.startswith(("$2a$", "$2b$", "$2y$")):
            return UserPlan(user.username, SKIP, role, "its password hash is not bcrypt")
        found = session.scalar(select(Administrator).where(func.lower(Administrator.username) == user.username.lower()))
        if found is not None:
            if found.password_hash == user.password_hash:
                return UserPlan(user.username, UNCHANGED, role, "imported already")
            return UserPlan(user.username, SKIP, role, "an administrator of that name exists here")
        return UserPlan(user.username, CREATE, role, password_hash=user.password_hash)

    # ---- the import ---------------------------------------------------------------------------------
    def apply(self, path: str | Path, users: bool = False) -> ManagerImportPlan:
        """Plans again (what changed since the preview counts) and writes it all in one transaction."""
        self.ctx.require("operator", "import instances")
        if users:
            self.ctx.require("admin", "import administrators")
        source = read_manager_database(path)
        plan = self._plan(source, users)
        if not plan.changes_anything:
            return plan
        written: list[str] = []  # secrets set, taken back if the transaction fails
        accounts: list[tuple[int, int]] = []
        instance_ids: list[int] = []
        try:
            with self.ctx.db.session() as session:
                for item in plan.adopted:
                    account_id, customer_id = self._write_account(session, item, written)
                    accounts.append((account_id, customer_id))
                    instance_ids.append(self._write_instance(session, item, account_id, source, written))
                for user in plan.users:
                    if user.outcome == CREATE:
                        self._write_user(session, user)
                self._write_settings(session, plan.settings_changed)
                renew_credentials_generation(session)  # endpoints elsewhere load the old ids now
                self.ctx.audit(session, "move_in.instance_manager", plan.summary().replace("Would import", "Imported"),
                               "import", None, details={**plan.to_json(), "applied": True})
        except BaseException:
            for name in written:
                try:
                    self.ctx.secrets.delete(name)
                except Exception:
                    log.warning("Could not take back the secret %s after a failed import", name, exc_info=True)
            raise
        for account_id, customer_id in accounts:
            self.ctx.events.publish(CustomerChanged(customer_id))
            self.ctx.events.publish(AccountChanged(account_id, customer_id))
            self.ctx.events.publish(KeyChanged(account_id, "generated"))
        self.ctx.events.publish(InstancesChanged(tuple(instance_ids)))
        if plan.settings_changed:
            self.ctx.events.publish(SettingsChanged(tuple(sorted(s.setting for s in plan.settings_changed))))
        return replace(plan, applied=True)

    def _write_account(self, session, item: InstancePlan, written: list[str]) -> tuple[int, int]:
        source = item.source
        key = env_of(item.container or {}).get("API_KEY") or source.api_key
        if item.account_outcome == CREATE:
            customer = Customer(name=f"@{item.tiktok_username}",
                                notes=f"Moved in from the gift instance manager (account {item.legacy_account_id}).")
            session.add(customer)
            session.flush()
            account = TikTokAccount(customer_id=customer.id, username=item.tiktok_username)
            session.add(account)
            session.flush()
            self.ctx.audit(session, "account.create", f"Added @{item.tiktok_username} (moved in from the instance "
                           f"manager, old id {item.legacy_account_id})", "account", account.id)
        else:
            account = session.get(TikTokAccount, item.account_id)
        if session.get(AccountLegacyId, account.id) is None:
            session.add(AccountLegacyId(account_id=account.id, legacy_id=item.legacy_account_id))
        if item.key_outcome == CREATE:
            session.add(TrackerCredential(account_id=account.id, api_key_sha256=digest_key(key), key_hint=key[-4:],
                                          status="active"))
            self.ctx.secrets.set(key_secret_name(account.id), key)
            written.append(key_secret_name(account.id))
            self.ctx.audit(session, "key.import", f"Kept the API key of @{account.username} from the instance manager",
                           "account", account.id)
        session.flush()
        return account.id, account.customer_id

    def _write_instance(self, session, item: InstancePlan, account_id: int, source: ManagerDatabase,
                        written: list[str]) -> int:
        details, old = item.container or {}, item.source
        env, host = env_of(details), details.get("HostConfig") or {}
        state = details.get("State") or {}
        network = host.get("NetworkMode") or "bridge"
        address = _published_address(details, item.port)
        record = Instance(
            uid=uuid.uuid4().hex, name=item.name, container_id=item.container_id,
            adopted_container_id=item.container_id, status=item.state or "created", account_id=account_id,
            tiktok_username=item.tiktok_username, port=item.port,
            backend_api_url=env.get("BACKEND_API_URL") or old.backend_api_url or "",
            debug_mode=(env.get("DEBUG_MODE", "").lower() == "true") if "DEBUG_MODE" in env else old.debug_mode,
            engine="", image=(details.get("Config") or {}).get("Image") or old.docker_image or "",
            network="bridge" if network == "default" else network, publish_address=address or "127.0.0.1",
            restart_policy=(host.get("RestartPolicy") or {}).get("Name") or "no",
            memory_limit_mb=(host.get("Memory") or 0) // (1024 * 1024) or None,
            cpu_millis=(host.get("NanoCpus") or 0) // 1_000_000 or None,
            last_started_at=moment(state.get("StartedAt")) or old.last_started_at,
            last_stopped_at=old.last_stopped_at)
        session.add(record)
        session.flush()
        secrets = [value for value in (env.get("API_KEY"), old.api_key, env.get("DASH_PASSWORD"), old.dash_password)
                   if value]
        for entry in source.logs.get(old.id, []):
            details = _masked(scrub(entry.details), secrets) if entry.details else None
            session.add(InstanceLog(instance_id=record.id, level=entry.level[:16] or "info",
                                    message=_masked(entry.message, secrets)[:2000] or "(no message)",
                                    details=details, created_at=entry.created_at or utcnow()))
        session.add(InstanceLog(instance_id=record.id, level="info", message=(
            f"Moved in from the gift instance manager: container {item.container_id[:12]} adopted as it was "
            f"(not restarted); its tracker calls as account {item.legacy_account_id}")))
        password = env.get("DASH_PASSWORD") or old.dash_password
        if password:
            self.ctx.secrets.set(dash_password_secret(record.id), password)
            written.append(dash_password_secret(record.id))
        self.ctx.audit(session, "instance.import", f"Adopted '{item.name}' (container {item.container_id[:12]}) from "
                       "the gift instance manager", "instance", record.id,
                       details={"port": item.port, "image": record.image, "legacyAccountId": item.legacy_account_id})
        return record.id

    def _write_settings(self, session, changes: list[SettingPlan]) -> None:
        if not changes:
            return
        before = {}
        for change in changes:
            row = session.get(Setting, change.setting)
            before[change.setting] = default_of(change.setting) if row is None else row.value
            if row is None:
                session.add(Setting(key=change.setting, value=change.value))
            else:
                row.value = change.value
        self.ctx.audit(session, "settings.update", "Changed settings from the gift instance manager: "
                       + ", ".join(sorted(before)), details={"before": before,
                                                             "after": {c.setting: c.value for c in changes}})

    def _write_user(self, session, user: UserPlan) -> None:
        first = (session.scalar(select(func.count(Administrator.id))) or 0) == 0
        admin = Administrator(username=user.username, password_hash=user.password_hash,
                              role="admin" if first else user.role, is_super=first)
        session.add(admin)
        session.flush()
        self.ctx.audit(session, "admin.import", f"Imported {admin.role} '{user.username}' from the gift instance "
                       "manager (its password is checked at first login, then rehashed)", "administrator", admin.id)


def _masked(value, secrets: list[str]):
    """The manager's log entries without the instance's key or dashboard password, wherever they
    were written (a message, a detail)."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "••••")
        return value
    if isinstance(value, dict):
        return {k: _masked(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, secrets) for v in value]
    return value


def _bindings(details: dict, port: int | None) -> list[dict]:
    """The container's host port bindings, the one to the database's port (or the tracker's
    port inside) first: the manager may publish either."""
    found = []
    for inside, bindings in ((details.get("HostConfig") or {}).get("PortBindings") or {}).items():
        for binding in bindings or ():
            if str(binding.get("HostPort") or "").isdigit():
                rank = 0 if int(binding["HostPort"]) == port else 1 if inside == f"{TRACKER_PORT}/tcp" else 2
                found.append((rank, binding))
    return [binding for _rank, binding in sorted(found, key=lambda pair: pair[0])]


def _published_port(details: dict, port: int | None) -> int | None:
    for binding in _bindings(details, port):
        return int(binding["HostPort"])
    env = env_of(details)
    if (details.get("HostConfig") or {}).get("NetworkMode") == "host" and env.get("PORT", "").isdigit():
        return int(env["PORT"])
    return None


def _published_address(details: dict, port: int | None) -> str | None:
    for binding in _bindings(details, port):
        return binding.get("HostIp") or "0.0.0.0"
    return None


