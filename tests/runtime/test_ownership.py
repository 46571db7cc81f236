"""One runtime per data directory: the lock, a second serve, serve --detach / stop, a killed owner."""

from __future__ import annotations

import json
import signal

from giftdesk.runtime.ownership import OwnerLock, describe_owner, runtime_owned
from giftdesk.runtime.status_file import read_runtime_status
from tests.runtime.serve_support import answers, giftdesk, quiet_data_dir, serves  # noqa: F401 (fixtures)
from tests.runtime.test_supervisor import wait_for


def test_the_lock_has_one_holder_and_is_free_again_once_released(tmp_path):
    first, second = OwnerLock(tmp_path), OwnerLock(tmp_path)
    assert not runtime_owned(tmp_path)
    assert first.acquire()
    assert runtime_owned(tmp_path)
    assert not second.acquire(grace_s=0)
    first.release()
    assert not runtime_owned(tmp_path)
    assert second.acquire(grace_s=0)
    second.release()


def test_the_owner_is_described_by_what_runtime_json_says():
    owner = {"kind": "serve", "pid": 4242, "startedAt": "2026-12-06T02:40:00+00:00",
             "services": [{"name": "endpoint", "state": "running", "addresses": ["127.0.0.1:8787"], "port": 8787}]}
    assert describe_owner(owner) == "giftdesk serve (pid 4242, since 2026-12-06 02:40:00 UTC, endpoint 127.0.0.1:8787)"
    assert describe_owner(None) == "Another process (still starting)"


def test_a_second_serve_exits_2_naming_the_first(serves, quiet_data_dir):
    first, port = serves.start_listening(quiet_data_dir)
    second = giftdesk("serve", "--data-dir", str(quiet_data_dir), "--port", "0", "--host", "127.0.0.1")
    assert second.returncode == 2, second.stderr
    assert "Traceback" not in second.stderr
    [line] = [line for line in second.stderr.splitlines() if line.startswith("giftdesk:")]
    assert f"giftdesk serve (pid {first.pid}, since " in line and f"endpoint 127.0.0.1:{port}" in line
    assert "giftdesk serve stop" in line
    assert first.poll() is None and answers(port)  # the first one serves on, undisturbed


def test_serve_detach_then_status_then_serve_stop(serves, quiet_data_dir):
    started = giftdesk("--json", "serve", "--detach", "--data-dir", str(quiet_data_dir), "--port", "0",
                       "--host", "127.0.0.1")
    assert started.returncode == 0, started.stderr
    detached = json.loads(started.stdout)
    serves.pids.append(detached["pid"])
    port = int(detached["endpoint"].rpartition(":")[2])
    assert answers(port)
    assert detached["log"] == str(quiet_data_dir.resolve() / "serve.log")

    status = giftdesk("--json", "status", "--data-dir", str(quiet_data_dir))
    assert status.returncode == 0, status.stderr
    runtime = json.loads(status.stdout)["runtime"]
    assert runtime["serve"] and runtime["pid"] == detached["pid"] and runtime["endpoint"] == detached["endpoint"]
    assert runtime["since"]
    text = giftdesk("status", "--data-dir", str(quiet_data_dir)).stdout
    assert f"giftdesk serve (pid {detached['pid']}, since" in text and detached["endpoint"] in text

    again = giftdesk("serve", "--detach", "--data-dir", str(quiet_data_dir), "--port", "0", "--host", "127.0.0.1")
    assert again.returncode == 2 and f"pid {detached['pid']}" in again.stderr

    stopped = giftdesk("serve", "stop", "--data-dir", str(quiet_data_dir))
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"Stopped giftdesk serve (pid {detached['pid']})."
    assert not runtime_owned(quiet_data_dir) and not answers(port)
    assert read_runtime_status(quiet_data_dir) is None

    nothing = giftdesk("serve", "stop", "--data-dir", str(quiet_data_dir))
    assert nothing.returncode == 1
    assert nothing.stderr.strip() == f"giftdesk: No giftdesk serve runs on {quiet_data_dir.resolve()}."
    assert json.loads(giftdesk("--json", "status", "--data-dir", str(quiet_data_dir)).stdout)["runtime"] is None


def test_a_killed_serve_leaves_no_claim_behind(serves, quiet_data_dir):
    first, _port = serves.start_listening(quiet_data_dir)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=20)
    assert wait_for(lambda: not runtime_owned(quiet_data_dir))
    second, port = serves.start_listening(quiet_data_dir)
    assert answers(port)
    assert read_runtime_status(quiet_data_dir)["pid"] == second.pid


def test_a_detached_serve_that_cannot_start_says_why_with_its_log(serves, quiet_data_dir):
    import socket

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        result = giftdesk("serve", "--detach", "--data-dir", str(quiet_data_dir), "--host", "127.0.0.1",
                          "--port", str(blocker.getsockname()[1]))
    finally:
        blocker.close()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("giftdesk: giftdesk serve stopped at once (exit status 1); the end of ")
    assert "serve.log" in line and "in use" in line
    assert not runtime_owned(quiet_data_dir)


def test_keep_running_follows_its_setting_and_otherwise_whether_an_instance_exists(desk):
    from giftdesk.runtime.handover import keep_running_wanted

    assert desk.settings.get("runtime.keep_running") == "auto"
    assert not keep_running_wanted(desk)  # no instance: nothing to keep serving
    desk.settings.update({"runtime.keep_running": "on"})
    assert keep_running_wanted(desk)
    desk.settings.update({"runtime.keep_running": "off"})
    assert not keep_running_wanted(desk)
