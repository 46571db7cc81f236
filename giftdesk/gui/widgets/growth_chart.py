"""A profile's followers (or engagement) per platform over time, drawn with QtCharts.

``set_series`` takes what ``SocialService.growth`` returns; each platform is one line, filled in
one ``QLineSeries.replace`` call (a point at a time would cost a signal per point), with a dot on
each sync while the line is sparse (one sync is a dot one can see and hover). The ranges come from
``giftdesk.gui.chart_scale``; a profile never synced shows a message instead of bare axes.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QScatterSeries
from PySide6.QtCore import QDateTime, QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from giftdesk.gui.chart_scale import format_value, markers_wanted, time_format, time_range, value_scale
from giftdesk.gui.timefmt import fmt_datetime
from giftdesk.gui.widgets.chart_support import MARKER_SIZE, EmptyState, set_scale, show_tip, style_chart, value_axis
from giftdesk.social.validation import display_name

# One colour per platform, readable on light and dark backgrounds.
# TikTok as its cyan-teal: its pink would clash with Instagram's.
PLATFORM_COLORS = {"tiktok": "#25a6a0", "instagram": "#c13584", "youtube": "#ff4e45", "twitch": "#9146ff",
                   "twitter": "#1d9bf0"}
METRICS = ("followers", "engagement")
EMPTY_TEXT = "No syncs yet: sync a platform to start the growth history"


class GrowthChart(QChartView):
    def __init__(self, parent: QWidget | None = None):
        self.chart_ = QChart()
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(120)
        self.chart_.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_.setMargins(QMargins(4, 4, 4, 4))
        self.x_axis = QDateTimeAxis()
        self.x_axis.setTickCount(6)
        self.y_axis = value_axis()
        self.chart_.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.lines: dict[str, QLineSeries] = {}
        self.markers: dict[str, QScatterSeries] = {}  # the syncs, while the lines are sparse
        self.empty = EmptyState(self)
        self.shown_metric = "followers"
        self.point_count = 0
        self.retheme()
        self.empty.show_message(EMPTY_TEXT)

    def retheme(self) -> None:
        style_chart(self)

    def set_series(self, series: dict[str, list[tuple[datetime, int, int]]], metric: str = "followers",
                   since: datetime | None = None, until: datetime | None = None) -> None:
        """Replaces the lines: one per platform, ``metric`` "followers" or "engagement" (percent)."""
        if metric not in METRICS:
            raise ValueError(metric)
        self.shown_metric = metric
        for line in (*self.lines.values(), *self.markers.values()):
            self.chart_.removeSeries(line)
        self.lines, self.markers = {}, {}
        values: list[float] = []
        times: list[float] = []
        synced_by: dict[str, tuple[list[QPointF], QColor]] = {}
        count = 0
        for platform, points in series.items():
            if not points:
                continue
            color = QColor(PLATFORM_COLORS.get(platform, "#888888"))
            line = QLineSeries()
            line.setName(display_name(platform))
            line.setPen(QPen(color, 2))
            if metric == "followers":
                qpoints = [QPointF(at.timestamp() * 1000, followers) for at, followers, _ in points]
            else:
                qpoints = [QPointF(at.timestamp() * 1000, centi / 100) for at, _, centi in points]
            synced = list(qpoints)
            if until is not None and points[-1][0] < until:  # the last value holds until now
                qpoints.append(QPointF(until.timestamp() * 1000, qpoints[-1].y()))
            line.replace(qpoints)
            count += len(points)
            values += [p.y() for p in synced]
            times += [p.x() for p in qpoints]
            self._add(line)
            self.lines[platform] = line
            synced_by[platform] = (synced, color)
        self.point_count = count
        if not count:
            self.empty.show_message(EMPTY_TEXT)
            return
        self.empty.show_message(None)
        start = None if since is None else since.timestamp() * 1000
        end = None if until is None else until.timestamp() * 1000
        first, last = time_range(times, start, end)
        for platform, (synced, color) in synced_by.items():
            if markers_wanted([p.x() for p in synced], last - first):
                self._add_dots(platform, synced, color)
        self.x_axis.setRange(QDateTime.fromMSecsSinceEpoch(int(first)), QDateTime.fromMSecsSinceEpoch(int(last)))
        self.x_axis.setFormat(time_format(last - first))
        if metric == "engagement":
            set_scale(self.y_axis, value_scale(values, zero_based=True, min_span=1.0, ceiling=100.0), unit="%")
        else:
            set_scale(self.y_axis, value_scale(values, zero_based=True, min_span=10.0))
        self.retheme()  # the new series and labels in the palette's colours

    def _add_dots(self, platform: str, synced: list[QPointF], color: QColor) -> None:
        dots = QScatterSeries()
        dots.setName(display_name(platform))
        dots.setMarkerSize(MARKER_SIZE)
        dots.setColor(color)
        dots.setBorderColor(color)
        dots.replace(synced)
        dots.hovered.connect(lambda point, state: self._hovered(platform, point, state))
        self._add(dots)
        for marker in self.chart_.legend().markers(dots):
            marker.setVisible(False)  # one legend entry per platform: its line
        self.markers[platform] = dots

    def _add(self, series) -> None:
        self.chart_.addSeries(series)
        series.attachAxis(self.x_axis)
        series.attachAxis(self.y_axis)

    def _hovered(self, platform: str, point: QPointF, state: bool) -> None:
        show_tip(self.point_text(platform, point) if state else "")

    def point_text(self, platform: str, point: QPointF) -> str:
        """What hovering a sync's dot says: platform, value, time."""
        at = datetime.fromtimestamp(point.x() / 1000).astimezone()
        value = (f"{format_value(point.y())} followers" if self.shown_metric == "followers"
                 else f"{format_value(point.y(), 2, '%')} engagement")
        return f"{display_name(platform)} · {value} · {fmt_datetime(at)}"
