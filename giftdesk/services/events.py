"""A small thread-safe publish/subscribe bus between the domain layer and its front ends.

The endpoint thread publishes "tracker data saved", the key service "key regenerated"; the GUI
bridges topics to Qt signals (queued onto its own thread), the fleet recreates containers.
Subscribers run on the publisher's thread and must not block.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# Topics, with the payload keys each carries.
CUSTOMERS_CHANGED = "customers.changed"  # customer_id
ACCOUNTS_CHANGED = "accounts.changed"  # account_id, customer_id
KEY_CHANGED = "key.changed"  # account_id, action (generated|regenerated|activated|deactivated|url|deleted)
KEY_REGENERATED = "key.regenerated"  # account_id
KEYS_ACCESSED = "keys.accessed"  # accessed: {account_id: datetime}
TRACKER_DATA_SAVED = "tracker_data.saved"  # account_id, data_type, source ("tracker" | "console")
SETTINGS_CHANGED = "settings.changed"  # keys

Handler = Callable[[str, dict[str, Any]], None]


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, topic: str, handler: Handler) -> Callable[[], None]:
        """Register ``handler(topic, payload)``; ``"*"`` receives every topic. Returns an unsubscribe."""
        with self._lock:
            self._handlers[topic].append(handler)

        def unsubscribe() -> None:
            with self._lock:
                if handler in self._handlers[topic]:
                    self._handlers[topic].remove(handler)

        return unsubscribe

    def publish(self, topic: str, **payload: Any) -> None:
        with self._lock:
            handlers = list(self._handlers.get(topic, ())) + list(self._handlers.get("*", ()))
        for handler in handlers:
            try:
                handler(topic, payload)
            except Exception:  # one broken subscriber must not break the publisher
                log.exception("Event handler for %s failed", topic)
