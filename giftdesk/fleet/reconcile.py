"""Records and containers brought back together: missing containers, relinks, orphans, adoption.

Interrupted operations are recovered first (``recovery.py``); orphans are reported, and removed
or adopted only when asked, on the engine they are on.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func, select

from giftdesk.core.errors import GiftDeskError, NotFoundError, ServiceUnavailableError, ValidationError
from giftdesk.db.fleet_models import Instance
from giftdesk.db.models import TikTokAccount
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import (CONTAINER_PREFIX, DESK_LABEL, NAME_LABEL, TRACKER_PORT, ContainerSummary,
                                       belongs_to, env_of)
from giftdesk.fleet.engines import engine_key, shown_name
from giftdesk.fleet.events import InstancesChanged, InstanceStateChanged
from giftdesk.fleet.journal import failpoint
from giftdesk.fleet.records import InstanceRow
from giftdesk.fleet.spec import InstanceSettings

log = logging.getLogger(__name__)

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
    orphan_engines: dict[str, str] = field(default_factory=dict)  # container id -> its engine ('' local)
    engines: tuple[str, ...] = ("",)  # the engines asked ('' local)
    unreachable: tuple[str, ...] = ()  # named engines that did not answer: their orphans are not known

    def origin(self, orphan: ContainerSummary) -> str:
        return INTERRUPTED_CREATE if orphan.id in self.left_by_create else "orphan"

    def engine_of(self, orphan: ContainerSummary) -> str:
        """The engine the orphan is on ('' for the local one)."""
        return self.orphan_engines.get(orphan.id, "")

    def to_json(self) -> dict:
        return {"missing": [r.name for r in self.missing], "relinked": [r.name for r in self.relinked],
                "recovered": list(self.recovered), "unreachable": [shown_name(e) for e in self.unreachable],
                "orphans": [{"containerId": o.id, "name": o.name, "engine": shown_name(self.engine_of(o)),
                             "state": o.state, "image": o.image, "labels": o.labels, "origin": self.origin(o),
                             "choices": list(ORPHAN_CHOICES)}
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
    engine: str = ""  # the engine the orphan is on ('' local)

    def to_json(self) -> dict:
        return {"containerId": self.container.id, "containerName": self.container.name, "name": self.name,
                "engine": shown_name(self.engine), "accountId": self.account_id, "tiktokUsername": self.username,
                "port": self.port}


class Reconciling:
    """Part of ``FleetService``: what the engine and the records disagree about, and putting it right."""

    def reconcile(self, engine: str | None = None) -> Reconciliation:
        """Interrupted operations are recovered first; then records whose container is gone are
        marked missing (or relinked to a container carrying their uid, account and port); labelled
        containers without a record are orphans (reported, never removed here). A viewer gets the
        same answer and changes nothing: what it finds waits for an operator's sync.

        ``engine``: only that engine's instances and orphans (None: every registered engine, asked
        at once). A named engine that does not answer is listed in ``unreachable``: its records are
        not marked missing and its orphans are not known; only the local engine's failure raises."""
        if engine is not None and not self.engines.exists(engine):
            raise NotFoundError(f"There is no Docker engine called '{engine}' (`giftdesk engine list` shows them).")
        may_write = self.ctx.actor.can("operator")
        recovered = self.recover() if not engine else []
        engines = [engine_key(engine)] if engine is not None else self._every_engine()
        listed, unreachable = self._list_trackers_on(engines)
        busy = self.journal.busy_uids()  # an operation under way decides about these itself
        every = self.list()
        rows = [r for r in every if r.engine in listed]
        # Every record's container, whichever engine: one engine registered twice lists them all.
        known_ids = {r.container_id for r in every if r.container_id}
        ids_on = {name: {c.id for c in containers} for name, containers in listed.items()}
        missing, relinked = [], []
        gone_services = {r.id for r in self.missing_services(rows)} if any(r.is_service for r in rows) else set()
        for row in rows:
            if row.is_service:  # no container of its own: its Swarm service is there or not
                if row.id in gone_services and row.uid not in busy:
                    missing.append(row)
                    if may_write and self.note_missing(row.id, row.name):
                        self.ctx.events.publish(InstanceStateChanged(row.id, row.name, "missing"))
                continue
            containers = listed[row.engine]
            if row.uid in busy or (row.container_id and row.container_id in ids_on[row.engine]):
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
        uids = {r.uid for r in every}
        orphans, orphan_engines = [], {}
        for name, containers in listed.items():  # the local engine first
            for c in containers:
                # The same engine registered under two names lists a container twice: once is enough.
                if (c.id not in known_ids and c.id not in orphan_engines and c.uid not in busy
                        and c.labels.get(DESK_LABEL, self.desk_id) == self.desk_id):
                    orphans.append(c)
                    orphan_engines[c.id] = name
        left_by_create = frozenset(o.id for o in orphans if o.uid and o.uid not in uids)
        if may_write and (missing or relinked):
            self.ctx.events.publish(InstancesChanged(tuple(r.id for r in missing + relinked)))
        return Reconciliation(missing, orphans, relinked, tuple(recovered), left_by_create, orphan_engines,
                              tuple(engines), tuple(unreachable))

    def _every_engine(self) -> list[str]:
        """The local engine, every registered one and any an instance names, the local one first."""
        registered = {engine_key(row.name) for row in self.engines.list_engines()}
        return ["", *sorted((registered | set(self._engines_with_records())) - {""})]

    def _list_trackers_on(self, engines: list[str]) -> tuple[dict[str, list[ContainerSummary]], list[str]]:
        """Each engine's tracker containers, asked at once (the local one first in the answer); a named
        engine that does not answer is left out and named in the second list. The local engine's
        failure raises."""
        with ThreadPoolExecutor(min(8, len(engines)), thread_name_prefix="reconcile-list") as pool:
            futures = {name: pool.submit(lambda n: self.docker_for(n).list_trackers(), name) for name in engines}
        listed: dict[str, list[ContainerSummary]] = {}
        unreachable: list[str] = []
        for name, future in futures.items():
            try:
                listed[name] = future.result()
            except GiftDeskError:
                if not name:
                    raise
                log.info("The engine '%s' did not answer; its instances are left as they are", name)
                self.engines.note_unreachable(name)
                unreachable.append(name)
                continue
            if name:
                self.engines.note_reachable(name)
        return listed, unreachable

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

    def remove_orphan(self, container_id: str, engine: str | None = None) -> ContainerSummary:
        """Removes the orphan from its engine (``engine``: where to look; None: every engine)."""
        self.ctx.require("operator", "remove containers")
        orphan, where = self._orphan(container_id, engine)
        self.docker_for(where).remove(orphan.id, force=True)
        with self.ctx.db.session() as session:
            self.ctx.audit(session, "instance.orphan_remove", f"Removed orphan container {orphan.name}"
                           + (f" on the engine '{where}'" if where else ""), "container", orphan.id[:12],
                           details={"engine": shown_name(where)})
        return orphan

    def adoption_hints(self, orphans: Iterable[ContainerSummary],
                       engine_of: Callable[[ContainerSummary], str] = lambda _orphan: "") -> list[AdoptionHint]:
        """What each orphan's labels and environment suggest (name, account, port): one inspect
        each, on its engine (``engine_of``, e.g. ``Reconciliation.engine_of``; default the local
        one); an orphan that went away meanwhile, or whose engine stopped answering, is left out."""
        hints = []
        for orphan in orphans:
            engine = engine_of(orphan)
            try:
                details = self.docker_for(engine).inspect(orphan.id)
            except NotFoundError:
                continue
            except ServiceUnavailableError:
                if not engine:
                    raise
                continue
            env = env_of(details)
            try:
                account_id = self._account_for(env)
            except ValidationError:
                account_id = None
            port, _address = _published(details.get("HostConfig") or {}, env)
            hints.append(AdoptionHint(orphan, _suggested_name(orphan), account_id,
                                      env.get("TIKTOK_USERNAME", "").removeprefix("@"), port, engine))
        return hints

    def adopt(self, container_id: str, account_id: int | None = None, name: str | None = None,
              engine: str | None = None) -> InstanceRow:
        """An orphan becomes an instance on its own engine: a record from its settings, then a
        container of ours (labels cannot change in place) with the environment from the account's
        credential. ``engine``: where to look for the orphan (None: every engine)."""
        self.ctx.require("operator", "adopt containers")
        orphan, where = self._orphan(container_id, engine)
        docker = self.docker_for(where)
        details = docker.inspect(orphan.id)
        env = env_of(details)
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
        # The engine in the entry: recovery finds the orphan there even when no record was made.
        entry_id = self.journal.begin("adopt", uid, old_container_id=orphan.id, parked_name=parked,
                                      payload={"orphanName": orphan.name, "wasRunning": was_running, "name": name,
                                               "engine": where})
        try:
            # Park it under another name (ours takes its name), stopped (ours takes its port).
            docker.rename(orphan.id, parked)
            failpoint("adopt.after_park")
            if was_running:
                docker.stop(orphan.id)
            row = self.create(name, account_id, port=port, settings=settings, start=was_running, uid=uid,
                              engine=where)
        except BaseException:
            try:
                docker.rename(orphan.id, orphan.name)
                if was_running:
                    docker.start(orphan.id)
                self.journal.drop(entry_id)
            except Exception:
                self.journal.release(entry_id)
                log.exception("Could not put the orphan %s back; recovery will", orphan.name)
            raise
        failpoint("adopt.after_create")
        docker.remove(orphan.id, force=True)
        self.journal.drop(entry_id)
        self.record_event(row.id, "info", f"Adopted from container {orphan.name}"
                          + (f" on the engine '{where}'" if where else ""))
        return row

    def _orphan(self, container_id: str, engine: str | None = None) -> tuple[ContainerSummary, str]:
        """The orphan an id (or its start) or a name gives, and its engine ('' local). On every engine
        unless ``engine`` is given; one id or name on two engines is refused: the engine must be named."""
        ref = (container_id or "").strip()
        if not ref:
            raise ValidationError("Give the orphan container's id or name.", field="container")
        found = self.reconcile(engine)
        exact = [o for o in found.orphans if o.id == ref or o.name == ref]
        matches = exact or [o for o in found.orphans if o.id.startswith(ref)]
        engines = sorted({found.engine_of(o) for o in matches})
        if len(engines) > 1:
            raise ValidationError(f"There is an orphan container '{ref}' on {_engines_text(engines)}; name the "
                                  "engine (--engine) it is on.", field="engine")
        if len(matches) > 1:
            raise ValidationError(f"'{ref}' starts the ids of {len(matches)} orphan containers; give more of "
                                  "the id.", field="container")
        if matches:
            return matches[0], found.engine_of(matches[0])
        if engine is not None and found.unreachable:
            raise ServiceUnavailableError(f"The engine '{shown_name(engine_key(engine))}' does not answer; its "
                                          "orphans cannot be reached now.")
        down = f" ({_engines_text(found.unreachable)} did not answer)" if found.unreachable else ""
        raise NotFoundError(f"'{ref}' is not an orphan tracker container (it has a record, or is not a gift "
                            f"tracker){down}.")

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


def _engines_text(engines: Iterable[str]) -> str:
    names = [f"'{shown_name(e)}'" for e in engines]
    if len(names) == 1:
        return f"the engine {names[0]}"
    return f"the engines {', '.join(names[:-1])} and {names[-1]}"


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
