"""15 minutes of a tracker's CPU %, memory and network I/O (QtCharts), from the runtime's stats sampler."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from giftdesk.fleet.events import InstanceStatsSampled
from giftdesk.fleet.units import NONE, fmt_net_io, fmt_net_totals, rate_unit
from giftdesk.gui import theme

WINDOW_S = 15 * 60


def _chart(title: str, unit: str) -> tuple[QChartView, QLineSeries, QDateTimeAxis, QValueAxis]:
    series = QLineSeries()
    chart = QChart()
    chart.setTitle(title)
    chart.legend().hide()
    chart.addSeries(series)
    x = QDateTimeAxis()
    x.setFormat("HH:mm")
    x.setTickCount(6)
    y = QValueAxis()
    y.setLabelFormat(f"%.1f{unit}")
    y.setMin(0)
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(x)
    series.attachAxis(y)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(170)
    return view, series, x, y


RX_COLOR, TX_COLOR = "#2e7d32", "#5b5bd6"


def _network_chart() -> tuple[QChartView, QLineSeries, QLineSeries, QDateTimeAxis, QValueAxis]:
    """Received and sent bytes/s; the axis unit (B/s, kB/s, MB/s) follows the highest value shown."""
    view, rx, x, y = _chart("Network", " B/s")
    chart = view.chart()
    rx.setName("↓ received")
    rx.setPen(QPen(QColor(RX_COLOR), 2))
    tx = QLineSeries()
    tx.setName("↑ sent")
    tx.setPen(QPen(QColor(TX_COLOR), 2))
    chart.addSeries(tx)
    tx.attachAxis(x)
    tx.attachAxis(y)
    chart.legend().show()
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignTop)
    return view, rx, tx, x, y


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
        self.cpu_view, self.cpu, self.cpu_x, self.cpu_y = _chart("CPU", " %")
        self.memory_view, self.memory, self.memory_x, self.memory_y = _chart("Memory", " MiB")
        self.network_unit = "B/s"
        self.network_view, self.net_rx, self.net_tx, self.network_x, self.network_y = _network_chart()
        for view in (self.cpu_view, self.memory_view, self.network_view):
            layout.addWidget(view, 1)
        self._retheme()
        if live is not None:
            live.want_stats(self, (row.id,))
            ctx.bridge.subscribe_batch(InstanceStatsSampled, self._on_samples, owner=self)
        else:
            self.summary.setText("Stats are sampled by the background runtime, which is not running.")
        self.refresh()

    def _retheme(self) -> None:
        """The charts on the palette's base colour with its text and border colours (dark too)."""
        c = theme.colors()
        base, text, grid = self.palette().base().color(), QColor(c.text), QColor(c.border)
        for view in (self.cpu_view, self.memory_view, self.network_view):
            chart = view.chart()
            chart.setBackgroundBrush(QBrush(base))
            view.setBackgroundBrush(QBrush(base))
            chart.setTitleBrush(QBrush(text))
            chart.legend().setLabelColor(text)
            for axis in chart.axes():
                axis.setLabelsColor(text)
                axis.setGridLineColor(grid)
                axis.setLinePenColor(grid)
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
        cpu = [(t, p.cpu_percent or 0.0) for t, p in zip(times, points)]
        memory = [(t, p.memory_bytes / 1048576) for t, p in zip(times, points)]
        self.cpu.replace([QPointF(x, y) for x, y in cpu])
        self.memory.replace([QPointF(x, y) for x, y in memory])
        start = QDateTime.fromSecsSinceEpoch(int(now.timestamp()) - WINDOW_S)
        end = QDateTime.fromSecsSinceEpoch(int(now.timestamp()))
        for axis in (self.cpu_x, self.memory_x, self.network_x):
            axis.setRange(start, end)
        self.cpu_y.setMax(max([5.0] + [y * 1.2 for _, y in cpu]))
        item = self.live.get(self.row.id)
        limit = (item.memory_limit or 0) / 1048576
        self.memory_y.setMax(max([limit or 64.0] + [y * 1.2 for _, y in memory]))
        self._refresh_network(times, points)
        if points:
            last = points[-1]
            cpu_text = f"{last.cpu_percent:.2f} %" if last.cpu_percent is not None else NONE
            text = (f"CPU {cpu_text} · memory {last.memory_bytes / 1048576:.1f} MiB"
                    + (f" of {limit:.0f} MiB" if limit else ""))
            if self.row.network == "host":
                text += " · network: host (no counters of its own)"
            elif item.net_rx is not None:
                text += (f" · network {fmt_net_io(last.net_rx_rate, last.net_tx_rate)}"
                         f" ({fmt_net_totals(item.net_rx, item.net_tx)} in all)")
            self.summary.setText(text + f" · {len(points)} samples")

    def _refresh_network(self, times: list[int], points) -> None:
        """A gap (no rate: the first sample, a restart) breaks neither series: those points are left out."""
        peak = max([p.net_rx_rate or 0.0 for p in points] + [p.net_tx_rate or 0.0 for p in points] + [0.0])
        unit, divisor = rate_unit(peak)
        for series, rate in ((self.net_rx, lambda p: p.net_rx_rate), (self.net_tx, lambda p: p.net_tx_rate)):
            series.replace([QPointF(t, rate(p) / divisor) for t, p in zip(times, points) if rate(p) is not None])
        self.network_y.setRange(0.0, max(1.0, peak / divisor * 1.2))
        self.network_y.applyNiceNumbers()  # ticks at round values of the unit
        self.network_y.setLabelFormat(f"%.0f {unit}" if self.network_y.max() >= 10 else f"%.1f {unit}")
        self.network_unit = unit

    def done(self, result: int) -> None:
        if self.live is not None:
            self.live.release_stats(self)
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        if self.live is not None:
            self.live.release_stats(self)
        super().closeEvent(event)
