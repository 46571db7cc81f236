"""The fleet's runtime services against the real engine: watcher, probe, alerts, stats, schedules."""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from giftdesk.docker.stats import compute_stats
from giftdesk.fleet.events import InstanceAlert, InstanceProbed, InstanceStateChanged, InstanceStatsSampled
from giftdesk.fleet.runtime import install
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.runtime import Runtime
from tests.fleet.conftest import FLEET_IMAGE, FLEET_TEST_LABEL, NODE_IMAGE, unique
from tests.runtime.test_supervisor import wait_for

pytestmark = pytest.mark.docker


class Recorder:
    def __init__(self, desk, *types):
        self.events: list[tuple[float, object]] = []
        self._lock = threading.Lock()
        for event_type in types:
            desk.events.subscribe(event_type, self._add)

    def _add(self, event) -> None:
        with self._lock:
            self.events.append((time.monotonic(), event))

    def wait(self, predicate, timeout: float = 15.0, after: int = 0):
        """The first event (from index ``after`` on) matching ``predicate``: (monotonic time, event)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for at, event in self.events[after:]:
                    if predicate(event):
                        return at, event
            time.sleep(0.02)
        with self._lock:
            seen = [e for _, e in self.events]
        raise AssertionError(f"no matching event within {timeout}s; saw {seen[-20:]}")


@pytest.fixture
def runtime(fleet_desk):
    rt = Runtime(fleet_desk, endpoint=False, features=False)
    fleet = install(rt, probe_interval=0.5, stats_interval=0.5, probe_grace=2.0)
    rt.start()
    deadline = time.monotonic() + 15
    while fleet.live.connection != "connected" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fleet.live.connection == "connected"
    yield rt
    rt.stop()


def variant(engine, tag: str, *env: str) -> str:
    """The busybox tracker with behaviour set in the image's ENV (the container's own environment
    stays exactly as the fleet sets it)."""
    # No label on this container: a committed image keeps its labels, and every tracker made
    # from it would carry them.
    container = engine.api.create_container(FLEET_IMAGE)
    try:
        engine.api.commit(container["Id"], repository="giftdesk-fleet-variant", tag=tag,
                          changes=[f"ENV {item}" for item in env] + ['CMD ["/bin/sh", "/tracker.sh"]'])
    finally:
        engine.api.remove_container(container["Id"], force=True)
    return f"giftdesk-fleet-variant:{tag}"


def test_a_docker_stop_from_outside_arrives_through_the_event_stream(fleet_desk, runtime, account):
    fleet = runtime.fleet
    recorder = Recorder(fleet_desk, InstanceStateChanged, InstanceProbed, InstanceAlert)
    row = fleet_desk.fleet.create(unique("watch"), account().id)
    recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == row.id and e.state == "running")
    recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == row.id and e.health == "healthy")
    live = fleet.live.get(row.id)
    assert live.live_status == "DISCONNECTED" and live.viewers == 0 and live.started_at is not None
    resyncs = fleet.watcher.resyncs
    subprocess.run(["docker", "stop", "-t", "5", row.container_name], check=True, capture_output=True)
    recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == row.id and e.state == "exited")
    # Carried by the engine's event stream, not found by a later list call (how soon: bench_fleet).
    assert fleet.watcher.resyncs == resyncs
    assert fleet.live.get(row.id).health == "none"
    # A stop is no death: no alert for it.
    assert not [e for _, e in recorder.events if isinstance(e, InstanceAlert)]
    assert fleet_desk.fleet.get(row.id).status == "exited"


def test_restart_loop_is_shown_with_its_exit_code_and_alerts(fleet_desk, runtime, account, engine):
    image = variant(engine, unique("exit"), "TRACKER_EXIT_CODE=3")
    try:
        recorder = Recorder(fleet_desk, InstanceStateChanged, InstanceAlert)
        row = fleet_desk.fleet.create(unique("loop"), account().id, settings=InstanceSettings(image=image),
                                      start=False)
        fleet_desk.fleet.start(row.id)
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == row.id
                      and e.state == "restarting" and e.exit_code == 3)
        _, died = recorder.wait(lambda e: isinstance(e, InstanceAlert) and "exit code 3" in e.message)
        _, loop = recorder.wait(lambda e: isinstance(e, InstanceAlert) and e.message.startswith("Restart loop"),
                                timeout=30)
        assert loop.level == "error" and loop.name == row.name
        history = [e.message for e in fleet_desk.fleet.events(row.id)]
        assert any(m.startswith("Restart loop") for m in history)
        assert fleet_desk.fleet.get(row.id, with_state=True).state_label.startswith("restarting (3)") or \
            fleet_desk.fleet.get(row.id, with_state=True).state in ("restarting", "running", "exited")
        fleet_desk.fleet.delete(row.id)
    finally:
        engine.api.remove_image(image, force=True)


def test_unhealthy_tracker_gets_a_badge_and_an_event(fleet_desk, runtime, account, engine):
    image = variant(engine, unique("sick"), "TRACKER_UNHEALTHY_AFTER=3")
    try:
        recorder = Recorder(fleet_desk, InstanceProbed, InstanceAlert)
        row = fleet_desk.fleet.create(unique("sick"), account().id, settings=InstanceSettings(image=image))
        recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == row.id and e.health == "healthy")
        recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == row.id and e.health == "unhealthy",
                      timeout=20)
        _, alert = recorder.wait(lambda e: isinstance(e, InstanceAlert) and e.instance_id == row.id)
        assert alert.message.startswith("Unhealthy")
        assert any(e.message.startswith("Unhealthy") for e in fleet_desk.fleet.events(row.id))
    finally:
        fleet_desk.fleet.bulk("delete", [r.id for r in fleet_desk.fleet.list()])
        engine.api.remove_image(image, force=True)


def _kill_signals(engine, container_id: str, since: float) -> list[tuple[str, float]]:
    """The signals the engine sent the container since ``since``, with the engine's own times."""
    events = engine.events(since=int(since) - 1, until=int(time.time()) + 1, decode=True,
                           filters={"container": container_id, "event": "kill"})
    return [(e["Actor"]["Attributes"]["signal"], e["timeNano"] / 1e9) for e in events]


