"""Two real ``giftdesk serve`` processes (each its own data directory) on one PostgreSQL database,
behind nginx as one upstream: the social sync limit and key changes hold whichever one answers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from giftdesk.desk import Desk
from tests.conftest import POSTGRES_URL, _reset_postgres, require_service
from tests.runtime.serve_support import giftdesk, serves  # noqa: F401 (fixture)
from tests.runtime.test_supervisor import wait_for

SYNC_PATH = "/api/v1/profiles/social-sync/tiktok"

# As in README.md ("Several serve processes behind a load balancer"), with this test's paths.
NGINX_CONF = """
daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {run}/access.log;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    upstream giftdesk {{
        server 127.0.0.1:{first};
        server 127.0.0.1:{second};
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://giftdesk;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                add_header X-Served-By $upstream_addr always;
        }}
    }}
}}
"""


def _nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                          if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def console(tmp_path):
    """A Desk on a fresh PostgreSQL database with a profile linked to a keyed TikTok account."""
    require_service(bool(POSTGRES_URL), "PostgreSQL (GIFTDESK_TEST_DATABASE_URL)")
    _reset_postgres(POSTGRES_URL)
    data_dir = tmp_path / "console"
    data_dir.mkdir()
    desk = Desk.open(str(data_dir), database_url=POSTGRES_URL)
    desk.settings.update({"docker.host": "unix:///nonexistent.sock",  # nothing here needs Docker
                          "endpoint.trusted_proxies": ["127.0.0.1"]})  # nginx: its X-Forwarded-For names the client
    yield desk
    desk.close()


@pytest.fixture
def nginx(tmp_path):
    """Starts nginx in front of the given backends; stopped (and waited for) at the end."""
    binary = _nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light): the load-balancer test needs it")
    started: list[subprocess.Popen] = []

    def start(*backends: int) -> int:
        run = tmp_path / "nginx"
        run.mkdir()
        port = _free_port()
        conf = run / "nginx.conf"
        conf.write_text(NGINX_CONF.format(run=run, first=backends[0], second=backends[1], port=port))
        # -e: the error log before the configuration is read, so no root-owned default is opened.
        process = subprocess.Popen([binary, "-p", str(run), "-c", str(conf), "-e", str(run / "error.log")],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started.append(process)
        if not wait_for(lambda: _answers(port) or process.poll() is not None, timeout=20) or process.poll() is not None:
            log = (run / "error.log").read_text() if (run / "error.log").exists() else ""
            pytest.fail(f"nginx did not start: {process.communicate(timeout=10)[0]!r} {log}")
        return port

    yield start
    for process in started:
        process.terminate()  # fast shutdown; the master ends its worker
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=10)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _start_both(serves, tmp_path: Path) -> list[int]:
    started = []
    for name in ("serve-a", "serve-b"):
        (tmp_path / name).mkdir()
        started.append(serves.start(tmp_path / name, "--database-url", POSTGRES_URL))
    for process, port_file in started:
        listening = wait_for(lambda: port_file.exists() or process.poll() is not None, timeout=60)
        if not listening or process.poll() is not None:
            process.kill()
            pytest.fail(f"giftdesk serve did not start: {process.communicate(timeout=10)}")
    ports = [int(port_file.read_text()) for _process, port_file in started]
    assert wait_for(lambda: all(_answers(port) for port in ports), timeout=30)
    return ports


def _tracker_status(port: int, account_id: int, key: str) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/api/instances/{account_id}/config",
                     headers={"X-API-Key": key, "X-Account-ID": str(account_id)}, timeout=5).status_code


def test_two_serves_behind_nginx_share_the_sync_limit_and_key_changes(console, serves, nginx, tmp_path):
    customer = console.customers.create("Yash")
    account = console.customers.add_account(customer.id, "yash_live")
    key = console.keys.generate(account.id)
    profile = console.social.create("Yash Gupta", account_id=account.id)
    backends = _start_both(serves, tmp_path)
    port = nginx(*backends)

    answers = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for followers in range(12):
            answers.append(client.post(SYNC_PATH, json={"followers": followers},
                                       headers={"Authorization": f"Bearer {key}"}))
    assert [a.status_code for a in answers] == [200] * 10 + [429] * 2
    assert {a.headers["X-Served-By"] for a in answers} == {f"127.0.0.1:{p}" for p in backends}  # both served
    for refused in answers[10:]:
        assert refused.json() == {"message": "Too many sync requests", "error": "Please wait before syncing again"}
        assert int(refused.headers["Retry-After"]) >= 1
    assert console.social.get(profile.id).platforms["tiktok"].followers == 9

    assert [_tracker_status(p, account.id, key) for p in backends] == [200, 200]
    regenerated = giftdesk("--json", "--data-dir", str(console.paths.root), "--database-url", POSTGRES_URL,
                           "key", "regenerate", "--account", str(account.id))
    assert regenerated.returncode == 0, regenerated.stderr
    new_key = json.loads(regenerated.stdout)["apiKey"]
    # Each backend notices the change by itself (its key table polls the credentials generation).
    for backend in backends:
        assert wait_for(lambda: _tracker_status(backend, account.id, key) == 401, timeout=10), backend
        assert _tracker_status(backend, account.id, new_key) == 200
        refused = httpx.post(f"http://127.0.0.1:{backend}{SYNC_PATH}", json={"followers": 1},
                             headers={"Authorization": f"Bearer {key}"}, timeout=5)
        assert refused.status_code == 401
