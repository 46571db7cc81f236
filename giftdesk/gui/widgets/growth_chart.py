"""A profile's followers (or engagement) per platform over time, drawn with QtCharts.

``set_series`` takes what ``SocialService.growth`` returns; each platform is one line, filled in
one ``QLineSeries.replace`` call (a point at a time would cost a signal per point).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, QMargins, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from giftdesk.gui import theme
from giftdesk.social.validation import display_name

# One colour per platform, readable on light and dark backgrounds.
# TikTok as its cyan-teal: its pink would clash with Instagram's.
PLATFORM_COLORS = {"tiktok": "#25a6a0", "instagram": "#c13584", "youtube": "#ff4e45", "twitch": "#9146ff",
                   "twitter": "#1d9bf0"}
METRICS = ("followers", "engagement")


class GrowthChart(QChartView):
    def __init__(self, parent: QWidget | None = None):
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(120)
        self.chart_.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_.setMargins(QMargins(4, 4, 4, 4))
        self.chart_.setBackgroundRoundness(0)
        self.x_axis = QDateTimeAxis()
        self.y_axis = QValueAxis()
        self.y_axis.setLabelFormat("%.0f")
        self.chart_.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.lines: dict[str, QLineSeries] = {}
        self.shown_metric = "followers"
        self.point_count = 0
        self.retheme()

    def retheme(self) -> None:
        c = theme.colors()
        palette = self.palette()
        self.chart_.setBackgroundBrush(QBrush(palette.base().color()))
        self.setBackgroundBrush(QBrush(palette.base().color()))
        text, grid = QColor(c.text), QColor(c.border)
        for axis in (self.x_axis, self.y_axis):
            axis.setLabelsColor(text)
            axis.setGridLineColor(grid)
            axis.setLinePenColor(grid)
            axis.setTitleBrush(QBrush(text))
        self.chart_.legend().setLabelColor(text)
        self.chart_.setTitleBrush(QBrush(text))

    def set_series(self, series: dict[str, list[tuple[datetime, int, int]]], metric: str = "followers",
                   since: datetime | None = None, until: datetime | None = None) -> None:
        """Replaces the lines: one per platform, ``metric`` "followers" or "engagement" (percent)."""
        if metric not in METRICS:
            raise ValueError(metric)
        self.shown_metric = metric
        for line in self.lines.values():
            self.chart_.removeSeries(line)
        self.lines = {}
        low, high, first, last = None, None, None, None
        count = 0
        for platform, points in series.items():
            if not points:
                continue
            line = QLineSeries()
            line.setName(display_name(platform))
            line.setPen(QPen(QColor(PLATFORM_COLORS.get(platform, "#888888")), 2))
            if metric == "followers":
                qpoints = [QPointF(at.timestamp() * 1000, followers) for at, followers, _ in points]
            else:
                qpoints = [QPointF(at.timestamp() * 1000, centi / 100) for at, _, centi in points]
            if until is not None and points[-1][0] < until:  # the last value holds until now
                qpoints.append(QPointF(until.timestamp() * 1000, qpoints[-1].y()))
            line.replace(qpoints)
            count += len(points)
            values = [p.y() for p in qpoints]
            low = min(values) if low is None else min(low, min(values))
            high = max(values) if high is None else max(high, max(values))
            first = qpoints[0].x() if first is None else min(first, qpoints[0].x())
            last = qpoints[-1].x() if last is None else max(last, qpoints[-1].x())
            self.chart_.addSeries(line)
            line.attachAxis(self.x_axis)
            line.attachAxis(self.y_axis)
            self.lines[platform] = line
        self.point_count = count
        if since is not None:
            first = since.timestamp() * 1000
        if until is not None:
            last = until.timestamp() * 1000
        if first is None or last is None:
            self.chart_.setTitle("No syncs in this range")
            return
        self.chart_.setTitle("")
        if last <= first:
            last = first + 86_400_000
        self.x_axis.setRange(QDateTime.fromMSecsSinceEpoch(int(first)), QDateTime.fromMSecsSinceEpoch(int(last)))
        span_days = (last - first) / 86_400_000
        self.x_axis.setFormat("HH:mm" if span_days <= 2 else "d MMM" if span_days <= 200 else "MMM yyyy")
        self.x_axis.setTickCount(6)
        if metric == "engagement":
            self.y_axis.setLabelFormat("%.1f %%")
            self.y_axis.setRange(0, max(1.0, min(100.0, (high or 0) * 1.15)))
        else:
            self.y_axis.setLabelFormat("%.0f")
            top = max(10.0, (high or 0) * 1.08)
            bottom = max(0.0, (low or 0) - (top - (low or 0)) * 0.1)
            self.y_axis.setRange(bottom, top)
            self.y_axis.applyNiceNumbers()
