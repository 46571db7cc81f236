"""The offline test tracker image against a real Docker Engine.

These pin what the console's Docker tests rely on: the image builds with no registry, a
container calls the backend with the tracker's headers and bodies, serves its page on
``$PORT``, and stops at once. Traffic stays on loopback: host networking for calls back to
the host, ports published on 127.0.0.1 otherwise.
"""

from __future__ import annotations

import socket
import urllib.request
import uuid

import pytest

from tests.support.docker_engine import TEST_IMAGE, TEST_LABEL, wait_for_log
from tests.support.fake_backend import FakeBackend

pytestmark = pytest.mark.docker




def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def test_tracker_calls_backend_with_its_headers_and_serves_its_page(engine):
    port = _free_port()
    with FakeBackend() as backend:
        container = engine.containers.create(
            TEST_IMAGE,
            name=f"gd-test-{uuid.uuid4().hex[:8]}",
            labels={TEST_LABEL: "1"},
            network_mode="host",
            environment={
                "API_KEY": "key-123",
                "ACCOUNT_ID": "acct-7",
                "TIKTOK_USERNAME": "creator_one",
                "BACKEND_API_URL": backend.api_url + "/",
                "PORT": str(port),
            },
        )
        try:
            container.start()
            for method, path in (("GET", "config"), ("GET", "gift-groups")):
                request = backend.wait_for(method, f"/api/instances/acct-7/{path}")
                assert request.headers["X-API-Key"] == "key-123"
                assert request.headers["X-Account-ID"] == "acct-7"
                assert request.headers["Content-Type"] == "application/json"
            groups = backend.wait_for("POST", "/api/instances/acct-7/gift-groups")
            assert groups.headers["X-API-Key"] == "key-123"
            assert groups.headers["Content-Type"] == "application/json"
            assert groups.json()["groups"]["group-1"]["giftIds"] == [5655]
            assert backend.wait_for("POST", "/api/instances/acct-7/config").json() == {"theme": "dark"}

            logs = wait_for_log(container, "serving /www")
            assert "GET config -> ok" in logs and "POST gift-groups -> ok" in logs
            assert b"creator_one" in _get(f"http://127.0.0.1:{port}/")
            assert b'"sound": true' in _get(f"http://127.0.0.1:{port}/config.json")

            container.stop(timeout=10)
            container.reload()
            assert container.attrs["State"]["ExitCode"] == 0  # SIGTERM ended it (SIGKILL after the timeout: 137)
        finally:
            container.remove(force=True)


def test_tracker_without_backend_serves_on_a_port_published_on_loopback(engine):
    container = engine.containers.run(
        TEST_IMAGE,
        detach=True,
        name=f"gd-test-{uuid.uuid4().hex[:8]}",
        labels={TEST_LABEL: "1"},
        environment={"TIKTOK_USERNAME": "nobody_here"},
        ports={"3000/tcp": ("127.0.0.1", None)},
    )
    try:
        wait_for_log(container, "serving /www")
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"]["3000/tcp"][0]
        assert binding["HostIp"] == "127.0.0.1"
        assert b"nobody_here" in _get(f"http://127.0.0.1:{binding['HostPort']}/")
        assert _get(f"http://127.0.0.1:{binding['HostPort']}/status.txt").strip() == b"ready"
    finally:
        container.remove(force=True)
