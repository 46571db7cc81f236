"""CPU %, memory and network I/O of a container as ``docker stats`` computes them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone


@dataclass
class StatsSample:
    """CPU %, memory and network I/O as ``docker stats`` computes them.

    ``net_rx``/``net_tx`` are byte counters summed over the container's networks (None for a
    host-network container: it has no interfaces of its own); the rates are bytes per second
    since the previous sample, None when there is none or a counter went down (a restart).
    """

    cpu_percent: float | None
    memory_bytes: int
    memory_limit: int
    net_rx: int | None
    net_tx: int | None
    cpu_total: int = 0
    system_total: int = 0
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    net_rx_rate: float | None = None
    net_tx_rate: float | None = None
    read_at: datetime | None = None  # the engine's own time of the reading (rates use it)


def _engine_time(text: str | None) -> datetime | None:
    """``read`` of a stats answer (RFC 3339 with nanoseconds); the zero time means none."""
    if not text or text.startswith("0001-"):
        return None
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not found:
        return None
    micros = (found.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if found.group(3) == "Z" else found.group(3)
    try:
        return datetime.fromisoformat(f"{found.group(1)}.{micros}{zone}")
    except ValueError:
        return None


def compute_stats(raw: dict, previous: StatsSample | None = None) -> StatsSample:
    """The docker CLI's formulas: memory without the inactive file cache; CPU from positive
    deltas of container and system CPU time, times the number of CPUs. A one-shot sample has no
    ``precpu_stats``, so the previous sample we kept stands in for it; network rates come from
    the previous sample the same way."""
    memory = raw.get("memory_stats") or {}
    usage = int(memory.get("usage") or 0)
    details = memory.get("stats") or {}
    # cgroup v1: total_inactive_file; cgroup v2: inactive_file (what the CLI subtracts).
    inactive = details.get("total_inactive_file", details.get("inactive_file", 0)) or 0
    if inactive < usage:
        usage -= inactive
    cpu = raw.get("cpu_stats") or {}
    total = int((cpu.get("cpu_usage") or {}).get("total_usage") or 0)
    system = int(cpu.get("system_cpu_usage") or 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or ()) or 1
    pre = raw.get("precpu_stats") or {}
    pre_total = int((pre.get("cpu_usage") or {}).get("total_usage") or 0)
    pre_system = int(pre.get("system_cpu_usage") or 0)
    if not pre_system and previous is not None:
        pre_total, pre_system = previous.cpu_total, previous.system_total
    percent = None
    cpu_delta, system_delta = total - pre_total, system - pre_system
    if pre_system and system_delta > 0 and cpu_delta >= 0:
        percent = cpu_delta / system_delta * online * 100.0
    networks = raw.get("networks")
    rx = tx = None
    if networks:  # absent with host (or no) networking: no figure rather than 0
        rx = sum(int(net.get("rx_bytes") or 0) for net in networks.values())
        tx = sum(int(net.get("tx_bytes") or 0) for net in networks.values())
    sample = StatsSample(percent, usage, int(memory.get("limit") or 0), rx, tx, total, system,
                         read_at=_engine_time(raw.get("read")))
    if previous is not None and rx is not None and previous.net_rx is not None and previous.net_tx is not None:
        restarted = (rx < previous.net_rx or tx < previous.net_tx
                     or (previous.cpu_total and total < previous.cpu_total))
        if sample.read_at is not None and previous.read_at is not None:
            seconds = (sample.read_at - previous.read_at).total_seconds()
        else:
            seconds = (sample.at - previous.at).total_seconds()
        if not restarted and seconds > 0:
            sample.net_rx_rate = (rx - previous.net_rx) / seconds
            sample.net_tx_rate = (tx - previous.net_tx) / seconds
    return sample