def test_a_tracker_ignoring_sigterm_is_killed_after_the_timeout(fleet_desk, runtime, account, engine):
    image = variant(engine, unique("deaf"), "TRACKER_IGNORE_TERM=1")
    try:
        row = fleet_desk.fleet.create(unique("deaf"), account().id, settings=InstanceSettings(image=image))
        since = time.time()
        fleet_desk.fleet.stop(row.id, timeout=2)
        after = fleet_desk.fleet.get(row.id, with_state=True)
        assert after.state == "exited" and after.exit_code == 137
        # The engine's own record: SIGTERM first, SIGKILL only once the timeout had passed.
        kills = _kill_signals(engine, after.container_id, since)
        assert [signal for signal, _at in kills] == ["15", "9"]
        assert kills[1][1] - kills[0][1] >= 2.0 - 0.05
    finally:
        fleet_desk.fleet.bulk("delete", [r.id for r in fleet_desk.fleet.list()])
        engine.api.remove_image(image, force=True)


def test_node_as_pid_1_stops_at_once_with_init_and_connects_to_its_live(fleet_desk, runtime, account, engine):
    recorder = Recorder(fleet_desk, InstanceProbed)
    row = fleet_desk.fleet.create(unique("node"), account().id, settings=InstanceSettings(image=NODE_IMAGE))
    recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == row.id and e.health == "healthy")
    assert fleet_desk.fleet.tracker_state(row.id).live_status == "DISCONNECTED"
    assert fleet_desk.fleet.live_command(row.id, "connect")["liveStatus"] == "ONLINE"
    recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == row.id
                  and e.live_status == "ONLINE" and e.viewers == 42)
    since = time.time()
    fleet_desk.fleet.stop(row.id, timeout=5)
    container_id = fleet_desk.fleet.get(row.id).container_id
    # With the init process, SIGTERM ends node: no SIGKILL was needed.
    assert [signal for signal, _at in _kill_signals(engine, container_id, since)] == ["15"]
    # The same image without an init process: node as PID 1 ignores SIGTERM, stop waits it out.
    bare = engine.containers.run(NODE_IMAGE, detach=True, labels={FLEET_TEST_LABEL: "1"},
                                 environment={"API_KEY": "k", "ACCOUNT_ID": "1", "TIKTOK_USERNAME": "u"})
    try:
        assert wait_for(lambda: b"" != bare.logs(), timeout=20)  # node is up and has installed nothing for SIGTERM
        since = time.time()
        bare.stop(timeout=3)
        bare.reload()
        assert bare.attrs["State"]["ExitCode"] == 137
        assert [signal for signal, _at in _kill_signals(engine, bare.id, since)] == ["15", "9"]
    finally:
        bare.remove(force=True)
    # The real entrypoint refuses to start without its settings (exit 1: a restart loop under a policy).
    empty = engine.containers.run(NODE_IMAGE, detach=True, labels={FLEET_TEST_LABEL: "1"})
    try:
        assert empty.wait(timeout=10)["StatusCode"] == 1
        assert b"API_KEY environment variable is required" in empty.logs()
    finally:
        empty.remove(force=True)


