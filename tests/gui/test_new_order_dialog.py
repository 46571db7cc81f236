"""The new-order dialog against the fake Fampage panel, driven with real clicks and keystrokes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from giftdesk.gui.fampage.new_order import NewOrderDialog
from giftdesk.gui.prompts import Prompts
from tests.gui.conftest import idle

from tests.support.fake_fampage import API_KEY, FakeFampage


@pytest.fixture
def fake():
    with FakeFampage() as server:
        yield server


@pytest.fixture
def order_ctx(desk, fake, ctx):
    desk.settings.update({"fampage.base_url": fake.url, "invoice.multiplier": "8"})
    desk.settings.set_fampage_api_key(API_KEY)
    desk.companies.create("Acme")
    desk.companies.create("Beta", invoice_multiplier="10")
    return ctx


def open_dialog(qtbot, ctx) -> NewOrderDialog:
    dialog = NewOrderDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.loaded and dialog.balance is not None, timeout=10000)
    return dialog


def click_service(qtbot, dialog, service_id: int) -> None:
    items = [dialog.service_list.item(i) for i in range(dialog.service_list.count())]
    item = next(i for i in items if i.data(Qt.ItemDataRole.UserRole) == service_id)
    dialog.service_list.scrollToItem(item)
    rect = dialog.service_list.visualItemRect(item)
    qtbot.mouseClick(dialog.service_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.selected_service().id == service_id


def test_search_preview_and_place(qtbot, order_ctx, desk, fake, answers, monkeypatch):
    dialog = open_dialog(qtbot, order_ctx)
    assert dialog.figures["balance"].text() == "₹5,000.00"
    assert dialog.service_list.count() == 6
    qtbot.keyClicks(dialog.search, "likes")
    assert dialog.service_list.count() == 1
    click_service(qtbot, dialog, 102)
    assert "drip-feed" in dialog.service_info.text() and not dialog.comments.isVisible()
    qtbot.keyClicks(dialog.link, "https://tiktok.com/@acme/video/1")
    qtbot.keyClicks(dialog.quantity, "100")
    qtbot.waitUntil(lambda: dialog.figures["invoice"].text().startswith("₹14.98"), timeout=5000)
    assert dialog.figures["profit"].text() == "₹13.11"
    assert dialog.figures["after"].text() == "₹4,998.13"
    # Money reads rounded once, to the paisa; the exact cost is there on hover.
    assert dialog.figures["cost"].text() == "₹1.87" and dialog.figures["cost"].toolTip() == "Exactly 1.87234 INR"
    dialog.grab().save("/tmp/new-order.png")
    assert "₹18.7234 / 1000" in dialog.service_list.item(0).text()  # rates keep their decimals

    # Cancel at the confirmation: nothing reaches Fampage, the dialog stays as typed.
    asked = []
    real_confirm = Prompts.confirm
    monkeypatch.setattr(Prompts, "confirm", lambda *a, **k: asked.append(a[2]) or real_confirm(*a, **k))
    answers.extend([False])
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not answers and not dialog.busy, timeout=10000)
    idle(qtbot, order_ctx)
    assert fake.action_counts()["add"] == 0 and desk.orders.list() == [] and dialog.isVisible()
    [text] = asked
    assert "#102" in text and "https://tiktok.com/@acme/video/1" in text and "Quantity: 100" in text
    assert "Cost at Fampage: ₹1.87" in text and "Balance after: ₹4,998.13" in text
    assert "from the last known ₹5,000.00" in text and "Invoice to Acme: ₹14.98" in text

    answers.extend([True])
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10000)
    order, invoice = dialog.result
    assert order.quantity == 100 and order.provider_order_id in fake.orders
    assert invoice.total == Decimal("14.98") and desk.orders.get(order.id).state == "pending"


def test_errors_stay_in_the_dialog(qtbot, order_ctx, desk, fake, answers):
    dialog = open_dialog(qtbot, order_ctx)
    qtbot.keyClicks(dialog.search, "followers [real]")
    click_service(qtbot, dialog, 101)
    qtbot.keyClicks(dialog.link, "https://tiktok.com/@acme")
    qtbot.keyClicks(dialog.quantity, "10")
    qtbot.waitUntil(lambda: "takes 50 to 10,000" in dialog.preview_note.text(), timeout=5000)
    assert dialog.figures["invoice"].text() == "—"
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    assert "takes 50 to 10,000" in dialog.error.text() and dialog.quantity.property("invalid")
    assert fake.action_counts()["add"] == 0

    assert dialog.quantity.selectedText() == "10"  # the field in error is selected: typing replaces it
    qtbot.keyClicks(dialog.quantity, "1000")
    fake.balance = Decimal("0.10")
    answers.extend([True])  # the last known balance was enough: Fampage refuses
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "balance is too low" in dialog.error.text(), timeout=5000)
    assert dialog.isVisible() and desk.orders.list() == [] and dialog.link.text() == "https://tiktok.com/@acme"


def test_dark_palette_screenshot(qtbot, order_ctx, qapp):
    from giftdesk.gui import theme
    theme.apply_theme(qapp, "dark")
    try:
        dialog = open_dialog(qtbot, order_ctx)
        qtbot.keyClicks(dialog.search, "package")
        click_service(qtbot, dialog, 103)
        assert dialog.quantity.isReadOnly() and dialog.quantity.text() == "1000"
        qtbot.keyClicks(dialog.link, "https://tiktok.com/@acme/video/7")
        qtbot.waitUntil(lambda: dialog.figures["invoice"].text().startswith("₹396.00"), timeout=5000)
        dialog.grab().save("/tmp/new-order-dark.png")
    finally:
        theme.apply_theme(qapp, "light")


def test_company_multiplier_and_custom_comments(qtbot, order_ctx):
    dialog = open_dialog(qtbot, order_ctx)
    dialog.company.setCurrentIndex(dialog.company.findText("Beta"))
    assert dialog.multiplier.placeholderText() == "10 (default)"
    instagram = dialog.network.findText("Instagram (2)")
    dialog.network.setCurrentIndex(instagram)
    assert dialog.service_list.count() == 2
    click_service(qtbot, dialog, 104)
    assert dialog.comments.isVisible() and dialog.quantity.isReadOnly()
    qtbot.keyClicks(dialog.link, "https://instagram.com/p/abc")
    dialog.comments.setFocus()
    qtbot.keyClicks(dialog.comments, "Great post")
    qtbot.keyClick(dialog.comments, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.comments, "Love it")
    assert dialog.quantity.text() == "2"
    # 120 per 1000 × 2 = 0.24; × 10 = 2.40
    qtbot.waitUntil(lambda: dialog.figures["invoice"].text().startswith("₹2.40"), timeout=5000)
