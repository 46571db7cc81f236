"""The accounts feature's events: customers, TikTok accounts, tracker keys and tracker data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from giftdesk.core.events import Event


@dataclass(frozen=True)
class CustomerChanged(Event):
    customer_id: int | None  # None: many or unknown (after a restore)


@dataclass(frozen=True)
class AccountChanged(Event):
    account_id: int
    customer_id: int | None


@dataclass(frozen=True)
class KeyChanged(Event):
    """``action``: generated | regenerated | activated | deactivated | url | deleted."""

    account_id: int
    action: str

    @property
    def replaces_key(self) -> bool:
        """The key trackers hold no longer works (the fleet offers to recreate the tracker)."""
        return self.action in ("regenerated", "deactivated", "deleted")


@dataclass(frozen=True)
class KeysAccessed(Event):
    """Last-access times, flushed by the tracker gateway about once a second."""

    accessed: dict[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackerDataSaved(Event):
    account_id: int
    data_type: str
    source: str  # "tracker" | "console"
