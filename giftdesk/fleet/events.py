"""The fleet's typed events (on the Desk's bus). High-rate ones coalesce per instance in the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from giftdesk.core.events import Event


@dataclass(frozen=True)
class InstancesChanged(Event):
    """Records were created, edited, deleted or adopted: views reload the list."""

    instance_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class EnginesChanged(Event):
    """A named engine was added, changed or removed."""

    name: str = ""


@dataclass(frozen=True)
class InstanceStateChanged(Event):
    """The container's state as the engine reports it (from its event stream or a list)."""

    coalesce: ClassVar[bool] = True
    instance_id: int
    name: str
    state: str  # running | restarting | exited | created | paused | dead | missing | removing
    exit_code: int | None = None
    container_id: str | None = None
    started_at: datetime | None = None
    engine_health: str | None = None

    @property
    def coalesce_key(self) -> Any:
        return ("state", self.instance_id)


@dataclass(frozen=True)
class InstanceProbed(Event):
    """The console's probe of the tracker's ``/api/state``: health and the TikTok live status."""

    coalesce: ClassVar[bool] = True
    instance_id: int
    health: str  # healthy | unhealthy | starting | none
    live_status: str | None = None
    viewers: int | None = None
    gifts: int | None = None
    diamonds: int | None = None
    error: str = ""

    @property
    def coalesce_key(self) -> Any:
        return ("probe", self.instance_id)


@dataclass(frozen=True)
class InstanceStatsSampled(Event):
    coalesce: ClassVar[bool] = True
    instance_id: int
    cpu_percent: float | None
    memory_bytes: int
    memory_limit: int
    net_rx: int | None
    net_tx: int | None
    at: datetime | None = None
    net_rx_rate: float | None = None
    net_tx_rate: float | None = None

    @property
    def coalesce_key(self) -> Any:
        return ("stats", self.instance_id)


@dataclass(frozen=True)
class InstanceAlert(Event):
    """Died, restart-looping, unhealthy: a badge, an instance event and a desktop notification."""

    instance_id: int
    name: str
    level: str  # warning | error
    message: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FleetConnectionChanged(Event):
    """The watcher's link to the engine: connected | reconnecting | down; the status bar says so."""

    state: str
    detail: str = ""
