"""Trackers that started while the endpoint was down are restarted once it runs (real containers).

The busybox tracker stands in for the real one: it fetches its config once at start (with
``TRACKER_RETRIES=1``, one attempt, as the real tracker) and logs each call. The endpoint is the
runtime's own, on a free port; the trackers use host networking to reach it on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from giftdesk.db.models import AuditEntry
from giftdesk.fleet.backend_recovery import AUDIT_ACTION, parse_started_at
from giftdesk.fleet.runtime import install
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.runtime import Runtime
from tests.fleet.conftest import free_port, unique
from tests.fleet.test_runtime import variant
from tests.runtime.test_supervisor import wait_for
from tests.support.docker_engine import wait_for_log

pytestmark = pytest.mark.docker

GRACE = 4.0  # the test tracker fetches in well under a second; the endpoint writes access times every second


def test_the_engines_started_at_is_read_to_the_microsecond():
    assert parse_started_at("2026-12-06T03:50:01.123456789Z") == datetime(2026, 12, 6, 3, 50, 1, 123456,
                                                                          tzinfo=timezone.utc)
    assert parse_started_at("2026-12-06T03:50:01Z") == datetime(2026, 12, 6, 3, 50, 1, tzinfo=timezone.utc)
    assert parse_started_at("2026-12-06T03:50:01.5+01:00") == datetime(2026, 12, 6, 2, 50, 1, 500000,
                                                                       tzinfo=timezone.utc)
    assert parse_started_at("0001-01-01T00:00:00Z") is None  # never started
    assert parse_started_at("") is None


@pytest.fixture
def endpoint_port(fleet_desk):
    port = free_port()
    fleet_desk.settings.update({"endpoint.port": port})
    return port


@pytest.fixture
def start_runtime(fleet_desk, endpoint_port):
    made = []

    def start():
        rt = Runtime(fleet_desk, features=False)
        fleet = install(rt, probe_interval=0.5, probe_grace=2.0, recovery_grace=GRACE)
        made.append(rt)
        rt.start()
        assert wait_for(lambda: rt.supervisor.status("endpoint").state == "running", 20)
        assert rt.endpoint_port() == endpoint_port
        return rt, fleet

    yield start
    for rt in made:
        rt.stop()


def started_at(engine, container_id: str) -> str:
    return engine.api.inspect_container(container_id)["State"]["StartedAt"]


def test_a_tracker_that_started_while_the_endpoint_was_down_is_restarted_and_loads_its_config(
        fleet_desk, engine, account, start_runtime):
    image = variant(engine, "one-fetch", "TRACKER_RETRIES=1")
    acct = account()
    fleet_desk.tracker_data.save_config(acct.id, {"theme": "light", "target": 500})
    row = fleet_desk.fleet.create(unique("down"), acct.id, settings=InstanceSettings(image=image, network="host"))
    container = engine.containers.get(row.container_id)
    logs = wait_for_log(container, "backend calls done", timeout=30)
    assert "GET config -> failed" in logs, logs  # nothing listened: it runs with nothing loaded
    first_start = started_at(engine, row.container_id)
    assert fleet_desk.keys.get(acct.id).last_accessed_at is None

    _rt, fleet = start_runtime()

    # Restarted (the same container, a new StartedAt), and this time it loads its config.
    assert wait_for(lambda: fleet.recovery.verdicts.get(row.container_id, ("", ""))[1] == "restarted", 60), \
        fleet.recovery.verdicts
    assert wait_for(lambda: started_at(engine, row.container_id) != first_start, 30)
    logs = wait_for_log(container, 'GET config -> ok: {"success":true,"data":{"theme":"light","target":500}}',
                        timeout=30)
    second_start = parse_started_at(started_at(engine, row.container_id))

    def accessed_since_restart() -> bool:
        accessed = fleet_desk.keys.get(acct.id).last_accessed_at
        return accessed is not None and accessed >= second_start

    assert wait_for(accessed_since_restart, 30)
    # Judged again after its new start: it loaded, so it is left alone.
    raw_second = started_at(engine, row.container_id)
    assert wait_for(lambda: fleet.recovery.verdicts.get(row.container_id) == (raw_second, "loaded"), 30), \
        fleet.recovery.verdicts
    assert fleet.recovery.restarts == 1
    assert started_at(engine, row.container_id) == raw_second

    messages = [e.message for e in fleet_desk.fleet.events(row.id)]
    assert any(m.startswith("Restarted: it started while the endpoint was down") for m in messages), messages
    with fleet_desk.db.read_session() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION,
                                                         AuditEntry.target_id == str(row.id))).all()
        assert [a.summary for a in audit] == [f"restarted {row.name}: it started while the endpoint was down"]
        assert audit[0].actor == "giftdesk-runtime"


def test_a_tracker_that_loaded_its_config_after_its_start_is_not_restarted(fleet_desk, engine, account,
                                                                           start_runtime):
    _rt, fleet = start_runtime()
    acct = account()
    row = fleet_desk.fleet.create(unique("up"), acct.id, settings=InstanceSettings(network="host"))
    container = engine.containers.get(row.container_id)
    logs = wait_for_log(container, "backend calls done", timeout=30)
    assert "GET config -> ok" in logs, logs
    first_start = started_at(engine, row.container_id)
    assert wait_for(lambda: fleet.recovery.verdicts.get(row.container_id) == (first_start, "loaded"), 30), \
        fleet.recovery.verdicts
    assert fleet.recovery.restarts == 0
    assert started_at(engine, row.container_id) == first_start
    assert not [e for e in fleet_desk.fleet.events(row.id) if e.message.startswith("Restarted")]


def test_a_tracker_that_never_loads_is_restarted_once_then_left_with_a_warning(fleet_desk, engine, account,
                                                                               start_runtime):
    """Loop protection: its restart did not help (it never calls the endpoint), so no second one."""
    image = variant(engine, "no-backend", "TRACKER_SKIP_BACKEND=1")
    _rt, fleet = start_runtime()
    row = fleet_desk.fleet.create(unique("never"), account().id,
                                  settings=InstanceSettings(image=image, network="host"))
    first_start = started_at(engine, row.container_id)
    assert wait_for(lambda: fleet.recovery.verdicts.get(row.container_id) == (first_start, "restarted"), 60), \
        fleet.recovery.verdicts
    assert wait_for(lambda: started_at(engine, row.container_id) != first_start, 30)
    second_start = started_at(engine, row.container_id)
    assert wait_for(lambda: fleet.recovery.verdicts.get(row.container_id) == (second_start, "gave-up"), 60), \
        fleet.recovery.verdicts
    assert fleet.recovery.restarts == 1
    assert started_at(engine, row.container_id) == second_start
    messages = [e.message for e in fleet_desk.fleet.events(row.id)]
    assert any("even after a restart; not restarted again" in m for m in messages), messages


def test_serve_started_after_a_tracker_restarts_it_and_it_loads_its_config(fleet_desk, engine, account, endpoint_port,
                                                                           tmp_path):
    """The whole story with the real front end: no endpoint runs, a tracker boots and loads nothing;
    ``giftdesk serve`` starts (a separate process, the default grace) and the tracker is serving its
    stored config soon after, restarted once."""
    image = variant(engine, "one-fetch", "TRACKER_RETRIES=1")
    acct = account()
    fleet_desk.tracker_data.save_config(acct.id, {"theme": "dark", "target": 42})
    row = fleet_desk.fleet.create(unique("boot"), acct.id, settings=InstanceSettings(image=image, network="host"))
    container = engine.containers.get(row.container_id)
    assert "GET config -> failed" in wait_for_log(container, "backend calls done", timeout=30)
    first_start = started_at(engine, row.container_id)

    with open(tmp_path / "serve.log", "wb") as log_file:
        serve = subprocess.Popen(
            [sys.executable, "-m", "giftdesk", "serve", "--data-dir", str(fleet_desk.paths.root),
             "--host", "127.0.0.1", "--port", str(endpoint_port)],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "GIFTDESK_KEYRING": "file"})
        try:
            # The default grace is 20 s from the container's start; the deadline leaves a loaded machine room.
            wait_for_log(container, 'GET config -> ok: {"success":true,"data":{"theme":"dark","target":42}}',
                         timeout=90)
            assert started_at(engine, row.container_id) != first_start  # the same container, started again
            messages = [e.message for e in fleet_desk.fleet.events(row.id)]
            assert any(m.startswith("Restarted: it started while the endpoint was down") for m in messages), messages
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(timeout=30) == 0
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
