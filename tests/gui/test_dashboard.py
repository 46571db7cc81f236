"""Customer dashboard: empty states, one card per account, show/copy key, URL, live access, editors."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtGui import QDesktopServices, QGuiApplication

from giftdesk.gui.accounts.gift_groups import GiftGroupsDialog
from giftdesk.gui.accounts.tracker_config import TrackerConfigDialog
from giftdesk.gui.accounts import customer_dashboard
from giftdesk.gui.accounts.customer_dashboard import CustomerDashboard
from giftdesk.accounts import events as ev


@pytest.fixture
def dashboard(qtbot, ctx):
    widget = CustomerDashboard(ctx)
    qtbot.addWidget(widget)
    widget.resize(760, 600)
    widget.show()
    return widget


@pytest.fixture
def customer(desk):
    """A customer with a keyed account (with URL), a deactivated one and one without a key."""
    row = desk.customers.create("Acme Studios")
    live = desk.customers.add_account(row.id, "acme_live")
    live_key = desk.keys.generate(live.id, "https://acme-live.example.com")
    off = desk.customers.add_account(row.id, "acme_off")
    desk.keys.generate(off.id)
    desk.keys.set_active(off.id, False)
    bare = desk.customers.add_account(row.id, "acme_bare")
    return row, {"live": live, "off": off, "bare": bare}, live_key


def show(dashboard, qtbot, customer_id, cards):
    dashboard.show_customer(customer_id)
    qtbot.waitUntil(lambda: len(dashboard.cards) == cards and dashboard.customer_id == customer_id)


def test_empty_states(dashboard, desk, qtbot):
    assert dashboard.stack.currentWidget() is dashboard.placeholder
    assert dashboard.placeholder.text() == "Select a customer"
    empty = desk.customers.create("Empty Co")
    with qtbot.waitSignal(dashboard.loaded):
        dashboard.show_customer(empty.id)
    assert dashboard.placeholder.text().startswith("No TikTok accounts yet")
    assert "Empty Co" in dashboard.title.text()
    dashboard.show_customer(None)
    assert dashboard.placeholder.text() == "Select a customer"
    assert dashboard.cards == {}


def test_one_card_per_account(dashboard, customer, qtbot):
    row, accounts, live_key = customer
    show(dashboard, qtbot, row.id, 3)
    assert dashboard.stack.currentWidget() is dashboard.scroll
    assert "3 TikTok accounts" in dashboard.title.text()
    live, off, bare = (dashboard.cards[accounts[k].id] for k in ("live", "off", "bare"))

    assert live.handle_label.text() == "<b>@acme_live</b>"
    assert live.url_label.text() == "https://acme-live.example.com"
    assert live.key_label.text().endswith(live_key[-4:]) and live_key not in live.key_label.text()
    assert "Active" in live.status_label.text() and live.open_button.isEnabled()
    assert live.show_key_button.isVisibleTo(live) and not live.generate_button.isVisibleTo(live)
    assert live.accessed_label.text() == "never"

    assert "Inactive" in off.status_label.text()
    assert not off.open_button.isEnabled() and not off.copy_url_button.isEnabled()

    assert bare.key_label.text() == "No API key yet"
    assert bare.generate_button.isVisibleTo(bare) and not bare.show_key_button.isVisibleTo(bare)


def test_show_and_copy_key_and_url(dashboard, customer, monkeypatch, qtbot):
    row, accounts, live_key = customer
    show(dashboard, qtbot, row.id, 3)
    card = dashboard.cards[accounts["live"].id]
    clipboard = QGuiApplication.clipboard()

    card.show_key_button.click()
    qtbot.waitUntil(lambda: card.key_label.text() == live_key)
    assert card.show_key_button.text() == "Hide"
    card.show_key_button.click()
    assert card.key_label.text() != live_key

    card.copy_url_button.click()
    assert clipboard.text() == "https://acme-live.example.com"
    card.copy_key_button.click()
    qtbot.waitUntil(lambda: clipboard.text() == live_key)
    assert card.key_label.text() != live_key

    monkeypatch.setattr(customer_dashboard, "REVEAL_SECONDS", 0.2)
    card.show_key_button.click()
    qtbot.waitUntil(lambda: card.key_label.text() == live_key)
    qtbot.waitUntil(lambda: card.key_label.text() != live_key, timeout=3000)


def test_open_tracker(dashboard, customer, monkeypatch, qtbot):
    row, accounts, _ = customer
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString()) or True))
    show(dashboard, qtbot, row.id, 3)
    dashboard.cards[accounts["live"].id].open_button.click()
    assert opened == ["https://acme-live.example.com"]


def test_generate_key_from_a_card(dashboard, customer, desk, qtbot):
    row, accounts, _ = customer
    show(dashboard, qtbot, row.id, 3)
    dashboard.cards[accounts["bare"].id].generate_button.click()
    qtbot.waitUntil(lambda: dashboard.cards.get(accounts["bare"].id) is not None
                    and dashboard.cards[accounts["bare"].id].key is not None)
    card = dashboard.cards[accounts["bare"].id]
    assert card.key_label.text().endswith(desk.keys.get(accounts["bare"].id).key_hint)
    assert not card.generate_button.isVisibleTo(card)


def test_last_accessed_is_live(dashboard, customer, desk, qtbot):
    row, accounts, _ = customer
    show(dashboard, qtbot, row.id, 3)
    card = dashboard.cards[accounts["live"].id]
    when = datetime.now(timezone.utc) - timedelta(seconds=20)
    thread = threading.Thread(target=lambda: desk.events.publish(ev.KeysAccessed({accounts["live"].id: when})))
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: card.accessed_label.text() == "20 s ago")
    assert when.astimezone().strftime("%H:%M:%S") in card.accessed_label.toolTip()
    assert dashboard.cards[accounts["live"].id] is card  # updated in place, not rebuilt


def test_reloads_when_its_keys_change(dashboard, customer, desk, qtbot):
    row, accounts, _ = customer
    show(dashboard, qtbot, row.id, 3)
    new_key = desk.keys.regenerate(accounts["live"].id)
    qtbot.waitUntil(lambda: dashboard.cards.get(accounts["live"].id) is not None
                    and dashboard.cards[accounts["live"].id].key_label.text().endswith(new_key[-4:]))
    desk.customers.delete_account(accounts["off"].id)
    qtbot.waitUntil(lambda: len(dashboard.cards) == 2)
    desk.customers.delete(row.id)
    qtbot.waitUntil(lambda: dashboard.stack.currentWidget() is dashboard.placeholder)
    assert "no longer exists" in dashboard.placeholder.text()


def test_many_accounts_scroll(dashboard, desk, qtbot):
    row = desk.customers.create("Big Agency")
    for n in range(12):
        account = desk.customers.add_account(row.id, f"creator_{n:02d}")
        desk.keys.generate(account.id)
    show(dashboard, qtbot, row.id, 12)
    qtbot.waitUntil(lambda: dashboard.scroll.verticalScrollBar().maximum() > 0)


def test_editors_open_once_per_account(dashboard, customer, qtbot):
    row, accounts, _ = customer
    show(dashboard, qtbot, row.id, 3)
    card = dashboard.cards[accounts["live"].id]
    card.gift_groups_button.click()
    dialog = dashboard.dialogs[("gift-groups", accounts["live"].id)]
    assert isinstance(dialog, GiftGroupsDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.is_loaded)
    card.gift_groups_button.click()
    assert dashboard.dialogs[("gift-groups", accounts["live"].id)] is dialog
    card.config_button.click()
    config = dashboard.dialogs[("config", accounts["live"].id)]
    assert isinstance(config, TrackerConfigDialog)
    qtbot.waitUntil(lambda: config.is_loaded)
    dialog.reject()
    config.reject()
    assert dashboard.dialogs == {}


def test_viewer_sees_but_cannot_touch_keys(qtbot, customer, viewer_ctx):
    row, accounts, live_key = customer
    dashboard = CustomerDashboard(viewer_ctx)
    qtbot.addWidget(dashboard)
    show(dashboard, qtbot, row.id, 3)
    card = dashboard.cards[accounts["live"].id]
    assert not card.show_key_button.isEnabled() and not card.copy_key_button.isEnabled()
    assert not dashboard.cards[accounts["bare"].id].generate_button.isEnabled()
    assert card.copy_url_button.isEnabled() and card.open_button.isEnabled()
    assert card.gift_groups_button.text() == "View gift groups…"
    dashboard.show_key(accounts["live"].id)
    qtbot.waitUntil(lambda: viewer_ctx.runner.running == 0)  # every result delivered
    assert card.key_label.text() != live_key
