"""Settings dialog: values from the tracker manager's environment, keep-running, scheduled backups."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from giftdesk.core.context import Actor
from giftdesk.gui.system.settings import SettingsDialog
from tests.gui.conftest import idle


@pytest.fixture
def open_dialog(qtbot):
    def make(ctx) -> SettingsDialog:
        dialog = SettingsDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.loaded is not None, timeout=5000)
        return dialog

    return make


def open_page(qtbot, dialog, title: str) -> None:
    bar = dialog.tabs.tabBar()
    index = next(i for i in range(dialog.tabs.count()) if dialog.tabs.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def choose(qtbot, combo, text: str) -> None:
    """Picks an entry as a person does with the keyboard: focus the combo, type the start of the entry."""
    combo.setFocus()
    qtbot.keyClicks(combo, text)
    assert combo.currentText().startswith(text)


def save(qtbot, ctx, dialog) -> None:
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)


def test_values_from_the_environment_say_which_variable_and_problems_are_a_warning(
        open_dialog, ctx, desk, qtbot, monkeypatch):
    monkeypatch.setenv("GIFT_TRACKER_IMAGE", "registry.example.com/gift-tracker:2.4")
    monkeypatch.setenv("INSTANCE_PORT_END", "not-a-port")
    dialog = open_dialog(ctx)
    open_page(qtbot, dialog, "Docker")
    assert dialog.default_image.text() == "registry.example.com/gift-tracker:2.4"
    image_note = dialog.source_notes["tracker.default_image"]
    assert image_note.isVisible() and image_note.text() == "from $GIFT_TRACKER_IMAGE"
    assert not dialog.source_notes["tracker.port_start"].isVisible()  # its default is the built-in one
    assert not dialog.source_notes["tracker.port_end"].isVisible()
    assert dialog.environment_problems.isVisible()
    assert dialog.environment_problems.text() == (
        "INSTANCE_PORT_END is ignored: last tracker port must be a port number, not 'not-a-port'.")

    dialog.default_image.selectAll()
    qtbot.keyClicks(dialog.default_image, "gift-tracker:pinned")
    save(qtbot, ctx, dialog)
    again = open_dialog(ctx)
    assert again.default_image.text() == "gift-tracker:pinned"
    assert not again.source_notes["tracker.default_image"].isVisibleTo(again)  # stored now: the setting wins


def test_keep_running_is_chosen_on_the_endpoint_page(open_dialog, ctx, desk, qtbot):
    dialog = open_dialog(ctx)
    open_page(qtbot, dialog, "Tracker endpoint")
    assert dialog.keep_running.currentData() == "auto"
    choose(qtbot, dialog.keep_running, "Stop")
    save(qtbot, ctx, dialog)
    assert desk.settings.get("runtime.keep_running") == "off"
    assert open_dialog(ctx).keep_running.currentData() == "off"


def test_a_weekly_schedule_and_how_many_to_keep_are_saved(open_dialog, ctx, desk, qtbot):
    dialog = open_dialog(ctx)
    schedule = dialog.backup_schedule
    assert schedule.kind.currentData() == "off" and not schedule.time.isVisible() and not schedule.day.isVisible()
    choose(qtbot, schedule.kind, "Weekly")
    assert schedule.day.isVisible() and schedule.time.isVisible()
    choose(qtbot, schedule.day, "Friday")
    schedule.time.setFocus()
    schedule.time.setSelectedSection(schedule.time.Section.HourSection)  # as a click on the hours does
    qtbot.keyClicks(schedule.time, "0315")  # the hours, then the minutes section follows
    dialog.backup_keep.selectAll()
    qtbot.keyClicks(dialog.backup_keep.lineEdit(), "12")
    save(qtbot, ctx, dialog)
    assert desk.settings.get("backup.schedule") == "weekly fri 03:15"
    assert desk.settings.get("backup.keep") == 12
    assert desk.scheduled_backups.schedule().sentence() == "A backup every Fri at 03:15 (this machine's time)."

    again = open_dialog(ctx)
    assert again.backup_schedule.text() == "weekly fri 03:15" and again.backup_keep.value() == 12
    choose(qtbot, again.backup_schedule.kind, "Off")
    assert not again.backup_schedule.time.isVisible()
    save(qtbot, ctx, again)
    assert desk.settings.get("backup.schedule") == "off"


def test_back_up_now_shows_the_result_and_the_copy(open_dialog, ctx, desk, qtbot):
    dialog = open_dialog(ctx)
    panel = dialog.backups
    assert panel.last_result.text() == "No scheduled backup has been taken yet."
    assert panel.empty.isVisible() and not panel.copies.isVisible()
    qtbot.mouseClick(panel.back_up_now, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    last = desk.scheduled_backups.last_result()
    assert last is not None and last.ok
    assert panel.last_result.text().startswith("Last backup just now: scheduled-")
    assert panel.copies.topLevelItemCount() == 1 and panel.copies.isVisible()
    row = panel.copies.topLevelItem(0)
    assert row.text(0).startswith("scheduled-") and row.text(1) == "Scheduled" and row.text(3) == "just now"


def test_a_failed_backup_is_shown_as_the_last_result(open_dialog, ctx, desk, qtbot, monkeypatch):
    def no_space(_self, _stem):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(desk.scheduled_backups), "_copy", no_space)
    dialog = open_dialog(ctx)
    qtbot.mouseClick(dialog.backups.back_up_now, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    text = dialog.backups.last_result.text()
    assert text.startswith("Last backup FAILED just now:") and "No space left on device" in text
    assert dialog.backups.last_result.property("role") == "error"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_schedule_or_take_backups(open_dialog, desk, qtbot, role):
    from giftdesk.gui.context import GuiContext

    ctx = GuiContext.create(desk.as_actor(Actor("olga", role)))
    try:
        dialog = open_dialog(ctx)
        assert not dialog.backups.back_up_now.isEnabled()
        assert dialog.backups.back_up_now.toolTip() == "Only an administrator can take backups."
        assert not dialog.backup_schedule.kind.isEnabled() and not dialog.backup_keep.isEnabled()
        assert not dialog.keep_running.isEnabled()
        dialog.close()
    finally:
        ctx.close()


def test_an_unreadable_backups_folder_leaves_the_settings_usable(open_dialog, ctx, desk, qtbot, monkeypatch):
    def unreadable(_self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(desk.scheduled_backups), "list", unreadable)
    dialog = open_dialog(ctx)
    assert dialog.ok_button.isEnabled() and not dialog.company_name.isReadOnly()
    assert dialog.backups.last_result.text() == "The backups folder could not be read: Permission denied"
