"""The charts' axis rules (giftdesk.gui.chart_scale): ranges with headroom, nice ticks, labels, time spans.

Qt-free, so these run without a display; one test checks the module loads no Qt at all.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from giftdesk.gui.chart_scale import (
    format_value,
    markers_wanted,
    nice_step,
    time_format,
    time_range,
    value_scale,
)

ROOT = Path(__file__).resolve().parents[1]
DAY = 86_400_000


def is_nice(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


def check(scale, values) -> None:
    """What every axis owes its data: the points inside, nice evenly spaced ticks ending on the bounds."""
    assert is_nice(scale.step)
    assert 2 <= len(scale.ticks) <= 8
    assert scale.ticks[0] == scale.low and scale.ticks[-1] == scale.high
    for v in values:
        assert scale.low <= v <= scale.high
    assert max(values) < scale.high or scale.high == 100  # headroom above (a percentage stops at 100)


def test_the_module_loads_no_qt():
    probe = ("import json, sys; import giftdesk.gui.chart_scale; "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(("raw", "step"), [(0.3, 0.5), (1, 1), (1.1, 2), (2.2, 2.5), (3, 5), (7, 10), (43_000, 50_000),
                                           (0.0012, 0.002), (0, 1.0), (-5, 1.0), (float("nan"), 1.0)])
def test_steps_are_one_two_two_and_a_half_or_five_times_a_power_of_ten(raw, step):
    assert nice_step(raw) == step


def test_no_values_give_a_small_range_from_zero():
    scale = value_scale([], zero_based=True, min_span=10)
    assert (scale.low, scale.high) == (0, 10) and scale.ticks == [0, 2, 4, 6, 8, 10]


def test_one_count_starts_at_zero_with_room_above_it():
    scale = value_scale([1_250_000], zero_based=True)
    check(scale, [1_250_000])
    assert (scale.low, scale.high) == (0, 1_500_000)
    assert scale.labels() == ["0", "500,000", "1,000,000", "1,500,000"]


def test_two_close_counts_are_not_flattened_by_a_zero():
    values = [1_250_000, 1_262_000]
    scale = value_scale(values, zero_based=True)
    check(scale, values)
    assert scale.low > 1_200_000 and scale.low < 1_250_000  # room below too: the lower point is off the edge
    assert scale.labels()[:2] == ["1,245,000", "1,250,000"]


def test_many_counts_spread_from_zero():
    values = [1000 + d * 13 for d in range(30)]
    scale = value_scale(values, zero_based=True)
    check(scale, values)
    assert scale.low == 0 and scale.labels()[-1] == "1,500"


def test_a_flat_series_gets_a_range_around_its_value():
    scale = value_scale([5.0, 5.0, 5.0])
    check(scale, [5.0])
    assert scale.low < 5 < scale.high and scale.high - scale.low >= 2
    zeros = value_scale([0, 0, 0], zero_based=True, min_span=5)
    assert zeros.low == 0 and zeros.high >= 5  # an idle CPU: a flat line at the bottom of 0–5 %


def test_negative_values_keep_zero_on_the_axis_and_their_sign():
    values = [-50, 20, 100]
    scale = value_scale(values, zero_based=True)
    check(scale, values)
    assert scale.low < -50 and 0 in scale.ticks
    assert scale.labels()[0].startswith("-") and "0" in scale.labels()
    only_losses = value_scale([-5, -3], zero_based=True)
    assert only_losses.high == 0 and only_losses.low < -5


def test_huge_values_keep_their_separators():
    values = [2e12, 3.5e12]
    scale = value_scale(values, zero_based=True)
    check(scale, values)
    assert scale.labels()[-1] == "4,000,000,000,000"


def test_small_fractions_get_the_decimals_their_ticks_need():
    scale = value_scale([0.2, 0.35], zero_based=True, min_span=0.1, ceiling=100)
    check(scale, [0.2, 0.35])
    assert scale.labels(unit="%") == ["0.0 %", "0.1 %", "0.2 %", "0.3 %", "0.4 %"]
    assert value_scale([7.5, 8.1], zero_based=True, ceiling=100).labels(unit="%")[:2] == ["7.25 %", "7.50 %"]


def test_a_percentage_stops_at_a_hundred():
    scale = value_scale([40, 99], zero_based=True, ceiling=100)
    check(scale, [40, 99])
    assert (scale.low, scale.high) == (0, 100)


def test_labels_have_separators_units_and_prefixes():
    assert format_value(1_250_000) == "1,250,000"
    assert format_value(12.5, 1, "MiB") == "12.5 MiB"
    assert format_value(-1500, 0, prefix="₹") == "-₹1,500"
    assert format_value(-0.0001, 1) == "0.0"  # no "-0.0"


def test_the_time_axis_spans_the_period_with_the_points_off_its_edges():
    now = 100 * DAY
    first, last = time_range([now], start=now - 30 * DAY, end=now)
    assert first < now - 30 * DAY and last > now  # the 30 days and a margin: today's sync is not on the edge
    assert last - first < 33 * DAY
    alone = time_range([now])
    assert alone[0] < now < alone[1] and math.isclose((alone[0] + alone[1]) / 2, now)  # one point, centred
    assert time_range([]) is None
    data = time_range([now - 3 * DAY, now])
    assert data[0] < now - 3 * DAY and data[1] > now


def test_time_formats_and_markers():
    assert time_format(15 * 60_000) == "HH:mm" and time_format(30 * DAY) == "d MMM"
    assert time_format(400 * DAY) == "MMM yyyy"
    month = 30 * DAY
    assert not markers_wanted([], month) and markers_wanted([5 * DAY], month)
    assert markers_wanted([0, 1, 2], month)  # a few points always get their dots, even close together
    assert markers_wanted([d * 2 * DAY for d in range(15)], month)  # every other day over a month
    assert not markers_wanted([d * DAY for d in range(30)], 90 * DAY * 4)  # daily over a year: a smear of dots
    assert not markers_wanted([d * 2000 for d in range(450)], 15 * 60_000)  # 15 minutes of 2 s samples
