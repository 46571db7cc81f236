"""Instance rows as the front ends see them: the record plus what the engine says about it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

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

    @property
    def container_name(self) -> str:
        return f"gift-tracker-{self.name}"

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
        if state in ("restarting", "exited", "dead") and self.exit_code is not None:
            return f"{state} ({self.exit_code})"
        return state

    def with_container(self, state: str | None, exit_code: int | None = None,
                       engine_health: str | None = None) -> "InstanceRow":
        return replace(self, state=state, exit_code=exit_code, engine_health=engine_health)

    @classmethod
    def of(cls, record: Instance, customer_id: int | None = None, customer_name: str | None = None,
           state: str | None = None, exit_code: int | None = None, engine_health: str | None = None) -> "InstanceRow":
        return cls(record.id, record.name, record.container_id, record.status, record.account_id, customer_id,
                   customer_name, record.tiktok_username, record.port, record.backend_api_url, record.debug_mode,
                   record.engine, record.image, record.network, record.publish_address, record.restart_policy,
                   record.memory_limit_mb, record.cpu_millis, record.schedule_start, record.schedule_stop,
                   record.schedule_tz, record.public_url, record.template_id, record.created_at, record.updated_at,
                   record.last_started_at, record.last_stopped_at, state, exit_code, engine_health, record.uid)

    def to_json(self) -> dict:
        data = {
            "id": self.id, "uid": self.uid, "name": self.name, "containerName": self.container_name,
            "containerId": self.container_id, "status": self.status, "state": self.state or self.status,
            "exitCode": self.exit_code, "engineHealth": self.engine_health,
            "accountId": self.account_id, "customerId": self.customer_id, "customerName": self.customer_name,
            "tiktokUsername": f"@{self.tiktok_username}", "port": self.port, "backendApiUrl": self.backend_api_url,
            "engine": self.engine or "local", **self.settings.to_json(),
            "schedule": {"start": self.schedule_start, "stop": self.schedule_stop, "timeZone": self.schedule_tz},
            "publicUrl": self.public_url, "localUrl": self.local_url, "templateId": self.template_id,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
            "lastStartedAt": iso(self.last_started_at), "lastStoppedAt": iso(self.last_stopped_at),
        }
        if self.state == UNKNOWN_STATE:
            data["engineUnreachable"] = True
        return data


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

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_json(self) -> dict:
        return {"instanceId": self.instance_id, "name": self.name, "outcome": self.outcome, "message": self.message}
