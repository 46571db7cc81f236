"""15 minutes of a tracker's CPU % and memory (QtCharts), from the runtime's stats sampler."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from giftdesk.fleet.events import InstanceStatsSampled

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
    view.setMinimumHeight(200)
    return view, series, x, y


class StatsDialog(QDialog):
    def __init__(self, ctx, row, live, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.row = row
        self.live = live
        self.setWindowTitle(f"Stats of {row.name}")
        self.setObjectName("stats-dialog")
        self.resize(760, 560)
        layout = QVBoxLayout(self)
        self.summary = QLabel("Waiting for the first samples…")
        layout.addWidget(self.summary)
        self.cpu_view, self.cpu, self.cpu_x, self.cpu_y = _chart("CPU", " %")
        self.memory_view, self.memory, self.memory_x, self.memory_y = _chart("Memory", " MiB")
        layout.addWidget(self.cpu_view)
        layout.addWidget(self.memory_view)
        if live is not None:
            live.want_stats(self, (row.id,))
            ctx.bridge.subscribe_batch(InstanceStatsSampled, self._on_samples, owner=self)
        else:
            self.summary.setText("Stats are sampled by the background runtime, which is not running.")
        self.refresh()

    def _on_samples(self, events) -> None:
        if any(e.instance_id == self.row.id for e in events):
            self.refresh()

    def refresh(self) -> None:
        if self.live is None:
            return
        points = self.live.history(self.row.id)
        now = datetime.now(timezone.utc)
        points = [p for p in points if (now - p.at).total_seconds() <= WINDOW_S]
        cpu = [(QDateTime.fromSecsSinceEpoch(int(p.at.timestamp())).toMSecsSinceEpoch(), p.cpu_percent or 0.0)
               for p in points]
        memory = [(QDateTime.fromSecsSinceEpoch(int(p.at.timestamp())).toMSecsSinceEpoch(), p.memory_bytes / 1048576)
                  for p in points]
        from PySide6.QtCore import QPointF

        self.cpu.replace([QPointF(x, y) for x, y in cpu])
        self.memory.replace([QPointF(x, y) for x, y in memory])
        start = QDateTime.fromSecsSinceEpoch(int(now.timestamp()) - WINDOW_S)
        end = QDateTime.fromSecsSinceEpoch(int(now.timestamp()))
        for axis in (self.cpu_x, self.memory_x):
            axis.setRange(start, end)
        self.cpu_y.setMax(max([5.0] + [y * 1.2 for _, y in cpu]))
        item = self.live.get(self.row.id)
        limit = (item.memory_limit or 0) / 1048576
        self.memory_y.setMax(max([limit or 64.0] + [y * 1.2 for _, y in memory]))
        if points:
            last = points[-1]
            cpu_text = f"{last.cpu_percent:.2f} %" if last.cpu_percent is not None else "–"
            self.summary.setText(f"CPU {cpu_text} · memory {last.memory_bytes / 1048576:.1f} MiB"
                                 + (f" of {limit:.0f} MiB" if limit else "") + f" · {len(points)} samples")

    def done(self, result: int) -> None:
        if self.live is not None:
            self.live.release_stats(self)
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt)
        if self.live is not None:
            self.live.release_stats(self)
        super().closeEvent(event)
