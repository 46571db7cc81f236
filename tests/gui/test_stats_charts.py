"""An instance's stats charts as samples arrive: none, one, two, then many, as a person reads them.

The samples come from a stand-in for the runtime's live table (no Docker here); each arrives
with the event the sampler publishes, so the dialog refreshes as it does in the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from giftdesk.fleet.events import InstanceStatsSampled
from giftdesk.fleet.live import LiveInstance, StatsPoint
from giftdesk.gui.fleet.instance_stats import StatsDialog
from tests.gui.chart_support import assert_inside, hover_until

MIB = 1048576


class Live:
    """What the dialog reads of ``FleetLive``: the history, the latest figures, who wants stats."""

    def __init__(self):
        self.points: list[StatsPoint] = []
        self.item = LiveInstance(7, memory_limit=512 * MIB, net_rx=123_456, net_tx=65_432)

    def history(self, _id):
        return list(self.points)

    def get(self, _id):
        return self.item

    def want_stats(self, *_a):
        pass

    def release_stats(self, *_a):
        pass


def sample(qtbot, ctx, stats, live, seconds_ago: float, cpu, memory_mib: float, rx=None, tx=None) -> None:
    live.points.append(StatsPoint(datetime.now(timezone.utc) - timedelta(seconds=seconds_ago), cpu,
                                  int(memory_mib * MIB), rx, tx))
    count = len(live.points)
    ctx.desk.events.publish(InstanceStatsSampled(7, cpu, int(memory_mib * MIB), 512 * MIB, 1, 1))
    qtbot.waitUntil(lambda: f"· {count:,} sample" in stats.summary.text(), timeout=5000)


def labels(axis) -> list[str]:
    return list(axis.categoriesLabels())


@pytest.fixture
def opened(ctx, qtbot):
    live = Live()
    row = SimpleNamespace(id=7, name="aurora", network="bridge")
    stats = StatsDialog(ctx, row, live)
    qtbot.addWidget(stats)
    stats.show()
    qtbot.waitExposed(stats)
    return stats, live


def test_no_samples_say_what_will_fill_the_charts(opened):
    stats, _live = opened
    for view in (stats.cpu_view, stats.memory_view, stats.network_view):
        assert view.empty.isVisible() and "every 2 seconds" in view.empty.text()
        assert not any(axis.isVisible() for axis in view.chart().axes())  # no bare axes
    assert not stats.network_view.chart().legend().isVisible()


def test_the_first_sample_is_a_dot_and_the_rates_wait_for_the_second(qtbot, ctx, opened):
    stats, live = opened
    sample(qtbot, ctx, stats, live, 1, None, 23.0)  # docker's first sample has no CPU % yet
    assert "1 sample" in stats.summary.text() and "1 samples" not in stats.summary.text()
    assert not stats.memory_view.empty.isVisible() and stats.memory.pointsVisible()
    assert labels(stats.memory_y) == ["0 MiB", "10 MiB", "20 MiB", "30 MiB"]
    assert_inside(stats.memory_view.chart(), stats.memory)
    assert stats.cpu_view.empty.text() == "Waiting for the next sample: CPU use is measured between two"
    assert stats.network_view.empty.text() == "Waiting for the next sample: the network rate is measured between two"

    sample(qtbot, ctx, stats, live, 0, 2.25, 23.5, rx=1200.0, tx=800.0)  # two: CPU and the rates appear
    for view in (stats.cpu_view, stats.memory_view, stats.network_view):
        assert not view.empty.isVisible()
    assert stats.network_view.chart().legend().isVisible()
    assert stats.cpu.count() == 1 and stats.cpu.pointsVisible() and stats.memory.count() == 2
    assert stats.cpu_y.min() == 0 and 2.25 < stats.cpu_y.max() <= 10 and labels(stats.cpu_y)[-1].endswith(" %")
    assert stats.memory_y.min() == 0  # a memory curve from 0, not a 0.5 MiB wiggle blown up
    assert stats.network_unit == "kB/s" and labels(stats.network_y)[0] == "0.0 kB/s"
    assert stats.network_y.max() > 1.2
    for view, series in ((stats.cpu_view, stats.cpu), (stats.memory_view, stats.memory),
                         (stats.network_view, stats.net_rx), (stats.network_view, stats.net_tx)):
        assert_inside(view.chart(), series)

    chart = stats.memory_view.chart()  # hovering a dot says its time and value
    hover_until(qtbot, stats.memory_view,
                lambda: stats.memory_view.mapFromScene(chart.mapToPosition(stats.memory.points()[-1], stats.memory)),
                lambda tip: tip.endswith(" · 23.5 MiB"))


def test_of_two_dots_in_one_column_the_tip_names_the_one_pointed_at(qtbot, ctx, opened):
    stats, live = opened
    live.points.append(StatsPoint(datetime.now(timezone.utc) - timedelta(milliseconds=100), 1.0, 10 * MIB, None, None))
    sample(qtbot, ctx, stats, live, 0, 2.0, 25.0)  # a tenth of a second later: the same pixel column
    chart = stats.memory_view.chart()
    low, high = (chart.mapToPosition(p, stats.memory) for p in stats.memory.points())
    assert abs(low.x() - high.x()) < 1 and high.y() < low.y() - 20
    for index, value in ((1, "25.0 MiB"), (0, "10.0 MiB")):
        hover_until(qtbot, stats.memory_view,
                    lambda i=index: stats.memory_view.mapFromScene(chart.mapToPosition(stats.memory.points()[i],
                                                                                       stats.memory)),
                    lambda tip, v=value: tip.endswith(f" · {v}"))


def test_many_samples_are_a_line_with_separators_on_its_axis(qtbot, ctx, opened):
    stats, live = opened
    for i in range(300):
        live.points.append(StatsPoint(datetime.now(timezone.utc) - timedelta(seconds=600 - 2 * i), 150 + i % 7,
                                      int((1500 + i) * MIB), 2_500_000.0 + i, 900_000.0))
    sample(qtbot, ctx, stats, live, 0, 150.0, 1800.0, rx=2_600_000.0, tx=900_000.0)
    assert not stats.cpu.pointsVisible() and not stats.memory.pointsVisible()  # 301 dots would hide the line
    assert labels(stats.memory_y)[-1] == "2,000 MiB" and stats.memory_y.min() == 0
    assert labels(stats.cpu_y)[-1] == "200 %"  # more than one core
    assert stats.network_unit == "MB/s" and all(label.endswith(" MB/s") for label in labels(stats.network_y))
    assert stats.network_y.max() > 2.6
    assert "memory 1,800.0 MiB of 512 MiB" in stats.summary.text()
    assert_inside(stats.memory_view.chart(), stats.memory)


def test_a_host_network_tracker_says_why_its_network_chart_is_empty(qtbot, ctx):
    live = Live()
    stats = StatsDialog(ctx, SimpleNamespace(id=7, name="h", network="host"), live)
    qtbot.addWidget(stats)
    stats.show()
    sample(qtbot, ctx, stats, live, 1, 1.0, 20.0)
    sample(qtbot, ctx, stats, live, 0, 1.0, 20.0)
    assert stats.network_view.empty.text() == "Host network: this tracker has no network counters of its own"
    assert stats.net_rx.count() == 0 and not stats.cpu_view.empty.isVisible()
    assert stats.cpu_y.min() == 0 and stats.cpu_y.max() >= 5  # a flat 1 % reads as a flat line, not a 0-height range


def test_without_the_runtime_each_chart_says_so(qtbot, ctx):
    stats = StatsDialog(ctx, SimpleNamespace(id=7, name="aurora", network="bridge"), None)
    qtbot.addWidget(stats)
    stats.show()
    qtbot.waitExposed(stats)
    for view in (stats.cpu_view, stats.memory_view, stats.network_view):
        assert view.empty.isVisible() and "background runtime" in view.empty.text()
