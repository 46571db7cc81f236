"""Application plumbing: the self-test, Qt messages in the log, the theme, screenshots, table helpers."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QMessageLogContext, Qt, QtMsgType
from PySide6.QtGui import QGuiApplication, QPalette

from giftdesk.gui import theme
from giftdesk.gui.app import qt_message_handler, self_test
from giftdesk.gui.table import RIGHT, Column, RowTableView, fmt_ago


def test_self_test_prints_a_json_summary(capsys, qapp):
    assert self_test(json_output=True) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True and summary["errors"] == []
    assert summary["tabs"] == ["Instances", "API Keys", "Customer Accounts", "Social Stats", "Fampage Orders"]
    assert summary["keyring_backend"].startswith("file (")  # the tests force the file store
    assert summary["database"].endswith("giftdesk.db")
    for key in ("version", "qt"):
        assert summary[key]
    theme.apply_theme(qapp, "light")  # self_test follows the system scheme; put the tests' back


def test_self_test_text_output(capsys, qapp):
    assert self_test(json_output=False) == 0
    out = capsys.readouterr().out
    assert "self-test: OK" in out and "keyring_backend" in out
    theme.apply_theme(qapp, "light")


def test_qt_messages_go_to_the_log(caplog):
    with caplog.at_level(logging.DEBUG, logger="qt"):
        qt_message_handler(QtMsgType.QtWarningMsg, QMessageLogContext(), "QWidget::repaint: Recursive repaint")
        qt_message_handler(QtMsgType.QtWarningMsg, QMessageLogContext(), "This plugin does not support propagateSizeHints()")
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "qt"]
    assert (logging.WARNING, "QWidget::repaint: Recursive repaint") in records
    assert (logging.DEBUG, "This plugin does not support propagateSizeHints()") in records


def test_theme_follows_light_and_dark(qapp, monkeypatch):
    styles = []
    monkeypatch.setattr(qapp, "setStyle", lambda name: styles.append(name))
    try:
        theme.apply_theme(qapp, "dark")
        assert theme.is_dark()
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert not theme.icon("customers").isNull()
        assert styles == ["Fusion"]
        theme.apply_theme(qapp, "light")
        assert not theme.is_dark()
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 200
        # Following the system while running: colorSchemeChanged switches the palette.
        system = ["dark"]
        monkeypatch.setattr(theme, "scheme_from_system", lambda: system[0])
        theme.apply_theme(qapp, None)
        assert theme.is_dark()
        system[0] = "light"
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert not theme.is_dark()
    finally:
        theme.apply_theme(qapp, "light")


def test_app_icon_and_resources():
    from giftdesk.core.paths import resource_path

    assert not theme.app_icon().isNull()
    assert resource_path("icons", "giftdesk.png").stat().st_size > 1000
    for name in ("instances", "keys", "customers", "stats", "orders", "add", "edit", "delete", "search"):
        assert resource_path("icons", f"{name}.svg").exists(), name


@pytest.mark.timeout(240)  # hundreds of generated cases (or every screen); minutes on a loaded machine
def test_screenshots_are_written(tmp_path, qapp):
    from giftdesk.gui import screenshots

    paths = screenshots.take(tmp_path, ["light"], pause=0.02, live_status=False)
    theme.apply_theme(qapp, "light")
    names = sorted(p.name for p in paths)
    assert "customers.png" in names and "api-keys.png" in names and "settings.png" in names
    assert all(p.stat().st_size > 10_000 for p in paths)


@dataclass
class Row:
    id: int
    name: str
    count: int | None
    when: datetime | None = None


def test_row_table_sorts_filters_and_keeps_the_selection(qtbot):
    view = RowTableView([Column("Name", lambda r: r.name), Column("Count", lambda r: r.count, align=RIGHT),
                         Column("When", lambda r: fmt_ago(r.when), sort=lambda r: r.when)],
                        empty_text="Nothing yet")
    qtbot.addWidget(view)
    seen = []
    view.current_changed.connect(seen.append)
    now = datetime.now(timezone.utc)
    view.set_rows([Row(1, "beta", 3, now), Row(2, "Alpha", None, None), Row(3, "gamma", 1, now - timedelta(hours=2))])
    view.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # None first, never compared with ints
    assert [r.id for r in view.visible_rows()] == [2, 3, 1]
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # case-insensitive
    assert [r.name for r in view.visible_rows()] == ["Alpha", "beta", "gamma"]
    view.sortByColumn(2, Qt.SortOrder.DescendingOrder)  # by datetime, not by the "2 h ago" text
    assert [r.id for r in view.visible_rows()] == [1, 3, 2]
    assert view.select_key(3) and seen[-1].id == 3
    view.set_rows([Row(3, "gamma", 9), Row(4, "delta", 0)])  # fresh data, same key: still selected
    assert view.current_row() == Row(3, "gamma", 9) and seen[-1].count == 9
    view.set_filter_text("DEL")
    assert [r.id for r in view.visible_rows()] == [4]
    view.set_filter_text("")
    view.set_rows([])
    assert view.current_row() is None and seen[-1] is None


def test_fmt_ago():
    now = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
    assert fmt_ago(None) == "never"
    assert fmt_ago(now - timedelta(seconds=5), now) == "just now"
    assert fmt_ago(now - timedelta(minutes=5), now) == "5 min ago"
    assert fmt_ago(now - timedelta(hours=3), now) == "3 h ago"
    assert fmt_ago(now - timedelta(days=1), now) == "1 d ago"  # one helper with the cards: "2 d ago"
    assert fmt_ago(now - timedelta(days=30), now).startswith("2025-12-1")


def test_splash_is_shown_before_the_domain_layer_is_imported():
    """The splash covers the SQLAlchemy import and the migrations, so it must not need them."""
    script = (
        "import sys\n"
        "from giftdesk.gui import app as gapp\n"
        "application = gapp.create_application()\n"
        "splash = gapp._splash(application)\n"
        "assert splash.isVisible()\n"
        "assert 'sqlalchemy' not in sys.modules, 'the splash waited for SQLAlchemy'\n"
        "print('splash ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "splash ok" in result.stdout


def test_the_login_is_painted_before_the_orm_loads_and_logs_in_after(tmp_path):
    """On a current SQLite database the login dialog asks whether an administrator exists without
    the ORM; SQLAlchemy then loads on the login's worker once the dialog is painted, and the
    password is checked as ever."""
    from giftdesk.desk import Desk

    desk = Desk.open(str(tmp_path / "data"))
    desk.admins.create("ann", "ann-password")
    desk.close()
    script = r"""
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from giftdesk.gui.app import AppController, create_application
app = create_application()
from giftdesk.desk import Desk
desk = Desk.open(sys.argv[1], check_integrity=True)
controller = AppController(app, desk, background=False)
controller.start()
dialog = controller.dialog
seen = []

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not seen:
            seen.append(("painted", type(dialog).__name__, "sqlalchemy" in sys.modules))
        return False

dialog.installEventFilter(FirstPaint(dialog))

def loaded():
    if "giftdesk.db.models" not in sys.modules or controller.login_runner.running:
        QTimer.singleShot(20, loaded)
        return
    seen.append(("loaded",))
    dialog.accepted.connect(lambda: (seen.append(("in", dialog.actor.username)), app.quit()))
    dialog.username.setText("ann")
    dialog.password.setText("ann-password")
    dialog.on_ok()

QTimer.singleShot(0, loaded)
QTimer.singleShot(20000, app.quit)
app.exec()
controller.login_runner.shutdown()
desk.close()
print(seen)
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GIFTDESK_KEYRING": "file"}
    env.pop("GIFTDESK_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == str([("painted", "LoginDialog", False), ("loaded",), ("in", "ann")])


def test_open_desk_hands_its_error_to_the_gui_thread(tmp_path, qapp):
    from giftdesk.gui.app import _open_desk

    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the data directory should be")
    with pytest.raises(Exception):
        _open_desk(qapp, str(blocked), None)
