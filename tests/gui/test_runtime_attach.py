"""A window opened while `giftdesk serve` runs attaches to it: no second endpoint, its status shown."""

from __future__ import annotations

import signal
import socket

from tests.runtime.serve_support import answers, serves  # noqa: F401 (fixture)
from tests.test_change_feed import run_giftdesk


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_window_opened_while_serve_runs_attaches_and_takes_over_when_it_ends(ctx, qtbot, serves):
    from giftdesk.gui.main_window import MainWindow

    window_port = _free_port()  # where the window's own endpoint would listen
    ctx.desk.settings.update({"endpoint.port": window_port, "endpoint.bind": "local",
                              "docker.host": "unix:///nonexistent.sock"})
    serve, serve_port = serves.start_listening(ctx.desk.paths.root)
    win = MainWindow(ctx, background=False)
    qtbot.addWidget(win)
    win.start_background()
    view = win.runtime_view
    try:
        qtbot.waitUntil(lambda: win.status.endpoint.text().startswith(f"Endpoint: port {serve_port}")
                        and win.status.endpoint.text().endswith("(giftdesk serve)"), timeout=10000)
        assert f"Run by giftdesk serve (pid {serve.pid}" in win.status.endpoint.toolTip()
        assert view.runtime is None and ctx.desk.runtime is None and view.attached_to["pid"] == serve.pid
        assert _port_is_free(window_port) and answers(serve_port)  # one endpoint: the serve's
        qtbot.waitUntil(lambda: win.status.docker.text() == "Docker: not reachable", timeout=10000)
        # Attached, the window still follows the change feed: another console's customer shows up.
        customers = win.customers_tab
        run_giftdesk(ctx.desk, ctx.desk.paths.root, "customer", "add", "--name", "While attached")
        qtbot.waitUntil(lambda: "While attached" in [r.name for r in customers.table.visible_rows()], timeout=15000)

        serve.send_signal(signal.SIGTERM)  # the serve ends: the window runs the runtime itself
        serve.communicate(timeout=30)
        qtbot.waitUntil(lambda: win.status.endpoint.text().startswith(f"Endpoint: port {window_port}"),
                        timeout=15000)
        assert view.runtime is not None and view.attached_to is None and answers(window_port)
        assert "giftdesk serve" not in win.status.endpoint.text()
        assert view._attached_feed is None  # the window's runtime follows the feed itself now
    finally:
        win.shutdown()
    assert view.runtime is None and ctx.desk.runtime is None
