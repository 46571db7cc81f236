# ruff: noqa: F811  (the Fampage fixtures are imported from tests/gui/test_fampage_tab.py)
"""Fampage: companies that asked through the intake form are approved or rejected from the Companies view;
an order whose invoice was voided gets a new one from the Orders and Invoices views."""

from __future__ import annotations

from giftdesk.gui.fampage.companies_view import is_pending
from tests.gui.conftest import idle
from tests.support.fake_fampage import API_KEY
from tests.gui.test_fampage_tab import click, click_row, click_view, fake, fctx, open_tab  # noqa: F401 - fixtures


def submit_company(desk, name: str):
    return desk.companies.submit({"name": name, "email": f"ops@{name.split()[0].lower()}.in"}, source="203.0.113.5")


def test_pending_companies_are_marked_counted_filtered_approved_and_rejected(qtbot, fctx, desk, answers):
    delta = submit_company(desk, "Delta Media")
    echo = submit_company(desk, "Echo Reach")
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Companies")
    view, table = tab.companies, tab.companies.table
    qtbot.waitUntil(lambda: table.row_count() == 4, timeout=5000)
    assert view.pending_only.text() == "Waiting for approval (2)"
    assert "2 waiting for approval" in view.totals.text()
    status = {r.company.name: table.model().index(i, 1).data() for i, r in enumerate(table.visible_rows())}
    assert status == {"Acme": "active", "Beta": "active", "Delta Media": "pending approval",
                      "Echo Reach": "pending approval"}

    click(qtbot, view.pending_only)
    assert [r.company.name for r in table.visible_rows()] == ["Delta Media", "Echo Reach"]
    click(qtbot, view.pending_only)
    assert table.row_count() == 4

    click_row(qtbot, table, desk.companies.list(search="Acme")[0].id)
    assert not view.approve_button.isEnabled() and not view.reject_button.isEnabled()
    assert "only companies pending approval" in view.approve_button.toolTip()

    click_row(qtbot, table, delta.id)
    click(qtbot, view.approve_button)
    idle(qtbot, fctx)
    qtbot.waitUntil(lambda: table.current_row() is not None and not is_pending(table.current_row()), timeout=5000)
    assert desk.companies.get(delta.id).status == "active"
    assert view.pending_only.text() == "Waiting for approval (1)"

    click_row(qtbot, table, echo.id)
    answers.extend([None])  # the person cancels the reason box: nothing happens
    click(qtbot, view.reject_button)
    idle(qtbot, fctx)
    assert desk.companies.get(echo.id).status == "pending"
    answers.extend(["Not a client of ours"])
    click(qtbot, view.reject_button)
    qtbot.waitUntil(lambda: table.row_count() == 3, timeout=5000)  # rejected companies are archived
    assert desk.companies.get(echo.id).status == "rejected"
    assert view.pending_only.text() == "Waiting for approval"
    [entry] = [e for e in desk.audit.list() if e.action == "company.reject"]
    assert entry.summary == "Rejected company Echo Reach: Not a client of ours"


def test_approving_a_duplicate_name_is_refused_through_the_error_route(qtbot, fctx, desk, errors):
    twin = submit_company(desk, "Acme")  # the intake form accepts a taken name; approving it is refused
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Companies")
    table = tab.companies.table
    qtbot.waitUntil(lambda: table.row_count() == 3, timeout=5000)
    click_row(qtbot, table, twin.id)
    click(qtbot, tab.companies.approve_button)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "already a company called 'Acme'" in str(errors[0])
    assert desk.companies.get(twin.id).status == "pending"
    idle(qtbot, fctx)
    assert tab.companies.approve_button.isEnabled()


