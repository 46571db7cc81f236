"""Closing the window hands its runtime to a detached `giftdesk serve`: the same sockets, nothing refused."""

from __future__ import annotations

import os
import signal
import socket
import threading
import urllib.request

import pytest

from giftdesk.runtime.ownership import runtime_owned
from giftdesk.runtime.status_file import read_runtime_status
from tests.runtime.test_supervisor import wait_for


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Hammer(threading.Thread):
    """Asks /health over and over on new connections; every failure is kept."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/health"
        self.done = threading.Event()
        self.answers = 0
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.done.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    assert response.status == 200
                self.answers += 1
            except Exception as exc:  # noqa: BLE001 - every kind of failure counts
                self.failures.append(repr(exc))


@pytest.fixture
def handed_over_pids():
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_closing_the_window_hands_the_runtime_over_without_refusing_a_request(ctx, qtbot, handed_over_pids):
    from giftdesk.gui.main_window import MainWindow

    port = _free_port()
    ctx.desk.settings.update({"endpoint.port": port, "endpoint.bind": "local", "docker.host": "unix:///nonexistent.sock",
                              "runtime.keep_running": "on"})
    win = MainWindow(ctx, background=False)
    win.hand_over_on_close = True
    qtbot.addWidget(win)
    win.start_background()
    view = win.runtime_view
    qtbot.waitUntil(lambda: win.status.endpoint.text().startswith(f"Endpoint: port {port}"), timeout=10000)
    hammer = Hammer(port)
    hammer.start()
    try:
        assert wait_for(lambda: hammer.answers >= 5)
        before = hammer.answers
        win.close()
        serve = view.handed_over_to
        assert serve is not None
        handed_over_pids.append(serve.pid)
        owner = read_runtime_status(ctx.desk.paths.root)
        assert owner["pid"] == serve.pid and owner["kind"] == "serve" and serve.address.endswith(f":{port}")
        assert wait_for(lambda: hammer.answers >= before + 5)
    finally:
        hammer.done.set()
        hammer.join(60)
    assert hammer.failures == []
    from giftdesk.runtime.detached import stop_serve

    assert stop_serve(ctx.desk.paths.root)["pid"] == serve.pid
    assert not runtime_owned(ctx.desk.paths.root)


def test_with_keep_running_off_closing_the_window_stops_the_runtime(ctx, qtbot):
    from giftdesk.gui.main_window import MainWindow

    port = _free_port()
    ctx.desk.settings.update({"endpoint.port": port, "endpoint.bind": "local", "docker.host": "unix:///nonexistent.sock"})
    win = MainWindow(ctx, background=False)  # auto, and no instance: nothing to keep running for
    win.hand_over_on_close = True
    qtbot.addWidget(win)
    win.start_background()
    qtbot.waitUntil(lambda: win.status.endpoint.text().startswith(f"Endpoint: port {port}"), timeout=10000)
    win.close()
    assert win.runtime_view.handed_over_to is None and not runtime_owned(ctx.desk.paths.root)
