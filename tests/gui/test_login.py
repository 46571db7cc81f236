"""First run (creates the super admin), login, change password, and the start-up flow."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import Qt

from giftdesk.core.errors import AuthenticationError
from giftdesk.gui.app import AppController
from giftdesk.gui.system.change_password import ChangePasswordDialog
from giftdesk.gui.system.login import FirstRunDialog, LoginDialog
from giftdesk.gui.jobs import JobRunner
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.main_window import MainWindow
from giftdesk.core.context import Actor


@pytest.fixture
def runner():
    made = JobRunner(ErrorRoute.report, max_workers=1)
    yield made
    made.shutdown()


def click_ok(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=5000)


def test_first_run_creates_the_super_admin(desk, runner, qtbot):
    assert desk.admins.needs_first_admin()
    dialog = FirstRunDialog(desk, runner)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.keyClicks(dialog.username, "boss")
    qtbot.keyClicks(dialog.password, "short")
    qtbot.keyClicks(dialog.confirm, "short")
    click_ok(qtbot, dialog)
    assert dialog.isVisible() and "at least 8 characters" in dialog.error.text()  # the service's rule, inline
    dialog.password.setText("a long secret")
    dialog.confirm.setText("a long secreT")
    click_ok(qtbot, dialog)
    assert "differ" in dialog.error.text() and desk.admins.needs_first_admin()
    dialog.confirm.setText("a long secret")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        click_ok(qtbot, dialog)
    assert dialog.actor == Actor("boss", "admin", dialog.actor.admin_id)
    [admin] = desk.admins.list()
    assert admin.username == "boss" and admin.is_super and admin.role == "admin"


def test_login_with_a_wrong_then_the_right_password(desk, runner, qtbot):
    desk.admins.create("boss", "a long secret")
    dialog = LoginDialog(desk, runner)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.keyClicks(dialog.username, "boss")
    qtbot.keyClicks(dialog.password, "wrong password")
    click_ok(qtbot, dialog)
    assert dialog.isVisible()
    assert dialog.error.text() == "Wrong username or password."
    assert dialog.password.text() == "" and dialog.username.text() == "boss"
    qtbot.keyClicks(dialog.password, "a long secret")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        click_ok(qtbot, dialog)
    assert dialog.actor.username == "boss" and dialog.actor.role == "admin"


def test_login_needs_a_username(desk, runner, qtbot):
    dialog = LoginDialog(desk, runner)
    qtbot.addWidget(dialog)
    dialog.open()
    click_ok(qtbot, dialog)
    assert dialog.error.text() == "Enter your username."


def test_change_password(desk, qtbot):
    from giftdesk.gui.context import GuiContext

    desk.admins.create("boss", "a long secret")
    ctx = GuiContext.create(desk.as_actor(desk.admins.authenticate("boss", "a long secret")))
    try:
        dialog = ChangePasswordDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.open()
        dialog.current.setText("not it")
        dialog.new.setText("another long one")
        dialog.confirm.setText("another long one")
        click_ok(qtbot, dialog)
        assert dialog.error.text() == "The current password is wrong."
        assert dialog.current.property("invalid") is True
        dialog.current.setText("a long secret")
        dialog.confirm.setText("different")
        click_ok(qtbot, dialog)
        assert "differ" in dialog.error.text()
        dialog.new.setText("boss")
        dialog.confirm.setText("boss")
        click_ok(qtbot, dialog)
        assert "at least 8" in dialog.error.text()
        dialog.new.setText("another long one")
        dialog.confirm.setText("another long one")
        with qtbot.waitSignal(dialog.accepted, timeout=5000):
            click_ok(qtbot, dialog)
        assert desk.admins.authenticate("boss", "another long one").username == "boss"
        with pytest.raises(AuthenticationError):
            desk.admins.authenticate("boss", "a long secret")
    finally:
        ctx.close()


class _App:
    """Stands in for QApplication.quit so the test's QApplication keeps running."""

    def __init__(self):
        self.quits = 0

    def quit(self):
        self.quits += 1


def test_start_up_flow_login_window_log_out_and_cancel(desk, qtbot):
    desk.admins.create("boss", "a long secret")
    app = _App()
    controller = AppController(app, desk, background=False)
    try:
        controller.start()
        login = controller.dialog
        assert isinstance(login, LoginDialog) and login.isVisible()
        login.username.setText("boss")
        login.password.setText("a long secret")
        click_ok(qtbot, login)
        qtbot.waitUntil(lambda: controller.window is not None, timeout=5000)
        window = controller.window
        assert isinstance(window, MainWindow) and window.isVisible()
        assert window.windowTitle() == "boss (admin)"
        window.log_out()  # closes the window and asks again
        assert controller.window is None and isinstance(controller.dialog, LoginDialog)
        assert app.quits == 0
        controller.dialog.reject()  # cancel: the app quits with exit code 0
        assert app.quits == 1 and controller.exit_code == 0
    finally:
        controller.shutdown()


def test_start_up_flow_offers_the_first_run_dialog(data_dir, qtbot):
    from giftdesk.desk import Desk

    desk = Desk.open(str(data_dir))
    controller = AppController(_App(), desk, background=False)
    try:
        controller.start()
        assert isinstance(controller.dialog, FirstRunDialog)
        controller.dialog.reject()
    finally:
        controller.shutdown()


def test_run_enters_and_leaves_the_qasync_loop(tmp_path):
    """``run`` end to end in a child process: first-run dialog, cancel, exit code 0."""
    script = textwrap.dedent("""
        import sys
        from PySide6.QtCore import QTimer
        from giftdesk.gui import app as gui_app

        original = gui_app.AppController.start

        def start(self):
            original(self)
            print("dialog:", type(self.dialog).__name__, flush=True)
            QTimer.singleShot(50, self.dialog.reject)

        gui_app.AppController.start = start
        sys.exit(gui_app.run(sys.argv[1]))
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GIFTDESK_KEYRING": "file"}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "dialog: FirstRunDialog" in done.stdout
    assert "Traceback" not in done.stderr
