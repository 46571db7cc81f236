"""Events of the system side, importable without its services (the window's tray follows them
from its first paint)."""

from __future__ import annotations

from dataclasses import dataclass

from giftdesk.core.events import Event


@dataclass(frozen=True)
class BackupFailed(Event):
    """A scheduled backup did not produce a verified copy."""

    error: str


@dataclass(frozen=True)
class BackupTaken(Event):
    """A scheduled backup wrote a verified copy (a failure before it is over)."""

    path: str
