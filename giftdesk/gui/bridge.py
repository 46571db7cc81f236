"""Carries domain events (published on any thread) to the GUI thread as a Qt signal."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from giftdesk.services.events import EventBus


class EventBridge(QObject):
    # Emitted from the publisher's thread; Qt queues it to receivers living on the GUI thread.
    event = Signal(str, object)

    def __init__(self, bus: EventBus, parent=None):
        super().__init__(parent)
        self._unsubscribe = bus.subscribe("*", lambda topic, payload: self.event.emit(topic, payload))

    def close(self) -> None:
        self._unsubscribe()
