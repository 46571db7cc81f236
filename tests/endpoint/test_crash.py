"""The endpoint as a process (``python -m giftdesk serve``): every write that got its 200 survives
SIGKILL mid-stream, SIGTERM stops it promptly (also under a pipelining flood), a busy port is a
one-line error."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.endpoint.helpers import auth_headers

REPO = Path(__file__).resolve().parents[2]


def _start_endpoint_process(data_dir: Path, port_file: Path, log_file) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(
        [sys.executable, "-m", "giftdesk", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", "0", "--rate-limit", "1000000", "--port-file", str(port_file)],
        cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
    )
    give_up = time.monotonic() + 30
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > give_up:
            process.kill()
            process.wait()
            raise AssertionError(f"the endpoint process did not start (exit {process.returncode})")
        time.sleep(0.05)
    return process, int(port_file.read_text())


def test_acknowledged_writes_survive_sigkill(desk, data_dir, make_account, tmp_path):
    group_accounts = [make_account() for _ in range(3)]
    config_account = make_account()
    with open(tmp_path / "endpoint.log", "wb") as log_file:
        process, port = _start_endpoint_process(data_dir, tmp_path / "port", log_file)
        try:
            acked: dict[str, int] = {}  # writer -> last sequence number answered 200
            lock = threading.Lock()
            stop = threading.Event()

            def writer(name: str, account, make_body) -> None:
                row, api_key = account
                path = f"/api/instances/{row.id}/{'config' if name.startswith('config') else 'gift-groups'}"
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                try:
                    for seq in range(1, 100_000):
                        if stop.is_set():
                            return
                        connection.request("POST", path, body=json.dumps(make_body(seq)),
                                           headers=auth_headers(row.id, api_key))
                        response = connection.getresponse()
                        response.read()
                        assert response.status == 200, response.status
                        with lock:
                            acked[name] = seq
                except (OSError, http.client.HTTPException):
                    return  # the process was killed under us
                finally:
                    connection.close()

            writers = [
                threading.Thread(target=writer, args=(f"groups-{i}", account, lambda seq: {"groups": {
                    f"seq-{seq}": {"name": f"Group {seq}", "color": "#00ff00", "giftIds": [seq]}}}))
                for i, account in enumerate(group_accounts)
            ] + [
                threading.Thread(target=writer, args=(f"config-{i}", config_account,
                                                      lambda seq, i=i: {f"writer{i}": seq}))
                for i in range(3)
            ]
            for thread in writers:
                thread.start()
            give_up = time.monotonic() + 20
            while time.monotonic() < give_up:
                with lock:
                    if len(acked) == len(writers) and min(acked.values()) >= 20:
                        break
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)  # mid-stream: every writer has a request in flight
            process.wait(timeout=10)
            stop.set()
            for thread in writers:
                thread.join(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == -signal.SIGKILL
    assert len(acked) == len(writers) and min(acked.values()) >= 20, acked

    for i, (row, _) in enumerate(group_accounts):
        groups = desk.tracker_data.get(row.id, "gift-groups")
        (only,) = groups  # each save replaced the whole set
        saved = int(only.removeprefix("seq-"))
        # The last acknowledged write is there, or one that was committed but not yet answered.
        assert saved in (acked[f"groups-{i}"], acked[f"groups-{i}"] + 1), (saved, acked)
        assert groups[only] == {"name": f"Group {saved}", "color": "#00ff00", "giftIds": [saved]}
    config = desk.tracker_data.get(config_account[0].id, "config")
    for i in range(3):
        assert config[f"writer{i}"] in (acked[f"config-{i}"], acked[f"config-{i}"] + 1), (config, acked)


def test_sigterm_stops_gracefully_and_records_last_access(desk, data_dir, make_account, tmp_path):
    row, api_key = make_account()
    with open(tmp_path / "endpoint.log", "wb") as log_file:
        process, port = _start_endpoint_process(data_dir, tmp_path / "port", log_file)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", f"/api/instances/{row.id}/config", headers=auth_headers(row.id, api_key))
            assert connection.getresponse().status == 200
            connection.close()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = (tmp_path / "endpoint.log").read_text()
    assert output.count("listening on") == 1, output  # printed once, not also logged to the console
    assert f"listening on 127.0.0.1:{port}" in output and "BACKEND_API_URL=http://" in output
    assert api_key not in output
    assert desk.keys.get(row.id).last_accessed_at is not None


def test_a_busy_port_makes_the_process_exit_1_with_the_reason(data_dir, tmp_path):
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        done = subprocess.run([sys.executable, "-m", "giftdesk", "serve", "--data-dir", str(data_dir),
                               "--host", "127.0.0.1", "--port", str(port)],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert f"Port {port} is in use on 127.0.0.1" in done.stderr


def test_sigterm_under_a_pipelining_flood_stops_within_seconds_and_the_log_stays_quiet(desk, data_dir, tmp_path):
    """Clients that pipeline thousands of requests and reset: no log line per failed send, and a
    SIGTERM in the middle of it ends the process within a few seconds."""
    flood = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 20_000
    with open(tmp_path / "endpoint.log", "wb") as log_file:
        process, port = _start_endpoint_process(data_dir, tmp_path / "port", log_file)
        stop = threading.Event()

        def flooder() -> None:
            while not stop.is_set():
                try:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
                except OSError:
                    return  # the server is gone
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
                sock.setblocking(False)
                try:
                    sock.send(flood)  # as much as the kernel takes; the answers are never read
                    time.sleep(0.02)
                except OSError:
                    pass
                sock.close()

        threads = [threading.Thread(target=flooder) for _ in range(20)]
        try:
            for thread in threads:
                thread.start()
            time.sleep(3)  # let the flood run for a while
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
            stopped_in = time.monotonic() - started
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            if process.poll() is None:
                process.kill()
                process.wait()
    assert stopped_in < 5, stopped_in
    logged = (Path(desk.paths.logs) / "giftdesk.log").read_text()
    assert "socket.send() raised exception" not in logged
    assert len(logged.splitlines()) < 20, logged[-2000:]
