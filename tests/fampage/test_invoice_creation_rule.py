"""When a new invoice can be drafted for an order (asked before the click; the service decides on it)."""

from __future__ import annotations

from types import SimpleNamespace

from giftdesk.fampage.actions import invoice_creation


def order(state: str = "completed", id: int = 7):
    return SimpleNamespace(id=id, state=state)


def invoice(status: str, number: str | None = None, id: int = 3):
    return SimpleNamespace(id=id, status=status, number=number)


def test_an_order_without_a_standing_invoice_may_get_one():
    assert invoice_creation(order(), None).ids == (7,)  # never had one
    assert invoice_creation(order(), invoice("void", "INV-2026-000001")).enabled


def test_a_standing_invoice_must_be_voided_first():
    for status in ("draft", "sent", "paid"):
        refused = invoice_creation(order(), invoice(status, None if status == "draft" else "INV-2026-000004"))
        assert not refused.enabled and "void it first" in refused.reason
    assert invoice_creation(order(), invoice("draft")).reason == (
        "Order #7 already has draft #3 (draft); void it first to invoice the order again")


def test_only_placed_orders_and_only_operators():
    assert invoice_creation(order("unconfirmed"), None).reason == (
        "Order #7 is unconfirmed: only a placed order is invoiced")
    assert not invoice_creation(order("not_placed"), None).enabled
    assert invoice_creation(order(), None, may_edit=False).reason == "Viewers cannot create invoices"
    assert invoice_creation(None, None).reason == "Select an order first"
