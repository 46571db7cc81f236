"""Network I/O of trackers: counters and rates from recorded engine answers and from the real engine."""
# ruff: noqa: F811  (the runtime fixture is imported from test_runtime.py)

from __future__ import annotations

import json
import random
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

from giftdesk.docker.stats import compute_stats
from giftdesk.fleet.events import InstanceStatsSampled
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.fleet.units import fmt_net_io, fmt_rate, fmt_size, rate_unit
from tests.fleet.conftest import unique
from tests.fleet.test_runtime import Recorder, runtime  # noqa: F401 (fixture)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def own_ports(fleet_desk):
    """A port window of its own (other fleet tests allocate from 3300 on at the same time)."""
    start = random.randrange(3700, 3980)
    fleet_desk.settings.update({"tracker.port_start": start, "tracker.port_end": start + 19})


def _recorded(name: str):
    return json.loads((DATA / name).read_text())


def test_network_rates_from_recorded_samples_and_a_restart():
    # Three one-shot answers of the engine (API 1.4x, cgroup v2): idle, after 20 GET /api/state
    # over 127.0.0.1, and after `docker restart` (a new network namespace: the counters start over).
    raw = _recorded("stats-bridge-restart.json")
    before = compute_stats(raw["before"])
    assert (before.net_rx, before.net_tx) == (516, 0)
    assert before.net_rx_rate is None and before.net_tx_rate is None  # no previous sample: no rate, not 0

    after = compute_stats(raw["after_requests"], before)
    assert (after.net_rx, after.net_tx) == (11198, 15642)
    seconds = 19.481336999 - 17.995003859  # the engine's own "read" times, not our clock
    assert after.net_rx_rate == pytest.approx((11198 - 516) / seconds, rel=1e-4)
    assert after.net_tx_rate == pytest.approx(15642 / seconds, rel=1e-4)
    assert after.cpu_percent is not None

    restarted = compute_stats(raw["after_restart"], after)
    assert (restarted.net_rx, restarted.net_tx) == (426, 0)
    assert restarted.net_rx_rate is None and restarted.net_tx_rate is None  # never negative
    assert restarted.cpu_percent is None  # the CPU counter went down too
    # From the restarted sample on, rates come back.
    later = json.loads(json.dumps(raw["after_restart"]))
    later["read"] = "2026-11-28T10:36:24.006028891Z"
    later["networks"]["eth0"].update(rx_bytes=2426, tx_bytes=1000)
    assert compute_stats(later, restarted).net_rx_rate == pytest.approx(1000.0)
    assert compute_stats(later, restarted).net_tx_rate == pytest.approx(500.0)


def test_host_network_has_no_counters_and_no_rates():
    raw = _recorded("stats-host-network.json")
    assert "networks" not in raw
    first = compute_stats(raw)
    second = compute_stats(raw, first)
    assert (second.net_rx, second.net_tx, second.net_rx_rate, second.net_tx_rate) == (None, None, None, None)
    assert second.memory_bytes > 0


def test_counters_sum_over_networks_and_a_bridge_sample_after_host_gives_no_rate():
    eth = {"read": "2026-11-28T10:00:01Z",
           "networks": {"eth0": {"rx_bytes": 100, "tx_bytes": 10}, "eth1": {"rx_bytes": 5, "tx_bytes": 1}}}
    sample = compute_stats(eth, compute_stats({"read": "2026-11-28T10:00:00Z"}))
    assert (sample.net_rx, sample.net_tx) == (105, 11) and sample.net_rx_rate is None


def test_units_read_as_docker_stats_prints_them():
    assert fmt_net_io(1234.0, 300.0) == "↓ 1.2 kB/s ↑ 300 B/s"
    assert fmt_rate(None) == "—" and fmt_size(None) == "—"
    assert fmt_size(15_642) == "15.6 kB" and fmt_size(3_500_000) == "3.5 MB"
    assert rate_unit(999.0) == ("B/s", 1.0) and rate_unit(12_000.0) == ("kB/s", 1000.0)
    assert rate_unit(2e6) == ("MB/s", 1e6)


@pytest.mark.docker
def test_sampler_reports_a_positive_rate_while_the_tracker_is_asked(fleet_desk, own_ports, runtime, account):
    fleet = runtime.fleet
    recorder = Recorder(fleet_desk, InstanceStatsSampled)
    row = fleet_desk.fleet.create(unique("net"), account().id)
    owner = object()
    fleet.live.want_stats(owner, (row.id,))
    runtime.fleet.stats.wake()
    stop = threading.Event()
    url = f"http://127.0.0.1:{row.port}/api/state"

    def ask() -> None:  # a person's browser on the tracker's dashboard, twenty times a second
        while not stop.is_set():
            try:
                urllib.request.urlopen(url, timeout=2).read()
            except OSError:
                pass
            stop.wait(0.05)

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    try:
        _, sample = recorder.wait(lambda e: e.instance_id == row.id and (e.net_tx_rate or 0) > 1000
                                  and (e.net_rx_rate or 0) > 500, timeout=20)
    finally:
        stop.set()
        asker.join(5)
    live = fleet.live.get(row.id)
    assert live.net_rx >= sample.net_rx > 0 and live.net_tx >= sample.net_tx > 0
    assert any((p.net_tx_rate or 0) > 0 for p in fleet.live.history(row.id))
    assert live.to_json()["netTxRate"] is not None

    # `docker restart` starts the counters over: that sample carries no rate, never a negative one.
    seen = len(recorder.events)
    peak = max(e.net_rx for _, e in recorder.events if e.instance_id == row.id)
    subprocess.run(["docker", "restart", "-t", "2", f"gift-tracker-{row.name}"], check=True, capture_output=True)
    _, reset = recorder.wait(lambda e: e.instance_id == row.id and e.net_rx < peak, timeout=20, after=seen)
    assert reset.net_rx_rate is None and reset.net_tx_rate is None
    _, resumed = recorder.wait(lambda e: e.instance_id == row.id and e.net_rx_rate is not None, timeout=20,
                               after=seen)
    assert resumed.net_rx_rate >= 0 and resumed.net_tx_rate >= 0
    assert all((e.net_rx_rate or 0) >= 0 and (e.net_tx_rate or 0) >= 0 for _, e in recorder.events)
    fleet.live.release_stats(owner)


@pytest.mark.docker
def test_host_network_tracker_shows_no_counters(fleet_desk, runtime, account):
    fleet = runtime.fleet
    recorder = Recorder(fleet_desk, InstanceStatsSampled)
    row = fleet_desk.fleet.create(unique("hostnet"), account().id, settings=InstanceSettings(network="host"))
    owner = object()
    fleet.live.want_stats(owner, (row.id,))
    runtime.fleet.stats.wake()
    try:
        _, sample = recorder.wait(lambda e: e.instance_id == row.id and e.cpu_percent is not None, timeout=20)
    finally:
        fleet.live.release_stats(owner)
    assert (sample.net_rx, sample.net_tx, sample.net_rx_rate, sample.net_tx_rate) == (None, None, None, None)
    assert sample.memory_bytes > 0
