"""A real tracker container, given only the environment the console computes, talks to the endpoint.

The container is the offline test image on the real Docker Engine that ``.ci/run`` starts. It
reads its config and gift groups with its API key and saves new ones; the console sees them.
"""

from __future__ import annotations

import uuid

import pytest

from giftdesk.endpoint.addressing import advertised_base_url, docker_bridge_ip, local_bind_hosts
from tests.support.endpoint_server import EndpointServer
from giftdesk.accounts.tracker_gateway import TrackerGateway
from tests.conftest import require_service
from tests.support.docker_engine import TEST_IMAGE, TEST_LABEL, wait_for_log

pytestmark = pytest.mark.docker




@pytest.fixture
def endpoint(desk):
    server = EndpointServer(TrackerGateway(desk.db, desk.events), local_bind_hosts(), 0)
    server.start()
    yield server
    server.stop()


def _run_tracker(engine, environment: dict[str, str], **options):
    container = engine.containers.run(
        TEST_IMAGE, detach=True, name=f"gd-test-{uuid.uuid4().hex[:8]}", labels={TEST_LABEL: "1"},
        environment=environment, **options,
    )
    return container


def _check_round_trip(desk, container, account_id: int) -> None:
    logs = wait_for_log(container, "serving /www")
    assert "GET config -> ok: {\"success\":true,\"data\":{\"theme\":\"light\",\"target\":500}}" in logs, logs
    assert "POST gift-groups -> ok: {\"success\":true,\"message\":\"Gift groups saved successfully\"}" in logs, logs
    assert "POST config -> ok: {\"success\":true,\"message\":\"Configuration saved successfully\"}" in logs, logs
    groups = desk.tracker_data.get(account_id, "gift-groups")
    assert groups == {"group-1": {"name": "From tracker", "color": "#ff0000", "giftIds": [5655]}}
    # The tracker's config POST merged into what the console had saved.
    assert desk.tracker_data.get(account_id, "config") == {"theme": "dark", "target": 500}


def test_tracker_on_the_docker_bridge_uses_the_advertised_address(desk, make_account, engine, endpoint):
    bridge = docker_bridge_ip()
    require_service(bridge is not None, "the docker0 bridge (a running Docker Engine on this host)")
    account, _ = make_account("bridge_tracker")
    desk.tracker_data.save_config(account.id, {"theme": "light", "target": 500})
    url = advertised_base_url(desk.settings.all(), endpoint.port)
    assert url == f"http://{bridge}:{endpoint.port}/api/instances"
    environment = desk.keys.tracker_environment(account.id, url)
    assert set(environment) == {"API_KEY", "ACCOUNT_ID", "TIKTOK_USERNAME", "BACKEND_API_URL"}
    container = _run_tracker(engine, environment)  # default bridge network, nothing else given
    try:
        _check_round_trip(desk, container, account.id)
    finally:
        container.remove(force=True)
    endpoint.gateway.flush_access_times()
    assert desk.keys.get(account.id).last_accessed_at is not None


def test_tracker_with_host_networking_on_loopback(desk, make_account, engine, endpoint):
    account, _ = make_account("host_tracker")
    desk.tracker_data.save_config(account.id, {"theme": "light", "target": 500})
    environment = desk.keys.tracker_environment(account.id, f"http://127.0.0.1:{endpoint.port}/api/instances")
    container = _run_tracker(engine, {**environment, "PORT": "0"}, network_mode="host")
    try:
        _check_round_trip(desk, container, account.id)
    finally:
        container.remove(force=True)


def test_a_regenerated_key_locks_the_old_tracker_out(desk, make_account, engine, endpoint):
    account, _ = make_account("rotated_tracker")
    environment = desk.keys.tracker_environment(account.id, f"http://127.0.0.1:{endpoint.port}/api/instances")
    desk.keys.regenerate(account.id)
    container = _run_tracker(engine, {**environment, "PORT": "0", "TRACKER_RETRIES": "1"}, network_mode="host")
    try:
        logs = wait_for_log(container, "serving /www")
        assert "GET config -> failed" in logs
        assert desk.tracker_data.get(account.id, "gift-groups") == {}
    finally:
        container.remove(force=True)
