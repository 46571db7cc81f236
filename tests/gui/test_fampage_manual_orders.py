"""The Fampage Orders tab's "Record order…" (an order placed elsewhere, with its cost) and a
service's rate history, driven with clicks and keys against the fake panel; screenshots on request."""

from __future__ import annotations

import os
from decimal import Decimal

import shiboken6
from PySide6.QtCore import Qt

from tests.gui.conftest import idle
from tests.gui.test_fampage_tab import click, click_row, fake, fctx, open_tab  # noqa: F401
from tests.gui.test_new_order_dialog import click_service

SHOTS = os.environ.get("GIFTDESK_SHOTS")


def _shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(os.path.join(SHOTS, f"{name}.png"))


def _choose(qtbot, combo, text: str) -> None:
    """Picks ``text`` in a combo box with the keyboard, as a person tabbing through would."""
    combo.setFocus()
    index = combo.findText(text, Qt.MatchFlag.MatchStartsWith)
    assert index >= 0, text
    while combo.currentIndex() != index:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


def test_record_an_order_placed_elsewhere(qtbot, fctx, desk, fake):
    desk.fampage.refresh_services()
    tab = open_tab(qtbot, fctx)
    click(qtbot, tab.manual_button)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10000)
    _choose(qtbot, dialog.company, "Beta")
    assert dialog.multiplier.placeholderText() == "10 (the company's)"
    _choose(qtbot, dialog.service, "#101")
    assert dialog.service_name.text() == desk.fampage.service(101).name
    qtbot.keyClicks(dialog.link, "instagram.com/account")
    qtbot.keyClicks(dialog.quantity, "1000")
    qtbot.keyClicks(dialog.cost, "12.50")
    qtbot.keyClicks(dialog.provider_id, "abc")
    _shot(dialog, "manual-order")
    click(qtbot, dialog.ok_button)
    idle(qtbot, fctx)
    assert dialog.isVisible() and dialog.error.text().startswith("Link must be an http:// or https:// address")
    assert desk.orders.list() == []  # nothing recorded
    dialog.link.clear()
    qtbot.keyClicks(dialog.link, "https://www.instagram.com/account")
    click(qtbot, dialog.ok_button)
    idle(qtbot, fctx)
    assert dialog.isVisible() and dialog.error.text() == "Fampage order id must be a number, not 'abc'."
    assert dialog.provider_id.property("invalid")
    _shot(dialog, "manual-order-error")
    dialog.provider_id.clear()
    qtbot.keyClicks(dialog.provider_id, "777")
    _choose(qtbot, dialog.status, "Completed")
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: len(desk.orders.list()) == 1, timeout=10000)
    idle(qtbot, fctx)
    assert tab.dialog is None or not shiboken6.isValid(tab.dialog) or not tab.dialog.isVisible()

    [order] = desk.orders.list()
    assert (order.company_name, order.service_id, order.quantity, order.cost) == ("Beta", 101, 1000, Decimal("12.50"))
    assert order.network == desk.fampage.service(101).network and order.service_type == "Default"
    assert order.provider_order_id == 777 and order.status_raw == "Completed" and order.multiplier == Decimal("10")
    assert fake.action_counts()["add"] == 0  # nothing was sent to Fampage
    assert desk.orders.invoice_of(order.id).total == Decimal("125.00")
    qtbot.waitUntil(lambda: tab.orders.table.current_key() == order.id, timeout=10000)
    _shot(tab, "orders-with-manual")


def test_a_services_rate_history_from_an_order_and_from_the_new_order_dialog(qtbot, fctx, desk, fake):
    desk.fampage.refresh_services()
    fake.set_rate(101, "1.05")
    desk.fampage.refresh_services()
    fake.set_rate(101, "0.95")
    desk.fampage.refresh_services()
    beta = next(c for c in desk.companies.list() if c.name == "Beta")
    elsewhere = desk.orders.create_manual(beta.id, "Something else", "https://x.com/a", 10, "1")
    recorded = desk.orders.create_manual(beta.id, "Followers", "https://x.com/a", 1000, "0.95", service_id=101)
    tab = open_tab(qtbot, fctx)
    click_row(qtbot, tab.orders.table, elsewhere.id)
    assert not tab.orders.rates_button.isEnabled()
    assert tab.orders.rates_button.toolTip() == "This order's service is not in the catalogue"
    click_row(qtbot, tab.orders.table, recorded.id)
    click(qtbot, tab.orders.rates_button)
    qtbot.waitUntil(lambda: tab.orders.dialog is not None and getattr(tab.orders.dialog, "loaded", False),
                    timeout=10000)
    dialog = tab.orders.dialog
    rows = dialog.table.source.rows
    assert [r["rate"] for r in rows] == [Decimal("0.95"), Decimal("1.05"), Decimal("0.90")]  # newest first
    texts = [dialog.table.model().index(i, 2).data() for i in range(3)]
    assert texts == ["-₹0.10 (-9.5 %)", "+₹0.15 (+16.7 %)", "first seen"]
    assert "3 rates seen, from ₹0.90 to ₹1.05" in dialog.summary.text()
    _shot(dialog, "rate-history")
    dialog.reject()

    click(qtbot, tab.new_button)
    new_order = tab.dialog
    qtbot.waitUntil(lambda: new_order.loaded, timeout=10000)
    assert not new_order.rates_button.isEnabled()
    click_service(qtbot, new_order, 102)
    click(qtbot, new_order.rates_button)
    qtbot.waitUntil(lambda: new_order.rate_dialog.loaded, timeout=10000)
    assert [r["rate"] for r in new_order.rate_dialog.table.source.rows] == [Decimal("18.7234")]
    new_order.rate_dialog.reject()
    new_order.reject()


def test_viewers_cannot_record_orders(qtbot, desk, fake, viewer_ctx):
    desk.settings.update({"fampage.base_url": fake.url})
    tab = open_tab(qtbot, viewer_ctx)
    assert not tab.manual_button.isEnabled() and tab.manual_button.toolTip() == "Viewers cannot record orders"
    tab.record_manual_order()
    assert tab.dialog is None
