"""An instance's life: create (record and container together), start, stop, restart, delete.

A create that fails on the engine leaves no record, a record that fails to commit leaves no
container. Only containers carrying this desk's labels are ever stopped or removed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from giftdesk.core.errors import ConflictError, GiftDeskError, NotFoundError, ServiceUnavailableError, ValidationError
from giftdesk.db.fleet_models import Instance, InstanceLog
from giftdesk.db.models import TikTokAccount, TrackerCredential
from giftdesk.db.types import utcnow
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import APP_LABEL, APP_VALUE, DESK_LABEL, ContainerConfig, is_adopted, labels_match
from giftdesk.fleet.engines import engine_key
from giftdesk.fleet.environment import dash_password_secret
from giftdesk.fleet.events import InstancesChanged, InstanceStateChanged
from giftdesk.fleet.journal import failpoint
from giftdesk.fleet.records import InstanceRow
from giftdesk.fleet.services_mode import CONTAINER_MODE, SERVICE_MODE, ServiceOptions, options_of
from giftdesk.fleet.spec import InstanceSettings

log = logging.getLogger(__name__)


class Lifecycle:
    """Part of ``FleetService``: making, running and removing instances."""

    # ---- create -------------------------------------------------------------------------
    def create(self, name: str, account_id: int, *, port: int | str | None = None,
               settings: InstanceSettings | None = None, template: int | str | None = None, start: bool = True,
               schedule_start: str | None = None, schedule_stop: str | None = None,
               schedule_tz: str | None = None, uid: str | None = None, engine: str | None = None,
               service: ServiceOptions | None = None) -> InstanceRow:
        """``uid``: the new instance's identity when the caller must know it first (adopt);
        ``engine``: the named engine to run it on (default: the local one);
        ``service``: run it as a one-replica Swarm service (the local engine must be a Swarm manager)."""
        self.ctx.require("operator", "create instances")
        name = checks.instance_name(name)
        engine = engine_key(engine)
        if not self.engines.exists(engine):
            raise NotFoundError(f"There is no Docker engine called '{engine}' (`giftdesk engine list` shows them).")
        docker = self.docker_for(engine)
        template_row = self.template(template) if template not in (None, "") else None
        base = template_row.settings if template_row else InstanceSettings()
        settings = (settings or base).cleaned()
        image = settings.image or str(self.settings.get("tracker.default_image"))
        settings = replace(settings, image=image)
        if service is not None:
            service = service.cleaned()
            self.swarm_on(engine).require_manager()
            # A service restarts on failure, and host-mode publishing binds every address of its node.
            settings = replace(settings, restart_policy="on-failure", publish_address="0.0.0.0")
        schedule = (checks.time_of_day(schedule_start, "start"), checks.time_of_day(schedule_stop, "stop"),
                    checks.zone_name(schedule_tz))
        with self.ctx.db.read_session() as session:
            account = session.get(TikTokAccount, account_id)
            if account is None:
                raise NotFoundError(f"There is no TikTok account with id {account_id}.")
            if session.scalar(select(Instance.id).where(Instance.name == name)):
                raise ConflictError(f"An instance called '{name}' exists already.")
            has_key = session.scalar(select(TrackerCredential.id).where(TrackerCredential.account_id == account_id))
        self._check_engine_side(settings, engine)
        port = self._choose_port(settings, port, engine=engine)
        if not has_key:  # a tracker without a key only restart-loops
            self.keys.generate(account_id)
        backend = self._engine_backend_url(engine, settings.network)
        environment = self._environment(account_id, backend, port, settings)
        password = environment["DASH_PASSWORD"]
        uid = uid or uuid.uuid4().hex
        # The record (status 'creating': its name, port and id are taken) and the journal entry
        # commit before the engine is touched: a crash at any later point is recoverable.
        try:
            with self.ctx.db.session() as session:
                record = Instance(uid=uid, name=name, status="creating", account_id=account_id,
                                  tiktok_username=environment["TIKTOK_USERNAME"], port=port, backend_api_url=backend,
                                  debug_mode=settings.debug_mode, engine=engine, image=image, network=settings.network,
                                  publish_address=settings.publish_address, restart_policy=settings.restart_policy,
                                  memory_limit_mb=settings.memory_limit_mb, cpu_millis=settings.cpu_millis,
                                  schedule_start=schedule[0], schedule_stop=schedule[1], schedule_tz=schedule[2],
                                  template_id=template_row.id if template_row else None,
                                  mode=SERVICE_MODE if service is not None else CONTAINER_MODE,
                                  placement_constraints=list(service.constraints) if service else None,
                                  placement_preferences=list(service.spread) if service else None,
                                  publish_mode=service.publish_mode if service else "host")
                session.add(record)
                session.flush()
                entry = self.journal.add(session, "create", uid, record.id,
                                         payload={"name": name, "port": port, "start": start, "engine": engine,
                                                  "mode": SERVICE_MODE if service is not None else CONTAINER_MODE})
                session.flush()
                instance_id, entry_id = record.id, entry.id
                config = self._config(record, environment)
        except IntegrityError as exc:
            raise ConflictError(f"The name '{name}' or port {port} was taken meanwhile; try again.") from exc
        container_id = service_id = None
        try:
            self.ctx.secrets.set(dash_password_secret(instance_id), password)
            failpoint("create.after_record")
            if service is not None:
                service_id = self._create_swarm_service(config, service, engine)
            else:
                container_id = self._create_container(config, docker)
            failpoint("create.after_container")
            with self.ctx.db.session() as session:
                record = session.get(Instance, instance_id)
                record.container_id, record.service_id, record.status = container_id, service_id, "created"
                self.ctx.audit(session, "instance.create", f"Created instance '{name}' for @{record.tiktok_username}",
                               "instance", record.id, details={"port": port, "image": image,
                                                               "network": settings.network, "mode": record.mode})
                self.journal.finish(session, entry_id)
        except BaseException:
            if service_id is not None and not self._discard_service(service_id, engine):
                self.journal.release(entry_id)
            else:
                self._undo_create(instance_id, entry_id, container_id, docker)
            raise
        failpoint("create.after_link")
        where = (" as a Swarm service" if service is not None else "") + (f" on the engine '{engine}'" if engine else "")
        self.record_event(instance_id, "info", f"Created{where} on port {port} from {image}")
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
                           schedule_tz=source.schedule_tz, engine=source.engine, service=options_of(source))

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
            mode, service_id, engine = record.mode, record.service_id, record.engine
        if mode == SERVICE_MODE:
            self._service_action(instance_id, name, service_id, action, engine)
        elif not container_id or status == "missing":
            raise NotFoundError(missing_container_text(name))
        else:
            self._container_action(instance_id, name, container_id, action, timeout, engine)
        status, stamp, message = self._LIFECYCLE[action]
        with self.ctx.db.session() as session:
            stored = session.get(Instance, instance_id)
            if stored is not None:
                stored.status = status
                setattr(stored, stamp, utcnow())
                session.add(InstanceLog(instance_id=instance_id, level="info", message=message))
        return self.get(instance_id) if fetch else None

    def _container_action(self, instance_id: int, name: str, container_id: str, action: str, timeout: int,
                          engine: str = "") -> None:
        docker = self.docker_for(engine)
        try:
            if action == "start":
                docker.start(container_id)
            elif action == "stop":
                docker.stop(container_id, timeout=timeout)
            else:
                docker.restart(container_id, timeout=timeout)
        except NotFoundError as exc:
            if docker.exists(container_id):
                raise
            self.note_missing(instance_id, name)
            raise NotFoundError(missing_container_text(name)) from exc

    def delete(self, ref: int | str) -> InstanceRow:
        """Removes the instance's own container (checked by its labels) and the record."""
        self.ctx.require("operator", "delete instances")
        row = self.get(ref)
        entry_id = self.journal.begin("delete", row.uid, row.id, old_container_id=row.container_id,
                                      payload={"engine": row.engine})
        try:
            failpoint("delete.after_journal")
            if row.is_service:
                self._remove_own_service(row)
            elif row.container_id and self._is_ours(row.container_id, row):
                self.docker_for(row.engine).remove(row.container_id, force=True)
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

    # ---- schedules ----------------------------------------------------------------------
    def set_schedule(self, ref: int | str, start: str | None, stop: str | None, tz: str | None = None) -> InstanceRow:
        return self.edit(ref, schedule_start=start, schedule_stop=stop, schedule_tz=tz)

    def _cancel_schedules(self, instance_id: int) -> None:
        runtime = self._runtime()
        if runtime is not None:
            runtime.scheduler.cancel_prefix(f"instance.{instance_id}.")

    # ---- internals ----------------------------------------------------------------------
    def _check_engine_side(self, settings: InstanceSettings, engine: str = "") -> None:
        docker = self.docker_for(engine)
        where = f"the engine '{engine}'" if engine else "the Docker engine"
        if settings.image and not docker.image_exists(settings.image):
            raise ValidationError(f"The image '{settings.image}' is not on {where}; build or load it first "
                                  "(giftdesk image build DIR --tag …).", field="image")
        if settings.network not in ("bridge", "host") and settings.network not in docker.networks():
            raise ValidationError(f"There is no Docker network called '{settings.network}'.", field="network")

    def _is_ours(self, container_id: str, row: InstanceRow) -> bool:
        try:
            details = self.docker_for(row.engine).inspect(container_id)
        except NotFoundError:
            return False
        if is_adopted(details.get("Id"), row):
            return True
        return labels_match(details.get("Config", {}).get("Labels") or {}, row, self.desk_id)

    def _discard(self, container_id: str | None, docker=None) -> bool:
        if container_id:
            try:
                (docker or self.docker).remove(container_id, force=True)
            except Exception:
                log.exception("Could not remove the half-made container %s", container_id[:12])
                return False
        return True

    def _undo_create(self, instance_id: int, entry_id: int, container_id: str | None, docker=None) -> None:
        """A failed create leaves nothing: its container, its 'creating' record, its journal entry.
        When the container could not be removed, recovery finishes the job later."""
        try:
            if not self._discard(container_id, docker):
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

    def _create_container(self, config: ContainerConfig, docker=None) -> str:
        """The engine's create; a name held by another container is explained, not just 'Conflict'."""
        docker = docker or self.docker
        try:
            return docker.create(config)
        except ConflictError as exc:
            if "already in use" not in str(exc):
                raise
            raise ConflictError(self._name_held(config.name, docker)) from exc

    def _name_held(self, name: str, docker) -> str:
        try:
            labels = (docker.inspect(name).get("Config") or {}).get("Labels") or {}
        except GiftDeskError:
            labels = {}
        if labels.get(APP_LABEL) == APP_VALUE and labels.get(DESK_LABEL) == self.desk_id:
            return (f"The container name {name} is held by a container this console left behind (an interrupted "
                    "operation); run `giftdesk instance sync` to finish it, or to adopt or remove that container.")
        return (f"The container name {name} is held by another container, not one of this console's instances; "
                "rename or remove it first.")


def missing_container_text(name: str) -> str:
    return f"'{name}' is missing its container: recreate it with `giftdesk instance sync --recreate-missing`."
