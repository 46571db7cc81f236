"""How the fleet's byte counts and rates read (the table, the stats window and the CLI share it).

Network figures use decimal units as ``docker stats`` does (kB = 1000 B); a missing figure (a
host-network container has no counters of its own) reads "—", never 0. Memory reads in MiB, as
``docker stats`` shows it and as memory limits are typed (``--memory 256`` is 256 MiB).
"""

from __future__ import annotations

NONE = "—"
_UNITS = ("B", "kB", "MB", "GB", "TB")


def rate_unit(peak: float) -> tuple[str, float]:
    """The unit a series whose highest value is ``peak`` bytes/s reads best in, and its divisor."""
    divisor = 1.0
    for unit in _UNITS:
        if peak < divisor * 1000 or unit == _UNITS[-1]:
            return f"{unit}/s", divisor
        divisor *= 1000
    raise AssertionError("unreachable")


def fmt_size(value: float | None) -> str:
    """1234 → '1.2 kB'; None → '—'."""
    if value is None:
        return NONE
    amount = float(value)
    for unit in _UNITS:
        if abs(amount) < 1000 or unit == _UNITS[-1]:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    raise AssertionError("unreachable")


def fmt_rate(value: float | None) -> str:
    """Bytes per second: 1234.5 → '1.2 kB/s'; None → '—'."""
    return NONE if value is None else f"{fmt_size(value)}/s"


def fmt_net_io(rx_rate: float | None, tx_rate: float | None) -> str:
    """'↓ 1.2 kB/s ↑ 300 B/s' (received, sent)."""
    return f"↓ {fmt_rate(rx_rate)} ↑ {fmt_rate(tx_rate)}"


def fmt_net_totals(rx: int | None, tx: int | None) -> str:
    """'↓ 11.2 kB ↑ 15.6 kB' (received, sent since the container started)."""
    return f"↓ {fmt_size(rx)} ↑ {fmt_size(tx)}"


MIB = 1048576


def fmt_memory(value: float | None, digits: int = 1) -> str:
    """Bytes of memory in MiB: 100663296 → '96.0 MiB'; None → '—'."""
    return NONE if value is None else f"{value / MIB:.{digits}f} MiB"
