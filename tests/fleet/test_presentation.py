"""How an instance reads (giftdesk.fleet.presentation): the rules the instances table shows, without Qt."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from giftdesk.fleet.live import LiveInstance
from giftdesk.fleet.presentation import InstanceView, fleet_summary, fmt_uptime
from giftdesk.fleet.units import NONE, fmt_memory


def _row(**fields):
    values = dict(id=1, name="web-1", status="running", state=None, exit_code=None, last_started_at=None,
                  network="bridge")
    values.update(fields)
    return SimpleNamespace(**values)


def test_the_runtime_state_wins_over_the_record_and_the_record_state_over_its_status():
    assert InstanceView(_row(state="exited", status="running"), LiveInstance(1, state="running")).state == "running"
    assert InstanceView(_row(state="exited", status="running"), LiveInstance(1)).state == "exited"
    assert InstanceView(_row(status="created"), LiveInstance(1)).state == "created"


def test_an_exit_code_shows_with_the_states_that_it_explains():
    assert InstanceView(_row(), LiveInstance(1, state="exited", exit_code=137)).state_text == "exited (137)"
    assert InstanceView(_row(state="dead", exit_code=1), LiveInstance(1)).state_text == "dead (1)"
    assert InstanceView(_row(), LiveInstance(1, state="running", exit_code=0)).state_text == "running"


def test_live_figures_show_only_while_the_container_runs():
    live = LiveInstance(1, state="exited", health="healthy", viewers=5, cpu_percent=3.0, memory_bytes=2**20)
    view = InstanceView(_row(), live)
    assert (view.health, view.while_running(view.live.viewers), view.cpu_text, view.memory_text) == ("none", None, "", "")
    assert view.uptime is None and view.net_io_text == "" and view.net_io_rate == 0.0


def test_uptime_counts_from_the_live_start_or_else_the_recorded_one():
    started = datetime.now(timezone.utc) - timedelta(seconds=125)
    view = InstanceView(_row(last_started_at=started), LiveInstance(1, state="running"))
    assert 125 <= view.uptime < 130
    assert [fmt_uptime(s) for s in (None, 42, 125, 7260, 93600)] == ["", "42s", "2m 05s", "2h 01m", "1d 2h"]


def test_memory_reads_in_mib_and_network_in_decimal_units():
    assert fmt_memory(100663296) == "96.0 MiB" and fmt_memory(None) == NONE
    view = InstanceView(_row(), LiveInstance(1, state="running", memory_bytes=100663296, cpu_percent=1.25,
                                             net_rx=10, net_tx=20, net_rx_rate=1234.5, net_tx_rate=300.0))
    assert (view.memory_text, view.cpu_text, view.net_io_text) == ("96.0 MiB", "1.2 %", "↓ 1.2 kB/s ↑ 300 B/s")
    host = InstanceView(_row(network="host"), LiveInstance(1, state="running", memory_bytes=1))
    assert host.net_io_text == NONE and host.net_io_tooltip.startswith("Host networking")


def test_the_summary_counts_running_instances_and_those_that_need_attention():
    views = [InstanceView(_row(id=1), LiveInstance(1, state="running", cpu_percent=1.5, memory_bytes=96 * 2**20)),
             InstanceView(_row(id=2), LiveInstance(2, state="restarting")),
             InstanceView(_row(id=3), LiveInstance(3, state="exited"))]
    assert fleet_summary(views) == "1/3 running · CPU 1.5 % · memory 96 MiB · 1 need attention"


def test_an_instance_row_made_from_a_record_equals_one_made_field_by_field_and_stays_frozen():
    import dataclasses

    import pytest

    from giftdesk.fleet.records import InstanceRow

    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    record = SimpleNamespace(
        id=7, name="web-7", container_id="abc", status="running", account_id=3, tiktok_username="someone",
        port=4107, backend_api_url="http://desk", debug_mode=True, engine="second", image="tracker:1",
        network="bridge", publish_address="127.0.0.1", restart_policy="unless-stopped", memory_limit_mb=256,
        cpu_millis=500, schedule_start="08:00", schedule_stop="20:00", schedule_tz="Europe/Berlin",
        public_url="https://web-7", template_id=2, created_at=now, updated_at=now, last_started_at=now,
        last_stopped_at=None, uid="u-7", adopted_container_id=None, service_id=None, mode=None,
        placement_constraints=["node.role==worker"], placement_preferences=None, publish_mode=None)
    row = InstanceRow.of(record, 5, "Customer", "exited", 1, "unhealthy", account_legacy_id="old-3")
    expected = InstanceRow(
        7, "web-7", "abc", "running", 3, 5, "Customer", "someone", 4107, "http://desk", True, "second",
        "tracker:1", "bridge", "127.0.0.1", "unless-stopped", 256, 500, "08:00", "20:00", "Europe/Berlin",
        "https://web-7", 2, now, now, now, None, state="exited", exit_code=1, engine_health="unhealthy",
        uid="u-7", account_legacy_id="old-3", placement_constraints=("node.role==worker",))
    assert row == expected and hash(row) == hash(expected) and repr(row) == repr(expected)
    assert {f.name: getattr(row, f.name) for f in dataclasses.fields(row)} == dataclasses.asdict(expected)
    assert row.with_container("running").state == "running" and row.state == "exited"
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.state = "running"
