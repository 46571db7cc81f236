"""The log viewer's range controls, clicked and typed as a person does, against the real engine.

The machine runs in UTC; the test runs the viewer in India's time zone (UTC+05:30), so a local
time sent to the engine as if it were UTC would miss by five and a half hours.
"""
# ruff: noqa: F811  (the fleet fixtures are imported from tests/fleet/conftest.py)

from __future__ import annotations

import random
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QDateTime, Qt

from giftdesk.core.errors import ValidationError
from giftdesk.fleet.log_range import LogRange, since_preset
from tests.fleet.conftest import engine, fleet_desk, unique  # noqa: F401 (fixtures)

pytestmark = pytest.mark.docker


@pytest.fixture
def india(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def tracker(fleet_desk):
    # A range of its own: the fleet tests of other modules allocate from 3300 on, at the same time.
    start = random.randrange(3700, 3990)
    fleet_desk.settings.update({"tracker.port_start": start, "tracker.port_end": start + 9})
    customer = fleet_desk.customers.create("Logs customer")
    account = fleet_desk.customers.add_account(customer.id, f"logs_{unique('a')[2:]}".replace("-", "_"))
    return fleet_desk.fleet.create(unique("logs"), account.id)


def _pick(qtbot, combo, text: str) -> None:
    """Opens the drop-down with a click, walks to the entry with the arrow keys, Return."""
    qtbot.mouseClick(combo, Qt.MouseButton.LeftButton)
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    steps = combo.findText(text) - combo.currentIndex()
    for _ in range(abs(steps)):
        qtbot.keyClick(view, Qt.Key.Key_Down if steps > 0 else Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: combo.currentText() == text and not view.isVisible())


def _echo(name: str, text: str) -> None:
    subprocess.run(["docker", "exec", f"gift-tracker-{name}", "sh", "-c", f"echo {text} > /proc/1/fd/1"],
                   check=True, capture_output=True)


# The drop-down's popup asks the offscreen plugin for a keyboard grab it does not have.
@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard", extend=True)
def test_last_lines_or_since_a_local_time(ctx, qtbot, tracker, india):
    from giftdesk.gui.fleet.instance_logs import LogViewer

    assert QDateTime.currentDateTime().offsetFromUtc() == 5 * 3600 + 1800
    viewer = LogViewer(ctx, tracker)
    qtbot.addWidget(viewer)
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.activateWindow()
    qtbot.waitUntil(viewer.isActiveWindow)
    qtbot.waitUntil(lambda: "serving /www" in viewer.text.toPlainText(), timeout=10000)
    # "Last N lines" is the mode: the since controls take no input.
    assert viewer.tail.isEnabled() and not viewer.since_preset.isEnabled() and not viewer.since_time.isEnabled()
    assert "UTC+05:30" in viewer.since_time.toolTip()

    # ---- Since 1 hour: the preset shows the local moment it means; no line count, no typing ----------
    qtbot.mouseClick(viewer.since_radio, Qt.MouseButton.LeftButton)
    assert viewer.since_radio.isChecked() and not viewer.tail.isEnabled()
    assert viewer.since_preset.isEnabled() and not viewer.since_time.isEnabled()
    shown = viewer.since_time.dateTime()
    assert abs(shown.secsTo(QDateTime.currentDateTime().addSecs(-3600))) <= 5
    assert viewer.current_range().tail is None
    qtbot.waitUntil(lambda: "serving /www" in viewer.text.toPlainText(), timeout=10000)
    assert "since" in viewer.status.text()

    # ---- Today starts at local midnight (18:30 UTC the day before, in India) -----------------------
    _pick(qtbot, viewer.since_preset, "Today")
    assert viewer.since_time.time().toString("HH:mm:ss") == "00:00:00"
    assert viewer.since_time.date() == QDateTime.currentDateTime().date()
    assert viewer.current_range().since.astimezone(timezone.utc).strftime("%H:%M") == "18:30"

    # ---- a custom local time: only the lines from then on, the moment sent in UTC -------------------
    time.sleep(1.2)  # the start-up lines are a whole second older than the mark
    mark = QDateTime.currentDateTime()
    time.sleep(1.1)
    _echo(tracker.name, "after-the-mark")
    _pick(qtbot, viewer.since_preset, "Custom…")
    assert viewer.since_time.isEnabled()
    viewer.since_preset.setFocus()
    qtbot.keyClick(viewer.since_preset, Qt.Key.Key_Tab)  # into the date-time, its first section selected
    assert viewer.since_time.hasFocus()
    qtbot.keyClicks(viewer.since_time, mark.toString("yyyyMMddHHmmss"))
    qtbot.keyClick(viewer.since_time, Qt.Key.Key_Return)
    assert viewer.since_time.dateTime().toString("yyyy-MM-dd HH:mm:ss") == mark.toString("yyyy-MM-dd HH:mm:ss")
    qtbot.waitUntil(lambda: "after-the-mark" in viewer.text.toPlainText()
                    and "serving /www" not in viewer.text.toPlainText(), timeout=10000)
    sent = viewer.current_range().since
    assert sent.tzinfo == timezone.utc and sent.timestamp() == mark.toSecsSinceEpoch()

    # ---- the future cannot be typed -----------------------------------------------------------
    viewer.since_preset.setFocus()
    qtbot.keyClick(viewer.since_preset, Qt.Key.Key_Tab)
    qtbot.keyClicks(viewer.since_time, str(QDateTime.currentDateTime().date().year() + 1))
    qtbot.keyClick(viewer.since_time, Qt.Key.Key_Return)
    assert viewer.since_time.dateTime() <= QDateTime.currentDateTime()

    # ---- back to the last N lines: the since controls lock again ------------------------------------
    qtbot.mouseClick(viewer.last_radio, Qt.MouseButton.LeftButton)
    assert viewer.tail.isEnabled() and not viewer.since_preset.isEnabled() and not viewer.since_time.isEnabled()
    viewer.tail.setFocus()
    viewer.tail.selectAll()
    qtbot.keyClicks(viewer.tail, "1")
    qtbot.keyClick(viewer.tail, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: viewer.text.toPlainText().strip() == "after-the-mark", timeout=10000)
    assert viewer.current_range() == LogRange(tail=1, since=None)
    assert viewer.streaming
    stream = viewer._stream
    viewer.close()
    assert stream.closed


def test_log_range_rules(india):
    now = datetime(2026, 11, 28, 20, 0, tzinfo=timezone.utc)  # 01:30 on the 29th in India
    assert since_preset("today", now) == datetime(2026, 11, 28, 18, 30, tzinfo=timezone.utc)
    assert since_preset("5m", now) == now - timedelta(minutes=5)
    assert since_preset("24h", now) == now - timedelta(hours=24)
    with pytest.raises(ValidationError):
        since_preset("yesterday", now)
    with pytest.raises(ValidationError):
        LogRange.last(-1)
    with pytest.raises(ValidationError):
        LogRange.since_moment(now + timedelta(minutes=1), now)
    with pytest.raises(ValidationError):
        LogRange.since_moment(datetime(2026, 11, 28, 8, 0), now)  # no time zone: ambiguous
    assert LogRange.since_moment(now - timedelta(hours=1), now).tail is None


@pytest.fixture
def viewer(ctx, qtbot, tracker):
    """The tracker's log viewer, open and showing the tracker's first line."""
    from giftdesk.gui.fleet.instance_logs import LogViewer

    opened = LogViewer(ctx, tracker)
    qtbot.addWidget(opened)
    opened.show()
    qtbot.waitExposed(opened)
    qtbot.waitUntil(lambda: "serving /www" in opened.text.toPlainText(), timeout=10000)
    yield opened
    opened.close()


def test_timestamps_box_puts_the_engine_time_before_each_line(viewer, qtbot):
    qtbot.mouseClick(viewer.timestamps, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.text.toPlainText()[:4].isdigit() and "serving /www" in viewer.text.toPlainText(),
                    timeout=10000)


def test_wrap_box_wraps_long_lines(viewer, qtbot):
    from PySide6.QtWidgets import QPlainTextEdit

    assert viewer.text.lineWrapMode() == QPlainTextEdit.LineWrapMode.NoWrap
    qtbot.mouseClick(viewer.wrap, Qt.MouseButton.LeftButton)
    assert viewer.text.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth


def test_copy_puts_the_log_on_the_clipboard(viewer, qtbot):
    from PySide6.QtWidgets import QApplication

    qtbot.mouseClick(viewer.copy_button, Qt.MouseButton.LeftButton)
    assert "serving /www" in QApplication.clipboard().text()


def test_save_writes_the_log_to_the_chosen_file(viewer, qtbot, tmp_path, monkeypatch):
    from giftdesk.gui.fleet import instance_logs

    target = tmp_path / "tracker.log"
    monkeypatch.setattr(instance_logs.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    qtbot.mouseClick(viewer.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.status.text().startswith("Saved"), timeout=10000)
    assert b"serving /www" in target.read_bytes()


def test_restart_button_restarts_the_tracker_and_the_log_follows_the_new_start(viewer, qtbot):
    qtbot.mouseClick(viewer.restart_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.text.toPlainText().count("serving /www") >= 2, timeout=20000)
    assert viewer.streaming


def test_a_flood_of_lines_is_kept_bounded_and_shows_its_end(viewer):
    from giftdesk.gui.fleet import instance_logs

    flood = instance_logs.MAX_LINES + 20_000
    viewer._push("\n".join(f"flood line {i}" for i in range(flood)))
    viewer._flush()  # one flush takes them all
    assert viewer.text.blockCount() <= instance_logs.MAX_LINES
    assert viewer.text.document().lastBlock().text() == f"flood line {flood - 1}"
