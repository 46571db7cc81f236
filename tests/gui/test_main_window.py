"""The main window: tabs, remembered layout, status bar, menus, backup and the error route."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt

from giftdesk.db.backup import check_giftdesk_database
from giftdesk.gui.errors import CrashDialog, ErrorRoute, _show
from giftdesk.gui.main_window import MainWindow
from giftdesk.docker.state import DockerState
from giftdesk.runtime.supervisor import ServiceStatus
from tests.gui.conftest import idle

TITLES = ["Instances", "API Keys", "Customer Accounts", "Social Stats", "Fampage Orders"]


def test_tabs_in_order_with_icons_and_title(window):
    assert window.tab_titles() == TITLES
    assert all(not window.tabs.tabIcon(i).isNull() for i in range(window.tabs.count()))
    # Qt appends the display name on its own: "alice (admin) — GiftDesk", the name once.
    assert window.windowTitle() == "alice (admin)"
    assert not window.windowIcon().isNull()
    # The third tab is the customers tab, shown first; the API Keys tab is the keys helper's widget
    # once it is shown.
    from giftdesk.gui.accounts.api_keys_tab import ApiKeysTab
    from giftdesk.gui.accounts.customers_tab import CustomersTab

    assert isinstance(window.tabs.widget(2), CustomersTab)
    window.show_tab("API Keys")
    assert isinstance(window.tabs.widget(1), ApiKeysTab)


def test_menus(window):
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus == ["&File", "&Account", "&Help"]
    assert window.backup_action.isEnabled()  # SQLite


def test_geometry_and_tab_remembered_across_windows(ctx, qtbot, desk):
    first = MainWindow(ctx, background=False)
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 520)
    first.tabs.setCurrentIndex(1)
    first.close()
    assert (desk.paths.root / "window.ini").exists()

    second = MainWindow(ctx, background=False)
    qtbot.addWidget(second)
    assert second.size() == QSize(700, 520)  # the offscreen screen is 800x600
    assert second.tabs.currentIndex() == 1
    second.close()


def test_status_bar_shows_database_and_keyring(window, desk):
    status = window.status
    assert status.database.text() == "Database: giftdesk.db"
    assert str(desk.db.sqlite_path) in status.database.toolTip()
    assert status.keyring.text() == "Keyring: file"  # the tests' forced file store, without a warning
    assert status.endpoint.text() == "Endpoint: off"


def test_keyring_fallback_warning_is_visible(ctx, qtbot, monkeypatch, tmp_path):
    import keyring
    from keyring.backends import fail

    from giftdesk.core.secrets import SecretStore

    monkeypatch.delenv("GIFTDESK_KEYRING")
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())
    monkeypatch.setattr(ctx.desk, "secrets", SecretStore(tmp_path / "secrets.json", "test"))
    win = MainWindow(ctx, background=False)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: "not the keyring" in win.status.keyring.text(), timeout=5000)
    assert "No usable system keyring (fail.Keyring" in win.status.keyring.toolTip()  # after the text when elided
    assert win.status.keyring.property("role") == "warning"


def test_busy_indicator_follows_the_runner(window, qtbot):
    status = window.status
    status.set_busy(1, "Loading customers…")
    qtbot.waitUntil(status.busy.isVisible, timeout=2000)
    assert status.busy_label.text() == "Loading customers…"
    status.set_busy(2, "Saving…")
    assert status.busy_label.text() == "Saving… (+1)"
    status.set_busy(0, "")
    assert not status.busy.isVisible()


def test_docker_state_labels(window, qtbot):
    window.status.set_docker_state(DockerState(True, "unix:///var/run/docker.sock", "28.0.1", 3, 1))
    assert window.status.docker.text() == "Docker: 1/3 running"  # compact: the message area needs the room
    qtbot.waitUntil(lambda: not window.status.docker.is_elided())  # once laid out at its new width
    assert window.status.docker.toolTip().startswith("Docker engine 28.0.1 at unix:///var/run/docker.sock")
    window.status.set_docker_state(DockerState(False, "tcp://10.0.0.9:2375", error="Connection refused"))
    assert window.status.docker.text() == "Docker: not reachable"
    assert "Connection refused" in window.status.docker.toolTip()


def test_backup_database_runs_in_the_runner(window, ctx, qtbot, tmp_path):
    ctx.desk.customers.create("Backed Up")
    target = tmp_path / "copies" / "backup.db"
    window.backup_database(target)
    qtbot.waitUntil(target.exists, timeout=5000)
    idle(qtbot, ctx)
    check_giftdesk_database(target)
    assert "backed up" in window.status.currentMessage()


def test_about_box_lists_versions(window, qtbot):
    box = window.show_about()
    assert box.isVisible()
    assert "PySide6" in box.informativeText() and "file" in box.informativeText()
    box.close()


def test_runner_failure_reaches_the_error_route(ctx, qtbot, errors):
    def broken():
        raise RuntimeError("boom in a worker")

    ctx.runner.submit(broken)
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert isinstance(errors[0], RuntimeError)


def test_unexpected_error_shows_the_crash_dialog(qtbot, monkeypatch):
    monkeypatch.setattr(ErrorRoute, "presenter", staticmethod(_show))
    monkeypatch.setattr(ErrorRoute, "open_dialogs", [])
    try:
        raise KeyError("missing")
    except KeyError as exc:
        ErrorRoute.report(exc)
    assert len(ErrorRoute.open_dialogs) == 1
    dialog = ErrorRoute.open_dialogs[0]
    assert isinstance(dialog, CrashDialog)
    assert "KeyError" in dialog.report and "GiftDesk" in dialog.report
    dialog.close()
    dialog.reject()
    assert ErrorRoute.open_dialogs == []


def test_a_long_message_shows_whole_and_stays_in_the_history(window, qtbot):
    """At the default width a long outcome is not cut by the permanent labels, and the history keeps it."""
    from PySide6.QtGui import QGuiApplication

    window.resize(1280, 800)
    status = window.status
    status.set_service_status(ServiceStatus("fleet watcher", "running"))  # every permanent label shows
    status.set_service_status(ServiceStatus("order sync", "running"))
    status.set_docker_state(DockerState(True, "unix:///var/run/docker.sock", "20.10.24+dfsg1", 12, 11))
    status.set_endpoint_state(ServiceStatus("endpoint", "running", "127.0.0.1:44269",
                                            info={"port": 44269, "requestsPerMinute": 12}))
    text = "Added @zoe.gifts with a new API key; copy it now from the API Keys tab, it is shown once."
    window.show_message(text)
    qtbot.waitUntil(lambda: status.message_label.width() > 0)
    assert window.width() == 1280
    assert status.currentMessage() == text
    assert not status.message_label.is_elided(), status.message_label.width()
    status.grab().save("/tmp/status-bar-message.png")

    for n in range(120):
        window.show_message(f"Message {n}")
    qtbot.mouseClick(status.message_label, Qt.MouseButton.LeftButton)
    dialog = status.messages_dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible())
    lines = dialog.text.toPlainText().splitlines()
    assert len(lines) == 100 and lines[-1].endswith("  Message 119") and lines[0].endswith("  Message 20")
    assert lines[0][:8].count(":") == 2  # HH:MM:SS
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text().splitlines()[-1].endswith("Message 119")
    dialog.close()

    # Narrower than the message: elided, the whole text in the tool tip (and the history).
    window.show_message(text)
    window.resize(800, 600)
    qtbot.waitUntil(status.message_label.is_elided)
    assert text in status.message_label.toolTip()
    assert window.width() == 800


def test_a_raised_alert_is_said_from_the_tray_or_the_status_bar(window, desk, qtbot):
    from giftdesk.alerts.events import AlertRaised

    desk.events.publish(AlertRaised(7, "tracker down", "instance-down", "instance 3",
                                    "Instance tracker-alice (3) is exited (exit code 1)"))
    notifier = window.alert_notification.notifier
    qtbot.waitUntil(lambda: notifier.shown == ["Instance tracker-alice (3) is exited (exit code 1)"], timeout=5000)
