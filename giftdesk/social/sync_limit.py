"""The sync route's rate limit, kept in PostgreSQL so that every endpoint on the database shares it.

Several ``giftdesk serve`` processes behind a load balancer each see only some of a profile's
syncs; a limit counted in each process's memory would let N processes accept N times the limit.
``DatabaseSyncLimiter`` counts in one row per account (``social_sync_windows``): one statement
creates or locks the row and returns the syncs it holds with the database's clock, the window
is computed here exactly as ``SlidingWindowLimiter`` does, and the row is rewritten before the
commit releases the lock. Two endpoints asking at once are thereby served one after the other:
10 allowed, the 11th refused, whichever process gets them.

The database's clock (not each host's) decides what a minute is, so hosts whose clocks differ
still agree; a clock can be injected for tests.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Engine

# ON CONFLICT … DO UPDATE locks an existing row (a new one is locked by its insert) and hands back
# what it holds; the no-op SET leaves it as it was.
_LOCK_WINDOW = text(
    "INSERT INTO social_sync_windows (account_id, recent) VALUES (:key, '') "
    "ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id "
    "RETURNING recent, extract(epoch FROM clock_timestamp())"
)
# Durability is not worth a second WAL flush per sync: a crash may forget the last minute's count
# (the worst is a few syncs more, once); what other sessions see is not delayed by it.
_NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit TO OFF")
_STORE_WINDOW = text("UPDATE social_sync_windows SET recent = :recent WHERE account_id = :key")


class DatabaseSyncLimiter:
    """At most ``limit`` hits per ``window`` seconds per account id, across processes (PostgreSQL)."""

    def __init__(self, engine: Engine, limit: int, window: float, clock: Callable[[], float] | None = None):
        self.engine = engine
        self.limit = limit
        self.window = window
        self.clock = clock

    def hit(self, key: int) -> tuple[float | None, int, float]:
        """Counts one hit unless over the limit: (retry after or None, hits left, seconds to reset)."""
        with self.engine.begin() as connection:
            connection.execute(_NO_FLUSH_WAIT)
            recent, database_now = connection.execute(_LOCK_WINDOW, {"key": key}).one()
            now = self.clock() if self.clock is not None else float(database_now)
            hits = [at for at in map(float, recent.split()) if at > now - self.window]
            if len(hits) >= self.limit:
                wait = max(0.0, hits[0] + self.window - now)
                return wait, 0, wait
            hits.append(now)
            # repr() writes the shortest text that reads back as the same float.
            connection.execute(_STORE_WINDOW, {"key": key, "recent": " ".join(map(repr, hits))})
        return None, self.limit - len(hits), hits[0] + self.window - now

    def hit_all_or_none(self, key: int, count: int) -> float | None:
        """Counts ``count`` hits when all fit in the window, else none (a batch sync is one request):
        the wait, or None when counted."""
        with self.engine.begin() as connection:
            connection.execute(_NO_FLUSH_WAIT)
            recent, database_now = connection.execute(_LOCK_WINDOW, {"key": key}).one()
            now = self.clock() if self.clock is not None else float(database_now)
            hits = [at for at in map(float, recent.split()) if at > now - self.window]
            if len(hits) + count > self.limit:
                if not hits:
                    return self.window
                return max(0.0, hits[min(len(hits) - 1, len(hits) + count - self.limit - 1)] + self.window - now)
            hits.extend([now] * count)
            connection.execute(_STORE_WINDOW, {"key": key, "recent": " ".join(map(repr, hits))})
        return None
