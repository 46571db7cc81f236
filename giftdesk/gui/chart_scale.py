"""Axis ranges, ticks and tick labels for every chart in the window. Qt-free (unit-tested on its own).

``value_scale`` picks a y-range with headroom over the data and ticks at "nice" values
(1, 2, 2.5 or 5 × 10ⁿ); counts and percentages start at 0 unless that would flatten the data;
a flat series gets a range around its value. ``time_range`` spans the chart's period (or the
data) with a margin, so no point sits on the plot's edge. Labels carry thousands separators
and a unit, as everywhere else in the window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The mantissas of the steps between ticks.
NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
#: Ticks on a value axis: about this many, never more than MAX_TICKS.
TARGET_TICKS = 5
MAX_TICKS = 8
#: Space above (and below, when the axis does not start at 0) the data, as a share of its span.
HEADROOM = 0.05
#: A count or percentage axis starts at 0 unless the data's span is below this share of its top:
#: 1,200,000 → 1,230,000 from 0 would be a flat line.
FLATTEN_BELOW = 0.2
#: A flat series (or a single point) gets a range this share of its value either side.
FLAT_SPREAD = 0.2
#: The time axis reaches this share of its span past the first and last moment shown.
TIME_MARGIN = 0.04
#: Markers on the points while a series has at most this many (more would hide the line)...
SPARSE_POINTS = 40
#: ...and its points are, typically, at least this share of the x-range apart (packed dots read as a smear);
#: a series of up to FEW_POINTS always has them.
MARKER_GAP = 1 / 60
FEW_POINTS = 3


@dataclass(frozen=True)
class Scale:
    """A value axis: ``low`` to ``high`` with a tick every ``step``."""

    low: float
    high: float
    step: float

    @property
    def ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [_clean(self.low + i * self.step) for i in range(count + 1)]

    @property
    def decimals(self) -> int:
        """The fewest decimals that tell every tick apart (2.5 → 1, 0.25 → 2)."""
        for digits in range(0, 10):
            if abs(round(self.step, digits) - self.step) < self.step * 1e-6:
                return digits
        return 9

    def label(self, value: float, unit: str = "", prefix: str = "") -> str:
        return format_value(value, self.decimals, unit, prefix)

    def labels(self, unit: str = "", prefix: str = "") -> list[str]:
        return [self.label(v, unit, prefix) for v in self.ticks]

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def format_value(value: float, decimals: int = 0, unit: str = "", prefix: str = "") -> str:
    """``1250000`` → ``1,250,000``; ``unit`` after a space (``"%"`` → ``2.5 %``), ``prefix`` before (``₹``)."""
    text = f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 and text.strip("0.,") else ""
    return f"{sign}{prefix}{text}" + (f" {unit}" if unit else "")


def nice_step(raw: float) -> float:
    """The smallest nice step (1, 2, 2.5, 5 × 10ⁿ) at least ``raw``."""
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for mantissa in NICE_STEPS:
        if mantissa * power >= raw * (1 - 1e-9):
            return _clean(mantissa * power)
    return _clean(10 * power)


def _next_step(step: float) -> float:
    return nice_step(step * 1.000001)


def _clean(value: float) -> float:
    """Rounds away float noise (0.1 + 0.2) so ticks and labels are exact."""
    return 0.0 if value == 0 else float(f"{value:.12g}")


def value_scale(values: Iterable[float | None], *, zero_based: bool = False, keep_zero: bool = False,
                min_span: float = 1.0, ceiling: float | None = None, target_ticks: int = TARGET_TICKS) -> Scale:
    """The axis for ``values`` (None and non-finite values are left out).

    ``zero_based``: a count or a percentage; 0 is on the axis unless that flattens the data.
    ``keep_zero``: 0 stays on the axis even then (a resource monitor: CPU, memory, network).
    ``min_span``: the smallest range worth showing (a series of zeros gets 0 to ``min_span``).
    ``ceiling``: the axis never goes past it while the data does not (100 for a percentage).
    No values: 0 to ``min_span``.
    """
    data = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not data:
        return _fit(0.0, min_span, min_span, target_ticks, anchored_low=True)
    low, high = min(data), max(data)
    anchored_low = anchored_high = False  # 0 is the bottom (top) of the axis
    flatten_below = 0.0 if keep_zero else FLATTEN_BELOW
    if zero_based or keep_zero:
        if low >= 0 and (low == high or high - low >= flatten_below * high):
            low, anchored_low = 0.0, True
        elif high <= 0 and (low == high or high - low >= flatten_below * -low):
            high, anchored_high = 0.0, True
    if high == low:  # one value: a range around it
        spread = max(abs(high) * FLAT_SPREAD, min_span / 2)
        low, high = high - spread, high + spread
        if (zero_based or keep_zero) and data[0] >= 0 > low:
            low, anchored_low = 0.0, True
    span = max(high - low, min_span)
    if not anchored_high:
        high += span * HEADROOM
    if not anchored_low:
        dropped = low - span * HEADROOM
        low = 0.0 if min(data) >= 0 > dropped else dropped  # a quantity never negative stays at or above 0
        anchored_low = low == 0.0
    if ceiling is not None and max(data) <= ceiling < high:
        high = ceiling
    return _fit(low, high, min_span, target_ticks, anchored_low)


def _fit(low: float, high: float, min_span: float, target_ticks: int, anchored_low: bool = False) -> Scale:
    if high - low < min_span:
        high = low + min_span
    # The finest nice step that keeps to about ``target_ticks`` ticks: the least room lost past the data.
    step = nice_step((high - low) / max(1, target_ticks))
    while True:
        bottom = low if anchored_low and low == 0 else math.floor(low / step + 1e-9) * step
        top = math.ceil(high / step - 1e-9) * step
        if round((top - bottom) / step) + 1 <= min(MAX_TICKS, target_ticks + 1):
            return Scale(_clean(bottom), _clean(top), step)
        step = _next_step(step)


def time_range(times: Iterable[float], start: float | None = None, end: float | None = None,
               min_span: float = 86_400_000.0, margin: float = TIME_MARGIN) -> tuple[float, float] | None:
    """The x-range (same units as ``times``, e.g. ms since the epoch) of a time chart.

    It spans ``start``..``end`` (the chart's period, e.g. the last 30 days) and every point, plus
    ``margin`` of that span either side, so the first and last points are off the plot's edges.
    One point and no period: ``min_span`` centred on it. None when there is nothing to span.
    """
    moments = [float(t) for t in times]
    bounds = moments + [float(b) for b in (start, end) if b is not None]
    if not bounds:
        return None
    low, high = min(bounds), max(bounds)
    if high - low < min_span:
        middle = (low + high) / 2 if moments and start is None and end is None else None
        if middle is not None:
            low, high = middle - min_span / 2, middle + min_span / 2
        elif start is None:
            low = high - min_span
        else:
            high = low + min_span
    pad = (high - low) * margin
    return low - pad, high + pad


def time_format(span_ms: float) -> str:
    """The date/time pattern (Qt's) for ticks over ``span_ms`` milliseconds."""
    days = span_ms / 86_400_000
    return "HH:mm" if days <= 2 else "d MMM" if days <= 200 else "MMM yyyy"


def markers_wanted(xs: Sequence[float], span: float) -> bool:
    """Dots on the points of a sparse series (x positions ``xs`` on an x-range ``span`` wide), so a
    lone point is something one can see; not on a dense one, where they would hide the line."""
    if not xs or len(xs) > SPARSE_POINTS:
        return False
    if len(xs) <= FEW_POINTS:
        return True
    ordered = sorted(xs)
    gaps = sorted(b - a for a, b in zip(ordered, ordered[1:]))
    return gaps[len(gaps) // 2] >= span * MARKER_GAP
