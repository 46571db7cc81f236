"""Python's cyclic garbage collector, run on the GUI thread only.

The collector runs on whichever thread happens to allocate past the threshold. When it finds a
QObject in a reference cycle there, the object's C++ destructor runs on that worker thread: Qt
forbids that, and in practice the destructor waits for the GIL while holding a Qt mutex that the
GUI thread (holding the GIL) waits for, and the window hangs for good.

So a GUI process turns automatic collection off and collects from a timer on the GUI thread,
generation by generation against the thresholds the automatic collector would use (the scheme
pyqtgraph and Anki use). Workers never collect. ``giftdesk serve`` has no Qt and keeps the
automatic collector.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QThread, QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

INTERVAL_MS = 500  # generation 0 grows by a few thousand objects a second at most in this app


class GuiGarbageCollector(QObject):
    """Owns the collector for the application's lifetime."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.collections = [0, 0, 0]  # how many of each generation this guard ran
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def collect_due(self) -> None:
        """Collects the generations whose counts passed their thresholds, youngest first."""
        if QThread.currentThread() is not self.thread():
            return  # never on a worker, whoever calls
        threshold0, threshold1, threshold2 = self.thresholds
        count0, count1, count2 = gc.get_count()
        if count0 <= threshold0:
            return
        generation = 0
        if count1 > threshold1:
            generation = 2 if count2 > threshold2 else 1
        gc.collect(generation)
        self.collections[generation] += 1


def install(app: QApplication) -> GuiGarbageCollector:
    """The application's collector guard (made once; later calls return the same one)."""
    guard = installed(app)
    if guard is None:
        guard = GuiGarbageCollector(app)
        guard.setObjectName("gui-garbage-collector")
        log.debug("Cyclic garbage collection runs on the GUI thread only")
    return guard


def installed(app: QApplication | None = None) -> GuiGarbageCollector | None:
    app = app or QApplication.instance()
    if app is None:
        return None
    return app.findChild(GuiGarbageCollector, "gui-garbage-collector")
