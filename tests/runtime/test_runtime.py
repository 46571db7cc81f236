"""The runtime with real parts: the endpoint in it, settings restarts, a taken port, serve headless."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from giftdesk.runtime import Runtime
from tests.runtime.test_supervisor import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def runtime(desk):
    desk.settings.update({"endpoint.port": free_port(), "endpoint.bind": "local", "docker.host": "unix:///nonexistent.sock"})
    rt = Runtime(desk)
    desk.attach_runtime(rt)
    yield rt
    rt.stop()


def test_the_endpoint_runs_in_the_runtime_and_serves_trackers(runtime, desk, make_account):
    account, api_key = make_account()
    runtime.start()
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")
    status = runtime.supervisor.status("endpoint")
    port = status.info["port"]
    assert "this computer" in status.detail
    code, body = get_json(f"http://127.0.0.1:{port}/api/instances/{account.id}/config",
                          {"X-API-Key": api_key, "X-Account-ID": str(account.id)})
    assert code == 200 and body["success"] is True
    assert wait_for(lambda: runtime.supervisor.status("endpoint").info.get("requestsPerMinute", 0) >= 1)
    # the Docker monitor runs beside it and says the engine is not there
    assert wait_for(lambda: runtime.supervisor.status("docker").info.get("reachable") is False)


def test_changing_the_port_restarts_the_endpoint_on_the_new_port(runtime, desk):
    runtime.start()
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")
    new_port = free_port()
    desk.settings.update({"endpoint.port": new_port})
    assert wait_for(lambda: runtime.supervisor.status("endpoint").info.get("port") == new_port
                    and runtime.supervisor.status("endpoint").state == "running")
    assert get_json(f"http://127.0.0.1:{new_port}/health")[0] == 200


def test_turning_the_endpoint_off_and_on(runtime, desk):
    runtime.start()
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")
    port = runtime.supervisor.status("endpoint").info["port"]
    desk.settings.update({"endpoint.enabled": False})
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "off")
    with pytest.raises(OSError):
        get_json(f"http://127.0.0.1:{port}/health")
    desk.settings.update({"endpoint.enabled": True})
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")


def test_a_taken_port_is_retried_with_backoff_and_recovers(desk):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    desk.settings.update({"endpoint.port": port, "endpoint.bind": "local"})
    rt = Runtime(desk, docker=False)
    rt.supervisor._backoff_first = 0.1
    try:
        rt.start()
        assert wait_for(lambda: rt.supervisor.status("endpoint").state == "backoff")
        assert "in use" in rt.supervisor.status("endpoint").error or "taken" in rt.supervisor.status("endpoint").error
        blocker.close()
        assert wait_for(lambda: rt.supervisor.status("endpoint").state == "running", timeout=10)
        assert rt.supervisor.status("endpoint").restarts >= 1
    finally:
        blocker.close()
        rt.stop()


def test_a_restored_database_restarts_the_endpoint_with_its_keys(runtime, desk, make_account, tmp_path):
    before, old_key = make_account("before_backup")
    backup = desk.backups.create(str(tmp_path / "b.db"))
    after, new_key = make_account("after_backup")
    runtime.start()
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")
    port = runtime.supervisor.status("endpoint").info["port"]
    headers = {"X-API-Key": new_key, "X-Account-ID": str(after.id)}
    assert get_json(f"http://127.0.0.1:{port}/api/instances/{after.id}/config", headers)[0] == 200
    desk.backups.restore(backup)
    assert wait_for(lambda: runtime.supervisor.status("endpoint").restarts == 0
                    and runtime.supervisor.status("endpoint").state == "running")

    def refused():
        try:
            get_json(f"http://127.0.0.1:{port}/api/instances/{after.id}/config", headers)
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        except OSError:
            return False
        return False

    assert wait_for(refused)
    ok = {"X-API-Key": old_key, "X-Account-ID": str(before.id)}

    def served() -> bool:
        try:  # the old server may have refused the new key before the restart: it may still be under way
            return get_json(f"http://127.0.0.1:{port}/api/instances/{before.id}/config", ok)[0] == 200
        except OSError:
            return False

    assert wait_for(served)


def test_scheduled_jobs_run_in_the_runtime(runtime):
    calls = []
    runtime.scheduler.every("test.tick", 0.05, lambda: calls.append(1), first_in=0)
    runtime.start()
    assert wait_for(lambda: len(calls) >= 3)


def test_stop_is_bounded_and_flushes_last_access_times(runtime, desk, make_account):
    account, api_key = make_account()
    runtime.start()
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")
    port = runtime.supervisor.status("endpoint").info["port"]
    get_json(f"http://127.0.0.1:{port}/api/instances/{account.id}/config",
             {"X-API-Key": api_key, "X-Account-ID": str(account.id)})
    assert runtime.stop() == []  # nothing left hanging (a stop that hangs fails at the test's deadline)
    assert desk.keys.get(account.id).last_accessed_at is not None


def test_giftdesk_serve_runs_the_runtime_headless_and_stops_on_sigterm(data_dir, tmp_path):
    port_file = tmp_path / "port"
    env = {**os.environ, "GIFTDESK_KEYRING": "file"}
    process = subprocess.Popen(
        [sys.executable, "-m", "giftdesk", "serve", "--data-dir", str(data_dir), "--port", "0",
         "--host", "127.0.0.1", "--port-file", str(port_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert wait_for(port_file.exists, timeout=30), process.stderr.read() if process.poll() is not None else ""
        port = int(port_file.read_text())
        assert get_json(f"http://127.0.0.1:{port}/health")[0] == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    lines = [line for line in out.splitlines() if line.startswith("Tracker endpoint listening on")]
    assert lines == [f"Tracker endpoint listening on 127.0.0.1:{port}"]


def test_giftdesk_serve_says_when_the_port_is_taken(data_dir):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "giftdesk", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
             "--port", str(blocker.getsockname()[1])],
            capture_output=True, text=True, timeout=60, env={**os.environ, "GIFTDESK_KEYRING": "file"},
        )
    finally:
        blocker.close()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("giftdesk:")]) == 1


def test_a_running_runtime_tells_giftdesk_status_in_another_process(runtime, desk):
    from giftdesk.runtime.status_file import read_runtime_status

    assert read_runtime_status(desk.paths.root) is None
    runtime.start()
    assert wait_for(lambda: runtime.supervisor.status("endpoint").state == "running")

    def endpoint_in_file():
        document = read_runtime_status(desk.paths.root)
        states = {s["name"]: s["state"] for s in (document or {}).get("services", [])}
        return states.get("endpoint") == "running" and "scheduler" in states and "docker" in states

    assert wait_for(endpoint_in_file)
    runtime.stop()
    assert read_runtime_status(desk.paths.root) is None  # stopped: nothing runs any more


def test_a_killed_runtime_is_not_reported_as_running(desk):
    import json as _json

    (desk.paths.root / "runtime.json").write_text(_json.dumps(
        {"pid": 999_999_99, "host": socket.gethostname(), "running": True, "services": []}))
    from giftdesk.runtime.status_file import read_runtime_status

    assert read_runtime_status(desk.paths.root) is None
