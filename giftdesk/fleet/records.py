"""Instance rows as the front ends see them: the record plus what the engine says about it."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields, replace
from datetime import datetime
from operator import attrgetter

from giftdesk.core.clock import iso
from giftdesk.db.fleet_models import Instance, InstanceLog, InstanceTemplate
from giftdesk.fleet.spec import InstanceSettings


# The state of every row while the engine does not answer: the records are still known.
UNKNOWN_STATE = "unknown"


@dataclass(frozen=True)
class InstanceRow:
    id: int
    name: str
    container_id: str | None
    status: str
    account_id: int | None
    customer_id: int | None
    customer_name: str | None
    tiktok_username: str
    port: int
    backend_api_url: str
    debug_mode: bool
    engine: str
    image: str
    network: str
    publish_address: str
    restart_policy: str
    memory_limit_mb: int | None
    cpu_millis: int | None
    schedule_start: str | None
    schedule_stop: str | None
    schedule_tz: str | None
    public_url: str | None
    template_id: int | None
    created_at: datetime
    updated_at: datetime
    last_started_at: datetime | None
    last_stopped_at: datetime | None
    # From the engine (None: not asked). "missing": the record's container is gone.
    state: str | None = None
    exit_code: int | None = None
    engine_health: str | None = None
    uid: str = ""
    # The account's id where it was imported from (its trackers may still call with it).
    account_legacy_id: str | None = None
    # A container another manager made, taken over as it is: ours by this id, not by labels.
    adopted_container_id: str | None = None
    # A Swarm service instead of a container ("service"): its id, placement and publish mode, and
    # from the engine the node its task runs on, the task's own state and why it is not running.
    mode: str = "container"
    service_id: str | None = None
    placement_constraints: tuple[str, ...] = ()
    placement_preferences: tuple[str, ...] = ()
    publish_mode: str = "host"
    node: str | None = None
    task_state: str | None = None
    state_reason: str | None = None
    task_container_id: str | None = None  # the task's container, when an engine the console has holds it
    # The registered engine of the node the task runs on, when that is not the instance's own engine.
    task_engine: str | None = None
    stats_note: str | None = None  # why there are no stats of it here
    # The address of the node the task runs on, when that is another node than the engine's own.
    node_address: str | None = None

    @property
    def account_ref(self) -> str:
        """The account as its tracker names it: the old id of an imported account, else ours."""
        return self.account_legacy_id or ("" if self.account_id is None else str(self.account_id))

    @property
    def container_name(self) -> str:
        return f"gift-tracker-{self.name}"

    @property
    def is_service(self) -> bool:
        return self.mode == "service"

    @property
    def stats_container_id(self) -> str | None:
        """The container whose statistics are this instance's, when an engine the console has holds it."""
        return self.task_container_id if self.is_service else self.container_id

    @property
    def node_engine(self) -> str | None:
        """The registered engine whose node runs the task ("local" the configured one), None when no
        engine the console has is that node's."""
        if not self.is_service or not self.task_container_id:
            return None
        return self.stats_engine or "local"

    @property
    def stats_engine(self) -> str:
        """The engine to ask for those statistics: a Swarm task's node's when it is another registered engine."""
        return self.task_engine if self.is_service and self.task_engine is not None else self.engine

    @property
    def settings(self) -> InstanceSettings:
        return InstanceSettings(self.image, self.network, self.publish_address, self.restart_policy,
                                self.memory_limit_mb, self.cpu_millis, self.debug_mode)

    @property
    def probe_host(self) -> str:
        """Where the console reaches the tracker: loopback unless published on one other address."""
        if self.network == "host" or self.publish_address in ("0.0.0.0", "127.0.0.1"):
            return "127.0.0.1"
        return self.publish_address

    @property
    def local_url(self) -> str:
        return f"http://{self.probe_host}:{self.port}"

    @property
    def state_label(self) -> str:
        state = self.state or self.status
        if state == UNKNOWN_STATE:
            return "unknown (engine unreachable)"
        if state in ("restarting", "exited", "dead") and self.exit_code is not None and not self.is_service:
            return f"{state} ({self.exit_code})"
        if self.state_reason:
            return f"{state}: {self.state_reason}"
        return state

    def with_container(self, state: str | None, exit_code: int | None = None,
                       engine_health: str | None = None) -> "InstanceRow":
        return replace(self, state=state, exit_code=exit_code, engine_health=engine_health)

    def with_service(self, state: str, reason: str | None = None, node: str | None = None,
                     task_state: str | None = None, task_container_id: str | None = None,
                     stats_note: str | None = None, exit_code: int | None = None,
                     task_engine: str | None = None, node_address: str | None = None) -> "InstanceRow":
        """The engine's view of a service instance (from its newest task)."""
        return replace(self, state=state, state_reason=reason, node=node, task_state=task_state,
                       task_container_id=task_container_id, stats_note=stats_note, exit_code=exit_code,
                       task_engine=task_engine, node_address=node_address)

    @classmethod
    def of(cls, record: Instance, customer_id: int | None = None, customer_name: str | None = None,
           state: str | None = None, exit_code: int | None = None, engine_health: str | None = None,
           account_legacy_id: str | None = None) -> "InstanceRow":
        """The row of ``record`` (an ``Instance``, or a result row with its columns).

        Made without the dataclass's ``__init__``: a frozen one sets each of the 40-odd fields
        through ``object.__setattr__``, three times the cost of filling the instance's dict at once
        (the table's refresh makes a row per instance). Callers see the same immutable row."""
        row = object.__new__(cls)
        filled = row.__dict__
        filled.update(zip(_OF_FIELDS, _read_record_fields(record) + (
            customer_id, customer_name, state, exit_code, engine_health, account_legacy_id,
            record.mode or "container", tuple(record.placement_constraints or ()),
            tuple(record.placement_preferences or ()), record.publish_mode or "host")))
        filled.update(_OTHER_DEFAULTS)
        return row

    def to_json(self) -> dict:
        data = {
            "id": self.id, "uid": self.uid, "name": self.name, "containerName": self.container_name,
            "containerId": self.container_id, "status": self.status, "state": self.state or self.status,
            "exitCode": self.exit_code, "engineHealth": self.engine_health,
            "accountId": self.account_id, "legacyAccountId": self.account_legacy_id,
            "adoptedContainerId": self.adopted_container_id,
            "customerId": self.customer_id, "customerName": self.customer_name,
            "tiktokUsername": f"@{self.tiktok_username}", "port": self.port, "backendApiUrl": self.backend_api_url,
            "engine": self.engine or "local", **self.settings.to_json(),
            "schedule": {"start": self.schedule_start, "stop": self.schedule_stop, "timeZone": self.schedule_tz},
            "publicUrl": self.public_url, "localUrl": self.local_url, "templateId": self.template_id,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
            "lastStartedAt": iso(self.last_started_at), "lastStoppedAt": iso(self.last_stopped_at),
        }
        data["mode"] = self.mode
        if self.is_service:
            data.update(serviceId=self.service_id, node=self.node, taskState=self.task_state,
                        stateReason=self.state_reason, statsNote=self.stats_note,
                        nodeEngine=self.node_engine, nodeAddress=self.node_address,
                        placement={"constraints": list(self.placement_constraints),
                                   "spread": list(self.placement_preferences)},
                        publishMode=self.publish_mode)
        if self.state == UNKNOWN_STATE:
            data["engineUnreachable"] = True
        return data


