"""Work held back until a widget has been painted: what the first paint does not need waits.

A load that imports the ORM on a worker (a quarter of a second of Python) would otherwise take
the GIL from the GUI thread while it paints the first rows. The held calls run once the paint
event has been handled, or after ``LATEST_MS`` whatever happens (a window never shown).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

LATEST_MS = 1000


class AfterPaint(QObject):
    """``hold(fn)`` keeps ``fn`` until ``widget`` has painted once; ``held`` says whether it still holds."""

    def __init__(self, widget: QWidget, runner=None, parent: QObject | None = None):
        """``runner``: the job runner counts held calls as running (``JobRunner.hold_back``)."""
        super().__init__(parent)
        self._widget = widget
        self._runner = runner
        self._submitted = None
        self._calls: dict[str, Callable[[], None]] = {}
        self.held = True
        widget.installEventFilter(self)
        self._latest = QTimer(self)
        self._latest.setSingleShot(True)
        self._latest.setInterval(LATEST_MS)
        self._latest.timeout.connect(self.release)

    def hold(self, key: str, fn: Callable[[], None]) -> None:
        """Runs ``fn`` after the paint (at once when it has been); a newer call with ``key`` replaces an older one."""
        if not self.held:
            fn()
            return
        self._calls[key] = fn
        if not self._latest.isActive():
            self._latest.start()
        if self._runner is not None and self._submitted is None:
            self._submitted = self._runner.hold_back("Loading…")
            self.destroyed.connect(self._submitted)  # a view gone before its paint holds nothing back

    def eventFilter(self, obj, event) -> bool:
        if obj is self._widget and event.type() == QEvent.Type.Paint and self._calls:
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self, self.release)  # once this paint has been handled
        return False

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        self._latest.stop()
        self._widget.removeEventFilter(self)
        calls, self._calls = self._calls, {}
        try:
            for fn in calls.values():
                fn()
        finally:
            if self._submitted is not None:
                self._submitted()
