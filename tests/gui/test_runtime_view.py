"""The window's adapter over the runtime: the status bar shows the endpoint and Docker as they are."""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import datetime, timedelta, timezone

from giftdesk.gui.runtime_view import RuntimeView, endpoint_label
from giftdesk.core.service import ServiceStatus


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_endpoint_labels_say_what_a_person_needs():
    assert endpoint_label(None)[0] == "Endpoint: off"
    assert endpoint_label(ServiceStatus("endpoint", "off"))[1].startswith("The tracker endpoint is turned off")
    running = ServiceStatus("endpoint", "running", "port 8787 on this computer and the Docker bridge",
                            info={"port": 8787, "addresses": ["127.0.0.1:8787", "172.17.0.1:8787"],
                                  "requestsPerMinute": 3, "advertisedUrl": "http://172.17.0.1:8787/api/instances"})
    label, tooltip, is_error = endpoint_label(running)
    assert label == "Endpoint: port 8787, 3 req/min" and not is_error
    assert "this computer and the Docker bridge" in tooltip and "172.17.0.1:8787" in tooltip
    assert "Trackers are told to call http://172.17.0.1:8787/api/instances" in tooltip
    retry = datetime.now(timezone.utc) + timedelta(seconds=8)
    failed = ServiceStatus("endpoint", "backoff", error="Port 8787 is in use on 127.0.0.1: another program is there.",
                           retry_at=retry)
    label, tooltip, is_error = endpoint_label(failed)
    assert label == "Endpoint: port in use" and is_error
    assert "retrying at" in tooltip


def test_window_runs_the_runtime_and_the_status_bar_follows(ctx, qtbot, make_account):
    from giftdesk.gui.main_window import MainWindow

    account, api_key = make_account("runtime_view")
    port = _free_port()
    ctx.desk.settings.update({"endpoint.port": port, "endpoint.bind": "local",
                              "docker.host": "tcp://127.0.0.1:9"})  # nothing listens on discard
    win = MainWindow(ctx, background=False)
    qtbot.addWidget(win)
    win.start_background()
    view = win.runtime_view
    try:
        qtbot.waitUntil(lambda: win.status.endpoint.text().startswith(f"Endpoint: port {port}"), timeout=8000)
        # One set of job lanes in the process: the runtime's schedules queue behind the window's jobs.
        assert view.runtime.jobs is ctx.runner.executor
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/instances/{account.id}/config",
            headers={"X-API-Key": api_key, "X-Account-ID": str(account.id)})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read()) == {"success": True, "data": {}}
        qtbot.waitUntil(lambda: "1 req/min" in win.status.endpoint.text(), timeout=5000)
        qtbot.waitUntil(lambda: win.status.docker.text() == "Docker: not reachable", timeout=8000)
        assert "127.0.0.1:9" in win.status.docker.toolTip()
        # a settings change restarts the endpoint, and the status bar follows
        new_port = _free_port()
        ctx.desk.settings.update({"endpoint.port": new_port})
        qtbot.waitUntil(lambda: win.status.endpoint.text().startswith(f"Endpoint: port {new_port}"), timeout=8000)
    finally:
        win.shutdown()
    assert view.runtime is None and ctx.desk.runtime is None
    assert ctx.runner.submit(lambda: 42).wait(10)  # the runtime's stop left the window's lanes running
    # The last-access time was flushed when the endpoint stopped, before the Desk closes.
    assert ctx.desk.keys.get(account.id).last_accessed_at is not None


def test_a_taken_port_shows_as_an_error_in_the_status_bar(ctx, qtbot):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    ctx.desk.settings.update({"endpoint.port": blocker.getsockname()[1], "endpoint.bind": "local"})
    view = RuntimeView(ctx)
    statuses = []
    view.endpoint_changed.connect(statuses.append)
    view.start()
    try:
        qtbot.waitUntil(lambda: bool(statuses) and statuses[-1].state == "backoff", timeout=8000)
        assert endpoint_label(statuses[-1])[0] == "Endpoint: port in use"
    finally:
        view.stop()
        blocker.close()


def test_background_services_label_warns_about_a_failing_one(window):
    from datetime import datetime, timezone

    status = window.status
    status.set_service_status(ServiceStatus("scheduler", "running", "2 scheduled jobs"))
    status.set_service_status(ServiceStatus("endpoint", "running", "port 8787 on this computer"))
    assert status.services.text() == "Background: 2 running"
    assert "scheduler: running — 2 scheduled jobs" in status.services.toolTip()
    status.set_service_status(ServiceStatus("fleet", "backoff", error="the Docker engine went away",
                                            retry_at=datetime.now(timezone.utc)))
    assert status.services.text() == "⚠ Background: fleet failing"
    assert status.services.property("role") == "warning"
    assert "the Docker engine went away" in status.services.toolTip()
