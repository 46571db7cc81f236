"""Recovery of fleet operations whose process died half-way (``FleetService.recover``).

Each abandoned journal entry is claimed (nobody else recovers it at the same time), then finished
or rolled back by the rules of its kind; every action writes an audit entry and, while the record
exists, an instance event. Creates and deletes go first: an adoption's own create settles before
the adoption is judged.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from giftdesk.db.fleet_models import Instance, InstanceOperation
from giftdesk.core.errors import GiftDeskError, ServiceUnavailableError
from giftdesk.fleet.docker_api import ContainerSummary, env_of, is_adopted, labels_match
from giftdesk.fleet.environment import dash_password_secret
from giftdesk.fleet.events import InstancesChanged
from giftdesk.fleet.services_mode import SERVICE_MODE, services_of_uid

log = logging.getLogger(__name__)

ORDER = {"create": 0, "delete": 1, "recreate": 2, "adopt": 3, "move": 4}


def recover_abandoned(fleet) -> list[str]:
    done: list[str] = []
    for entry in sorted(fleet.journal.abandoned(), key=lambda e: (ORDER.get(e.kind, 9), e.id)):
        if not fleet.journal.claim(entry):
            continue  # another process took it meanwhile
        try:
            line = RECOVERIES[entry.kind](fleet, entry)
        except ServiceUnavailableError:
            fleet.journal.release(entry.id)
            if _engine_of(fleet, entry):
                continue  # a named engine that does not answer: its entries wait, the others go on
            raise  # the local engine went away: the rest waits too
        except Exception:
            log.exception("Recovering an interrupted %s failed", entry.kind)
            fleet.journal.release(entry.id)
            continue
        log.info("Recovery: %s", line)
        done.append(line)
        if entry.instance_id is not None:
            fleet.ctx.events.publish(InstancesChanged((entry.instance_id,)))
    return done


def _containers_of(fleet, docker, uid: str) -> list[ContainerSummary]:
    return [c for c in docker.list_trackers(fleet.desk_id) if c.uid == uid]


def _engine_of(fleet, entry: InstanceOperation) -> str:
    """The engine the operation ran on: the journal says so (older entries: the record, else local)."""
    engine = (entry.payload or {}).get("engine")
    if engine is None:
        record = _record(fleet, entry.instance_uid)
        engine = record.engine if record is not None else ""
    return engine or ""


def _record(fleet, uid: str) -> Instance | None:
    with fleet.ctx.db.read_session() as session:
        record = session.scalar(select(Instance).where(Instance.uid == uid))
        if record is not None:
            session.expunge(record)
        return record


def _write(fleet, entry: InstanceOperation, action: str, summary: str, level: str = "info",
           record_changes: dict | None = None) -> str:
    """The record's changes, the audit entry and the end of the journal entry in one transaction;
    then the instance event."""
    with fleet.ctx.db.session() as session:
        record = session.get(Instance, entry.instance_id) if entry.instance_id is not None else None
        for key, value in (record_changes or {}).items():
            if record is not None:
                setattr(record, key, value)
        fleet.ctx.audit(session, action, summary, "instance", entry.instance_id)
        fleet.journal.finish(session, entry.id)
    if entry.instance_id is not None:
        fleet.record_event(entry.instance_id, level, summary)
    return summary


def _remove(docker, containers) -> None:
    for container in containers:
        docker.remove(container if isinstance(container, str) else container.id, force=True)


def recover_create(fleet, entry: InstanceOperation) -> str:
    docker = fleet.docker_for(_engine_of(fleet, entry))
    name = (entry.payload or {}).get("name", "?")
    record = _record(fleet, entry.instance_uid)
    if (entry.payload or {}).get("mode") == SERVICE_MODE:
        return _recover_service_create(fleet, entry, record, name)
    containers = _containers_of(fleet, docker, entry.instance_uid)
    if record is None or not containers:
        _remove(docker, containers)
        return _roll_back_create(fleet, entry, record, f"Rolled back an interrupted create of '{name}': no container "
                                                        "had been made")
    keep, *extra = sorted(containers, key=lambda c: c.name != f"gift-tracker-{record.name}")
    _remove(docker, extra)
    password = env_of(docker.inspect(keep.id)).get("DASH_PASSWORD")
    if password:  # the container's environment is what the tracker really uses
        fleet.ctx.secrets.set(dash_password_secret(record.id), password)
    state = keep.state
    if (entry.payload or {}).get("start") and state != "running":
        docker.start(keep.id)  # the create was asked to start it
        state = "running"
    return _write(fleet, entry, "instance.recover",
                  f"Finished an interrupted create of '{record.name}': linked its container {keep.id[:12]}",
                  record_changes={"container_id": keep.id, "status": state})


def _roll_back_create(fleet, entry: InstanceOperation, record: Instance | None, summary: str) -> str:
    """Nothing was made on the engine (or the record is gone): the record, its journal entry and its
    secret go, with the audit entry."""
    with fleet.ctx.db.session() as session:
        if record is not None:
            session.delete(session.get(Instance, record.id))
        fleet.ctx.audit(session, "instance.recover", summary, "instance", entry.instance_id)
        fleet.journal.finish(session, entry.id)
    if record is not None:
        fleet.ctx.secrets.delete(dash_password_secret(record.id))
    return summary


def _recover_service_create(fleet, entry: InstanceOperation, record: Instance | None, name: str) -> str:
    """The service made under the entry's uid is linked (and scaled up when the create was to start
    it); with no service, or no record, the create is rolled back."""
    engine = _engine_of(fleet, entry)
    swarm = fleet.swarm_on(engine)
    services = services_of_uid(fleet, entry.instance_uid, engine)
    if record is None or not services:
        for service in services:
            swarm.remove_service(service.id)
        return _roll_back_create(fleet, entry, record, f"Rolled back an interrupted create of '{name}': no Swarm "
                                                        "service had been made")
    keep, *extra = services
    for service in extra:
        swarm.remove_service(service.id)
    if (entry.payload or {}).get("start") and keep.replicas == 0:
        swarm.scale(keep.id, 1)
    return _write(fleet, entry, "instance.recover",
                  f"Finished an interrupted create of '{record.name}': linked its Swarm service {keep.id[:12]}",
                  record_changes={"service_id": keep.id, "status": "created"})


def recover_delete(fleet, entry: InstanceOperation) -> str:
    engine = _engine_of(fleet, entry)
    docker = fleet.docker_for(engine)
    record = _record(fleet, entry.instance_uid)
    if record is not None and record.mode == SERVICE_MODE:
        for service in services_of_uid(fleet, entry.instance_uid, engine):
            fleet.swarm_on(engine).remove_service(service.id)
    _remove(docker, _containers_of(fleet, docker, entry.instance_uid))
    if entry.old_container_id and record is not None:
        try:
            labels = (docker.inspect(entry.old_container_id).get("Config") or {}).get("Labels") or {}
        except GiftDeskError:
            labels = {}
        row = fleet.get(record.id)
        if labels and (labels_match(labels, row, fleet.desk_id) or is_adopted(entry.old_container_id, row)):
            _remove(docker, [entry.old_container_id])
    name = record.name if record is not None else "?"
    summary = f"Finished an interrupted delete of '{name}'"
    if record is None:
        fleet.journal.drop(entry.id)
        return summary
    fleet._forget(fleet.get(record.id), entry.id, "instance.recover", summary)
    return summary


def recover_recreate(fleet, entry: InstanceOperation) -> str:
    """Exactly ONE container under the real name afterwards: the new one when it had started
    (step 'ready'), else the old one put back (started if it ran) and the new one removed."""
    docker = fleet.docker_for(_engine_of(fleet, entry))
    payload = entry.payload or {}
    record = _record(fleet, entry.instance_uid)
    real_name = f"gift-tracker-{payload.get('name') or (record.name if record else '')}"
    old = None
    if entry.old_container_id:
        try:
            old = docker.inspect(entry.old_container_id)
        except GiftDeskError:
            old = None
    news = [c for c in _containers_of(fleet, docker, entry.instance_uid) if c.id != entry.old_container_id]
    if record is None:  # deleted meanwhile: nothing to keep
        _remove(docker, news)
        fleet.journal.drop(entry.id)
        return f"Dropped an interrupted edit of '{payload.get('name')}': the instance is gone"
    keep_new = bool(news) and (entry.step == "ready" or old is None)
    if keep_new:
        keep = next((c for c in news if c.id == entry.new_container_id), news[0])
        _remove(docker, [c for c in news if c.id != keep.id])
        if old is not None:
            _remove(docker, [old["Id"]])
        if keep.name != real_name:
            docker.rename(keep.id, real_name)
        started = bool(payload.get("startNew"))
        if started and keep.state != "running":
            docker.start(keep.id)
        summary = f"Finished an interrupted edit of '{record.name}': the new container is kept"
        changes = fleet._keep_new_container(record.id, entry.id, payload.get("record") or {}, keep.id, started,
                                            summary=summary)
        fleet.record_event(record.id, "info", summary + (f" ({', '.join(changes)} changed)" if changes else ""))
        return summary
    _remove(docker, news)
    if old is None:
        return _write(fleet, entry, "instance.recover",
                      f"Rolled back an interrupted edit of '{record.name}': there was no container to put back")
    if old.get("Name", "").lstrip("/") != real_name:
        docker.rename(old["Id"], real_name)
    running = bool(old["State"].get("Running"))
    if payload.get("wasRunning") and not running:
        docker.start(old["Id"])
        running = True
    status = "running" if running else (old["State"].get("Status") or "exited")
    return _write(fleet, entry, "instance.recover",
                  f"Rolled back an interrupted edit of '{record.name}': the previous container was put back",
                  record_changes={"container_id": old["Id"], "status": status})


def recover_adopt(fleet, entry: InstanceOperation) -> str:
    docker = fleet.docker_for(_engine_of(fleet, entry))
    payload = entry.payload or {}
    orphan_name = payload.get("orphanName") or ""
    record = _record(fleet, entry.instance_uid)
    orphan = None
    try:
        orphan = docker.inspect(entry.old_container_id) if entry.old_container_id else None
    except GiftDeskError:
        orphan = None
    if record is not None and record.container_id and docker.exists(record.container_id):
        if orphan is not None:
            _remove(docker, [orphan["Id"]])
        changes = {}
        if payload.get("wasRunning") and not docker.inspect(record.container_id)["State"].get("Running"):
            docker.start(record.container_id)  # it takes the orphan's place, running as it was
            changes["status"] = "running"
        entry.instance_id = record.id
        return _write(fleet, entry, "instance.recover",
                      f"Finished an interrupted adoption of {orphan_name} as '{record.name}'", record_changes=changes)
    if orphan is not None:
        if orphan.get("Name", "").lstrip("/") != orphan_name:
            docker.rename(orphan["Id"], orphan_name)
        if payload.get("wasRunning") and not orphan["State"].get("Running"):
            docker.start(orphan["Id"])
    return _write(fleet, entry, "instance.recover",
                  f"Rolled back an interrupted adoption of {orphan_name}: the container is back as it was")


def recover_move(fleet, entry: InstanceOperation) -> str:
    """On one engine afterwards: the target when the new tracker had answered (step 'ready'), else
    the source, whose container was never touched (the record goes back to it); the other
    engine's containers of the instance go."""
    payload = entry.payload or {}
    source, target = payload.get("engine") or "", payload.get("to") or ""
    record = _record(fleet, entry.instance_uid)
    name = payload.get("name") or (record.name if record is not None else "?")
    keep_target = record is not None and record.engine == target and entry.step == "ready"
    leftover = fleet.docker_for(source if keep_target else target)
    containers = _containers_of(fleet, leftover, entry.instance_uid)
    if keep_target and record.container_id:
        containers = [c for c in containers if c.id != record.container_id]
    _remove(leftover, containers)
    if record is None:
        fleet.journal.drop(entry.id)
        return f"Dropped an interrupted move of '{name}': the instance is gone"
    if keep_target:
        return _write(fleet, entry, "instance.recover",
                      f"Finished an interrupted move of '{name}': it runs on the engine '{target or 'local'}'")
    changes = {"engine": source, "port": payload.get("port", record.port),
               "backend_api_url": payload.get("backend", record.backend_api_url),
               "container_id": entry.old_container_id, "status": payload.get("status", record.status)}
    return _write(fleet, entry, "instance.recover",
                  f"Rolled back an interrupted move of '{name}': it stays on the engine '{source or 'local'}'",
                  record_changes=changes)


RECOVERIES = {"create": recover_create, "delete": recover_delete, "recreate": recover_recreate,
              "adopt": recover_adopt, "move": recover_move}
