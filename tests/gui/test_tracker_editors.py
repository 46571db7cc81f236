"""Gift-group and config editors: load, edit, save through the service, refusals, tracker notices."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtGui import QColor

from giftdesk.core.errors import ValidationError
from giftdesk.gui.accounts.gift_groups import GiftGroupsDialog, parse_gift_ids
from giftdesk.gui.accounts.tracker_config import TrackerConfigDialog, number_value
from giftdesk.gui.prompts import Prompts
from giftdesk.accounts import events as ev

GROUPS = {
    "group-1": {"name": "VIP Gifts", "goal": 50000, "color": "#ff0000", "giftIds": [5655, 5656, 5657],
                "sound": "ding.mp3", "display": {"icon": "star"}},
    "group-2": {"name": "Normal Gifts", "color": "#00ff00", "giftIds": [5658, 5659]},
}
CONFIG = {"tiktokUsername": "@acme_live", "theme": "dark", "language": "en", "notifications": True,
          "overlay": {"x": 10, "y": 20, "scale": 1.5}, "target": 100000, "beta": None, "tags": ["a", "b"]}


@pytest.fixture
def account(make_account, desk):
    row, _ = make_account("acme_live")
    desk.tracker_data.save_gift_groups(row.id, GROUPS)
    desk.tracker_data.save_config(row.id, CONFIG)
    return row


def open_dialog(qtbot, cls, ctx, account_id):
    dialog = cls(ctx, account_id, "@acme_live")
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.is_loaded)
    return dialog


def save_and_wait(qtbot, dialog):
    with qtbot.waitSignal(dialog.saved) as blocker:
        dialog.save_button.click()
    assert not dialog.isVisible()
    return blocker.args[0]


# ---- gift groups ----------------------------------------------------------------------------
def test_gift_groups_load(qtbot, ctx, account):
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, account.id)
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["VIP Gifts", "Normal Gifts"]
    assert dialog.id_label.text() == "group-1"
    assert dialog.name_edit.text() == "VIP Gifts"
    assert dialog.goal_check.isChecked() and dialog.goal_edit.text() == "50000"
    assert dialog.colour_edit.text() == "#ff0000"
    assert dialog.ids_edit.toPlainText() == "5655, 5656, 5657"
    assert "sound" in dialog.extra_label.text() and "display" in dialog.extra_label.text()
    dialog.list.setCurrentRow(1)
    assert not dialog.goal_check.isChecked() and not dialog.goal_edit.isEnabled()
    # Without changes, saving writes back exactly what was loaded.
    assert dialog.collect() == GROUPS


def test_gift_groups_edit_and_save_round_trip(qtbot, ctx, account, desk, errors):
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, account.id)
    qtbot.keyClicks(dialog.name_edit, " Plus")
    dialog.goal_edit.clear()
    qtbot.keyClicks(dialog.goal_edit, "75000")
    dialog.set_colour(QColor("#123abc"))
    dialog.ids_edit.setPlainText("1, 2,3\n4")

    dialog.list.setCurrentRow(1)
    dialog.goal_check.setChecked(True)
    qtbot.keyClicks(dialog.goal_edit, "900")

    added = dialog.add_group()
    assert added.id == "group-3"
    qtbot.keyClicks(dialog.name_edit, "Roses")
    dialog.ids_edit.setPlainText("5655")
    twin = dialog.duplicate_group()
    assert twin.id == "group-4" and dialog.name_edit.text() == "Roses (copy)"
    dialog.remove_group()
    assert len(dialog.groups) == 3

    saved = save_and_wait(qtbot, dialog)
    stored = desk.tracker_data.get(account.id, "gift-groups")
    assert saved == stored
    assert list(stored) == ["group-1", "group-2", "group-3"]
    assert stored["group-1"] == {"name": "VIP Gifts Plus", "goal": 75000, "color": "#123abc", "giftIds": [1, 2, 3, 4],
                                 "sound": "ding.mp3", "display": {"icon": "star"}}  # unknown fields kept
    assert stored["group-2"] == {"name": "Normal Gifts", "color": "#00ff00", "giftIds": [5658, 5659], "goal": 900}
    assert stored["group-3"] == {"name": "Roses", "color": "#4f8ef7", "giftIds": [5655]}  # no goal of its own
    assert errors == []


def test_unticking_has_own_goal_removes_the_goal(qtbot, ctx, account, desk):
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, account.id)
    dialog.goal_check.setChecked(False)
    save_and_wait(qtbot, dialog)
    assert "goal" not in desk.tracker_data.get(account.id, "gift-groups")["group-1"]


@pytest.mark.parametrize("field, value, message", [
    ("colour", "red", "color must be a colour like #ff0000"),
    ("goal", "-5", "goal must be a whole number"),
    ("goal", "lots", "goal must be a whole number"),
    ("goal", "", "goal must be a whole number"),
    ("name", "   ", "name is required"),
    ("ids", "12, abc", "'abc' in groups.group-1.giftIds is not a gift id"),
])
def test_invalid_input_is_refused_with_the_input_intact(qtbot, ctx, account, desk, errors, field, value, message):
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, account.id)
    dialog.list.setCurrentRow(1)  # the offending group is not the one on screen
    dialog.list.setCurrentRow(0)
    widget = {"colour": dialog.colour_edit, "goal": dialog.goal_edit, "name": dialog.name_edit,
              "ids": dialog.ids_edit}[field]
    if field == "ids":
        widget.setPlainText(value)
    else:
        widget.clear()
        qtbot.keyClicks(widget, value)
    dialog.list.setCurrentRow(1)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], ValidationError) and message in str(errors[0])
    errors.clear()
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert dialog.list.currentRow() == 0  # brought back to the offending group
    text = widget.toPlainText() if field == "ids" else widget.text()
    assert text == value  # exactly as typed
    assert desk.tracker_data.get(account.id, "gift-groups") == GROUPS
    Prompts.answers = [True]  # discard the edits on close
    dialog.reject()
    assert not dialog.isVisible()


def test_tracker_save_while_open_shows_a_reload_notice(qtbot, ctx, account, desk):
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, account.id)
    desk.events.publish(ev.TrackerDataSaved(account.id, "gift-groups", "console"))
    desk.events.publish(ev.TrackerDataSaved(account.id, "config", "tracker"))
    desk.events.publish(ev.TrackerDataSaved(account.id + 99, "gift-groups", "tracker"))
    ctx.bridge.flush()  # all three delivered now
    assert not dialog.banner.isVisible()

    newer = {"group-9": {"name": "From the tracker", "color": "#abcdef", "giftIds": []}}
    desk.tracker_data.save_gift_groups(account.id, newer)
    thread = threading.Thread(target=lambda: desk.events.publish(
        ev.TrackerDataSaved(account.id, "gift-groups", "tracker")))
    thread.start()
    thread.join()
    qtbot.waitUntil(dialog.banner.isVisible)

    qtbot.keyClicks(dialog.name_edit, "x")  # unsaved edit: reloading asks first
    Prompts.answers = [False]
    dialog.banner.reload_button.click()
    assert dialog.banner.isVisible() and dialog.name_edit.text() == "VIP Giftsx"
    Prompts.answers = [True]
    with qtbot.waitSignal(dialog.loaded):
        dialog.banner.reload_button.click()
    assert not dialog.banner.isVisible()
    assert dialog.collect() == newer


def test_cancel_with_changes_asks(qtbot, ctx, account):
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, account.id)
    dialog.reject()  # no changes: closes without asking
    assert not dialog.isVisible()
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, account.id)
    dialog.remove_group()
    Prompts.answers = [False]
    dialog.reject()
    assert dialog.isVisible()
    Prompts.answers = [True]
    dialog.reject()
    assert not dialog.isVisible()


def test_empty_gift_groups(qtbot, ctx, make_account, desk):
    row, _ = make_account()
    dialog = open_dialog(qtbot, GiftGroupsDialog, ctx, row.id)
    assert dialog.list.count() == 0 and not dialog.form_host.isEnabled()
    assert "No gift groups yet" in dialog.empty_label.text()
    save_and_wait(qtbot, dialog)
    assert desk.tracker_data.get(row.id, "gift-groups") == {}


def test_parse_gift_ids():
    assert parse_gift_ids(" 1,2 ;3\n 4 ,", "g") == [1, 2, 3, 4]
    assert parse_gift_ids("", "g") == []
    with pytest.raises(ValidationError) as refused:
        parse_gift_ids("1, 2.5", "groups.x")
    assert refused.value.field == "groups.x.giftIds"


# ---- config -----------------------------------------------------------------------------------
def test_config_loads_typed_fields_and_other_keys(qtbot, ctx, account):
    dialog = open_dialog(qtbot, TrackerConfigDialog, ctx, account.id)
    assert dialog.username_edit.text() == "@acme_live"
    assert dialog.theme_combo.currentData() == "dark"
    assert dialog.language_combo.currentText() == "en"
    assert dialog.checks["notifications"].isChecked()
    assert not dialog.checks["autoConnect"].isChecked() and dialog.check_hints["autoConnect"].isVisibleTo(dialog)
    assert dialog.target_edit.text() == "100000" and dialog.combo_edit.text() == ""
    keys = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert keys == ["overlay", "beta", "tags"]
    assert dialog.collect() == CONFIG
    assert list(dialog.collect()) == list(CONFIG)


def test_config_round_trip_keeps_unknown_keys(qtbot, ctx, account, desk, errors):
    dialog = open_dialog(qtbot, TrackerConfigDialog, ctx, account.id)
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("light"))
    dialog.language_combo.setCurrentText("de")
    dialog.checks["autoConnect"].click()  # absent before: given a value by the user
    dialog.checks["notifications"].click()
    qtbot.keyClicks(dialog.combo_edit, "1500")
    dialog.target_edit.setText("2.5")
    dialog.add_key()
    row = dialog.table.rowCount() - 1
    dialog.table.item(row, 0).setText("newKey")
    dialog.table.item(row, 1).setText('{"nested": [1, true, null]}')
    saved = save_and_wait(qtbot, dialog)
    expected = {**CONFIG, "theme": "light", "language": "de", "notifications": False, "target": 2.5,
                "autoConnect": True, "comboTimeout": 1500, "newKey": {"nested": [1, True, None]}}
    assert saved == expected == desk.tracker_data.get(account.id, "config")
    assert errors == []


def test_config_absent_keys_stay_absent_and_unknown_theme_is_kept(qtbot, ctx, make_account, desk):
    row, _ = make_account()
    desk.tracker_data.save_config(row.id, {"theme": "solarized", "custom": 1})
    dialog = open_dialog(qtbot, TrackerConfigDialog, ctx, row.id)
    assert dialog.theme_combo.currentData() == "solarized"
    assert "solarized" in dialog.theme_combo.currentText()
    save_and_wait(qtbot, dialog)
    assert desk.tracker_data.get(row.id, "config") == {"theme": "solarized", "custom": 1}


def test_config_removing_and_clearing_keys(qtbot, ctx, account, desk):
    dialog = open_dialog(qtbot, TrackerConfigDialog, ctx, account.id)
    dialog.username_edit.clear()
    dialog.theme_combo.setCurrentIndex(0)  # (not set)
    dialog.table.setCurrentCell(0, 0)  # overlay
    dialog.remove_key()
    save_and_wait(qtbot, dialog)
    stored = desk.tracker_data.get(account.id, "config")
    assert "tiktokUsername" not in stored and "theme" not in stored and "overlay" not in stored
    assert stored["tags"] == ["a", "b"] and stored["beta"] is None


@pytest.mark.parametrize("setup, message", [
    (lambda d: d.table.item(0, 1).setText("{not json"), "The value of overlay is not JSON"),
    (lambda d: d.table.item(1, 0).setText("tags"), "The key tags is in the table twice"),
    (lambda d: d.table.item(1, 0).setText("theme"), "theme has its own field above"),
    (lambda d: d.target_edit.setText("-3"), "target must be a number of zero or more"),
    (lambda d: d.combo_edit.setText("soon"), "comboTimeout must be a number of zero or more"),
])
def test_config_invalid_input_is_refused(qtbot, ctx, account, desk, errors, setup, message):
    dialog = open_dialog(qtbot, TrackerConfigDialog, ctx, account.id)
    setup(dialog)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert message in str(errors[0])
    errors.clear()
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert desk.tracker_data.get(account.id, "config") == CONFIG
    Prompts.answers = [True]  # discard the edits on close
    dialog.reject()
    assert not dialog.isVisible()


def test_config_tracker_notice(qtbot, ctx, account, desk):
    dialog = open_dialog(qtbot, TrackerConfigDialog, ctx, account.id)
    desk.events.publish(ev.TrackerDataSaved(account.id, "config", "tracker"))
    qtbot.waitUntil(dialog.banner.isVisible)
    with qtbot.waitSignal(dialog.loaded):
        dialog.banner.reload_button.click()  # nothing edited: no question
    assert not dialog.banner.isVisible()


def test_number_value():
    assert number_value(" 1500 ") == 1500 and isinstance(number_value("1500"), int)
    assert number_value("2.5") == 2.5
    assert number_value("abc") == "abc" and number_value("inf") == "inf"


def test_viewer_editors_are_read_only(qtbot, account, viewer_ctx):
    groups = open_dialog(qtbot, GiftGroupsDialog, viewer_ctx, account.id)
    assert "read-only" in groups.windowTitle()
    assert not groups.save_button.isEnabled() and not groups.add_button.isEnabled()
    assert groups.name_edit.isReadOnly() and not groups.colour_button.isEnabled()
    groups.save()
    config = open_dialog(qtbot, TrackerConfigDialog, viewer_ctx, account.id)
    assert not config.save_button.isEnabled() and config.username_edit.isReadOnly()
    assert not config.add_key_button.isEnabled()
    config.save()
    viewer_ctx.runner.wait_idle()
    groups.reject()
    config.reject()
