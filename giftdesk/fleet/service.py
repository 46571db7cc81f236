"""Instances: one gift tracker container per TikTok account, on a real Docker engine.

The record (``instances``) and the container are kept together: a create that fails on the
engine leaves no record, a record that fails to commit leaves no container, an edit recreates
the container under the same identity and puts the old one back when the new one cannot be
created or started. Only containers carrying this desk's labels are ever stopped or removed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from giftdesk.db.fleet_models import Instance, InstanceLog, InstanceTemplate
from giftdesk.db.models import Customer, TikTokAccount, TrackerCredential
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ConflictError, GiftDeskError, NotFoundError, ServiceUnavailableError, ValidationError
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import (ACCOUNT_LABEL, APP_LABEL, APP_VALUE, CONTAINER_PREFIX, DESK_LABEL, ID_LABEL,
                                       MANAGED_LABEL, MANAGED_VALUE, NAME_LABEL, PORT_LABEL, TRACKER_PORT, UID_LABEL,
                                       ContainerConfig, ContainerSummary, FleetDocker)
from giftdesk.fleet.events import InstancesChanged, InstanceStateChanged
from giftdesk.fleet.journal import Journal, failpoint
from giftdesk.fleet.records import UNKNOWN_STATE, BulkResult, InstanceEventRow, InstanceRow, TemplateRow
from giftdesk.fleet.spec import InstanceSettings

log = logging.getLogger(__name__)

BULK_CONCURRENCY = 8
EDIT_SETTLE_S = 1.5  # a new container that dies within this after its start is a failed edit
SECRET_WORDS = ("API_KEY", "DASH_PASSWORD")
MISSING_MESSAGE = "The container is missing; recreate it with `giftdesk instance sync --recreate-missing`"


def dash_password_secret(instance_id: int) -> str:
    return f"instance-dash-password/{instance_id}"


# What an orphan is, when we know: a container of ours whose uid no record and no operation has.
INTERRUPTED_CREATE = "left by an interrupted create"
ORPHAN_CHOICES = ("adopt", "remove")


@dataclass(frozen=True)
class Reconciliation:
    missing: list[InstanceRow]
    orphans: list[ContainerSummary]
    relinked: list[InstanceRow]
    recovered: tuple[str, ...] = ()  # what recovery did, one line each
    left_by_create: frozenset[str] = frozenset()  # ids of orphans an interrupted create left

    def origin(self, orphan: ContainerSummary) -> str:
        return INTERRUPTED_CREATE if orphan.id in self.left_by_create else "orphan"

    def to_json(self) -> dict:
        return {"missing": [r.name for r in self.missing], "relinked": [r.name for r in self.relinked],
                "recovered": list(self.recovered),
                "orphans": [{"containerId": o.id, "name": o.name, "state": o.state, "image": o.image,
                             "labels": o.labels, "origin": self.origin(o), "choices": list(ORPHAN_CHOICES)}
                            for o in self.orphans]}


@dataclass(frozen=True)
class AdoptionHint:
    """An orphan and what adopting it would suggest: its name, the account its environment names
    (None: no account matches) and its published port."""

    container: ContainerSummary
    name: str
    account_id: int | None
    username: str
    port: int | None

    def to_json(self) -> dict:
        return {"containerId": self.container.id, "containerName": self.container.name, "name": self.name,
                "accountId": self.account_id, "tiktokUsername": self.username, "port": self.port}


class FleetService:
    def __init__(self, desk, clients=None, own_clients=None):
        """``clients``: Docker clients to use (the runtime's); else the runtime's when one runs and,
        without one (the CLI), clients made by ``own_clients()`` (``desk.py`` wires the adapter)."""
        self.desk = desk
        self.ctx = desk.ctx
        self._clients = clients if clients is not None else _DeskClients(desk, own_clients)
        self.docker = FleetDocker(self._clients)
        self.desk_id = desk.secrets.namespace
        self.journal = Journal(self.ctx.db)
        self._own_http = None
        self._http_lock = threading.Lock()

    def close(self) -> None:
        close = getattr(self._clients, "close_own", None)
        if close is not None:
            close()
        if self._own_http is not None:
            self._own_http.close()

    # ---- reading ------------------------------------------------------------------------
    def list(self, with_state: bool = False, search: str | None = None,
             unknown_if_unreachable: bool = False) -> list[InstanceRow]:
        """``unknown_if_unreachable``: with the engine down, the records with state 'unknown'
        instead of an error (what is known is still shown)."""
        if with_state and unknown_if_unreachable:
            try:
                return self.list(with_state=True, search=search)
            except ServiceUnavailableError:
                return [row.with_container(UNKNOWN_STATE) for row in self.list(search=search)]
        # With state, the engine's list runs while the database answers (two waits overlap).
        pending = _LIST_POOL.submit(self.docker.list_trackers, self.desk_id) if with_state else None
        try:
            with self.ctx.db.read_session() as session:
                records = session.execute(_LIST_QUERY).all()
        except BaseException:
            if pending is not None:
                pending.cancel()
            raise
        if search and search.strip():
            needle = search.strip().lower().removeprefix("@")
            records = [r for r in records if needle in r.name or needle in r.tiktok_username
                       or needle in (r.customer_name_ or "").lower()]
        if pending is None:
            return [InstanceRow.of(r, r.customer_id_, r.customer_name_) for r in records]
        by_id = {c.id: c for c in pending.result()}
        # Each row made once, with its state (the refresh is on the table's hot path).
        return [InstanceRow.of(r, r.customer_id_, r.customer_name_,
                               *_container_state(r.container_id, r.status, by_id.get(r.container_id or "")))
                for r in records]

    def attach_state(self, rows: list[InstanceRow], containers: list[ContainerSummary] | None = None) -> list[InstanceRow]:
        """The engine's view of every row from ONE list call."""
        if containers is None:
            containers = self.docker.list_trackers(self.desk_id)
        by_id = {c.id: c for c in containers}
        return [_with_summary(row, by_id.get(row.container_id or "")) for row in rows]

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
        details = _scrub(details) if details else None
        try:
            with self.ctx.db.session() as session:
                if session.get(Instance, instance_id) is not None:
                    session.add(InstanceLog(instance_id=instance_id, level=level, message=message[:2000],
                                            details=details))
        except Exception:  # an event must never break the action it describes
            log.exception("Could not write an instance event")

    # ---- create -------------------------------------------------------------------------
    def create(self, name: str, account_id: int, *, port: int | str | None = None,
               settings: InstanceSettings | None = None, template: int | str | None = None, start: bool = True,
               schedule_start: str | None = None, schedule_stop: str | None = None,
               schedule_tz: str | None = None, uid: str | None = None) -> InstanceRow:
        """``uid``: the new instance's identity when the caller must know it first (adopt)."""
        self.ctx.require("operator", "create instances")
        name = checks.instance_name(name)
        template_row = self.template(template) if template not in (None, "") else None
        base = template_row.settings if template_row else InstanceSettings()
        settings = (settings or base).cleaned()
        image = settings.image or str(self.desk.settings.get("tracker.default_image"))
        settings = replace(settings, image=image)
        schedule = (checks.time_of_day(schedule_start, "start"), checks.time_of_day(schedule_stop, "stop"),
                    checks.zone_name(schedule_tz))
        with self.ctx.db.read_session() as session:
            account = session.get(TikTokAccount, account_id)
            if account is None:
                raise NotFoundError(f"There is no TikTok account with id {account_id}.")
            if session.scalar(select(Instance.id).where(Instance.name == name)):
                raise ConflictError(f"An instance called '{name}' exists already.")
            has_key = session.scalar(select(TrackerCredential.id).where(TrackerCredential.account_id == account_id))
        self._check_engine_side(settings)
        port = self._choose_port(settings, port)
        if not has_key:  # a tracker without a key only restart-loops
            self.desk.keys.generate(account_id)
        backend = self.backend_url(settings.network)
        environment = self._environment(account_id, backend, port, settings)
        password = environment["DASH_PASSWORD"]
        uid = uid or uuid.uuid4().hex
        # The record (status 'creating': its name, port and id are taken) and the journal entry
        # commit before the engine is touched: a crash at any later point is recoverable.
        try:
            with self.ctx.db.session() as session:
                record = Instance(uid=uid, name=name, status="creating", account_id=account_id,
                                  tiktok_username=environment["TIKTOK_USERNAME"], port=port, backend_api_url=backend,
                                  debug_mode=settings.debug_mode, engine="", image=image, network=settings.network,
                                  publish_address=settings.publish_address, restart_policy=settings.restart_policy,
                                  memory_limit_mb=settings.memory_limit_mb, cpu_millis=settings.cpu_millis,
                                  schedule_start=schedule[0], schedule_stop=schedule[1], schedule_tz=schedule[2],
                                  template_id=template_row.id if template_row else None)
                session.add(record)
                session.flush()
                entry = self.journal.add(session, "create", uid, record.id,
                                         payload={"name": name, "port": port, "start": start})
                session.flush()
                instance_id, entry_id = record.id, entry.id
                config = self._config(record, environment)
        except IntegrityError as exc:
            raise ConflictError(f"The name '{name}' or port {port} was taken meanwhile; try again.") from exc
        container_id = None
        try:
            self.ctx.secrets.set(dash_password_secret(instance_id), password)
            failpoint("create.after_record")
            container_id = self._create_container(config)
            failpoint("create.after_container")
            with self.ctx.db.session() as session:
                record = session.get(Instance, instance_id)
                record.container_id, record.status = container_id, "created"
                self.ctx.audit(session, "instance.create", f"Created instance '{name}' for @{record.tiktok_username}",
                               "instance", record.id, details={"port": port, "image": image,
                                                               "network": settings.network})
                self.journal.finish(session, entry_id)
        except BaseException:
            self._undo_create(instance_id, entry_id, container_id)
            raise
        failpoint("create.after_link")
        self.record_event(instance_id, "info", f"Created on port {port} from {image}")
        self._apply_public_url(self.get(instance_id))
        self.ctx.events.publish(InstancesChanged((instance_id,)))
        if start:
            try:
                self.start(instance_id)
            except GiftDeskError as exc:
                self.record_event(instance_id, "error", f"Created but could not start: {exc}")
                raise ServiceUnavailableError(f"Instance '{name}' was created but did not start: {exc}") from exc
        return self.get(instance_id, with_state=True)

    def clone(self, ref: int | str, new_name: str, account_id: int | None = None, start: bool = False) -> InstanceRow:
        source = self.get(ref)
        target_account = account_id or source.account_id
        if target_account is None:
            raise ValidationError(f"'{source.name}' has no TikTok account any more; give the account for the clone.",
                                  field="account")
        return self.create(new_name, target_account, settings=source.settings, start=start,
                           schedule_start=source.schedule_start, schedule_stop=source.schedule_stop,
                           schedule_tz=source.schedule_tz)

    # ---- lifecycle ----------------------------------------------------------------------
    def start(self, ref: int | str) -> InstanceRow:
        return self._lifecycle(ref, "start")

    def stop(self, ref: int | str, timeout: int = 10) -> InstanceRow:
        return self._lifecycle(ref, "stop", timeout)

    def restart(self, ref: int | str, timeout: int = 10) -> InstanceRow:
        return self._lifecycle(ref, "restart", timeout)

    _LIFECYCLE = {"start": ("running", "last_started_at", "Started"),
                  "stop": ("exited", "last_stopped_at", "Stopped"),
                  "restart": ("running", "last_started_at", "Restarted")}

    def _lifecycle(self, ref: int | str, action: str, timeout: int = 10, fetch: bool = True) -> InstanceRow | None:
        """One read, the engine call, one write (state, time and the instance event together):
        bulk actions of a hundred trackers run many of these at once."""
        self.ctx.require("operator", f"{action} instances")
        with self.ctx.db.read_session() as session:
            record = self._record(session, ref)
            instance_id, name, container_id, status = record.id, record.name, record.container_id, record.status
        if not container_id or status == "missing":
            raise NotFoundError(missing_container_text(name))
        try:
            if action == "start":
                self.docker.start(container_id)
            elif action == "stop":
                self.docker.stop(container_id, timeout=timeout)
            else:
                self.docker.restart(container_id, timeout=timeout)
        except NotFoundError as exc:
            if self.docker.exists(container_id):
                raise
            self.note_missing(instance_id, name)
            raise NotFoundError(missing_container_text(name)) from exc
        status, stamp, message = self._LIFECYCLE[action]
        with self.ctx.db.session() as session:
            stored = session.get(Instance, instance_id)
            if stored is not None:
                stored.status = status
                setattr(stored, stamp, utcnow())
                session.add(InstanceLog(instance_id=instance_id, level="info", message=message))
        return self.get(instance_id) if fetch else None

    def delete(self, ref: int | str) -> InstanceRow:
        """Removes the instance's own container (checked by its labels) and the record."""
        self.ctx.require("operator", "delete instances")
        row = self.get(ref)
        entry_id = self.journal.begin("delete", row.uid, row.id, old_container_id=row.container_id)
        try:
            failpoint("delete.after_journal")
            if row.container_id and self._is_ours(row.container_id, row):
                self.docker.remove(row.container_id, force=True)
        except BaseException:
            self.journal.drop(entry_id)  # the record is still there: nothing to finish later
            raise
        failpoint("delete.after_remove")
        self._forget(row, entry_id, "instance.delete", f"Deleted instance '{row.name}'")
        return row

    def _forget(self, row: InstanceRow, entry_id: int, action: str, summary: str) -> None:
        """The record, its journal entry and its secrets go; views are told."""
        with self.ctx.db.session() as session:
            record = session.get(Instance, row.id)
            if record is not None:
                session.delete(record)
            self.ctx.audit(session, action, summary, "instance", row.id)
            self.journal.finish(session, entry_id)
        self.ctx.secrets.delete(dash_password_secret(row.id))
        self._cancel_schedules(row.id)
        self.ctx.events.publish(InstancesChanged((row.id,)))
        self.ctx.events.publish(InstanceStateChanged(row.id, row.name, "removed"))

    # ---- edit: recreate under the same identity ------------------------------------------
    def edit(self, ref: int | str, *, port: int | str | None = None, settings: InstanceSettings | None = None,
             schedule_start: Any = ..., schedule_stop: Any = ..., schedule_tz: Any = ...,
             public_url: Any = ..., recreate: bool | None = None) -> InstanceRow:
        """Settings and port are applied by recreating the container (Docker cannot change them in
        place); schedules and the public URL are record-only. ``recreate=True`` forces it (a new key)."""
        self.ctx.require("operator", "edit instances")
        row = self.get(ref)
        new_settings = (settings or row.settings).cleaned()
        if new_settings.image is None:
            new_settings = replace(new_settings, image=row.image)
        new_port = row.port if port in (None, "") else checks.port_number(port)
        record_only: dict[str, Any] = {}
        if schedule_start is not ...:
            record_only["schedule_start"] = checks.time_of_day(schedule_start, "start")
        if schedule_stop is not ...:
            record_only["schedule_stop"] = checks.time_of_day(schedule_stop, "stop")
        if schedule_tz is not ...:
            record_only["schedule_tz"] = checks.zone_name(schedule_tz)
        if public_url is not ...:
            from giftdesk.core import validation

            record_only["public_url"] = validation.http_url(public_url, "public URL")
        needs_recreate = recreate if recreate is not None else (new_settings != row.settings or new_port != row.port)
        if needs_recreate:
            self._check_engine_side(new_settings)
            if new_port != row.port:  # the old port is ours; a failed bind of it rolls back
                self._choose_port(new_settings, new_port, own=row.id)
            self._recreate(row, new_settings, new_port)
        if record_only:
            with self.ctx.db.session() as session:
                record = session.get(Instance, row.id)
                for key, value in record_only.items():
                    setattr(record, key, value)
                self.ctx.audit(session, "instance.edit", f"Changed {', '.join(sorted(record_only))} of '{row.name}'",
                               "instance", row.id, details=record_only)
            self._apply_public_url(self.get(row.id))  # the record just changed
        self.ctx.events.publish(InstancesChanged((row.id,)))
        return self.get(row.id, with_state=True)

    def recreate(self, ref: int | str) -> InstanceRow:
        """A new container from the record: after a key change, or for a missing container."""
        return self.edit(ref, recreate=True)

    def _recreate(self, row: InstanceRow, settings: InstanceSettings, port: int) -> None:
        """Park the old container (renamed, stopped), create and start the new one, remove the old,
        then the record: each step journaled, so that recovery ends with exactly one container."""
        if row.account_id is None:
            raise ConflictError(f"'{row.name}' has no TikTok account any more; it cannot be recreated.")
        backend = self.backend_url(settings.network)
        environment = self._environment(row.account_id, backend, port, settings, instance_id=row.id)
        old = None
        if row.container_id:
            try:
                old = self.docker.inspect(row.container_id)
            except NotFoundError:
                old = None
        if old is not None and not _labels_match(old.get("Config", {}).get("Labels") or {}, row, self.desk_id):
            old = None  # not ours: leave it alone
        was_running = bool(old and old["State"].get("Running"))
        start_new = was_running or old is None
        parked = f"{row.container_name}-old-{int(time.time())}"
        target = dict(port=port, backend_api_url=backend, image=settings.image, network=settings.network,
                      publish_address=settings.publish_address, restart_policy=settings.restart_policy,
                      memory_limit_mb=settings.memory_limit_mb, cpu_millis=settings.cpu_millis,
                      debug_mode=settings.debug_mode)
        entry_id = self.journal.begin(
            "recreate", row.uid, row.id, old_container_id=old["Id"] if old else None,
            parked_name=parked if old else None,
            payload={"name": row.name, "record": target, "wasRunning": was_running, "startNew": start_new})
        failpoint("edit.after_journal")
        new_id = None
        try:
            if old is not None:
                self.docker.rename(old["Id"], parked)
                failpoint("edit.after_park")
                if was_running:
                    self.docker.stop(old["Id"])
                    failpoint("edit.after_stop_old")
            with self.ctx.db.read_session() as session:
                record = session.get(Instance, row.id)
                session.expunge(record)
            for key, value in target.items():
                setattr(record, key, value)
            new_id = self._create_container(self._config(record, environment))
            self.journal.step(entry_id, "created", new_container_id=new_id)
            failpoint("edit.after_create")
            if start_new:
                self.docker.start(new_id)
                self._settle(new_id)
            self.journal.step(entry_id, "ready")  # from here on, recovery keeps the new container
            failpoint("edit.after_start")
        except BaseException as exc:
            self._edit_failed(row, exc, entry_id, old, new_id, was_running)
        if old is not None:
            try:
                self.docker.remove(old["Id"], force=True)
            except GiftDeskError as exc:
                self.journal.release(entry_id)
                raise ServiceUnavailableError(
                    f"The new container of '{row.name}' runs, but removing the previous one failed ({exc}); "
                    "run `giftdesk instance sync` to finish the edit.") from exc
            failpoint("edit.after_remove_old")
        changes = self._keep_new_container(row.id, entry_id, target, new_id, start_new)
        self.record_event(row.id, "info", "Recreated" + (f" ({', '.join(sorted(changes))} changed)" if changes else ""))

    def _keep_new_container(self, instance_id: int, entry_id: int, target: dict, new_id: str,
                            started: bool, summary: str | None = None) -> list[str]:
        """The record takes the new container and its settings; the journal entry goes with it."""
        with self.ctx.db.session() as session:
            stored = session.get(Instance, instance_id)
            changes = sorted(k for k, v in target.items() if getattr(stored, k) != v)
            for key in changes:
                setattr(stored, key, target[key])
            stored.container_id = new_id
            stored.status = "running" if started else "created"
            if started:
                stored.last_started_at = utcnow()
            self.ctx.audit(session, "instance.recreate", summary or f"Recreated '{stored.name}'", "instance",
                           instance_id, details={"changed": changes})
            self.journal.finish(session, entry_id)
        return changes

    def _edit_failed(self, row: InstanceRow, exc: BaseException, entry_id: int, old: dict | None,
                     new_id: str | None, was_running: bool) -> None:
        """Put the previous container back and raise; when that fails too, say both and where it is."""
        try:
            if new_id:
                self.docker.remove(new_id, force=True)
            if old is not None:
                self.docker.rename(old["Id"], row.container_name)
                if was_running:
                    self.docker.start(old["Id"])
        except Exception as undo:
            try:
                self.journal.release(entry_id)  # the next sync (or serve, the window) tries again
            except Exception:
                log.exception("Could not release the journal entry of '%s'", row.name)
            where = self._whereabouts(old["Id"]) if old is not None else "not there"
            message = (f"{exc} … and putting the previous container back failed too ({undo}): it is {where}; "
                       "run `giftdesk instance sync`.")
            self.record_event(row.id, "error", f"Edit failed: {message}")
            raise (type(exc)(message) if isinstance(exc, GiftDeskError) else ServiceUnavailableError(message)) from exc
        self.journal.drop(entry_id)
        self.record_event(row.id, "error", f"Edit failed, the previous container was put back: {exc}")
        if isinstance(exc, GiftDeskError):
            raise type(exc)(f"{exc} The previous container of '{row.name}' was put back.") from exc
        raise exc

    def _whereabouts(self, container_id: str) -> str:
        """'stopped as gift-tracker-x-old-…', 'running as …' or 'gone', for a message."""
        try:
            details = self.docker.inspect(container_id)
        except GiftDeskError:
            return "in an unknown state"
        running = "running" if details["State"].get("Running") else "stopped"
        return f"{running} as {details.get('Name', '').lstrip('/')}"

    def _settle(self, container_id: str, settle: float = EDIT_SETTLE_S) -> None:
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            state = self.docker.inspect(container_id)["State"]
            if state.get("Restarting") or (not state.get("Running") and state.get("Status") in ("exited", "dead")):
                raise ServiceUnavailableError(
                    f"The new container stopped at once (exit code {state.get('ExitCode')}"
                    f"{': ' + state['Error'] if state.get('Error') else ''}).")
            time.sleep(0.15)

    # ---- the tracker's own API -----------------------------------------------------------
    def tracker_state(self, ref: int | str):
        """The tracker's ``/api/state`` (live status, viewers, gifts, diamonds)."""
        from giftdesk.fleet.probe import read_state

        row = self.get(ref)
        return read_state(self._http(), row.local_url)

    def health_now(self, row: InstanceRow):
        """(health, TrackerState or None) from one probe now, for the CLI (the runtime probes on its own)."""
        from giftdesk.fleet.probe import classify

        state = None
        if row.state == "running":
            try:
                state = self.tracker_state(row.id)
            except GiftDeskError:
                state = None
        health = classify(state is not None, 99, row.last_started_at, row.state, row.engine_health)
        return health, state

    def stats_now(self, refs: Iterable[int | str], concurrency: int = 8) -> dict[int, Any]:
        """CPU %, memory and network rates of running instances: two one-shot samples each, a second apart."""
        from giftdesk.fleet.docker_api import compute_stats

        rows = [r for r in self.attach_state(self.resolve(list(refs))) if r.state == "running" and r.container_id]
        with ThreadPoolExecutor(max(1, min(concurrency, len(rows) or 1))) as pool:
            first = dict(zip([r.id for r in rows], pool.map(lambda r: compute_stats(
                self.docker.stats_once(r.container_id)), rows)))
            time.sleep(1.0)
            second = dict(zip([r.id for r in rows], pool.map(lambda r: compute_stats(
                self.docker.stats_once(r.container_id), first[r.id]), rows)))
        return second

    def live_command(self, ref: int | str, command: str) -> dict:
        """connect | disconnect: the tracker joins or leaves its TikTok live."""
        from giftdesk.fleet.probe import send_live_command

        self.ctx.require("operator", f"{command} trackers")
        row = self.get(ref)
        answer = send_live_command(self._http(), row.local_url, command)
        self.record_event(row.id, "info", "Connected to the TikTok live" if command == "connect"
                          else "Disconnected from the TikTok live")
        return answer

    def _http(self):
        runtime = getattr(self.desk, "runtime", None)
        if runtime is not None:
            return runtime.http.get("trackers")
        with self._http_lock:
            if self._own_http is None:
                import httpx

                self._own_http = httpx.Client(timeout=5.0)
            return self._own_http

    # ---- bulk ---------------------------------------------------------------------------
    def bulk(self, action: str, refs: Iterable[int | str], *, concurrency: int = BULK_CONCURRENCY,
             cancel: threading.Event | None = None,
             on_result: Callable[[BulkResult, int, int], None] | None = None) -> list[BulkResult]:
        """start | stop | restart | delete of many, ``concurrency`` at a time; one result each.
        ``cancel``: nothing new begins; what runs finishes; the rest is 'cancelled'."""
        operations = {"start": lambda i: self._lifecycle(i, "start", fetch=False),
                      "stop": lambda i: self._lifecycle(i, "stop", fetch=False),
                      "restart": lambda i: self._lifecycle(i, "restart", fetch=False),
                      "delete": self.delete, "recreate": self.recreate}
        if action not in operations:
            raise ValidationError(f"'{action}' is not a bulk action: {', '.join(operations)}.", field="action")
        # Refused as a whole: each operation would refuse on its own, but as per-row "failed" results.
        self.ctx.require("operator", f"{action} instances")
        rows = self.resolve(list(refs))
        results: dict[int, BulkResult] = {}
        lock = threading.Lock()
        pending = list(rows)
        done = [0]

        def finish(result: BulkResult) -> None:
            with lock:
                results[result.instance_id] = result
                done[0] += 1
                count = done[0]
            if on_result is not None:
                on_result(result, count, len(rows))

        def worker() -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    row = pending.pop(0)
                if cancel is not None and cancel.is_set():
                    finish(BulkResult(row.id, row.name, "cancelled", "cancelled before it began"))
                    continue
                try:
                    operations[action](row.id)
                    finish(BulkResult(row.id, row.name, "ok"))
                except GiftDeskError as exc:
                    finish(BulkResult(row.id, row.name, "failed", str(exc)))
                except Exception as exc:  # reported per instance; the others go on
                    log.exception("Bulk %s of %s failed", action, row.name)
                    finish(BulkResult(row.id, row.name, "failed", str(exc) or type(exc).__name__))

        workers = max(1, min(concurrency, len(rows)))
        with ThreadPoolExecutor(workers, thread_name_prefix=f"fleet-{action}") as pool:
            for _ in range(workers):
                pool.submit(worker)
        return [results[r.id] for r in rows]

    # ---- reconcile ----------------------------------------------------------------------
    def reconcile(self) -> Reconciliation:
        """Interrupted operations are recovered first; then records whose container is gone are
        marked missing (or relinked to a container carrying their uid, account and port); labelled
        containers without a record are orphans (reported, never removed here). A viewer gets the
        same answer and changes nothing: what it finds waits for an operator's sync."""
        may_write = self.ctx.actor.can("operator")
        recovered = self.recover()
        containers = self.docker.list_trackers()
        by_id = {c.id: c for c in containers}
        busy = self.journal.busy_uids()  # an operation under way decides about these itself
        rows = self.list()
        known_ids = {r.container_id for r in rows if r.container_id}
        missing, relinked = [], []
        for row in rows:
            if row.uid in busy or (row.container_id and row.container_id in by_id):
                continue
            match = next((c for c in containers if c.id not in known_ids and belongs_to(c, row, self.desk_id)), None)
            if match is not None:
                known_ids.add(match.id)
                relinked.append(row)
                if not may_write:
                    continue
                with self.ctx.db.session() as session:
                    record = session.get(Instance, row.id)
                    record.container_id, record.status = match.id, match.state
                self.record_event(row.id, "info", f"Relinked to its container {match.name} ({match.id[:12]})")
            else:
                missing.append(row)
                if may_write and self.note_missing(row.id, row.name):
                    self.ctx.events.publish(InstanceStateChanged(row.id, row.name, "missing"))
        uids = {r.uid for r in rows}
        orphans = [c for c in containers if c.id not in known_ids and c.uid not in busy
                   and c.labels.get(DESK_LABEL, self.desk_id) == self.desk_id]
        left_by_create = frozenset(o.id for o in orphans if o.uid and o.uid not in uids)
        if may_write and (missing or relinked):
            self.ctx.events.publish(InstancesChanged(tuple(r.id for r in missing + relinked)))
        return Reconciliation(missing, orphans, relinked, tuple(recovered), left_by_create)

    def recover(self) -> list[str]:
        """Finishes or rolls back every ABANDONED journal entry (its owner process is gone); one
        line per action. One cheap query when the journal is empty. With the engine down it raises
        ServiceUnavailableError and the entries wait for the next call. A viewer's call recovers
        nothing (the entries wait for an operator or the runtime)."""
        if not self.ctx.actor.can("operator") or not self.journal.pending():
            return []
        from giftdesk.fleet.recovery import recover_abandoned

        done = recover_abandoned(self)
        if done:
            self.ctx.events.publish(InstancesChanged(()))
        return done

    def remove_orphan(self, container_id: str) -> ContainerSummary:
        self.ctx.require("operator", "remove containers")
        orphan = self._orphan(container_id)
        self.docker.remove(orphan.id, force=True)
        with self.ctx.db.session() as session:
            self.ctx.audit(session, "instance.orphan_remove", f"Removed orphan container {orphan.name}",
                           "container", orphan.id[:12])
        return orphan

    def adoption_hints(self, orphans: Iterable[ContainerSummary]) -> list[AdoptionHint]:
        """What each orphan's labels and environment suggest (name, account, port): one inspect
        each; an orphan that went away meanwhile is left out."""
        hints = []
        for orphan in orphans:
            try:
                details = self.docker.inspect(orphan.id)
            except NotFoundError:
                continue
            env = _env_of(details)
            try:
                account_id = self._account_for(env)
            except ValidationError:
                account_id = None
            port, _address = _published(details.get("HostConfig") or {}, env)
            hints.append(AdoptionHint(orphan, _suggested_name(orphan), account_id,
                                      env.get("TIKTOK_USERNAME", "").removeprefix("@"), port))
        return hints

    def adopt(self, container_id: str, account_id: int | None = None, name: str | None = None) -> InstanceRow:
        """An orphan becomes an instance: a record from its settings, then a container of ours
        (labels cannot change in place) with the environment from the account's credential."""
        self.ctx.require("operator", "adopt containers")
        orphan = self._orphan(container_id)
        details = self.docker.inspect(orphan.id)
        env = _env_of(details)
        if account_id is None:
            account_id = self._account_for(env)
        name = checks.instance_name(name or _suggested_name(orphan))
        # Checked before the orphan is touched: a refused adoption leaves it exactly as it was.
        with self.ctx.db.read_session() as session:
            if session.get(TikTokAccount, account_id) is None:
                raise ValidationError(f"There is no TikTok account with id {account_id}.", field="account")
            if session.scalar(select(Instance.id).where(Instance.name == name)):
                raise ValidationError(f"An instance called '{name}' exists already; choose another name.",
                                      field="name")
        host_config = details.get("HostConfig") or {}
        network = host_config.get("NetworkMode") or "bridge"
        network = "bridge" if network == "default" else network
        port, address = _published(host_config, env)
        settings = InstanceSettings(
            details["Config"].get("Image"), network, address or "127.0.0.1",
            (host_config.get("RestartPolicy") or {}).get("Name") or "no",
            (host_config.get("Memory") or 0) // (1024 * 1024) or None,
            (host_config.get("NanoCpus") or 0) // 1_000_000 or None,
            env.get("DEBUG_MODE", "false").lower() == "true")
        was_running = orphan.state == "running"
        uid = uuid.uuid4().hex
        parked = f"{orphan.name}-adopting-{int(time.time())}"
        entry_id = self.journal.begin("adopt", uid, old_container_id=orphan.id, parked_name=parked,
                                      payload={"orphanName": orphan.name, "wasRunning": was_running, "name": name})
        try:
            # Park it under another name (ours takes its name), stopped (ours takes its port).
            self.docker.rename(orphan.id, parked)
            failpoint("adopt.after_park")
            if was_running:
                self.docker.stop(orphan.id)
            row = self.create(name, account_id, port=port, settings=settings, start=was_running, uid=uid)
        except BaseException:
            try:
                self.docker.rename(orphan.id, orphan.name)
                if was_running:
                    self.docker.start(orphan.id)
                self.journal.drop(entry_id)
            except Exception:
                self.journal.release(entry_id)
                log.exception("Could not put the orphan %s back; recovery will", orphan.name)
            raise
        failpoint("adopt.after_create")
        self.docker.remove(orphan.id, force=True)
        self.journal.drop(entry_id)
        self.record_event(row.id, "info", f"Adopted from container {orphan.name}")
        return row

    # ---- schedules, URLs ------------------------------------------------------------------
    def set_schedule(self, ref: int | str, start: str | None, stop: str | None, tz: str | None = None) -> InstanceRow:
        return self.edit(ref, schedule_start=start, schedule_stop=stop, schedule_tz=tz)

    def _cancel_schedules(self, instance_id: int) -> None:
        runtime = getattr(self.desk, "runtime", None)
        if runtime is not None:
            runtime.scheduler.cancel_prefix(f"instance.{instance_id}.")

    def public_url_for(self, name: str, port: int) -> str:
        pattern = str(self.desk.settings.get("tracker.url_pattern") or "").strip()
        if pattern:
            return pattern.replace("{name}", name).replace("{port}", str(port))
        from giftdesk.endpoint.addressing import LOOPBACK

        return f"http://{LOOPBACK}:{port}"

    def apply_public_urls(self) -> int:
        """After Settings' URL pattern changed: every account's instance URL follows its tracker
        again. Returns how many instances were looked at."""
        self.ctx.require("operator", "change instance URLs")
        rows = self.list()
        for row in rows:
            self._apply_public_url(row)
        return len(rows)

    def _apply_public_url(self, row: InstanceRow) -> None:
        """The account's instance URL (the tracker API's ``instanceUrl``) follows its tracker."""
        url = row.public_url or self.public_url_for(row.name, row.port)
        if row.account_id is None:
            return
        try:
            current = self.desk.keys.get(row.account_id).instance_url
            if current != url:
                self.desk.keys.set_instance_url(row.account_id, url)
        except GiftDeskError as exc:
            log.warning("Could not set the instance URL of %s: %s", row.name, exc)

    # ---- templates ----------------------------------------------------------------------
    def templates(self) -> list[TemplateRow]:
        with self.ctx.db.read_session() as session:
            return [TemplateRow.of(t) for t in session.scalars(select(InstanceTemplate).order_by(InstanceTemplate.name))]

    def template(self, ref: int | str) -> TemplateRow:
        with self.ctx.db.read_session() as session:
            found = (session.get(InstanceTemplate, int(ref)) if str(ref).isdigit()
                     else session.scalar(select(InstanceTemplate).where(InstanceTemplate.name == str(ref).strip())))
            if found is None:
                raise NotFoundError(f"There is no template '{ref}'.")
            return TemplateRow.of(found)

    def save_template(self, name: str, settings: InstanceSettings) -> TemplateRow:
        self.ctx.require("operator", "save templates")
        from giftdesk.core import validation

        name = validation.text(name, "template name", required=True, max_length=100)
        settings = settings.cleaned()
        with self.ctx.db.session() as session:
            template = session.scalar(select(InstanceTemplate).where(InstanceTemplate.name == name))
            if template is None:
                template = InstanceTemplate(name=name)
                session.add(template)
            for key, value in settings.as_dict().items():
                setattr(template, key, value)
            session.flush()
            self.ctx.audit(session, "instance.template", f"Saved template '{name}'", "template", template.id)
            return TemplateRow.of(template)

    def delete_template(self, ref: int | str) -> None:
        self.ctx.require("operator", "delete templates")
        row = self.template(ref)
        with self.ctx.db.session() as session:
            session.delete(session.get(InstanceTemplate, row.id))
            self.ctx.audit(session, "instance.template_delete", f"Deleted template '{row.name}'", "template", row.id)

    # ---- environment and configuration ------------------------------------------------------
    def backend_url(self, network: str) -> str:
        """The endpoint's advertised address; with host networking the endpoint's loopback one."""
        from giftdesk.endpoint import addressing

        settings = self.desk.settings.all()
        public = (settings.get("endpoint.public_url") or "").strip()
        if public:
            return public.rstrip("/")
        port = int(settings["endpoint.port"])
        runtime = getattr(self.desk, "runtime", None)
        endpoint = getattr(runtime, "endpoint", None) if runtime is not None else None
        if endpoint is not None:
            listening = runtime.supervisor.status("endpoint").info.get("port")
            port = int(listening or port)
        if network == "host":
            return f"http://{addressing.LOOPBACK}:{port}/api/instances"
        return addressing.advertised_base_url(settings, port)

    def _environment(self, account_id: int, backend: str, port: int, settings: InstanceSettings,
                     instance_id: int | None = None) -> dict[str, str]:
        """The tracker's environment, exactly: the credential and the endpoint are its one source."""
        base = self.desk.keys.tracker_environment(account_id, backend)
        password = None
        if instance_id is not None:
            password = self.ctx.secrets.get(dash_password_secret(instance_id))
        if not password:
            password = checks.new_dash_password()
            if instance_id is not None:
                self.ctx.secrets.set(dash_password_secret(instance_id), password)
        return {
            "API_KEY": base["API_KEY"], "ACCOUNT_ID": base["ACCOUNT_ID"], "TIKTOK_USERNAME": base["TIKTOK_USERNAME"],
            "PORT": str(port if settings.network == "host" else TRACKER_PORT),
            "BACKEND_API_URL": base["BACKEND_API_URL"], "DASH_PASSWORD": password,
            "DEBUG_MODE": "true" if settings.debug_mode else "false", "NODE_ENV": "production",
        }

    def dash_password(self, ref: int | str) -> str | None:
        self.ctx.require("operator", "show dashboard passwords")
        row = self.get(ref)
        return self.ctx.secrets.get(dash_password_secret(row.id))

    def _config(self, record: Instance, environment: dict[str, str]) -> ContainerConfig:
        labels = {APP_LABEL: APP_VALUE, ID_LABEL: str(record.id), NAME_LABEL: record.name,
                  MANAGED_LABEL: MANAGED_VALUE, DESK_LABEL: self.desk_id, PORT_LABEL: str(record.port),
                  UID_LABEL: record.uid, ACCOUNT_LABEL: str(record.account_id)}
        return ContainerConfig(f"{CONTAINER_PREFIX}{record.name}", record.image, environment, labels, record.port,
                               record.network, record.publish_address, record.restart_policy,
                               record.memory_limit_mb, record.cpu_millis)

    def _check_engine_side(self, settings: InstanceSettings) -> None:
        if settings.image and not self.docker.image_exists(settings.image):
            raise ValidationError(f"The image '{settings.image}' is not on the Docker engine; build or load it first "
                                  "(giftdesk image build DIR --tag …).", field="image")
        if settings.network not in ("bridge", "host") and settings.network not in self.docker.networks():
            raise ValidationError(f"There is no Docker network called '{settings.network}'.", field="network")

    def port_taken(self, port: int, settings: InstanceSettings, own: int | None = None,
                   published: set[int] | None = None, own_port_free: bool = False) -> str | None:
        """Why ``port`` cannot be used (held by an instance, published by a container, not bindable
        on the host), or None when it is free."""
        with self.ctx.db.read_session() as session:
            holder = session.execute(select(Instance.id, Instance.name).where(Instance.port == port,
                                                                               Instance.engine == "")).first()
        if holder is not None and holder.id != own:
            return f"port {port} belongs to instance '{holder.name}'"
        if holder is not None and holder.id == own and not own_port_free:
            return None  # our own container holds it
        if published is None:
            published = self.docker.published_ports(self.desk_id)
        if port in published:
            return f"port {port} is published by another container on the engine"
        address = "0.0.0.0" if settings.network == "host" else settings.publish_address
        if not checks.port_bindable(address, port):
            return f"port {port} is in use on this computer"
        return None

    def _choose_port(self, settings: InstanceSettings, port: int | str | None, own: int | None = None,
                     own_port_free: bool = False) -> int:
        if port not in (None, ""):
            number = checks.port_number(port)
            reason = self.port_taken(number, settings, own=own, own_port_free=own_port_free)
            if reason is not None:
                raise ConflictError(f"Cannot use port {number}: {reason}.")
            return number
        return self.next_free_port(settings)

    def next_free_port(self, settings: InstanceSettings | None = None) -> int:
        settings = settings or InstanceSettings()
        start = int(self.desk.settings.get("tracker.port_start"))
        end = int(self.desk.settings.get("tracker.port_end"))
        with self.ctx.db.read_session() as session:
            held = set(session.scalars(select(Instance.port).where(Instance.engine == "")))
        published = self.docker.published_ports(self.desk_id)
        address = "0.0.0.0" if settings.network == "host" else settings.publish_address
        for candidate in range(start, end + 1):
            if candidate in held or candidate in published:
                continue
            if checks.port_bindable(address, candidate):
                return candidate
        raise ConflictError(f"Every port from {start} to {end} is taken; widen the tracker port range in Settings.")

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
            customer = session.execute(select(Customer.id, Customer.name).join(
                TikTokAccount, TikTokAccount.customer_id == Customer.id).where(TikTokAccount.id == record.account_id)).first()
        return InstanceRow.of(record, *(customer or (None, None)))

    def _is_ours(self, container_id: str, row: InstanceRow) -> bool:
        try:
            details = self.docker.inspect(container_id)
        except NotFoundError:
            return False
        return _labels_match(details.get("Config", {}).get("Labels") or {}, row, self.desk_id)

    def _discard(self, container_id: str | None) -> bool:
        if container_id:
            try:
                self.docker.remove(container_id, force=True)
            except Exception:
                log.exception("Could not remove the half-made container %s", container_id[:12])
                return False
        return True

    def _undo_create(self, instance_id: int, entry_id: int, container_id: str | None) -> None:
        """A failed create leaves nothing: its container, its 'creating' record, its journal entry.
        When the container could not be removed, recovery finishes the job later."""
        try:
            if not self._discard(container_id):
                self.journal.release(entry_id)
                return
            with self.ctx.db.session() as session:
                record = session.get(Instance, instance_id)
                if record is not None:
                    session.delete(record)
                self.journal.finish(session, entry_id)
            self.ctx.secrets.delete(dash_password_secret(instance_id))
        except Exception:
            log.exception("Could not undo the create of instance %s; recovery will", instance_id)

    def _create_container(self, config: ContainerConfig) -> str:
        """The engine's create; a name held by another container is explained, not just 'Conflict'."""
        try:
            return self.docker.create(config)
        except ConflictError as exc:
            if "already in use" not in str(exc):
                raise
            raise ConflictError(self._name_held(config.name)) from exc

    def _name_held(self, name: str) -> str:
        try:
            labels = (self.docker.inspect(name).get("Config") or {}).get("Labels") or {}
        except GiftDeskError:
            labels = {}
        if labels.get(APP_LABEL) == APP_VALUE and labels.get(DESK_LABEL) == self.desk_id:
            return (f"The container name {name} is held by a container this console left behind (an interrupted "
                    "operation); run `giftdesk instance sync` to finish it, or to adopt or remove that container.")
        return (f"The container name {name} is held by another container, not one of this console's instances; "
                "rename or remove it first.")

    def note_missing(self, instance_id: int, name: str) -> bool:
        """The one place a vanished container is written down, whoever found it (the watcher, sync,
        a start): status 'missing' and the instance event, once. True when it was news."""
        self.ctx.require("operator", "record instance states")
        with self.ctx.db.session() as session:
            record = session.get(Instance, instance_id)
            if record is None or record.status == "missing":
                return False
            record.status = "missing"
            session.add(InstanceLog(instance_id=instance_id, level="warning", message=MISSING_MESSAGE))
        return True

    def instance_id_of_uid(self, uid: str) -> int | None:
        with self.ctx.db.read_session() as session:
            return session.scalar(select(Instance.id).where(Instance.uid == uid))

    def _orphan(self, container_id: str) -> ContainerSummary:
        found = self.reconcile().orphans
        orphan = next((o for o in found if o.id.startswith(container_id) or o.name == container_id), None)
        if orphan is None:
            raise NotFoundError(f"'{container_id}' is not an orphan tracker container (it has a record, or is not a "
                                "gift tracker).")
        return orphan

    def _account_for(self, env: dict[str, str]) -> int:
        username = env.get("TIKTOK_USERNAME", "").strip().removeprefix("@").lower()
        with self.ctx.db.read_session() as session:
            by_id = (session.get(TikTokAccount, int(env["ACCOUNT_ID"]))
                     if env.get("ACCOUNT_ID", "").strip().isdigit() else None)
            # An id from another database may name someone else: the username decides when both are given.
            if by_id is not None and (not username or by_id.username.lower() == username):
                return by_id.id
            found = (session.scalar(select(TikTokAccount.id).where(func.lower(TikTokAccount.username) == username))
                     if username else None)
        if found is None:
            raise ValidationError("No TikTok account matches this container's ACCOUNT_ID or TIKTOK_USERNAME; "
                                  "give the account to adopt it for.", field="account")
        return found


_LIST_POOL = ThreadPoolExecutor(4, thread_name_prefix="fleet-list")
# Core rows, not ORM entities, from a statement built once: the refresh is on the table's hot path.
_LIST_QUERY = (select(Instance.__table__, Customer.id.label("customer_id_"), Customer.name.label("customer_name_"))
               .outerjoin(TikTokAccount, Instance.account_id == TikTokAccount.id)
               .outerjoin(Customer, TikTokAccount.customer_id == Customer.id)
               .order_by(Instance.name))


class _DeskClients:
    """The runtime's Docker clients when a runtime runs (window, serve), else clients of our own (CLI)."""

    def __init__(self, desk, make_own):
        self._desk = desk
        self._make_own = make_own
        self._own = None
        self._lock = threading.Lock()

    def _target(self):
        runtime = getattr(self._desk, "runtime", None)
        if runtime is not None:
            return runtime.docker
        with self._lock:
            if self._own is None:
                self._own = self._make_own()
            return self._own

    def __getattr__(self, name):
        return getattr(self._target(), name)

    def close_own(self) -> None:
        with self._lock:
            own, self._own = self._own, None
        if own is not None:
            own.close()


def _labels_match(labels: dict, row: InstanceRow, desk_id: str) -> bool:
    """The record's own container: its uid label when it has one (legacy ones: the id label)."""
    if labels.get(APP_LABEL) != APP_VALUE or labels.get(DESK_LABEL) != desk_id:
        return False
    if UID_LABEL in labels:
        return labels[UID_LABEL] == row.uid
    return labels.get(ID_LABEL) == str(row.id)


def belongs_to(container: ContainerSummary, row: InstanceRow, desk_id: str) -> bool:
    """Whether a container may be (re)linked to a record: its uid, account and port labels all say
    so. The numeric id label alone never decides: a crash can hand that id out twice."""
    labels = container.labels
    return (bool(row.uid) and labels.get(UID_LABEL) == row.uid and labels.get(DESK_LABEL) == desk_id
            and labels.get(ACCOUNT_LABEL) == str(row.account_id) and labels.get(PORT_LABEL) == str(row.port))


def missing_container_text(name: str) -> str:
    return f"'{name}' is missing its container: recreate it with `giftdesk instance sync --recreate-missing`."


def _container_state(container_id: str | None, status: str,
                     summary: ContainerSummary | None) -> tuple[str, int | None, str | None]:
    """A record's state, exit code and engine health from the engine's summary of its container."""
    if summary is None:
        return ("missing" if container_id or status == "missing" else status), None, None
    return summary.state, summary.exit_code, summary.engine_health


def _with_summary(row: InstanceRow, summary: ContainerSummary | None) -> InstanceRow:
    return row.with_container(*_container_state(row.container_id, row.status, summary))


def _env_of(details: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in (details.get("Config") or {}).get("Env") or () if "=" in item)


def _suggested_name(orphan: ContainerSummary) -> str:
    return orphan.labels.get(NAME_LABEL) or orphan.name.removeprefix(CONTAINER_PREFIX)


def _published(host_config: dict, env: dict[str, str]) -> tuple[int | None, str | None]:
    bindings = (host_config.get("PortBindings") or {}).get(f"{TRACKER_PORT}/tcp") or []
    for binding in bindings:
        if binding.get("HostPort"):
            return int(binding["HostPort"]), binding.get("HostIp") or "0.0.0.0"
    if env.get("PORT", "").isdigit():
        return int(env["PORT"]), None
    return None, None


def _scrub(details: dict) -> dict:
    def clean(value):
        if isinstance(value, dict):
            return {k: ("••••" if any(w in str(k).upper() for w in SECRET_WORDS) else clean(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            for word in SECRET_WORDS:
                if f"{word}=" in value:
                    return "••••"
        return value

    return clean(details)

