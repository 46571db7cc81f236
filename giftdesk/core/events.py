"""Typed domain events on a small thread-safe bus, between the domain layer and its front ends.

One frozen dataclass per event type. The events here are the infrastructure's (settings, a
restored database, the runtime's service states); each feature declares its own in its
``events.py``. Publishers call ``bus.publish(CustomerChanged(7))``;
subscribers register per type, optionally with an ``owner`` whose subscriptions are dropped
together (``bus.unsubscribe_owner(owner)``). A subscription to ``Event`` receives every event.
Handlers run on the publisher's thread and must not block; the GUI's bridge queues them onto its
own thread and, for types with ``coalesce = True`` (high rates: container stats, order status),
delivers at most one batch per frame holding the newest event per ``coalesce_key``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E", bound="Event")


@dataclass(frozen=True)
class Event:
    coalesce: ClassVar[bool] = False

    @property
    def coalesce_key(self) -> Any:
        """Within one frame, a newer event with the same key replaces an older one."""
        return self


# ---- settings and the database --------------------------------------------------------------
@dataclass(frozen=True)
class SettingsChanged(Event):
    keys: tuple[str, ...]


@dataclass(frozen=True)
class DatabaseReplaced(Event):
    """A backup was restored: every view reloads; services drop their caches."""

    source: str


# ---- the runtime ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceStatusChanged(Event):
    coalesce: ClassVar[bool] = True
    name: str
    status: Any  # giftdesk.core.service.ServiceStatus

    @property
    def coalesce_key(self) -> Any:
        return self.name


Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[tuple[type, Handler, Any]] = []

    def subscribe(self, event_type: type[E], handler: Callable[[E], None], owner: Any = None) -> Callable[[], None]:
        """``handler(event)`` for every published instance of ``event_type`` (or a subclass)."""
        if not (isinstance(event_type, type) and issubclass(event_type, Event)):
            raise TypeError(f"subscribe to an Event type, not {event_type!r}")
        entry = (event_type, handler, owner)
        with self._lock:
            self._subscriptions.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscriptions:
                    self._subscriptions.remove(entry)

        return unsubscribe

    def unsubscribe_owner(self, owner: Any) -> None:
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s[2] is not owner]

    def publish(self, event: Event) -> None:
        if not isinstance(event, Event):
            raise TypeError(f"not an Event: {event!r}")
        with self._lock:
            handlers = [h for t, h, _o in self._subscriptions if isinstance(event, t)]
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # one broken subscriber must not break the publisher
                log.exception("Event handler for %s failed", type(event).__name__)
