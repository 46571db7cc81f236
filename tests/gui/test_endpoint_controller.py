"""The embedded tracker endpoint: started off the GUI thread as the settings say, restarted on change."""

from __future__ import annotations

import json
import socket
import urllib.request
from dataclasses import dataclass

import pytest

from giftdesk.errors import ServiceUnavailableError
from giftdesk.gui.endpoint_controller import EndpointController, EndpointState


@dataclass
class FakeStats:
    requests_last_minute: int


class FakeServer:
    def __init__(self, settings, fail=None):
        self.port = settings["endpoint.port"]
        self.fail = fail
        self.started = self.stopped = False
        self.rate = 0
        self.rate_limit_per_minute = settings["endpoint.rate_limit_per_minute"]

    def start(self):
        if self.fail:
            raise self.fail
        self.started = True

    def stop(self):
        self.stopped = True

    @property
    def addresses(self):
        return [("127.0.0.1", self.port), ("172.17.0.1", self.port)]

    def stats(self):
        return FakeStats(self.rate)


class FakeGateway:
    def close(self):
        pass


@pytest.fixture
def servers():
    return []


@pytest.fixture
def controller(ctx, servers, qtbot):
    fail: list = []

    def factory(desk, settings):
        server = FakeServer(settings, fail[0] if fail else None)
        servers.append(server)
        return FakeGateway(), server, f"http://172.17.0.1:{settings['endpoint.port']}/api/instances"

    made = EndpointController(ctx.desk, ctx.bridge, factory=factory)
    made.fail = fail
    yield made
    made.stop()


def wait_status(qtbot, controller, status):
    qtbot.waitUntil(lambda: controller.state.status == status, timeout=5000)


def test_starts_and_reports_requests_per_minute(controller, servers, qtbot):
    states = []
    controller.state_changed.connect(states.append)
    controller.start()
    wait_status(qtbot, controller, "listening")
    assert states[0].status == "starting"
    assert controller.state.label == "Endpoint: listening on 127.0.0.1:8787 +1, 0 req/min"
    assert "172.17.0.1:8787" in controller.state.tooltip
    servers[0].rate = 12
    qtbot.waitUntil(lambda: controller.state.requests_per_minute == 12, timeout=3000)
    assert controller.state.label.endswith("12 req/min")
    controller.stop()
    assert servers[0].stopped


def test_restarts_when_endpoint_settings_change(controller, servers, ctx, qtbot):
    controller.start()
    wait_status(qtbot, controller, "listening")
    ctx.desk.settings.update({"endpoint.port": 9393})
    qtbot.waitUntil(lambda: len(servers) == 2 and controller.state.port == 9393, timeout=5000)
    assert servers[0].stopped and servers[1].started
    ctx.desk.settings.update({"endpoint.rate_limit_per_minute": 30})  # applied live, no restart
    qtbot.waitUntil(lambda: servers[1].rate_limit_per_minute == 30, timeout=3000)
    assert len(servers) == 2
    ctx.desk.settings.update({"company.name": "unrelated"})
    ctx.desk.settings.update({"endpoint.enabled": False})
    wait_status(qtbot, controller, "off")
    assert servers[1].stopped and len(servers) == 2
    assert controller.state.label == "Endpoint: off"


def test_port_in_use_is_an_error_state(controller, qtbot):
    controller.fail.append(ServiceUnavailableError(
        "Port 8787 is in use on 127.0.0.1: another program (or another GiftDesk) is listening there."))
    controller.start()
    wait_status(qtbot, controller, "error")
    assert controller.state.label == "Endpoint: error: port in use"
    assert "another GiftDesk" in controller.state.tooltip


def test_state_labels():
    assert EndpointState("off").label == "Endpoint: off"
    assert EndpointState("listening", ("127.0.0.1:8787",), 8787, requests_per_minute=3).label == \
        "Endpoint: listening on 127.0.0.1:8787, 3 req/min"
    long = EndpointState("error", message="Cannot listen on 0.0.0.0:80: Permission denied; choose a port above 1023.")
    assert long.label.startswith("Endpoint: error: Cannot listen on 0.0.0.0:80") and long.label.endswith("…")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_real_endpoint_serves_trackers_and_stops_cleanly(ctx, qtbot, make_account):
    account, api_key = make_account("real_endpoint")
    port = _free_port()
    ctx.desk.settings.update({"endpoint.port": port, "endpoint.bind": "local"})
    controller = EndpointController(ctx.desk, ctx.bridge)
    try:
        controller.start()
        wait_status(qtbot, controller, "listening")
        assert f"127.0.0.1:{port}" in controller.state.addresses
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/instances/{account.id}/config",
            headers={"X-API-Key": api_key, "X-Account-ID": str(account.id)})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            assert json.loads(response.read()) == {"success": True, "data": {}}
        qtbot.waitUntil(lambda: (controller.state.requests_per_minute or 0) >= 1, timeout=3000)
    finally:
        controller.stop()
    assert not controller.running
    # The last-access time was flushed when the endpoint stopped, before the Desk closes.
    assert ctx.desk.keys.get(account.id).last_accessed_at is not None
