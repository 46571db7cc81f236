"""File → Alerts…: the open alerts, acknowledged and snoozed with the mouse; viewers read only."""

from __future__ import annotations

from PySide6.QtCore import Qt

from giftdesk.alerts.events import AlertRaised
from tests.gui.conftest import idle


def _open(qtbot, window):
    window.alerts_action.trigger()
    dialog = window.dialog
    qtbot.waitExposed(dialog)
    idle(qtbot, window.ctx)
    return dialog


def _click_row(qtbot, dialog, row: int) -> None:
    rect = dialog.table.visualRect(dialog.table.model().index(row, 0))
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_open_alerts_are_acknowledged_and_snoozed_from_the_list(qtbot, window, desk):
    rule = desk.alerts.add_rule("trackers down", "instance-down")
    first = desk.alerts.open_alert(rule.id, "instance 7", "Instance web-7 (7) is exited (exit code 1)").alert
    dialog = _open(qtbot, window)
    assert [r.subject for r in dialog.table.visible_rows()] == ["instance 7"]
    assert dialog.count_label.text() == "1 open"
    assert not dialog.ack_button.isEnabled() and dialog.ack_button.toolTip() == "Select an open alert"
    _click_row(qtbot, dialog, 0)
    assert dialog.ack_button.isEnabled()
    qtbot.mouseClick(dialog.ack_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: desk.alerts.list()[0].acknowledged_at is not None, timeout=5000)
    qtbot.waitUntil(lambda: dialog.table.visible_rows()[0].state() == "acknowledged", timeout=5000)

    # A new alert raised by the runtime shows up without a refresh.
    second = desk.alerts.open_alert(rule.id, "instance 8", "Instance web-8 (8) is missing").alert
    desk.events.publish(AlertRaised(second.id, rule.name, rule.kind, second.subject, second.message))
    qtbot.waitUntil(lambda: len(dialog.table.visible_rows()) == 2, timeout=5000)
    assert dialog.table.visible_rows()[0].subject == "instance 8"  # open before acknowledged
    _click_row(qtbot, dialog, 0)
    [action] = [a for a in dialog.snooze_button.menu().actions() if a.objectName() == "snooze-60"]
    action.trigger()
    qtbot.waitUntil(lambda: {r.id: r.state() for r in desk.alerts.list()}[second.id] == "snoozed", timeout=5000)
    dialog.grab().save("/tmp/alerts-dialog.png")

    desk.alerts.resolve(rule.id, "instance 7")
    dialog.reload()
    qtbot.waitUntil(lambda: [r.id for r in dialog.table.visible_rows()] == [second.id], timeout=5000)
    qtbot.mouseClick(dialog.show_resolved, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dialog.table.visible_rows()) == 2, timeout=5000)
    assert dialog.table.visible_rows()[-1].id == first.id and dialog.count_label.text() == "1 open · 2 in all"


def test_a_viewer_reads_alerts_but_cannot_act_on_them(qtbot, viewer_ctx, desk):
    from giftdesk.gui.alerts.alert_list import AlertsDialog

    rule = desk.alerts.add_rule("low balance", "balance-below", below="100")
    desk.alerts.open_alert(rule.id, "fampage", "The Fampage balance 12.00 INR is below 100")
    dialog = AlertsDialog(viewer_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    idle(qtbot, viewer_ctx)
    assert [r.message for r in dialog.table.visible_rows()] == ["The Fampage balance 12.00 INR is below 100"]
    _click_row(qtbot, dialog, 0)
    assert not dialog.ack_button.isEnabled() and not dialog.snooze_button.isEnabled()
    assert "viewer reads them" in dialog.ack_button.toolTip()
