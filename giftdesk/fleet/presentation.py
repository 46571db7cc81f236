"""How an instance reads in the window: which state wins, what its figures show, its uptime.

Qt-free, so the rules are one place and testable without a window: the instances table shows
``InstanceView``s and only picks colours and widths.

State precedence: what the runtime knows now (``LiveInstance.state``, from engine events) wins
over the record's last known engine state, which wins over the record's status. Live figures
(health, TikTok status, viewers, CPU, memory, network) only mean something while the container
runs; a stopped instance shows none of them rather than its last ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from giftdesk.fleet.live import LiveInstance
from giftdesk.fleet.records import UNKNOWN_STATE, InstanceRow
from giftdesk.fleet.units import NONE, fmt_memory, fmt_net_io, fmt_net_totals

#: States in which the exit code says why (shown as "exited (137)").
EXIT_CODE_STATES = ("restarting", "exited", "dead")
#: States that need someone's attention whatever the health probe says.
TROUBLED_STATES = ("restarting", "missing", "dead", "pending", "rejected", "failed")


@dataclass(frozen=True)
class InstanceView:
    """One instance as shown: the record and what the runtime knows now."""

    row: InstanceRow
    live: LiveInstance
    alert: str = ""
    engine_down_since: datetime | None = None  # when its engine stopped answering, when known

    @property
    def engine_name(self) -> str:
        return self.row.engine or "local"

    @property
    def engine_unreachable(self) -> bool:
        """Its engine did not answer the last refresh: what the row shows is the record alone."""
        return self.state == UNKNOWN_STATE

    @property
    def engine_tooltip(self) -> str | None:
        if not self.engine_unreachable:
            return None
        since = f" since {self.engine_down_since.astimezone():%H:%M}" if self.engine_down_since else ""
        return f"engine unreachable{since}"

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def state(self) -> str:
        return self.live.state or self.row.state or self.row.status

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def state_text(self) -> str:
        if getattr(self.row, "is_service", False):  # a Swarm task's state says why itself ("pending: no suitable node (…)")
            reason = self.row.state_reason if self.state == self.row.state else None
            return f"{self.state}: {reason}" if reason else self.state
        code = self.live.exit_code if self.live.state else self.row.exit_code
        if self.state in EXIT_CODE_STATES and code is not None:
            return f"{self.state} ({code})"
        return self.state

    @property
    def state_tooltip(self) -> str | None:
        """A Swarm service's whole state (the column is narrow) and the node its task is on."""
        if not getattr(self.row, "is_service", False):
            return None
        where = f" on node {self.row.node}" if self.row.node else ""
        return f"Swarm service{where}: {self.state_text}"

    @property
    def health(self) -> str:
        return self.live.health if self.running else "none"

    @property
    def needs_attention(self) -> bool:
        return self.health == "unhealthy" or self.state in TROUBLED_STATES

    @property
    def uptime(self) -> float | None:
        """Seconds since the container started; None unless it runs (or its start is unknown)."""
        if not self.running:
            return None
        started = self.live.started_at or self.row.last_started_at
        return None if started is None else max(0.0, (datetime.now(timezone.utc) - started).total_seconds())

    def while_running(self, value):
        """A live figure, or None when the container does not run (its last figures are stale)."""
        return value if self.running else None

    @property
    def cpu_text(self) -> str:
        cpu = self.live.cpu_percent
        return f"{cpu:.1f} %" if cpu is not None and self.running else ""

    @property
    def stats_tooltip(self) -> str | None:
        """Why a running instance has no figures here: its Swarm task is on another node."""
        note = getattr(self.row, "stats_note", None)
        return f"No figures here: {note}" if note and self.running else None

    @property
    def memory_text(self) -> str:
        return fmt_memory(self.live.memory_bytes) if self.running and self.live.memory_bytes is not None else ""

    @property
    def net_io_text(self) -> str:
        """'↓ 1.2 kB/s ↑ 300 B/s'; '—' for host networking (no counters of its own); blank until a rate."""
        if not self.running:
            return ""
        if self.row.network == "host" or (self.live.net_rx is None and self.live.memory_bytes is not None):
            return NONE
        if self.live.net_rx_rate is None and self.live.net_tx_rate is None:
            return ""
        return fmt_net_io(self.live.net_rx_rate, self.live.net_tx_rate)

    @property
    def net_io_tooltip(self) -> str | None:
        if not self.running:
            return None
        if self.net_io_text == NONE:
            return "Host networking: the container has no network counters of its own."
        if self.live.net_rx is None:
            return None
        return f"Since the container started: {fmt_net_totals(self.live.net_rx, self.live.net_tx)}"

    @property
    def net_io_rate(self) -> float:
        return (self.live.net_rx_rate or 0.0) + (self.live.net_tx_rate or 0.0) if self.running else 0.0


def fmt_uptime(seconds: float | None) -> str:
    """42 → '42s', 125 → '2m 05s', 7260 → '2h 01m', 93600 → '1d 2h'; None → ''."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def fleet_summary(views: Sequence[InstanceView]) -> str:
    """'2/3 running · CPU 1.5 % · memory 96 MiB · network ↓ … ↑ … · 1 need attention'."""
    running = [v for v in views if v.running]
    cpu = sum(v.live.cpu_percent or 0 for v in running)
    memory = sum(v.live.memory_bytes or 0 for v in running)
    text = f"{len(running)}/{len(views)} running · CPU {cpu:.1f} % · memory {fmt_memory(memory, digits=0)}"
    rates = [v for v in running if v.live.net_rx_rate is not None or v.live.net_tx_rate is not None]
    if rates:
        text += " · network " + fmt_net_io(sum(v.live.net_rx_rate or 0.0 for v in rates),
                                            sum(v.live.net_tx_rate or 0.0 for v in rates))
    attention = sum(1 for v in views if v.needs_attention)
    if attention:
        text += f" · {attention} need attention"
    return text
