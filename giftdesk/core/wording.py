"""Counts in sentences: "1 order", "2 orders", "1,000 orders"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def age_text(moment, now=None) -> str:
    """How long ago, in the largest whole unit: "just now", "5 minutes ago", "3 days ago"."""
    from datetime import UTC, datetime

    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            return f"{counted(seconds // size, unit)} ago"
    raise AssertionError("unreachable")
