"""Carries domain events (published on any thread) to the GUI thread.

    ctx.bridge.subscribe(CustomerChanged, self._on_customer, owner=self)
    ctx.bridge.subscribe_batch(KeysAccessed, self._on_accessed, owner=self)

``subscribe`` delivers each event, in publishing order. ``subscribe_batch`` is for coalesced
types (``Event.coalesce``): at most one call per frame with the newest event per
``coalesce_key``, so a thousand stats samples a second cost the GUI sixty calls. A subscription
ends when its owner (a QObject) is destroyed; nothing is delivered to a deleted widget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from giftdesk.core.events import Event, EventBus

log = logging.getLogger(__name__)

FRAME_MS = 16


class _Subscription:
    __slots__ = ("event_type", "handler", "owner", "batch")

    def __init__(self, event_type: type, handler: Callable, owner: QObject | None, batch: bool):
        self.event_type, self.handler, self.owner, self.batch = event_type, handler, owner, batch

    def alive(self) -> bool:
        return self.owner is None or shiboken6.isValid(self.owner)


class EventBridge(QObject):
    _wake = Signal()  # emitted from publisher threads; queued to the GUI thread

    def __init__(self, bus: EventBus, parent=None):
        super().__init__(parent)
        self._queue: deque[Event] = deque()
        self._queue_lock = threading.Lock()
        self._woken = False
        self._subscriptions: list[_Subscription] = []
        self._pending_batches: dict[tuple[type, Any], Event] = {}
        self._frame = QTimer(self)
        self._frame.setSingleShot(True)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._deliver_batches)
        self._last_batches = 0.0  # monotonic time of the last batch delivery
        self._wake.connect(self._drain)
        self._unsubscribe = bus.subscribe(Event, self._on_publish)
        self.delivered = 0  # events handed to handlers (tests, diagnostics)

    # ---- subscribing (GUI thread) ----------------------------------------------------------
    def subscribe(self, event_type: type, handler: Callable[[Any], None], owner: QObject | None = None) -> None:
        self._add(_Subscription(event_type, handler, owner, batch=False))

    def subscribe_batch(self, event_type: type, handler: Callable[[list], None], owner: QObject | None = None) -> None:
        self._add(_Subscription(event_type, handler, owner, batch=True))

    def _add(self, subscription: _Subscription) -> None:
        self._subscriptions.append(subscription)
        owner = subscription.owner
        if owner is not None:
            owner.destroyed.connect(lambda *_: self._drop_owner(owner))

    def _drop_owner(self, owner: QObject) -> None:
        self._subscriptions = [s for s in self._subscriptions if s.owner is not owner]

    # ---- delivery ------------------------------------------------------------------------
    def _on_publish(self, event: Event) -> None:  # any thread
        with self._queue_lock:
            self._queue.append(event)
            if self._woken:
                return
            self._woken = True
        self._wake.emit()

    def _drain(self) -> None:
        with self._queue_lock:
            events = list(self._queue)
            self._queue.clear()
            self._woken = False
        coalesced = False
        for event in events:
            if event.coalesce:
                self._pending_batches[(type(event), event.coalesce_key)] = event
                coalesced = True
            self._dispatch(event, batch=False, payload=event)
        if coalesced and not self._frame.isActive():
            # At most one batch a frame, but the first after a quiet spell goes at once: a
            # change made outside (``docker stop``) shows without waiting out a frame.
            wait_ms = FRAME_MS - (time.monotonic() - self._last_batches) * 1000
            if wait_ms <= 0:
                self._deliver_batches()
            else:
                self._frame.start(max(1, int(wait_ms)))

    def _deliver_batches(self) -> None:
        self._last_batches = time.monotonic()
        pending, self._pending_batches = self._pending_batches, {}
        by_type: dict[type, list[Event]] = {}
        for (event_type, _key), event in pending.items():
            by_type.setdefault(event_type, []).append(event)
        for events in by_type.values():
            self._dispatch(events[0], batch=True, payload=events)

    def _dispatch(self, sample: Event, batch: bool, payload: Any) -> None:
        for subscription in list(self._subscriptions):
            if subscription.batch != batch or not isinstance(sample, subscription.event_type):
                continue
            if not subscription.alive():
                continue
            try:
                subscription.handler(payload)
                self.delivered += 1
            except Exception as exc:  # one broken view must not starve the others; the error route shows it
                log.exception("GUI handler for %s failed", type(sample).__name__)
                from giftdesk.gui.errors import ErrorRoute

                ErrorRoute.report(exc)

    def flush(self) -> None:
        """Deliver what is queued now, batches included (tests; before closing a view)."""
        self._drain()
        self._frame.stop()
        self._deliver_batches()

    def close(self) -> None:
        # Dropping the bus's handle breaks the bridge -> unsubscribe -> bound method -> bridge
        # cycle, so a closed bridge goes with its last reference instead of waiting for the
        # collector.
        unsubscribe, self._unsubscribe = self._unsubscribe, _nothing
        unsubscribe()
        self._frame.stop()
        self._subscriptions.clear()
        self._pending_batches.clear()
        with self._queue_lock:
            self._queue.clear()


def _nothing() -> None:
    pass
