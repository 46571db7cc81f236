"""Edits: a new container under the same identity (Docker cannot change settings or ports in place).

The old container is parked (renamed, stopped), the new one created and started, then the old
one removed and the record updated, each step journaled: recovery ends with exactly one container,
and a failed edit puts the previous container back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

from giftdesk.core.errors import ConflictError, GiftDeskError, NotFoundError, ServiceUnavailableError, ValidationError
from giftdesk.db.fleet_models import Instance
from giftdesk.db.types import utcnow
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import is_adopted, labels_match
from giftdesk.fleet.events import InstancesChanged
from giftdesk.fleet.journal import failpoint
from giftdesk.fleet.records import InstanceRow
from giftdesk.fleet.spec import InstanceSettings

log = logging.getLogger(__name__)

EDIT_SETTLE_S = 1.5  # a new container that dies within this after its start is a failed edit


class Editing:
    """Part of ``FleetService``: settings and port changes, and recreating."""

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
        if needs_recreate and row.is_service:
            raise ValidationError(f"'{row.name}' runs as a Swarm service: its settings and port cannot be changed "
                                  "yet; delete it and create it again (schedules and the public URL can change).")
        if needs_recreate:
            self._check_engine_side(new_settings, row.engine)
            if new_port != row.port:  # the old port is ours; a failed bind of it rolls back
                self._choose_port(new_settings, new_port, own=row.id, engine=row.engine)
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
        backend = self._engine_backend_url(row.engine, settings.network)
        environment = self._environment(row.account_id, backend, port, settings, instance_id=row.id)
        docker = self.docker_for(row.engine)
        old = None
        if row.container_id:
            try:
                old = docker.inspect(row.container_id)
            except NotFoundError:
                old = None
        if old is not None and not (labels_match(old.get("Config", {}).get("Labels") or {}, row, self.desk_id)
                                    or is_adopted(old.get("Id"), row)):
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
            payload={"name": row.name, "record": target, "wasRunning": was_running, "startNew": start_new,
                     "engine": row.engine})
        failpoint("edit.after_journal")
        new_id = None
        try:
            if old is not None:
                docker.rename(old["Id"], parked)
                failpoint("edit.after_park")
                if was_running:
                    docker.stop(old["Id"])
                    failpoint("edit.after_stop_old")
            with self.ctx.db.read_session() as session:
                record = session.get(Instance, row.id)
                session.expunge(record)
            for key, value in target.items():
                setattr(record, key, value)
            new_id = self._create_container(self._config(record, environment), docker)
            self.journal.step(entry_id, "created", new_container_id=new_id)
            failpoint("edit.after_create")
            if start_new:
                docker.start(new_id)
                self._settle(new_id, docker)
            self.journal.step(entry_id, "ready")  # from here on, recovery keeps the new container
            failpoint("edit.after_start")
        except BaseException as exc:
            self._edit_failed(row, exc, entry_id, old, new_id, was_running)
        if old is not None:
            try:
                docker.remove(old["Id"], force=True)
            except GiftDeskError as exc:
                self.journal.release(entry_id)
                raise ServiceUnavailableError(
                    f"The new container of '{row.name}' runs, but removing the previous one failed ({exc}); "
                    "run `giftdesk instance sync` to finish the edit.") from exc
            failpoint("edit.after_remove_old")
        changes = self._keep_new_container(row.id, entry_id, target, new_id, start_new)
        self.record_event(row.id, "info", "Recreated" + (f" ({', '.join(sorted(changes))} changed)" if changes else ""))
        if row.account_legacy_id and environment.get("ACCOUNT_ID") != row.account_legacy_id:
            # Said, not done silently: the tracker's account id is now ours (the old one still works).
            self.record_event(row.id, "info", f"Its tracker now calls as account {environment['ACCOUNT_ID']}, no "
                                              f"longer as {row.account_legacy_id} (the endpoint accepts both)")

    def _keep_new_container(self, instance_id: int, entry_id: int, target: dict, new_id: str,
                            started: bool, summary: str | None = None) -> list[str]:
        """The record takes the new container and its settings; the journal entry goes with it."""
        with self.ctx.db.session() as session:
            stored = session.get(Instance, instance_id)
            changes = sorted(k for k, v in target.items() if getattr(stored, k) != v)
            for key in changes:
                setattr(stored, key, target[key])
            stored.container_id = new_id
            stored.adopted_container_id = None  # the container taken over from another manager is gone
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
        docker = self.docker_for(row.engine)
        try:
            if new_id:
                docker.remove(new_id, force=True)
            if old is not None:
                docker.rename(old["Id"], row.container_name)
                if was_running:
                    docker.start(old["Id"])
        except Exception as undo:
            try:
                self.journal.release(entry_id)  # the next sync (or serve, the window) tries again
            except Exception:
                log.exception("Could not release the journal entry of '%s'", row.name)
            where = self._whereabouts(old["Id"], docker) if old is not None else "not there"
            message = (f"{exc} … and putting the previous container back failed too ({undo}): it is {where}; "
                       "run `giftdesk instance sync`.")
            self.record_event(row.id, "error", f"Edit failed: {message}")
            raise (type(exc)(message) if isinstance(exc, GiftDeskError) else ServiceUnavailableError(message)) from exc
        self.journal.drop(entry_id)
        self.record_event(row.id, "error", f"Edit failed, the previous container was put back: {exc}")
        if isinstance(exc, GiftDeskError):
            raise type(exc)(f"{exc} The previous container of '{row.name}' was put back.") from exc
        raise exc

    def _whereabouts(self, container_id: str, docker) -> str:
        """'stopped as gift-tracker-x-old-…', 'running as …' or 'gone', for a message."""
        try:
            details = docker.inspect(container_id)
        except GiftDeskError:
            return "in an unknown state"
        running = "running" if details["State"].get("Running") else "stopped"
        return f"{running} as {details.get('Name', '').lstrip('/')}"

    def _settle(self, container_id: str, docker, settle: float = EDIT_SETTLE_S) -> None:
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            state = docker.inspect(container_id)["State"]
            if state.get("Restarting") or (not state.get("Running") and state.get("Status") in ("exited", "dead")):
                raise ServiceUnavailableError(
                    f"The new container stopped at once (exit code {state.get('ExitCode')}"
                    f"{': ' + state['Error'] if state.get('Error') else ''}).")
            time.sleep(0.15)
