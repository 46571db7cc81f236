"""Which part of a tracker's log to show: the last N lines, or everything since a moment.

The engine takes either ``tail`` or ``since`` (both at once would mean "the last N of those since
T", which nobody asks for); a moment is sent in UTC, and "today" means since midnight where the
person is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from giftdesk.core.errors import ValidationError
from giftdesk.core.wording import counted

MAX_TAIL = 1_000_000
# (key, label) in the order a person picks them
SINCE_PRESETS = (("5m", "5 minutes"), ("1h", "1 hour"), ("today", "Today"), ("24h", "24 hours"))
_SPANS = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1), "24h": timedelta(hours=24)}


def since_preset(key: str, now: datetime | None = None) -> datetime:
    """The UTC moment a preset means, ``now`` (aware) or the current time."""
    now = (now or datetime.now(timezone.utc)).astimezone()  # local: "today" starts at local midnight
    if key == "today":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.astimezone(timezone.utc)
    try:
        return (now - _SPANS[key]).astimezone(timezone.utc)
    except KeyError:
        raise ValidationError(f"'{key}' is not a log range: use one of "
                              f"{', '.join(k for k, _ in SINCE_PRESETS)}.", field="since") from None


_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """A moment typed as text (the CLI's ``--since``): '10m', '2h', '30s', '1d' ago, 'today'
    (local midnight), or an ISO date/time (local unless it says). None for no text."""
    if not text:
        return None
    typed = text.strip().lower()
    if typed == "today":
        return since_preset("today", now)
    found = _RELATIVE.match(typed)
    if found:
        seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
        return (now or datetime.now(timezone.utc)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"'{text}' is not a time: use e.g. 10m, 2h, 1d, today or 2026-11-28T08:00.",
                              field="since") from None
    return moment if moment.tzinfo else moment.astimezone()


@dataclass(frozen=True)
class LogRange:
    """``tail`` lines, or everything since ``since`` (aware UTC); never both."""

    tail: int | None = 500
    since: datetime | None = None

    @classmethod
    def last(cls, lines: int) -> "LogRange":
        if not 0 <= lines <= MAX_TAIL:
            raise ValidationError(f"The number of lines must be between 0 and {MAX_TAIL:,}.", field="tail")
        return cls(tail=lines, since=None)

    @classmethod
    def since_moment(cls, moment: datetime, now: datetime | None = None) -> "LogRange":
        if moment.tzinfo is None:
            raise ValidationError("A log time needs its time zone.", field="since")
        now = now or datetime.now(timezone.utc)
        if moment > now + timedelta(seconds=1):
            raise ValidationError("The log cannot start in the future.", field="since")
        return cls(tail=None, since=moment.astimezone(timezone.utc))

    def describe(self) -> str:
        if self.since is None:
            return f"the last {counted(self.tail, 'line')}"
        return f"since {self.since.astimezone():%Y-%m-%d %H:%M:%S}"