# The fields ``InstanceRow.of`` copies from the record as they are, then those it sets itself; the
# others keep their defaults. Checked here, once: a new field without a default must be named.
_RECORD_FIELDS = ("id", "name", "container_id", "status", "account_id", "tiktok_username", "port",
                  "backend_api_url", "debug_mode", "engine", "image", "network", "publish_address",
                  "restart_policy", "memory_limit_mb", "cpu_millis", "schedule_start", "schedule_stop",
                  "schedule_tz", "public_url", "template_id", "created_at", "updated_at", "last_started_at",
                  "last_stopped_at", "uid", "adopted_container_id", "service_id")
_read_record_fields = attrgetter(*_RECORD_FIELDS)
_OF_FIELDS = (*_RECORD_FIELDS, "customer_id", "customer_name", "state", "exit_code", "engine_health",
              "account_legacy_id", "mode", "placement_constraints", "placement_preferences", "publish_mode")
_OTHER_DEFAULTS = {f.name: f.default for f in fields(InstanceRow) if f.name not in _OF_FIELDS}
if MISSING in _OTHER_DEFAULTS.values() or any(f.default_factory is not MISSING for f in fields(InstanceRow)):
    raise TypeError("InstanceRow.of must fill every field that has no plain default")


@dataclass(frozen=True)
class InstanceEventRow:
    id: int
    instance_id: int
    level: str
    message: str
    details: dict | None
    created_at: datetime

    @classmethod
    def of(cls, entry: InstanceLog) -> "InstanceEventRow":
        return cls(entry.id, entry.instance_id, entry.level, entry.message, entry.details, entry.created_at)

    def to_json(self) -> dict:
        return {"id": self.id, "instanceId": self.instance_id, "level": self.level, "message": self.message,
                "details": self.details, "createdAt": iso(self.created_at)}


@dataclass(frozen=True)
class TemplateRow:
    id: int
    name: str
    settings: InstanceSettings

    @classmethod
    def of(cls, template: InstanceTemplate) -> "TemplateRow":
        return cls(template.id, template.name, InstanceSettings(
            template.image, template.network, template.publish_address, template.restart_policy,
            template.memory_limit_mb, template.cpu_millis, template.debug_mode))

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, **self.settings.to_json()}


@dataclass(frozen=True)
class BulkResult:
    instance_id: int
    name: str
    outcome: str  # ok | failed | cancelled | skipped
    message: str = ""
    engine: str = ""  # '' for the local engine

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def where(self) -> str:
        """The name, with the engine when it is not the local one (a failure there says where)."""
        return f"{self.name} on the engine '{self.engine}'" if self.engine else self.name

    def to_json(self) -> dict:
        return {"instanceId": self.instance_id, "name": self.name, "engine": self.engine or "local",
                "outcome": self.outcome, "message": self.message}