def test_stats_are_sampled_only_while_asked(fleet_desk, runtime, account, engine):
    fleet = runtime.fleet
    sampler = fleet.stats
    recorder = Recorder(fleet_desk, InstanceStatsSampled)
    row = fleet_desk.fleet.create(unique("stats"), account().id)
    looks = sampler.idle_looks
    assert wait_for(lambda: sampler.idle_looks >= looks + 3, timeout=20)  # it looked, with a running tracker
    assert not recorder.events and sampler.rounds == 0  # nobody asked
    owner = object()
    fleet.live.want_stats(owner)
    _, sample = recorder.wait(lambda e: e.instance_id == row.id and e.cpu_percent is not None, timeout=20)
    assert sample.memory_bytes > 0 and sample.memory_limit == 256 * 1024 * 1024
    assert len(fleet.live.history(row.id)) >= 1
    fleet.live.release_stats(owner)
    looks = sampler.idle_looks
    assert wait_for(lambda: sampler.idle_looks >= looks + 3, timeout=20)  # idle again, and looked since
    count, rounds = len(recorder.events), sampler.rounds
    assert wait_for(lambda: sampler.idle_looks >= looks + 6, timeout=20)
    assert len(recorder.events) == count and sampler.rounds == rounds


def test_cpu_and_memory_are_computed_as_the_docker_cli_does():
    raw = {
        "memory_stats": {"usage": 50_000_000, "limit": 268_435_456, "stats": {"total_inactive_file": 10_000_000}},
        "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000}, "system_cpu_usage": 120_000_000_000,
                      "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000}, "system_cpu_usage": 100_000_000_000},
        "networks": {"eth0": {"rx_bytes": 10, "tx_bytes": 20}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
    }
    sample = compute_stats(raw)
    assert sample.memory_bytes == 40_000_000 and sample.memory_limit == 268_435_456
    assert sample.cpu_percent == pytest.approx(1e9 / 20e9 * 2 * 100)  # 10 %
    assert (sample.net_rx, sample.net_tx) == (11, 22)
    one_shot = {**raw, "precpu_stats": {}}
    assert compute_stats(one_shot).cpu_percent is None  # no previous sample: no figure, not 0
    previous = compute_stats(raw)
    later = {**one_shot, "cpu_stats": {"cpu_usage": {"total_usage": 3_500_000_000}, "system_cpu_usage": 130_000_000_000,
                                       "online_cpus": 2}}
    assert compute_stats(later, previous).cpu_percent == pytest.approx(0.5e9 / 10e9 * 2 * 100)
    cgroup2 = {"memory_stats": {"usage": 5000, "limit": 9000, "stats": {"inactive_file": 1000}}}
    assert compute_stats(cgroup2).memory_bytes == 4000


def test_schedules_run_in_the_runtime(fleet_desk, runtime, account):
    row = fleet_desk.fleet.create(unique("sched"), account().id)
    fleet_desk.fleet.set_schedule(row.id, "07:30", "23:15", "Europe/Berlin")
    jobs = {job.name: job for job in runtime.scheduler.jobs()}
    assert {f"instance.{row.id}.start", f"instance.{row.id}.stop"} <= set(jobs)
    assert jobs[f"instance.{row.id}.stop"].daily == (23, 15)
    # (Scheduler.run_now drops the entry as stale for daily jobs: call the job as the scheduler would.)
    jobs[f"instance.{row.id}.stop"].fn()
    deadline = time.monotonic() + 15
    while fleet_desk.fleet.get(row.id, with_state=True).state != "exited" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fleet_desk.fleet.get(row.id, with_state=True).state == "exited"
    assert any(e.message == "Scheduled stop" for e in fleet_desk.fleet.events(row.id))
    fleet_desk.fleet.set_schedule(row.id, None, None)
    assert not [j for j in runtime.scheduler.jobs() if j.name.startswith(f"instance.{row.id}.")]
