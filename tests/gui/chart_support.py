"""What the chart tests share: hovering a point as a person does, and where points are drawn."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QToolTip


def hover_until(qtbot, view, where, says) -> None:
    """Moves the mouse onto ``where()`` (the chart may still be laying itself out) until the tip ``says``."""
    QToolTip.hideText()  # a tip left by an earlier chart
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=5000)

    def attempt() -> bool:
        at = where()
        qtbot.mouseMove(view.viewport(), at + QPoint(0, 40))  # from off the point onto it
        qtbot.mouseMove(view.viewport(), at)
        return QToolTip.isVisible() and says(QToolTip.text())

    qtbot.waitUntil(attempt, timeout=5000)


def assert_inside(chart, series, margin: float = 4.0) -> None:
    """Every point of ``series`` inside the plot, off its left and right edges and under its top."""
    area = chart.plotArea()
    for point in series.points():
        at = chart.mapToPosition(point, series)
        assert area.left() + margin < at.x() < area.right() - margin, (at, area)
        assert area.top() + margin < at.y() <= area.bottom(), (at, area)
