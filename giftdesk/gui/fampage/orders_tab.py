"""Fampage Orders: the provider balance and last sync in a header, then five views — orders,
companies, invoices, analytics and the integration log.

Qt only: every query and rule is in the services, run through ``ctx.runner``. Order statuses
arrive live as ``OrderStatusChanged`` batches (at most one per frame) and are upserted by key;
``OrdersChanged``/``InvoiceChanged``/``CompanyChanged`` reload what they touch, debounced;
``BalanceChanged`` updates the header (and, through ``tray.LowBalanceWarning``, warns once per
crossing below ``fampage.low_balance_threshold``). With no Fampage key the tab says where to set it.
"""

from __future__ import annotations

import os
from decimal import Decimal

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError
from giftdesk.core.events import DatabaseReplaced, SettingsChanged
from giftdesk.fampage import operations
from giftdesk.fampage.events import (
    BalanceChanged,
    CompanyChanged,
    InvoiceChanged,
    OrdersChanged,
    OrderStatusChanged,
)
from giftdesk.fampage.money import format_money
from giftdesk.gui import theme
from giftdesk.gui.fampage.analytics_view import AnalyticsView
from giftdesk.gui.fampage.call_log_view import CallLogView
from giftdesk.gui.fampage.companies_view import CompaniesView
from giftdesk.gui.fampage.invoices_view import InvoicesView
from giftdesk.gui.fampage.orders_view import EVENT_DEBOUNCE_MS, OrdersView
from giftdesk.gui.fampage.view_support import money_text, viewer_tip
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.system.settings import FAMPAGE_KEY_FIELD
from giftdesk.gui.table import fmt_datetime
from giftdesk.gui.timefmt import relative_time
from giftdesk.gui.tray import LowBalanceWarning, TrayNotifier


