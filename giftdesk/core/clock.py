"""Clock helpers shared by every feature: ISO text for stored times, times of day and time zones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from giftdesk.core.errors import ValidationError


def iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 text for rows and JSON; None stays None."""
    return value.isoformat() if value else None


def parse_time_of_day(text: str) -> tuple[int, int]:
    """``"08:30"`` → (8, 30); a clear sentence for anything else."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
    except (ValueError, AttributeError):
        raise ValidationError(f"{text!r} is not a time of day; use HH:MM, e.g. 08:30.", field="time") from None
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValidationError(f"{text!r} is not a time of day; use HH:MM between 00:00 and 23:59.", field="time")
    return hours, minutes


def resolve_zone(name: str | None) -> tzinfo:
    """An IANA zone name, or the machine's local zone for ''/None."""
    if not name:
        return datetime.now().astimezone().tzinfo or timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # here: its import is not start-up's

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{name!r} is not a time zone this machine knows (e.g. Europe/Berlin).",
                              field="time zone") from None


def next_daily(after: datetime, hours: int, minutes: int, zone: tzinfo) -> datetime:
    """The first wall-clock HH:MM in ``zone`` strictly after ``after`` (aware), as UTC.

    On a spring-forward day a time that does not exist runs at the first minute after the gap;
    on a fall-back day a time that happens twice runs once (the first)."""
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(3):
        naive = datetime(day.year, day.month, day.day, hours, minutes)
        candidate = naive.replace(tzinfo=zone, fold=0)
        # A non-existent local time round-trips to another wall time: move past the gap.
        roundtrip = candidate.astimezone(timezone.utc).astimezone(zone)
        if roundtrip.replace(tzinfo=None) != naive:
            candidate = roundtrip
        if candidate.astimezone(timezone.utc) > after.astimezone(timezone.utc):
            return candidate.astimezone(timezone.utc)
        day += timedelta(days=1)
    raise AssertionError("unreachable: a day always has the time")
