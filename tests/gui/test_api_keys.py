"""API Keys tab: listing, show/hide, copy, regenerate, (de)activate, filters, sort, live access times."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from giftdesk.gui import theme
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.accounts import api_keys_tab as api_keys
from giftdesk.gui.accounts.api_keys_tab import ApiKeysTab
from giftdesk.gui.accounts import key_table_model
from giftdesk.gui.accounts.key_table_model import KeyTableModel, relative_time
from giftdesk.accounts import events as ev


@pytest.fixture
def open_tab(qtbot, ctx):
    def make(context=None, rows: int | None = None) -> ApiKeysTab:
        tab = ApiKeysTab(context or ctx)
        qtbot.addWidget(tab)
        tab.resize(1100, 400)
        tab.show()
        if rows is not None:
            qtbot.waitUntil(lambda: tab.model.rowCount() == rows)
        return tab

    return make


def cell(tab: ApiKeysTab, account_id: int, column: int, role=Qt.ItemDataRole.DisplayRole):
    row = tab.model.source_row(account_id)
    return tab.model.index(row, column).data(role)


def visible_handles(tab: ApiKeysTab) -> list[str]:
    return [tab.model.index(r, KeyTableModel.ACCOUNT).data() for r in range(tab.model.rowCount())]


def test_table_lists_every_key_masked(open_tab, make_account, errors):
    alpha, alpha_key = make_account("alpha_live", "Alpha")
    bravo, bravo_key = make_account("bravo_live", "Bravo")
    tab = open_tab(rows=2)
    assert visible_handles(tab) == ["@alpha_live", "@bravo_live"]
    shown = cell(tab, alpha.id, KeyTableModel.KEY)
    assert alpha_key not in shown and shown.endswith(alpha_key[-4:]) and "•" in shown
    assert cell(tab, bravo.id, KeyTableModel.CUSTOMER) == "Bravo 2"
    assert cell(tab, bravo.id, KeyTableModel.STATUS) == "Active"
    assert cell(tab, bravo.id, KeyTableModel.ACCESSED) == "never"
    assert cell(tab, bravo.id, KeyTableModel.URL) == "(not set)"
    assert "2 keys" in tab.count_label.text()
    assert errors == []


def test_show_key_reveals_it_and_hides_it_again(open_tab, make_account, monkeypatch, qtbot):
    account, api_key = make_account()
    tab = open_tab(rows=1)
    assert tab.select_account(account.id)
    tab.toggle_reveal()
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.KEY) == api_key)
    assert tab.act_reveal.text() == "Hide key"
    tab.toggle_reveal()
    assert cell(tab, account.id, KeyTableModel.KEY) != api_key
    assert tab.act_reveal.text() == "Show key"

    # A shown key hides itself after REVEAL_SECONDS.
    monkeypatch.setattr(api_keys, "REVEAL_SECONDS", 0.2)
    tab.toggle_reveal()
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.KEY) == api_key)
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.KEY) != api_key, timeout=3000)


def test_leaving_the_tab_hides_shown_keys(open_tab, make_account, qtbot):
    account, api_key = make_account()
    tab = open_tab(rows=1)
    tab.select_account(account.id)
    tab.toggle_reveal()
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.KEY) == api_key)
    tab.hide()
    assert not tab.model.is_revealed(account.id)


def test_regenerate_replaces_the_key_after_confirmation(open_tab, make_account, desk, qtbot):
    account, old_key = make_account()
    tab = open_tab(rows=1)
    tab.select_account(account.id)

    Prompts.answers = [False]  # cancelled: nothing happens
    tab.regenerate_selected()
    tab.ctx.runner.wait_idle()
    assert desk.keys.reveal(account.id) == old_key

    Prompts.answers = [True]
    tab.regenerate_selected()
    qtbot.waitUntil(lambda: desk.keys.reveal(account.id) != old_key)
    new_key = desk.keys.reveal(account.id)
    # The new key is shown (it has to be given to the tracker) and the table follows the new hint.
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.KEY) == new_key)
    qtbot.waitUntil(lambda: tab.model.row_for(account.id).key_hint == new_key[-4:])
    assert cell(tab, account.id, KeyTableModel.KEY) == new_key  # still shown after the reload
    assert Prompts.answers == []


def test_deactivate_and_activate(open_tab, make_account, desk, qtbot):
    account, _ = make_account()
    tab = open_tab(rows=1)
    tab.select_account(account.id)
    assert tab.act_toggle.text() == "Deactivate"
    tab.toggle_active_selected()
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.STATUS) == "Inactive")
    assert desk.keys.get(account.id).status == "inactive"
    assert tab.act_toggle.text() == "Activate"
    assert cell(tab, account.id, KeyTableModel.STATUS, Qt.ItemDataRole.ForegroundRole).name() == theme.colors().error
    assert not tab.act_env.isEnabled()  # a deactivated key is not handed to trackers
    tab.toggle_active_selected()
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.STATUS) == "Active")
    assert desk.keys.get(account.id).status == "active"


def test_copy_puts_the_key_on_the_clipboard_and_clears_it(open_tab, make_account, monkeypatch, qtbot):
    account, api_key = make_account()
    other, other_key = make_account()
    tab = open_tab(rows=2)
    clipboard = QGuiApplication.clipboard()
    monkeypatch.setattr(key_table_model, "CLIPBOARD_CLEAR_SECONDS", 0.3)
    compared = []  # what the clearing timer looked at on the clipboard
    real_digest = key_table_model._digest
    monkeypatch.setattr(key_table_model, "_digest", lambda text: compared.append(text) or real_digest(text))

    tab.select_account(account.id)
    tab.copy_selected()
    qtbot.waitUntil(lambda: clipboard.text() == api_key)
    assert "clipboard clears" in tab.status_label.text()
    assert cell(tab, account.id, KeyTableModel.KEY) != api_key  # copying does not show it
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=3000)

    # Something else copied meanwhile is left alone.
    tab.select_account(other.id)
    tab.copy_selected()
    qtbot.waitUntil(lambda: clipboard.text() == other_key)
    clipboard.setText("user text")
    qtbot.waitUntil(lambda: "user text" in compared, timeout=3000)  # the timer ran and looked
    assert clipboard.text() == "user text"


def test_search_and_status_filter(open_tab, make_account, desk, qtbot):
    alpha, _ = make_account("alpha_live", "Alpha")
    bravo, _ = make_account("bravo_live", "Bravo")
    charlie, _ = make_account("charlie_tv", "Charlie")
    desk.keys.set_instance_url(charlie.id, "https://charlie.example.com")
    desk.keys.set_active(bravo.id, False)
    tab = open_tab(rows=3)

    qtbot.keyClicks(tab.search, "@BRAVO")
    assert visible_handles(tab) == ["@bravo_live"]
    tab.search.setText("charlie.example")  # instance URL
    assert visible_handles(tab) == ["@charlie_tv"]
    tab.search.setText("alpha 1")  # customer name
    assert visible_handles(tab) == ["@alpha_live"]
    tab.search.setText("nothing like it")
    assert visible_handles(tab) == []
    assert tab.stack.currentWidget() is tab.placeholder
    tab.search.clear()
    assert tab.stack.currentWidget() is tab.table

    tab.status_filter.setCurrentIndex(tab.status_filter.findData("inactive"))
    assert visible_handles(tab) == ["@bravo_live"]
    tab.status_filter.setCurrentIndex(tab.status_filter.findData("active"))
    assert visible_handles(tab) == ["@alpha_live", "@charlie_tv"]
    tab.search.setText("live")
    assert visible_handles(tab) == ["@alpha_live"]
    assert "1 of 3" in tab.count_label.text()


def test_sort_by_last_accessed_uses_the_time_not_the_text(open_tab, make_account, desk, qtbot):
    accounts = {name: make_account(name)[0] for name in ("two_hours", "five_min", "thirty_s", "never_seen")}
    tab = open_tab(rows=4)
    now = datetime.now(timezone.utc)
    desk.events.publish(ev.KeysAccessed({
        accounts["two_hours"].id: now - timedelta(hours=2),
        accounts["five_min"].id: now - timedelta(minutes=5),
        accounts["thirty_s"].id: now - timedelta(seconds=30),
    }))
    qtbot.waitUntil(lambda: cell(tab, accounts["thirty_s"].id, KeyTableModel.ACCESSED) == "30 s ago")
    tab.table.sortByColumn(KeyTableModel.ACCESSED, Qt.SortOrder.AscendingOrder)
    assert visible_handles(tab) == ["@never_seen", "@two_hours", "@five_min", "@thirty_s"]
    tab.table.sortByColumn(KeyTableModel.ACCESSED, Qt.SortOrder.DescendingOrder)
    assert visible_handles(tab) == ["@thirty_s", "@five_min", "@two_hours", "@never_seen"]
    # Text order would put "2 h ago" first and "never" last.
    assert cell(tab, accounts["two_hours"].id, KeyTableModel.ACCESSED) == "2 h ago"


def test_keys_accessed_event_updates_the_row_live_without_requerying(open_tab, make_account, desk, monkeypatch, qtbot):
    account, _ = make_account()
    other, _ = make_account()
    tab = open_tab(rows=2)
    tab.ctx.runner.wait_idle()
    calls = []
    real_list = desk.keys.list
    monkeypatch.setattr(desk.keys, "list", lambda *a, **k: calls.append(1) or real_list(*a, **k))

    when = datetime.now(timezone.utc) - timedelta(seconds=12)
    publisher = threading.Thread(target=lambda: desk.events.publish(ev.KeysAccessed({account.id: when})))
    publisher.start()
    publisher.join()
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.ACCESSED) == "12 s ago")
    assert when.astimezone().strftime("%H:%M:%S") in cell(tab, account.id, KeyTableModel.ACCESSED,
                                                            Qt.ItemDataRole.ToolTipRole)
    assert cell(tab, other.id, KeyTableModel.ACCESSED) == "never"
    # An older time (a late event) never moves it back.
    desk.events.publish(ev.KeysAccessed({account.id: when - timedelta(hours=1)}))
    tab.ctx.bridge.flush()  # delivered now, not "probably by now"
    assert cell(tab, account.id, KeyTableModel.ACCESSED) == "12 s ago"
    assert calls == []


def test_relative_times_tick(open_tab, make_account, desk, monkeypatch, qtbot):
    monkeypatch.setattr(api_keys, "TICK_MS", 100)
    account, _ = make_account()
    tab = open_tab(rows=1)
    desk.events.publish(ev.KeysAccessed({account.id: datetime.now(timezone.utc) - timedelta(seconds=59.5)}))
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.ACCESSED) == "59 s ago")
    # No new event: the periodic tick alone moves the text on.
    qtbot.waitUntil(lambda: tab.model.rowCount() and tab.table.model().index(0, KeyTableModel.ACCESSED).data()
                    == "1 min ago", timeout=3000)


def test_relative_time_texts():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert relative_time(None, now) == "never"
    assert relative_time(now - timedelta(seconds=2), now) == "just now"
    assert relative_time(now + timedelta(seconds=2), now) == "just now"
    assert relative_time(now - timedelta(seconds=12), now) == "12 s ago"
    assert relative_time(now - timedelta(minutes=5, seconds=59), now) == "5 min ago"
    assert relative_time(now - timedelta(hours=3), now) == "3 h ago"
    assert relative_time(now - timedelta(days=2), now) == "2 d ago"


def test_generate_a_key_for_an_account_without_one(open_tab, make_account, desk, qtbot):
    make_account("has_key")
    customer = desk.customers.create("Newcomer")
    fresh = desk.customers.add_account(customer.id, "fresh_one")
    tab = open_tab(rows=1)
    qtbot.waitUntil(lambda: tab.generate_combo.findData(fresh.id) >= 0)
    assert "Newcomer" in tab.generate_combo.itemText(tab.generate_combo.findData(fresh.id))
    tab.generate_combo.setCurrentIndex(tab.generate_combo.findData(fresh.id))
    tab.generate_selected()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    qtbot.waitUntil(lambda: tab.generate_combo.currentData() is None)
    assert tab.generate_combo.currentText() == "Every account has a key"
    assert not tab.generate_button.isEnabled()
    key = desk.keys.reveal(fresh.id)
    qtbot.waitUntil(lambda: cell(tab, fresh.id, KeyTableModel.KEY) == key)  # shown once, to hand it over
    assert tab.selected_account_id() == fresh.id


def _url_dialog(tab, qtbot):
    tab.activateWindow()
    tab.table.setFocus()
    qtbot.waitUntil(tab.table.hasFocus)
    qtbot.keyClick(tab.table, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: tab.url_dialog is not None and tab.url_dialog.isVisible())
    return tab.url_dialog


def _closed(dialog) -> bool:
    import shiboken6

    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def _type_url(qtbot, dialog, text: str) -> None:
    dialog.url.selectAll()
    qtbot.keyClick(dialog.url, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.url, text)
    qtbot.keyClick(dialog.url, Qt.Key.Key_Return)


def test_edit_instance_url(open_tab, make_account, desk, qtbot):
    account, _ = make_account()
    tab = open_tab(rows=1)
    tab.select_account(account.id)
    dialog = _url_dialog(tab, qtbot)
    _type_url(qtbot, dialog, "  https://tracker-1.example.com  ")
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.URL) == "https://tracker-1.example.com")
    assert _closed(dialog)

    # A bad address: the dialog stays with the text typed and says why beside the field.
    dialog = _url_dialog(tab, qtbot)
    assert dialog.url.text() == "https://tracker-1.example.com"
    _type_url(qtbot, dialog, "ftp://nope")
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert dialog.isVisible() and dialog.url.text() == "ftp://nope"
    assert dialog.error.text() == "Instance URL must be an http:// or https:// address, not 'ftp://nope'."
    assert dialog.url.property("invalid") is True
    assert desk.keys.get(account.id).instance_url == "https://tracker-1.example.com"
    qtbot.keyClick(dialog.url, Qt.Key.Key_Escape)  # cancelled: nothing changes
    qtbot.waitUntil(lambda: _closed(dialog))
    assert desk.keys.get(account.id).instance_url == "https://tracker-1.example.com"

    dialog = _url_dialog(tab, qtbot)
    _type_url(qtbot, dialog, "")  # cleared
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.URL) == "(not set)")
    assert desk.keys.get(account.id).instance_url is None


def test_tracker_environment_dialog(open_tab, make_account, desk, qtbot):
    account, api_key = make_account("env_demo")
    tab = open_tab(rows=1)
    tab.select_account(account.id)
    tab.show_environment_selected()
    qtbot.waitUntil(lambda: tab.env_dialog is not None and tab.env_dialog.isVisible())
    text = tab.env_dialog.text.toPlainText()
    names = [line.split("=", 1)[0] for line in text.splitlines()]
    assert names == ["API_KEY", "ACCOUNT_ID", "TIKTOK_USERNAME", "BACKEND_API_URL"]
    assert api_key not in text and f"ACCOUNT_ID={account.id}" in text and "TIKTOK_USERNAME=env_demo" in text
    assert text.splitlines()[-1].endswith("/api/instances")
    tab.env_dialog.show_key.setChecked(True)
    assert f"API_KEY={api_key}" in tab.env_dialog.text.toPlainText()
    tab.env_dialog.copy_button.click()
    assert QGuiApplication.clipboard().text().startswith(f"API_KEY={api_key}\nACCOUNT_ID=")
    tab.env_dialog.close()


def test_keyboard_and_context_menu_actions(open_tab, make_account, qtbot):
    account, api_key = make_account()
    tab = open_tab(rows=1)
    tab.select_account(account.id)
    assert tab.act_reveal in tab.table.actions() and tab.act_copy in tab.table.actions()
    assert tab.act_url.shortcut().toString() == "F2"
    tab.activateWindow()
    tab.table.setFocus()
    qtbot.waitUntil(tab.table.hasFocus)
    qtbot.keyClick(tab.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: cell(tab, account.id, KeyTableModel.KEY) == api_key)


def test_refreshes_when_accounts_change_elsewhere(open_tab, make_account, desk, qtbot):
    make_account()
    tab = open_tab(rows=1)
    make_account()  # generated by another part of the console: KEY_CHANGED
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2)
    customer = desk.customers.list()[0]
    desk.customers.delete(customer.id)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)


def test_viewer_has_every_key_action_disabled(qtbot, desk, make_account, viewer_ctx):
    account, api_key = make_account()
    desk.customers.add_account(desk.customers.create("Keyless").id, "no_key_yet")
    tab = ApiKeysTab(viewer_ctx)
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1)
    qtbot.waitUntil(lambda: tab.generate_combo.currentData() is not None)
    tab.select_account(account.id)
    for action in (tab.act_reveal, tab.act_copy, tab.act_regenerate, tab.act_toggle, tab.act_url, tab.act_env):
        assert not action.isEnabled(), action.text()
    assert not tab.generate_button.isEnabled()
    assert tab.act_refresh.isEnabled()
    tab.toggle_reveal()
    tab.copy_selected()
    tab.regenerate_selected()  # would ask a question (and fail the test) if it went ahead
    qtbot.waitUntil(lambda: viewer_ctx.runner.running == 0)  # every result delivered
    assert cell(tab, account.id, KeyTableModel.KEY) != api_key


def test_a_mouse_click_selects_the_key_row(open_tab, make_account, qtbot):
    alpha, _ = make_account("alpha_click", "Alpha")
    bravo, _ = make_account("bravo_click", "Bravo")
    tab = open_tab(rows=2)
    assert tab.selected_row() is None and not tab.act_copy.isEnabled()
    index = tab.table.model().index(tab.model.source_row(bravo.id), KeyTableModel.ACCOUNT)
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=tab.table.visualRect(index).center())
    assert tab.selected_account_id() == bravo.id
    assert tab.act_copy.isEnabled() and tab.act_reveal.isEnabled()


def test_activate_and_deactivate_say_what_they_do_by_the_keys_status(open_tab, make_account, desk, qtbot):
    account, _ = make_account()
    tab = open_tab(rows=1)
    tab.select_account(account.id)
    assert tab.act_toggle.text() == "Deactivate" and tab.act_toggle.toolTip().startswith("Deactivate the key")
    tab.activateWindow()
    tab.table.setFocus()
    qtbot.waitUntil(tab.table.hasFocus)
    qtbot.keyClick(tab.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: tab.act_toggle.text() == "Activate", timeout=5000)
    assert desk.keys.get(account.id).status != "active"
    assert tab.act_toggle.toolTip().startswith("Activate the key again")
    assert not tab.act_env.isEnabled() and tab.act_env.toolTip().startswith("Activate the key first")
