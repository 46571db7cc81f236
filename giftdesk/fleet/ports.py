"""Host ports for trackers: held by an instance, published on the engine, or bindable here."""

from __future__ import annotations

from sqlalchemy import select

from dataclasses import dataclass

from giftdesk.core.errors import ConflictError, GiftDeskError
from giftdesk.db.fleet_models import Instance
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import DESK_LABEL, PORT_LABEL
from giftdesk.fleet.engines import engine_key
from giftdesk.fleet.spec import InstanceSettings


@dataclass(frozen=True)
class PortUse:
    """One port of the tracker range and who holds it ("" when free)."""

    port: int
    holder: str  # "instance", "container", "host", "unknown" or "" (free)
    name: str = ""  # the instance's or the container's name

    @property
    def free(self) -> bool:
        return not self.holder

    def text(self) -> str:
        return {"": "free", "instance": f"instance {self.name}", "container": f"container {self.name}",
                "host": "in use on this computer", "unknown": "unknown (the engine did not answer)"}[self.holder]

    def to_json(self) -> dict:
        return {"port": self.port, "free": self.free, "holder": self.holder or None, "name": self.name or None}


class PortAllocation:
    """Part of ``FleetService``: which port a tracker may publish."""

    def port_taken(self, port: int, settings: InstanceSettings, own: int | None = None,
                   published: set[int] | None = None, own_port_free: bool = False, engine: str = "") -> str | None:
        """Why ``port`` cannot be used on ``engine`` (held by an instance there, published by a
        container there, not bindable on this computer when the engine runs here), or None when free."""
        engine = engine_key(engine)
        sharing = self.engines.sharing_ports_with(engine)
        with self.ctx.db.read_session() as session:
            holder = session.execute(select(Instance.id, Instance.name).where(
                Instance.port == port, Instance.engine.in_(sharing))).first()
        if holder is not None and holder.id != own:
            return f"port {port} belongs to instance '{holder.name}'"
        if holder is not None and holder.id == own and not own_port_free:
            return None  # our own container holds it
        if published is None:
            published = self.docker_for(engine).published_ports(self.desk_id)
        if port in published:
            return f"port {port} is published by another container on the engine"
        address = "0.0.0.0" if settings.network == "host" else settings.publish_address
        if self.engines.on_this_computer(engine) and not checks.port_bindable(address, port):
            return f"port {port} is in use on this computer"
        return None

    def _choose_port(self, settings: InstanceSettings, port: int | str | None, own: int | None = None,
                     own_port_free: bool = False, engine: str = "") -> int:
        if port not in (None, ""):
            number = checks.port_number(port)
            reason = self.port_taken(number, settings, own=own, own_port_free=own_port_free, engine=engine)
            if reason is not None:
                raise ConflictError(f"Cannot use port {number}: {reason}.")
            return number
        return self.next_free_port(settings, engine)

    def port_uses(self, settings: InstanceSettings | None = None, engine: str = "") -> list[PortUse]:
        """Every port of the tracker range (Settings) with who holds it: an instance of this console,
        another container on the engine (by name; a stopped tracker of another data directory counts),
        or something on this computer. Ports the engine could not be asked about read "unknown"."""
        settings = settings or InstanceSettings()
        start = int(self.settings.get("tracker.port_start"))
        end = int(self.settings.get("tracker.port_end"))
        engine = engine_key(engine)
        here = self.engines.on_this_computer(engine)
        sharing = self.engines.sharing_ports_with(engine)
        with self.ctx.db.read_session() as session:
            held = dict(session.execute(select(Instance.port, Instance.name).where(
                Instance.engine.in_(sharing))).all())
        try:
            containers: dict[int, str] | None = {}
            for summary in self.docker_for(engine).list_all():
                for port in summary.public_ports:
                    containers.setdefault(port, summary.name)
                owner, port = summary.labels.get(DESK_LABEL), summary.labels.get(PORT_LABEL, "")
                if owner and owner != self.desk_id and port.isdigit():
                    containers.setdefault(int(port), summary.name)
        except GiftDeskError:
            containers = None
        address = "0.0.0.0" if settings.network == "host" else settings.publish_address
        uses = []
        for port in range(start, end + 1):
            if port in held:
                uses.append(PortUse(port, "instance", held[port]))
            elif containers is not None and port in containers:
                uses.append(PortUse(port, "container", containers[port]))
            elif here and not checks.port_bindable(address, port):
                uses.append(PortUse(port, "host"))
            else:
                uses.append(PortUse(port, "unknown" if containers is None else ""))
        return uses

    def next_free_port(self, settings: InstanceSettings | None = None, engine: str = "") -> int:
        settings = settings or InstanceSettings()
        engine = engine_key(engine)
        start = int(self.settings.get("tracker.port_start"))
        end = int(self.settings.get("tracker.port_end"))
        sharing = self.engines.sharing_ports_with(engine)
        with self.ctx.db.read_session() as session:
            held = set(session.scalars(select(Instance.port).where(
                Instance.engine.in_(sharing))))
        published = self.docker_for(engine).published_ports(self.desk_id)
        address = "0.0.0.0" if settings.network == "host" else settings.publish_address
        here = self.engines.on_this_computer(engine)
        for candidate in range(start, end + 1):
            if candidate in held or candidate in published:
                continue
            if not here or checks.port_bindable(address, candidate):
                return candidate
        raise ConflictError(f"Every port from {start} to {end} is taken; widen the tracker port range in Settings.")
