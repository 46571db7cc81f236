"""Login throttling, read from the audit log: every wrong password is an ``admin.login_failed``
entry for the name that was typed, so the count is shared by every window and process on the
database, survives a restart and is there for an admin to read.

The failures that count are those in the last ``WINDOW`` since the name's last successful login or
an admin's unlock. From the ``SLOW_AFTER``-th failure on, the next try must wait (1 s, 2 s, 4 s,
at most ``MAX_PAUSE``: a pause the caller is told about, not a sleeping thread); at ``MAX_FAILURES``
the name is locked for ``LOCKOUT`` after the last failure. Unknown names are counted alike, so
the answers do not tell which names exist. A try refused for a pause or a lock checks no password
and is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from giftdesk.db.models import Administrator, AuditEntry

FAILED = "admin.login_failed"
LOCKED = "admin.locked"
UNLOCKED = "admin.unlock"
TARGET = "login"  # audit target type; the target id is the typed name, lower-cased
WINDOW = timedelta(minutes=15)
SLOW_AFTER = 3
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)
MAX_PAUSE = timedelta(seconds=8)
MAX_NAME = 64


def login_key(username: str | None) -> str:
    return (username or "").strip().lower()[:MAX_NAME]


@dataclass(frozen=True)
class Standing:
    """A name's recent failures and what they mean for its next try."""

    failures: int
    last_failure: datetime | None

    def pause(self) -> timedelta:
        """How long after the last failure the next try waits."""
        if self.failures >= MAX_FAILURES:
            return LOCKOUT
        if self.failures < SLOW_AFTER:
            return timedelta(0)
        return min(timedelta(seconds=2 ** (self.failures - SLOW_AFTER)), MAX_PAUSE)

    def locked(self) -> bool:
        return self.failures >= MAX_FAILURES

    def waits_until(self) -> datetime | None:
        """When the next try is allowed, or None when it is allowed now (as of the last failure)."""
        if self.last_failure is None or not self.pause():
            return None
        return self.last_failure + self.pause()


def standing(session, username: str, now: datetime) -> Standing:
    key = login_key(username)
    since = now - WINDOW
    last_login = session.scalar(select(Administrator.last_login_at)
                                .where(func.lower(Administrator.username) == key))
    last_unlock = session.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.action == UNLOCKED, AuditEntry.target_type == TARGET, AuditEntry.target_id == key))
    for reset in (last_login, last_unlock):
        if reset is not None and reset > since:
            since = reset
    count, last = session.execute(select(func.count(), func.max(AuditEntry.at)).where(
        AuditEntry.action == FAILED, AuditEntry.target_type == TARGET, AuditEntry.target_id == key,
        AuditEntry.at > since)).one()
    return Standing(int(count), last)


def wait_text(until: datetime, now: datetime) -> str:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"
