"""Moving an instance to another engine: create it there, start it, see its tracker answer, then
switch the record and remove the old container. When the new one fails, it is removed and the
instance stays where it was, untouched.

The move is journaled (kind "move"): a console killed half-way leaves the instance on one engine
or the other, never both (``recovery.recover_move``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from giftdesk.core.errors import ConflictError, GiftDeskError, NotFoundError, ServiceUnavailableError, ValidationError
from giftdesk.db.fleet_models import Instance
from giftdesk.db.types import utcnow
from giftdesk.fleet.engines import engine_key, shown_name
from giftdesk.fleet.events import InstancesChanged
from giftdesk.fleet.journal import failpoint
from giftdesk.fleet.records import InstanceRow

log = logging.getLogger(__name__)

MOVE_ANSWER_TIMEOUT_S = 30.0  # how long the new tracker has to answer its /api/state


class Moving:
    """Part of ``FleetService``: an instance from one engine to another."""

    def move(self, ref: int | str, engine: str, port: int | str | None = None,
             answer_timeout: float = MOVE_ANSWER_TIMEOUT_S) -> InstanceRow:
        self.ctx.require("operator", "move instances")
        row = self.get(ref)
        target = engine_key(engine)
        if not self.engines.exists(target):
            raise NotFoundError(f"There is no Docker engine called '{target}' (`giftdesk engine list` shows them).")
        if target == row.engine:
            raise ValidationError(f"'{row.name}' is on the engine '{shown_name(target)}' already.", field="engine")
        if row.account_id is None:
            raise ConflictError(f"'{row.name}' has no TikTok account any more; it cannot be moved.")
        if row.is_service:
            raise ValidationError(f"'{row.name}' is a Swarm service: the Swarm places it (change its placement "
                                  "constraints), or delete it and create it on the other engine.", field="engine")
        settings = row.settings
        self._check_engine_side(settings, target)
        if port in (None, "") and self.port_taken(row.port, settings, engine=target) is None:
            port = row.port  # the same port when the target has it free (another computer, usually)
        new_port = self._choose_port(settings, port, engine=target)
        backend = self._engine_backend_url(target, settings.network)
        environment = self._environment(row.account_id, backend, new_port, settings, instance_id=row.id)
        with self.ctx.db.read_session() as session:
            record = session.get(Instance, row.id)
            session.expunge(record)
        record.engine, record.port, record.backend_api_url = target, new_port, backend
        source_docker, target_docker = self.docker_for(row.engine), self.docker_for(target)
        was_running = row.container_id is not None and self.attach_state([row])[0].state == "running"
        entry_id = self.journal.begin("move", row.uid, row.id, old_container_id=row.container_id,
                                      payload={"name": row.name, "engine": row.engine, "to": target, "port": row.port,
                                               "backend": row.backend_api_url, "status": row.status})
        new_id = None
        switched = False
        try:
            new_id = self._create_container(self._config(record, environment), target_docker)
            self.journal.step(entry_id, "created", new_container_id=new_id)
            failpoint("move.after_create")
            # The record follows the new container before it starts: the target engine's watcher
            # then takes its events, and the old engine's events about it no longer count.
            self._switch(row, target, new_port, backend, new_id)
            switched = True
            self.journal.step(entry_id, "switched")
            failpoint("move.after_switch")
            target_docker.start(new_id)
            self._settle(new_id, target_docker)
            self._await_answer(replace(row, engine=target, port=new_port), answer_timeout)
            self.journal.step(entry_id, "ready")  # from here on, recovery keeps the new container
            failpoint("move.after_ready")
        except BaseException as exc:
            self._move_failed(row, target, entry_id, new_id, exc, switched)
        with self.ctx.db.session() as session:
            stored = session.get(Instance, row.id)
            stored.status, stored.last_started_at = "running", utcnow()
            self.ctx.audit(session, "instance.move", f"Moved '{row.name}' from the engine "
                           f"'{shown_name(row.engine)}' to '{shown_name(target)}'", "instance", row.id,
                           details={"from": shown_name(row.engine), "to": shown_name(target), "port": new_port})
        try:
            if row.container_id and self._is_ours(row.container_id, row):
                source_docker.remove(row.container_id, force=True)
        except GiftDeskError as exc:
            self.journal.release(entry_id)
            self.ctx.events.publish(InstancesChanged((row.id,)))
            raise ServiceUnavailableError(
                f"'{row.name}' runs on the engine '{shown_name(target)}' now, but removing its old container on "
                f"'{shown_name(row.engine)}' failed ({exc}); run `giftdesk instance sync` to finish the move.") from exc
        failpoint("move.after_remove_old")
        self.journal.drop(entry_id)
        self.record_event(row.id, "info", f"Moved from the engine '{shown_name(row.engine)}' to "
                          f"'{shown_name(target)}' (port {new_port})")
        if not was_running:
            self.stop(row.id)  # it was stopped before the move: it stays stopped
        self._apply_public_url(self.get(row.id))
        self.ctx.events.publish(InstancesChanged((row.id,)))
        return self.get(row.id, with_state=True)

    def _switch(self, row: InstanceRow, engine: str, port: int, backend: str, container_id: str | None,
                status: str = "created") -> None:
        with self.ctx.db.session() as session:
            stored = session.get(Instance, row.id)
            stored.engine, stored.port, stored.backend_api_url = engine, port, backend
            stored.container_id, stored.status = container_id, status
            if status == "running":
                stored.last_started_at = utcnow()
        self.ctx.events.publish(InstancesChanged((row.id,)))

    def _await_answer(self, row: InstanceRow, timeout: float) -> None:
        """The new tracker's /api/state answers (it is up), or ServiceUnavailableError."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._tracker_state_at(row)
                return
            except ServiceUnavailableError as exc:
                if time.monotonic() > deadline:
                    raise ServiceUnavailableError(f"The moved tracker did not answer within {timeout:.0f} s ({exc}).") \
                        from exc
            time.sleep(0.3)

    def _move_failed(self, row: InstanceRow, target: str, entry_id: int, new_id: str | None,
                     exc: BaseException, switched: bool) -> None:
        """The record goes back, the new container goes; the instance stays where it was. Raises."""
        try:
            if switched:
                self._switch(row, row.engine, row.port, row.backend_api_url, row.container_id, row.status)
            if new_id:
                self.docker_for(target).remove(new_id, force=True)
            self.journal.drop(entry_id)
        except Exception:
            log.exception("Could not undo the move of '%s'; recovery will", row.name)
            try:
                self.journal.release(entry_id)
            except Exception:
                log.exception("Could not release the journal entry of '%s'", row.name)
        message = f"{exc} '{row.name}' stays on the engine '{shown_name(row.engine)}'."
        self.record_event(row.id, "error", f"Moving to the engine '{shown_name(target)}' failed: {message}")
        if isinstance(exc, GiftDeskError):
            raise type(exc)(message) from exc
        raise exc
