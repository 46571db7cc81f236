"""Token buckets keyed by account id (requests) or client address (failed authentications)."""

from __future__ import annotations

import math
import time
from collections.abc import Hashable


class TokenBuckets:
    """One bucket per key: ``capacity`` tokens, refilled at ``per_minute / 60`` tokens a second.

    The capacity is a minute's worth, so a tracker may burst at start-up (load everything) and
    then settles at the steady rate. Used from the event-loop thread only; ``configure`` may be
    called from any thread (it swaps two floats).
    """

    __slots__ = ("per_minute", "capacity", "rate", "_buckets")

    def __init__(self, per_minute: float):
        self.per_minute = per_minute
        self.capacity = 1.0
        self.rate = 1.0
        self._buckets: dict[Hashable, list[float]] = {}
        self.configure(per_minute)

    def configure(self, per_minute: float) -> None:
        if not per_minute or per_minute <= 0:
            raise ValueError("A rate limit must be a positive number of requests per minute.")
        self.per_minute = per_minute
        self.capacity = float(per_minute)
        self.rate = float(per_minute) / 60.0

    def take(self, key: Hashable, now: float | None = None) -> float:
        """Takes one token: returns 0.0 when allowed, else the seconds until a token is there."""
        if now is None:
            now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = [self.capacity - 1.0, now]
            return 0.0
        tokens = bucket[0] + (now - bucket[1]) * self.rate
        if tokens > self.capacity:
            tokens = self.capacity
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def prune(self, now: float | None = None) -> None:
        """Forgets full buckets (they behave exactly like absent ones)."""
        if now is None:
            now = time.monotonic()
        full = [key for key, (tokens, at) in self._buckets.items() if tokens + (now - at) * self.rate >= self.capacity]
        for key in full:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_seconds(wait: float) -> int:
    """``Retry-After`` is whole seconds; round up so a client that obeys it is not refused again."""
    return max(1, math.ceil(wait))