def test_viewers_see_pending_companies_but_cannot_decide(qtbot, desk, fake, viewer_ctx):
    desk.settings.update({"fampage.base_url": fake.url})
    desk.settings.set_fampage_api_key(API_KEY)
    delta = submit_company(desk, "Delta Media")
    tab = open_tab(qtbot, viewer_ctx)
    click_view(qtbot, tab, "Companies")
    qtbot.waitUntil(lambda: tab.companies.table.row_count() == 1, timeout=5000)
    click_row(qtbot, tab.companies.table, delta.id)
    for button in (tab.companies.approve_button, tab.companies.reject_button):
        assert not button.isEnabled() and "Viewers cannot" in button.toolTip()


def placed_and_voided(desk):
    """Two placed orders; the first one's invoice voided."""
    acme = desk.companies.list(search="Acme")[0]
    desk.fampage.ensure_catalogue()
    voided, first = desk.orders.place(acme.id, 101, "https://tiktok.com/@voided", 1000)
    standing, _second = desk.orders.place(acme.id, 101, "https://tiktok.com/@standing", 1000)
    desk.invoices.void(first.id)
    return voided, first, standing


def test_an_order_whose_invoice_was_voided_gets_a_new_one_from_the_orders_view(qtbot, fctx, desk):
    voided, first, standing = placed_and_voided(desk)
    tab = open_tab(qtbot, fctx)
    view, table = tab.orders, tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    assert not view.create_invoice_button.isEnabled()
    assert view.create_invoice_button.toolTip() == "Select an order first"

    click_row(qtbot, table, standing.id)
    idle(qtbot, fctx)
    assert not view.create_invoice_button.isEnabled()
    assert view.create_invoice_button.toolTip().startswith(f"Order #{standing.id} already has draft #")

    click_row(qtbot, table, voided.id)
    idle(qtbot, fctx)
    assert view.create_invoice_button.isEnabled()
    click(qtbot, view.create_invoice_button)
    idle(qtbot, fctx)
    new = desk.orders.invoice_of(voided.id)
    assert new.id != first.id and new.status == "draft"
    assert view.last_outcome == f"Drafted invoice #{new.id} for order #{voided.id}."
    qtbot.waitUntil(lambda: not view.create_invoice_button.isEnabled(), timeout=5000)
    assert "already has" in view.create_invoice_button.toolTip()


def test_a_refused_creation_reaches_the_error_route(qtbot, fctx, desk, errors):
    voided, _first, _standing = placed_and_voided(desk)
    tab = open_tab(qtbot, fctx)
    view, table = tab.orders, tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    click_row(qtbot, table, voided.id)
    idle(qtbot, fctx)
    desk.invoices.create_for_order(voided.id)  # another console was quicker
    click(qtbot, view.create_invoice_button)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "already has" in str(errors[0]) and "void it first" in str(errors[0])
    qtbot.waitUntil(lambda: "already has" in view.create_invoice_button.toolTip(), timeout=5000)
    assert not view.create_invoice_button.isEnabled()


def test_a_voided_invoice_offers_a_new_one_for_its_order_in_the_invoices_view(qtbot, fctx, desk):
    voided, first, standing = placed_and_voided(desk)
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Invoices")
    view, table = tab.invoices, tab.invoices.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    standing_invoice = desk.orders.invoice_of(standing.id)
    click_row(qtbot, table, standing_invoice.id)
    idle(qtbot, fctx)
    assert not view.create_button.isEnabled()
    assert view.create_button.toolTip().endswith("only a voided invoice's order can be invoiced again")

    click_row(qtbot, table, first.id)
    idle(qtbot, fctx)
    assert view.create_button.isEnabled()
    click(qtbot, view.create_button)
    qtbot.waitUntil(lambda: table.row_count() == 3, timeout=5000)
    new = desk.orders.invoice_of(voided.id)
    assert new.status == "draft" and new.id != first.id
    qtbot.waitUntil(lambda: table.current_key() == new.id, timeout=5000)

    click_row(qtbot, table, first.id)
    idle(qtbot, fctx)
    assert not view.create_button.isEnabled()
    assert view.create_button.toolTip() == (f"Order #{voided.id} already has draft #{new.id} (draft); void it first "
                                            "to invoice the order again")