class FampageOrdersTab(QWidget):
    message = Signal(str)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.configured: bool | None = None
        self.balance = None  # the last BalanceRow / BalanceChanged
        self.dialog = None
        self.loads = 0

        # ---- header ----
        header = QFrame(self)
        header.setProperty("role", "card")
        head = QHBoxLayout(header)
        head.setContentsMargins(12, 8, 12, 8)
        caption = QLabel("Fampage balance", header)
        caption.setProperty("role", "muted")
        self.balance_label = QLabel("—", header)
        self.balance_label.setObjectName("fampage-balance")
        self.balance_label.setProperty("role", "heading")
        self.balance_warning = QLabel(header)
        self.balance_warning.setObjectName("fampage-balance-warning")
        self.balance_warning.setProperty("role", "warning")
        self.balance_warning.hide()
        self.sync_label = QLabel("Last sync: never", header)
        self.sync_label.setMinimumWidth(40)
        self.sync_label.setObjectName("fampage-last-sync")
        self.sync_label.setProperty("role", "muted")
        self.sync_button = QPushButton(theme.icon("refresh"), "Sync now", header)
        self.sync_button.setObjectName("sync-now")
        self.sync_button.setToolTip("Read every open order's status and the balance from Fampage")
        self.sync_button.setEnabled(ctx.can_edit)
        if not ctx.can_edit:  # a sync applies refunds as numbered credit notes
            self.sync_button.setToolTip(viewer_tip("Sync applies Fampage's statuses and refunds (credit notes)"))
        self.new_button = QPushButton(theme.icon("add"), "New order…", header)
        self.new_button.setObjectName("new-order")
        self.new_button.setToolTip("Place an order at Fampage for a company (Ctrl+N)")
        self.new_button.setShortcut("Ctrl+N")
        self.new_button.setEnabled(ctx.can_edit)
        if not ctx.can_edit:
            self.new_button.setToolTip("Viewers cannot place orders")
        self.manual_button = QPushButton(theme.icon("add"), "Record order…", header)
        self.manual_button.setObjectName("record-manual-order")
        self.manual_button.setToolTip("Record an order placed elsewhere, with its cost (Ctrl+Shift+N)")
        self.manual_button.setShortcut("Ctrl+Shift+N")
        self.manual_button.setEnabled(ctx.can_edit)
        if not ctx.can_edit:
            self.manual_button.setToolTip("Viewers cannot record orders")
        head.addWidget(caption)
        head.addWidget(self.balance_label)
        head.addWidget(self.balance_warning)
        head.addSpacing(16)
        head.addWidget(self.sync_label, 1)
        head.addWidget(self.sync_button)
        head.addWidget(self.new_button)
        head.addWidget(self.manual_button)

        # ---- views ----
        self.views = QTabWidget(self)
        self.views.setObjectName("fampage-views")
        self.orders = OrdersView(ctx, self)
        self.companies = CompaniesView(ctx, self)
        self.invoices = InvoicesView(ctx, self)
        self.analytics = AnalyticsView(ctx, self)
        self.log = CallLogView(ctx, self)
        for view, title in ((self.orders, "Orders"), (self.companies, "Companies"), (self.invoices, "Invoices"),
                            (self.analytics, "Analytics"), (self.log, "Integration log")):
            self.views.addTab(view, title)
            view.message.connect(self.message)
        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(header)
        body_layout.addWidget(self.views, 1)

        # ---- empty state: no key ----
        self.empty = QWidget(self)
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.addStretch(2)
        card = QFrame(self.empty)
        card.setProperty("role", "card")
        card.setFixedWidth(560)
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(32, 28, 32, 28)
        self.empty_icon = QLabel(card)
        self.empty_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Connect Fampage", card)
        title.setProperty("role", "heading")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel("No Fampage API key is set. Enter it (and the API address if yours differs) in "
                      "File → Settings → Fampage; the balance, services and orders appear here then.", card)
        text.setObjectName("fampage-empty-text")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.settings_button = QPushButton(theme.icon("settings"), "Open Settings…", card)
        self.settings_button.setObjectName("open-settings")
        self.settings_button.setEnabled(ctx.desk.actor.can("admin"))
        if not ctx.desk.actor.can("admin"):
            self.settings_button.setToolTip("Only an administrator can set the Fampage key")
        for widget in (self.empty_icon, title, text):
            card_layout.addWidget(widget)
        card_layout.addSpacing(8)
        card_layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignCenter)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        empty_layout.addLayout(row)
        empty_layout.addStretch(3)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

        # ---- behaviour ----
        self.notifier = TrayNotifier(self.message.emit, self)
        self.low_balance = LowBalanceWarning(ctx.bridge, self.notifier,
                                             lambda: Decimal(ctx.desk.settings.get("fampage.low_balance_threshold")),
                                             self)
        self.sync_button.clicked.connect(lambda _c=False: self.sync_now())
        self.new_button.clicked.connect(lambda _c=False: self.new_order())
        self.manual_button.clicked.connect(lambda _c=False: self.record_manual_order())
        self.settings_button.clicked.connect(lambda _c=False: self._open_settings())
        self.orders.new_order.connect(self.new_order)
        self.orders.changed.connect(self._money_changed)
        self.orders.invoice_wanted.connect(self._open_invoice)
        self.companies.show_orders.connect(self._company_orders)
        self.companies.show_invoices.connect(self._company_invoices)
        self.companies.changed.connect(self._load_companies)
        self.invoices.changed.connect(lambda: self._schedule("orders", "companies"))
        self._pending: set[str] = set()
        self._event_timer = QTimer(self)
        self._event_timer.setSingleShot(True)
        self._event_timer.setInterval(EVENT_DEBOUNCE_MS)
        self._event_timer.timeout.connect(self._reload_pending)
        self._ago_timer = QTimer(self)
        self._ago_timer.setInterval(30_000)
        self._ago_timer.timeout.connect(self._show_last_sync)
        self._ago_timer.start()
        self.last_sync = None
        bridge = ctx.bridge
        bridge.subscribe_batch(OrderStatusChanged, self._on_status_batch, owner=self)
        bridge.subscribe(OrdersChanged, lambda _e: self._schedule("orders", "companies", "invoices"), owner=self)
        bridge.subscribe(InvoiceChanged, lambda _e: self._schedule("invoices", "orders", "companies"), owner=self)
        bridge.subscribe(CompanyChanged, lambda _e: self._schedule("companies"), owner=self)
        bridge.subscribe(BalanceChanged, self._on_balance, owner=self)
        bridge.subscribe(SettingsChanged, lambda _e: self.check_configured(), owner=self)
        bridge.subscribe(DatabaseReplaced, lambda _e: self.reload_all(), owner=self)
        theme.on_theme_changed(self._retheme)
        self._retheme()
        self.check_configured()

    # ---- configuration ------------------------------------------------------------------------
    def check_configured(self) -> None:
        settings = self.ctx.desk.settings
        self.ctx.runner.submit(lambda: bool(os.environ.get("FAMPAGE_API_KEY")) or settings.has_fampage_api_key(),
                               on_success=self._configured, owner=self, supersede=(self, "configured"),
                               description="Checking the Fampage key…")

    def _configured(self, configured: bool) -> None:
        first = self.configured is None or configured != self.configured
        self.configured = configured
        self.stack.setCurrentIndex(1 if configured else 0)
        if configured and first:
            self.reload_all()
            self.refresh_balance()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.configured is False:  # the key may have been set in Settings meanwhile
            self.check_configured()

    def _open_settings(self) -> None:
        window = self.window()
        if hasattr(window, "open_settings"):
            dialog = window.open_settings()
            if dialog is not None:
                dialog.show_field(FAMPAGE_KEY_FIELD)
                dialog.finished.connect(lambda _r: self.check_configured())

    # ---- loading --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Everything again (the window calls this after a restore)."""
        self.check_configured()
        if self.configured:
            self.reload_all()

    def reload_all(self) -> None:
        self._load_companies()
        self._load_catalogue()
        self.orders.refresh()
        self.companies.refresh()
        self.invoices.refresh()
        self.analytics.refresh()
        self.log.refresh()
        self._load_last_sync()

    def _load_companies(self) -> None:
        companies = self.ctx.desk.companies

        def load():
            return companies.list() + companies.list(archived=True)

        self.ctx.runner.submit(load, on_success=self._companies_loaded, owner=self, supersede=(self, "companies"),
                               description="Loading companies…")

    def _companies_loaded(self, companies) -> None:
        for view in (self.orders, self.invoices, self.analytics, self.log):
            view.set_companies(companies)
        self.loads += 1

    def _load_catalogue(self) -> None:
        fampage = self.ctx.desk.fampage
        self.ctx.runner.submit(lambda: (fampage.networks(), fampage.services(include_unavailable=True)),
                               on_success=lambda r: self.orders.set_catalogue(*r), owner=self,
                               supersede=(self, "catalogue"), description="Loading the services list…")

    def _load_last_sync(self) -> None:
        self.ctx.runner.submit(self.ctx.desk.orders.last_synced_at, on_success=self._last_sync_loaded, owner=self,
                               supersede=(self, "last-sync"), description="Reading the last sync time…")

    def _last_sync_loaded(self, when) -> None:
        self.last_sync = when
        self._show_last_sync()

    def _show_last_sync(self) -> None:
        self.sync_label.setText(f"Last sync: {relative_time(self.last_sync)}")
        self.sync_label.setToolTip(fmt_datetime(self.last_sync) if self.last_sync else "No order synced yet")

    def refresh_balance(self) -> None:
        self.ctx.runner.submit(self.ctx.desk.fampage.balance, on_success=self._show_balance,
                               on_error=self._balance_failed, owner=self, supersede=(self, "balance"),
                               description="Reading the Fampage balance…")

    def _balance_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, GiftDeskError):
            self.ctx.report(exc)
            return
        self.balance_label.setText("unknown")
        self.balance_label.setToolTip(str(exc))
        self.message.emit(f"Fampage balance: {exc}")

    def _on_balance(self, event: BalanceChanged) -> None:
        self._show_balance(event)
        self._schedule("last-sync")  # the runtime reads the balance after each scheduled sync

    def _show_balance(self, balance) -> None:
        """``balance``: a BalanceRow (our read) or a BalanceChanged (anyone's read: runtime, dialog)."""
        self.balance = balance
        amount, currency = balance.amount, balance.currency
        self.balance_label.setText(f"{format_money(amount, currency)} {currency}")
        self.balance_label.setToolTip("")
        threshold = Decimal(self.ctx.desk.settings.get("fampage.low_balance_threshold"))
        low = amount < threshold
        self.balance_warning.setText(f"Low balance: below {format_money(threshold, currency)}")
        self.balance_warning.setVisible(low)
        theme.set_role(self.balance_label, "heading")
        if low:
            self.balance_label.setStyleSheet(f"color: {theme.colors().warning};")
        else:
            self.balance_label.setStyleSheet("")

    # ---- events -----------------------------------------------------------------------------------
    def _on_status_batch(self, events) -> None:
        if self.configured:
            self.orders.on_status_batch(events)
            self._schedule("companies", "invoices", "last-sync")

    def _schedule(self, *what: str) -> None:
        if not self.configured:
            return
        self._pending.update(what)
        self._event_timer.start()

    def _reload_pending(self) -> None:
        pending, self._pending = self._pending, set()
        if "orders" in pending:
            self.orders.refresh()
        if "companies" in pending:
            self.companies.refresh()
            self._load_companies()
        if "invoices" in pending:
            self.invoices.refresh()
        if "last-sync" in pending:
            self._load_last_sync()
        if pending & {"orders", "invoices"}:
            self.analytics.refresh()

    def _money_changed(self) -> None:
        self._schedule("invoices", "companies", "last-sync")

    # ---- actions ------------------------------------------------------------------------------------
    def sync_now(self) -> None:
        if not self.ctx.can_edit:
            return
        desk = self.ctx.desk
        self.sync_button.setEnabled(False)

        def work():
            result = desk.orders.sync_open_orders()
            return result, desk.fampage.balance()

        def done(result) -> None:
            self.sync_button.setEnabled(True)
            synced, balance = result
            self._show_balance(balance)
            errors = f", {len(synced.errors)} not found at Fampage" if synced.errors else ""
            self.message.emit(f"Synced {synced.updated} of {synced.requested} open orders: {synced.changed} "
                              f"changed{errors}.")
            self._load_last_sync()
            self.orders.refresh()
            self._schedule("invoices", "companies")

        def failed(exc: BaseException) -> None:
            self.sync_button.setEnabled(True)
            if isinstance(exc, GiftDeskError):
                Prompts.info(self, "Sync", str(exc))
                self.message.emit(f"Sync failed: {exc}")
            else:
                self.ctx.report(exc)

        self.ctx.runner.run(operations.SYNC_OPEN_ORDERS, work, on_success=done, on_error=failed, owner=self)

    def new_order(self, company_id: int | None = None) -> None:
        from giftdesk.gui.fampage.new_order import NewOrderDialog

        if not self.ctx.can_edit:
            return
        dialog = NewOrderDialog(self.ctx, self, company_id=company_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._placed(dialog.result))
        dialog.open()

    def record_manual_order(self, company_id: int | None = None) -> None:
        from giftdesk.gui.fampage.manual_order import ManualOrderDialog

        if not self.ctx.can_edit:
            return
        dialog = ManualOrderDialog(self.ctx, self, company_id=company_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._recorded(dialog.result))
        dialog.open()

    def _recorded(self, result) -> None:
        order, invoice = result
        invoice_text = (f"; draft invoice of {money_text(invoice.total, invoice.currency)}" if invoice is not None
                        else "")
        self.message.emit(f"Recorded order #{order.id} ({order.service_name} × {order.quantity:,}){invoice_text}.")
        self._show_new_order(order)

    def _placed(self, result) -> None:
        order, invoice = result
        self.message.emit(f"Placed order #{order.id} (Fampage {order.provider_order_id}); draft invoice "
                          f"of {money_text(invoice.total, invoice.currency)}.")
        self._show_new_order(order)

    def _show_new_order(self, order) -> None:
        """The orders view in front, reloaded with ``order`` selected."""
        self.views.setCurrentWidget(self.orders)
        orders = self.orders

        def select(loaded) -> None:
            orders._show(loaded)
            orders.table.select_key(order.id)

        flt = orders.order_filter()
        self.ctx.runner.submit(lambda: (self.ctx.desk.orders.list(flt), self.ctx.desk.orders.stats()),
                               on_success=select, owner=orders, supersede=(orders, "list"),
                               description="Loading orders…")
        self._schedule("invoices", "companies")

    def _company_orders(self, company_id: int) -> None:
        self.orders.show_company(company_id)
        self.views.setCurrentWidget(self.orders)

    def _company_invoices(self, company_id: int) -> None:
        self.invoices.show_company(company_id)
        self.views.setCurrentWidget(self.invoices)

    def _open_invoice(self, invoice) -> None:
        self.views.setCurrentWidget(self.invoices)
        view = self.invoices
        if view.company.currentData() not in (None, invoice.company_id) or view.status.currentData() is not None:
            view.company.setCurrentIndex(0)
            view.status.setCurrentIndex(0)
        if not view.table.select_key(invoice.id):
            def select(rows) -> None:
                view._show(rows)
                view.table.select_key(invoice.id)

            self.ctx.runner.submit(lambda: self.ctx.desk.invoices.list(), on_success=select, owner=view,
                                   supersede=(view, "list"), description="Loading invoices…")

    def _retheme(self) -> None:
        self.empty_icon.setPixmap(theme.icon("orders").pixmap(56, 56))
        for view in (self.orders, self.companies, self.invoices, self.log):
            view.table.viewport().update()
        if self.configured:
            self.analytics.retheme()
        if self.balance is not None:
            self._show_balance(self.balance)

    def shutdown(self) -> None:
        theme.remove_theme_listener(self._retheme)
