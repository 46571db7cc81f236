"""Settings dialog: shows the settings, saves changes, shows validation errors inline, roles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from giftdesk.gui.system.settings import SettingsDialog
from giftdesk.core.context import Actor
from giftdesk.core.events import SettingsChanged
from giftdesk.core.secrets import FAMPAGE_API_KEY_SECRET
from tests.gui.conftest import idle


@pytest.fixture
def open_dialog(qtbot):
    def make(ctx) -> SettingsDialog:
        dialog = SettingsDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.open()
        qtbot.waitUntil(lambda: dialog.loaded is not None, timeout=5000)
        return dialog

    return make


def save(qtbot, ctx, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)


def test_shows_where_data_lives_and_the_current_settings(open_dialog, ctx, desk):
    dialog = open_dialog(ctx)
    assert dialog.data_dir.text() == str(desk.paths.root) and dialog.data_dir.isReadOnly()
    assert dialog.database.text() == desk.db.display_name
    assert dialog.keyring.text() == "A file readable only by your user account (" + str(desk.paths.root / "secrets.json") + ")"
    assert dialog.endpoint_port.value() == 8787
    assert dialog.endpoint_bind.currentData() == "local"
    assert dialog.multiplier.text() == "8" and dialog.currency.text() == "INR"
    assert dialog.public_url.isReadOnly() and dialog.public_url.text().endswith(":8787/api/instances")
    assert dialog.fampage_key.text() == "" and dialog.fampage_key.placeholderText() == "not set"
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "Storage", "Tracker endpoint", "Docker", "Fampage && invoices", "Your company"]


def test_saves_only_what_changed(open_dialog, ctx, desk, qtbot):
    events = []
    desk.events.subscribe(SettingsChanged, lambda event: events.append(list(event.keys)))
    dialog = open_dialog(ctx)
    dialog.endpoint_port.setValue(9191)
    assert dialog.public_url.text().endswith(":9191/api/instances")  # the computed address follows the port
    dialog.multiplier.setText("7.5")
    dialog.company_name.setText("Gift Ops Agency")
    dialog.company_address.setPlainText("12 MG Road\nBengaluru")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        save(qtbot, ctx, dialog)
    settings = desk.settings.all()
    assert settings["endpoint.port"] == 9191
    assert settings["invoice.multiplier"] == "7.5"  # a decimal string, never a float
    assert settings["company.address"] == "12 MG Road\nBengaluru"
    assert events == [["company.address", "company.name", "endpoint.port", "invoice.multiplier"]]


def test_validation_errors_are_shown_next_to_the_field(open_dialog, ctx, desk, qtbot):
    dialog = open_dialog(ctx)
    dialog.tabs.setCurrentIndex(0)
    dialog.multiplier.setText("eight")
    dialog.company_email.setText("billing at example")
    save(qtbot, ctx, dialog)
    assert dialog.isVisible()
    assert dialog.error.text() == "Invoice multiplier must be a number, not 'eight'."
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Fampage && invoices"
    assert dialog.multiplier.property("invalid") is True
    dialog.multiplier.setText("8")
    save(qtbot, ctx, dialog)
    assert "is not an e-mail address" in dialog.error.text()
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Your company"
    assert desk.settings.get("company.email") == ""  # all or nothing


def test_port_range_rule(open_dialog, ctx, desk, qtbot):
    dialog = open_dialog(ctx)
    dialog.port_start.setValue(5000)
    dialog.port_end.setValue(4000)
    save(qtbot, ctx, dialog)
    assert dialog.error.text() == "First tracker port must not be above last tracker port."
    assert desk.settings.get("tracker.port_start") == 3000


def test_public_url_override(open_dialog, ctx, desk, qtbot):
    dialog = open_dialog(ctx)
    dialog.public_url_override.setChecked(True)
    assert not dialog.public_url.isReadOnly() and dialog.public_url.text() == ""
    dialog.public_url.setText("https://trackers.example.com/api/instances")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        save(qtbot, ctx, dialog)
    assert desk.settings.get("endpoint.public_url") == "https://trackers.example.com/api/instances"
    again = open_dialog(ctx)
    assert again.public_url_override.isChecked()
    assert again.public_url.text() == "https://trackers.example.com/api/instances"


def test_fampage_key_goes_to_the_keyring_and_is_never_shown(open_dialog, ctx, desk, qtbot):
    dialog = open_dialog(ctx)
    assert not dialog.remove_key_button.isVisibleTo(dialog)
    qtbot.keyClicks(dialog.fampage_key, "fp-secret-123")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        save(qtbot, ctx, dialog)
    assert desk.secrets.get(FAMPAGE_API_KEY_SECRET) == "fp-secret-123"
    assert "fp-secret-123" not in str(desk.settings.all())

    again = open_dialog(ctx)
    assert again.fampage_key.text() == ""  # never prefilled
    assert again.fampage_key.placeholderText().startswith("••• (set)")
    assert again.fampage_key.echoMode() == again.fampage_key.EchoMode.Password
    assert "Stored in a file readable only by your user account" in again.key_where.text()
    qtbot.mouseClick(again.remove_key_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(again.accepted, timeout=5000):
        save(qtbot, ctx, again)
    assert desk.secrets.get(FAMPAGE_API_KEY_SECRET) is None


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_read_only_below_admin(open_dialog, desk, qtbot, role):
    from giftdesk.gui.context import GuiContext

    ctx = GuiContext.create(desk.as_actor(Actor("olga", role)))
    try:
        dialog = open_dialog(ctx)
        assert not dialog.ok_button.isVisible()
        assert dialog.company_name.isReadOnly() and dialog.multiplier.isReadOnly()
        assert not dialog.endpoint_port.isEnabled() and not dialog.endpoint_enabled.isEnabled()
        dialog.on_ok()  # even if forced, nothing is submitted
        assert ctx.runner.running == 0
        dialog.close()
    finally:
        ctx.close()
