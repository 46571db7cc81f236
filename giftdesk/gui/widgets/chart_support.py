"""What every chart of the window shares: a value axis labelled like the rest of the app, the
"No data yet" message in the chart's place, the palette's colours and the hover tip.

The ranges and labels come from ``giftdesk.gui.chart_scale`` (Qt-free); here they only become
a ``QCategoryAxis``, whose labels are free text ("1,250,000", "2.5 %"), which a ``QValueAxis``
printf format cannot write.
"""

from __future__ import annotations

from PySide6.QtCharts import QCategoryAxis, QChartView
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QCursor
from PySide6.QtWidgets import QLabel, QToolTip

from giftdesk.gui import theme
from giftdesk.gui.chart_scale import Scale

MARKER_SIZE = 8.0


def value_axis() -> QCategoryAxis:
    """A y-axis whose ticks and labels ``set_scale`` writes."""
    axis = QCategoryAxis()
    axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    return axis


def set_scale(axis: QCategoryAxis, scale: Scale, unit: str = "", prefix: str = "") -> None:
    """The axis from ``scale.low`` to ``scale.high`` with a labelled tick at each of ``scale.ticks``."""
    for label in axis.categoriesLabels():
        axis.remove(label)
    axis.setRange(scale.low, scale.high)
    axis.setStartValue(scale.low)
    for value, label in zip(scale.ticks, scale.labels(unit, prefix), strict=True):
        axis.append(label, value)


def axis_labels(axis: QCategoryAxis) -> list[str]:
    """The labels a person reads on the axis, bottom to top."""
    return list(axis.categoriesLabels())


def style_chart(view: QChartView) -> None:
    """The chart on the palette's base colour, with its text and border colours (light and dark)."""
    c = theme.colors()
    base, text, grid = view.palette().base().color(), QColor(c.text), QColor(c.border)
    chart = view.chart()
    chart.setBackgroundBrush(QBrush(base))
    chart.setBackgroundRoundness(0)
    view.setBackgroundBrush(QBrush(base))
    chart.setTitleBrush(QBrush(text))
    chart.legend().setLabelColor(text)
    for axis in chart.axes():
        axis.setLabelsColor(text)
        axis.setGridLineColor(grid)
        axis.setLinePenColor(grid)
        axis.setTitleBrush(QBrush(text))


class EmptyState(QLabel):
    """A centred message in a chart's place while it has nothing to draw (the axes are hidden)."""

    def __init__(self, view: QChartView):
        super().__init__(view)
        self.view = view
        self.setObjectName("chart-empty")
        self.setProperty("role", "muted")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMargin(16)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hid_legend = False  # the legend was shown before the message hid it
        self.hide()
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        if watched is self.view and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.view.rect())
        return False

    def show_message(self, text: str | None) -> None:
        """``text``: the chart is empty and says what will fill it; None: the chart is shown."""
        chart = self.view.chart()
        for axis in chart.axes():
            axis.setVisible(text is None)
        legend = chart.legend()
        if text is None:
            if self.hid_legend:
                legend.show()
                self.hid_legend = False
            self.hide()
            return
        if legend.isVisible():
            legend.hide()
            self.hid_legend = True
        self.setText(text)
        self.setGeometry(self.view.rect())
        self.raise_()
        self.show()


def show_tip(text: str) -> None:
    """The hover tip at the mouse (``""`` hides it)."""
    if text:
        QToolTip.showText(QCursor.pos(), text)
    else:
        QToolTip.hideText()
