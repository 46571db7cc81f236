"""Is a process that wrote something down still the one running? (runtime.json, the fleet's journal)

A pid alone is not enough: pids are reused. A process is named by its pid and its start time,
this boot's id and the kernel's clock ticks since boot (``/proc/<pid>/stat`` field 22).
"""

from __future__ import annotations

import os
from pathlib import Path


def process_start(pid: int) -> str | None:
    """When process ``pid`` started; None where /proc does not tell (not Linux, or it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        after_name = stat[stat.rindex(")") + 2:].split()  # the name may hold spaces and parentheses
        return f"{boot}/{after_name[19]}"  # after the name, field 3 is index 0
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: object) -> bool:
    """Whether a process with this pid exists (it may belong to someone else)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def same_process(pid: object, recorded_start: str | None) -> bool:
    """The process ``pid`` lives and is the one that recorded ``recorded_start`` (when either
    start time is unknown, a living pid has to do)."""
    if not pid_alive(pid):
        return False
    current = process_start(pid)  # type: ignore[arg-type]
    return not recorded_start or current is None or recorded_start == current
