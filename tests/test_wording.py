"""Words people read: counts in the right number, thousands separators, labels instead of keys."""

from __future__ import annotations

from giftdesk.core.wording import counted
from giftdesk.docker.state import DockerState
from giftdesk.fleet.log_range import LogRange


def test_counted_puts_the_noun_in_the_right_number_with_separators():
    assert counted(1, "order") == "1 order"
    assert counted(0, "order") == "0 orders"
    assert counted(2, "entry", "entries") == "2 entries"
    assert counted(1_000, "row") == "1,000 rows"


def test_the_docker_tooltip_counts_one_container_as_one():
    state = DockerState(True, host="unix:///var/run/docker.sock", version="27.0", containers=1, running=1)
    assert "1 container, 1 running" in state.tooltip
    assert "1,200 containers" in DockerState(True, version="27.0", containers=1200, running=3).tooltip


def test_a_log_range_of_one_line_says_line():
    assert LogRange(tail=1).describe() == "the last 1 line"
    assert LogRange(tail=5000).describe() == "the last 5,000 lines"


def test_the_docker_label_counts_the_engines_when_there_are_several():
    one = DockerState(True, version="27.0", containers=3, running=1)
    assert one.short_label == "Docker: 1/3 running" and "engines" not in one.tooltip
    three = DockerState(True, version="27.0", containers=3, running=1, engines=3, unreachable_engines=("rack-3",))
    assert three.short_label == "Docker: 3 engines, 1 unreachable"
    assert three.tooltip.endswith("3 engines; not answering: rack-3 (File → Docker engines…)")
    local_down = DockerState(False, error="refused", engines=2, unreachable_engines=("local",))
    assert local_down.short_label == "Docker: 2 engines, 1 unreachable"
    assert DockerState(True, engines=2).short_label == "Docker: 2 engines"
