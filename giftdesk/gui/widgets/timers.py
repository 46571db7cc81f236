"""Small timer helpers shared by the views."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer


def debounce_timer(parent: QObject, interval_ms: int, slot) -> QTimer:
    """A single-shot timer owned by ``parent``: ``start()`` again before it fires and it waits anew,
    so a burst of keystrokes or events makes one call to ``slot``."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(interval_ms)
    timer.timeout.connect(slot)
    return timer
