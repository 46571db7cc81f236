"""15 minutes of a tracker's CPU %, memory and network I/O (QtCharts), from the runtime's stats sampler.

The ranges and labels come from ``giftdesk.gui.chart_scale``: CPU from 0 %, memory in MiB, the
network in the unit its peak reads best in; dots on the samples while they are few (hover one for
its time and value); a message in a chart's place while it has nothing to draw.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries
from PySide6.QtCore import QDateTime, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from giftdesk.fleet.events import InstanceStatsSampled
from giftdesk.fleet.stats import STATS_INTERVAL_S
from giftdesk.fleet.units import NONE, fmt_net_io, fmt_net_totals, rate_unit
from giftdesk.gui import theme
from giftdesk.gui.chart_scale import format_value, markers_wanted, time_format, time_range, value_scale
from giftdesk.gui.widgets.chart_support import EmptyState, set_scale, show_tip, style_chart, value_axis

WINDOW_S = 15 * 60
TICKS = 4  # about this many value ticks: the three charts share the dialog's height
NOT_RUNNING = "Stats are sampled by the background runtime, which is not running."
NO_SAMPLES = (f"No samples in the last 15 minutes: the runtime samples a running tracker every "
              f"{STATS_INTERVAL_S:g} seconds")
HOST_NETWORK = "Host network: this tracker has no network counters of its own"
CPU_FIRST = "Waiting for the next sample: CPU use is measured between two"
NETWORK_FIRST = "Waiting for the next sample: the network rate is measured between two"


def _chart(title: str) -> tuple[QChartView, QLineSeries, QDateTimeAxis]:
    series = QLineSeries()
    chart = QChart()
    chart.setTitle(title)
    chart.legend().hide()
    chart.addSeries(series)
    x = QDateTimeAxis()
    x.setFormat(time_format(WINDOW_S * 1000))
    x.setTickCount(6)
    y = value_axis()
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(x)
    series.attachAxis(y)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(170)
    view.empty = EmptyState(view)
    view.y_axis = y
    return view, series, x


RX_COLOR, TX_COLOR = "#2e7d32", "#5b5bd6"


def _network_chart() -> tuple[QChartView, QLineSeries, QLineSeries, QDateTimeAxis]:
    """Received and sent bytes/s; the axis unit (B/s, kB/s, MB/s) follows the highest value shown."""
    view, rx, x = _chart("Network")
    chart = view.chart()
    rx.setName("↓ received")
    rx.setPen(QPen(QColor(RX_COLOR), 2))
    tx = QLineSeries()
    tx.setName("↑ sent")
    tx.setPen(QPen(QColor(TX_COLOR), 2))
    chart.addSeries(tx)
    tx.attachAxis(x)
    tx.attachAxis(view.y_axis)
    chart.legend().show()
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)
    return view, rx, tx, x


def _plot(series: QLineSeries, points: list[tuple[float, float]]) -> None:
    series.replace([QPointF(x, y) for x, y in points])
    series.setPointsVisible(markers_wanted([x for x, _ in points], WINDOW_S * 1000))
    series.setMarkerSize(7.0)


class StatsDialog(QDialog):
    def __init__(self, ctx, row, live, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.row = row
        self.live = live
        self.setWindowTitle(f"Stats of {row.name}")
        self.setObjectName("stats-dialog")
        self.resize(760, 720)
        layout = QVBoxLayout(self)
        self.summary = QLabel("Waiting for the first samples…")
        layout.addWidget(self.summary)
        self.cpu_view, self.cpu, self.cpu_x = _chart("CPU")
        self.memory_view, self.memory, self.memory_x = _chart("Memory")
        self.cpu_y, self.memory_y = self.cpu_view.y_axis, self.memory_view.y_axis
        self.network_unit = "B/s"
        self.network_view, self.net_rx, self.net_tx, self.network_x = _network_chart()
        self.network_y = self.network_view.y_axis
        for view in (self.cpu_view, self.memory_view, self.network_view):
            layout.addWidget(view, 1)
        self.units = {self.cpu: ("%", 2), self.memory: ("MiB", 1), self.net_rx: ("B/s", 1), self.net_tx: ("B/s", 1)}
        for series in self.units:
            series.hovered.connect(lambda point, state, s=series: self._hovered(s, point, state))
        self._retheme()
        if live is not None:
            live.want_stats(self, (row.id,))
            ctx.bridge.subscribe_batch(InstanceStatsSampled, self._on_samples, owner=self)
        else:
            self.summary.setText(NOT_RUNNING)
            for view in (self.cpu_view, self.memory_view, self.network_view):
                view.empty.show_message(NOT_RUNNING)
        self.refresh()

    def _retheme(self) -> None:
        """The charts on the palette's base colour with its text and border colours (dark too)."""
        c = theme.colors()
        for view in (self.cpu_view, self.memory_view, self.network_view):
            style_chart(view)
        self.cpu.setPen(QPen(QColor(c.accent), 2))
        self.memory.setPen(QPen(QColor("#e65100" if not c.dark else "#f5b94a"), 2))

    def _on_samples(self, events) -> None:
        if any(e.instance_id == self.row.id for e in events):
            self.refresh()

    def refresh(self) -> None:
        if self.live is None:
            return
        points = self.live.history(self.row.id)
        now = datetime.now(timezone.utc)
        points = [p for p in points if (now - p.at).total_seconds() <= WINDOW_S]
        times = [QDateTime.fromSecsSinceEpoch(int(p.at.timestamp())).toMSecsSinceEpoch() for p in points]
        cpu = [(t, p.cpu_percent) for t, p in zip(times, points) if p.cpu_percent is not None]
        memory = [(t, p.memory_bytes / 1048576) for t, p in zip(times, points)]
        _plot(self.cpu, cpu)
        _plot(self.memory, memory)
        end_ms = float(int(now.timestamp()) * 1000)
        first, last = time_range(times, end_ms - WINDOW_S * 1000, end_ms, min_span=WINDOW_S * 1000)
        for axis in (self.cpu_x, self.memory_x, self.network_x):
            axis.setRange(QDateTime.fromMSecsSinceEpoch(int(first)), QDateTime.fromMSecsSinceEpoch(int(last)))
        set_scale(self.cpu_y, value_scale([y for _, y in cpu], keep_zero=True, min_span=5.0, target_ticks=TICKS),
                  unit="%")
        set_scale(self.memory_y, value_scale([y for _, y in memory], keep_zero=True, min_span=1.0,
                                             target_ticks=TICKS), unit="MiB")
        self.cpu_view.empty.show_message(None if cpu else CPU_FIRST if points else NO_SAMPLES)
        self.memory_view.empty.show_message(None if memory else NO_SAMPLES)
        item = self.live.get(self.row.id)
        limit = (item.memory_limit or 0) / 1048576
        self._refresh_network(times, points)
        for view in (self.cpu_view, self.memory_view, self.network_view):
            style_chart(view)  # the new labels in the palette's colours
        if points:
            last_point = points[-1]
            cpu_text = f"{last_point.cpu_percent:.2f} %" if last_point.cpu_percent is not None else NONE
            text = (f"CPU {cpu_text} · memory {format_value(last_point.memory_bytes / 1048576, 1, 'MiB')}"
                    + (f" of {format_value(limit, 0, 'MiB')}" if limit else ""))
            if self.row.network == "host":
                text += " · network: host (no counters of its own)"
            elif item.net_rx is not None:
                text += (f" · network {fmt_net_io(last_point.net_rx_rate, last_point.net_tx_rate)}"
                         f" ({fmt_net_totals(item.net_rx, item.net_tx)} in all)")
            self.summary.setText(text + f" · {len(points):,} sample{'s' if len(points) != 1 else ''}")

    def _refresh_network(self, times: list[int], points) -> None:
        """A gap (no rate: the first sample, a restart) breaks neither series: those points are left out."""
        peak = max([p.net_rx_rate or 0.0 for p in points] + [p.net_tx_rate or 0.0 for p in points] + [0.0])
        unit, divisor = rate_unit(peak)
        shown: list[float] = []
        host = self.row.network == "host"  # no counters of its own
        for series, rate in ((self.net_rx, lambda p: p.net_rx_rate), (self.net_tx, lambda p: p.net_tx_rate)):
            values = [] if host else [(t, rate(p) / divisor) for t, p in zip(times, points) if rate(p) is not None]
            _plot(series, values)
            shown += [y for _, y in values]
            self.units[series] = (unit, 1)
        set_scale(self.network_y, value_scale(shown, keep_zero=True, min_span=1.0, target_ticks=TICKS), unit=unit)
        self.network_unit = unit
        if host:
            message = HOST_NETWORK
        elif shown:
            message = None
        else:
            message = NETWORK_FIRST if points else NO_SAMPLES
        self.network_view.empty.show_message(message)

    def _hovered(self, series: QLineSeries, point: QPointF, state: bool) -> None:
        show_tip(self.point_text(series, point) if state else "")

    def point_text(self, series: QLineSeries, point: QPointF) -> str:
        """The sample nearest the mouse on ``series``: its time and value."""
        samples = series.points()
        if not samples:
            return ""
        nearest = min(samples, key=_distance_on_screen(series, point))
        unit, decimals = self.units[series]
        at = QDateTime.fromMSecsSinceEpoch(int(nearest.x())).toString("HH:mm:ss")
        name = f"{series.name()} " if series.name() else ""
        return f"{at} · {name}{format_value(nearest.y(), decimals, unit)}"

    def done(self, result: int) -> None:
        if self.live is not None:
            self.live.release_stats(self)
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        if self.live is not None:
            self.live.release_stats(self)
        super().closeEvent(event)


def _distance_on_screen(series: QLineSeries, mouse: QPointF):
    """How far a sample's dot is from the mouse, in pixels: two samples a second apart on a
    long time axis share a column, and the one pointed at is then told by its height."""
    chart = series.chart()
    if chart is None:
        return lambda p: abs(p.x() - mouse.x())
    at = chart.mapToPosition(mouse, series)
    return lambda p: (chart.mapToPosition(p, series) - at).manhattanLength()
