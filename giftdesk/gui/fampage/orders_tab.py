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
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError
from giftdesk.fampage.events import (
    BalanceChanged,
    CompanyChanged,
    InvoiceChanged,
    OrdersChanged,
    OrderStatusChanged,
)
from giftdesk.fampage.actions import order_action, order_actions
from giftdesk.fampage.money import format_money
from giftdesk.fampage.parse import STATES
from giftdesk.gui import theme
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.system.settings import FAMPAGE_KEY_FIELD
from giftdesk.gui.fampage.views import (
    AnalyticsView,
    CallLogView,
    CompaniesView,
    FampageView,
    InvoicesView,
    date_edit,
    date_of,
    money_text,
    restyle,
    signed_color,
    toolbar_row,
    viewer_tip,
)
from giftdesk.gui.timefmt import relative_time
from giftdesk.gui.tray import LowBalanceWarning, TrayNotifier
from giftdesk.gui.widgets.table_model import RIGHT, Column, RowTableView, fmt_datetime
from giftdesk.core.events import DatabaseReplaced, SettingsChanged
from giftdesk.fampage.orders import OrderFilter
from giftdesk.core.wording import counted

EVENT_DEBOUNCE_MS = 250
UNSETTLED = ("unconfirmed", "not_placed")  # no invoice, no profit until reconciled
LINK_DEBOUNCE_MS = 250
STATE_LABELS = {"unconfirmed": "Unconfirmed", "pending": "Pending", "in_progress": "In progress",
                "completed": "Completed", "partial": "Partial", "canceled": "Canceled", "failed": "Failed",
                "refunded": "Refunded", "not_placed": "Not placed"}


def _state_color(order):
    c = theme.colors()
    return {"unconfirmed": QColor(c.warning), "completed": QColor(c.success), "failed": QColor(c.error),
            "partial": QColor(c.warning), "canceled": QColor(c.muted), "not_placed": QColor(c.muted),
            "refunded": QColor(c.muted)}.get(order.state)


def _bold_if_unconfirmed(order):
    if order.state != "unconfirmed":
        return None
    font = QFont()
    font.setBold(True)
    return font


def _status_tooltip(order) -> str | None:
    parts = [f"Fampage says: {order.status_raw}" if order.status_raw else "No status from Fampage yet"]
    if order.provider_order_id:
        parts.append(f"Fampage order {order.provider_order_id}")
    if order.refill_id:
        parts.append(f"Refill {order.refill_id}: {order.refill_status or 'asked'}")
    if order.last_error:
        parts.append(order.last_error)
    if order.synced_at:
        parts.append(f"Synced {fmt_datetime(order.synced_at)}")
    return "\n".join(parts)


ORDER_COLUMNS = [
    Column("#", lambda o: o.id, align=RIGHT, width=50),
    Column("Company", lambda o: o.company_name, width=110),
    Column("Service", lambda o: o.service_name, width=165,
           tooltip=lambda o: f"{o.service_type}" + (f" · service {o.service_id}" if o.service_id else "")),
    Column("Network", lambda o: o.network, width=75),
    Column("Link", lambda o: o.link, stretch=True, tooltip=lambda o: o.link),
    Column("Quantity", lambda o: f"{o.quantity:,}", sort=lambda o: o.quantity, align=RIGHT, width=70),
    Column("Charge", lambda o: money_text(o.net_cost, o.currency), sort=lambda o: o.net_cost, align=RIGHT, width=85,
           tooltip=lambda o: ("Estimate until Fampage reports its charge" if o.charge is None else
                              f"Charged {money_text(o.charge, o.currency)}")
           + (f", refunded {money_text(o.refund, o.currency)}" if o.refund else ""),
           header_tooltip="What Fampage kept: its charge less its refunds"),
    Column("Invoice", lambda o: "" if o.state in UNSETTLED else money_text(o.revenue, o.currency),
           sort=lambda o: o.revenue, align=RIGHT, width=85, header_tooltip="Invoiced before tax, less credit notes"),
    Column("Profit", lambda o: "" if o.state in UNSETTLED else money_text(o.profit_shown, o.currency),
           sort=lambda o: o.profit, align=RIGHT, width=85, foreground=lambda o: signed_color(o.profit),
           header_tooltip="Invoice less charge (unconfirmed and not-placed orders count nowhere)"),
    Column("Status", lambda o: STATE_LABELS.get(o.state, o.state), width=95, tooltip=_status_tooltip,
           foreground=_state_color, font=_bold_if_unconfirmed, search=lambda o: f"{o.state} {o.status_raw or ''}"),
    Column("Start", lambda o: "" if o.start_count is None else f"{o.start_count:,}", sort=lambda o: o.start_count,
           align=RIGHT, width=55, header_tooltip="Start count"),
    Column("Remains", lambda o: "" if o.remains is None else f"{o.remains:,}", sort=lambda o: o.remains,
           align=RIGHT, width=65),
    Column("Placed", lambda o: fmt_datetime(o.created_at), sort=lambda o: o.created_at, width=125),
]


class OrdersView(FampageView):
    """The orders table with its filters, actions on the selection and the statistics line."""

    new_order = Signal()
    changed = Signal()  # something here changed invoices or the balance
    invoice_wanted = Signal(object)  # "Invoice" on an order: the tab shows it in the invoices view

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.dialog = None
        self.last_outcome: str | None = None  # the last action's sentence (tests)
        self._cancel_skipped = ""  # what the last cancel left out, for its outcome
        # ---- filters ----
        self.company = QComboBox(self)
        self.company.setObjectName("orders-company")
        self.status = QComboBox(self)
        self.status.setObjectName("orders-status")
        self.status.addItem("All statuses", None)
        self.status.addItem("Open", "open")
        for state in STATES:
            self.status.addItem(STATE_LABELS[state], state)
        self.network = QComboBox(self)
        self.network.setObjectName("orders-network")
        self.network.addItem("All networks", None)
        self.service = QComboBox(self)
        self.service.setObjectName("orders-service")
        self.service.addItem("All services", None)
        self.service.setMaximumWidth(220)
        self.link = QLineEdit(self)
        self.link.setObjectName("orders-link")
        self.link.setPlaceholderText("Link contains…")
        self.link.setClearButtonEnabled(True)
        self.since = date_edit(self, "orders-since", "Placed on or after (Any: no bound)")
        self.until = date_edit(self, "orders-until", "Placed on or before (Any: no bound)")
        filters = QHBoxLayout()
        for widget in (self.company, self.status, self.network, self.service):
            widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            filters.addWidget(widget)
        filters.addWidget(self.link, 1)
        filters.addWidget(QLabel("Placed", self))
        filters.addWidget(self.since)
        filters.addWidget(QLabel("to", self))
        filters.addWidget(self.until)
        # ---- actions ----
        self.sync_button = self._button("Sync", "refresh", self.sync_selected, "Read the selected orders' status "
                                        "from Fampage", "sync-selected", changes=True)
        self.refill_button = self._button("Refill", None, self.refill, "Ask Fampage to refill the selected order",
                                          "refill", changes=True)
        self.refill_status_button = self._button("Refill status", None, self.refill_status,
                                                 "Ask Fampage how the refill goes", "refill-status", changes=True)
        self.cancel_button = self._button("Cancel order", "delete", self.cancel, "Ask Fampage to cancel the "
                                          "selected orders; the refund becomes a credit note", "cancel-orders", changes=True)
        self.status_button = self._button("Set status…", "edit", self.edit_status,
                                          "Set the status and stats by hand", "set-status", changes=True)
        self.reconcile_button = self._button("Reconcile…", "warning", self.reconcile,
                                             "Settle an unconfirmed order: give Fampage's order id, or mark it "
                                             "not placed", "reconcile", changes=True)
        self.invoice_button = self._button("Invoice", None, self._show_invoice, "Show the order's invoice",
                                           "order-invoice")
        actions = QHBoxLayout()
        for button in (self.sync_button, self.refill_button, self.refill_status_button, self.cancel_button,
                       self.status_button, self.reconcile_button, self.invoice_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.unconfirmed = QLabel(self)
        self.unconfirmed.setObjectName("unconfirmed-banner")
        self.unconfirmed.setProperty("role", "banner-warning")
        self.unconfirmed.setWordWrap(True)
        self.unconfirmed.hide()
        # ---- table ----
        self.table = RowTableView(ORDER_COLUMNS, parent=self, multi_select=True, settings_key="fampage-orders")
        self.table.setObjectName("fampage-orders")
        self.table.set_empty_text("No orders yet — “New order…” places the first one",
                                  filtered="No order matches the filters")
        self.stats = QLabel(self)
        self.stats.setObjectName("orders-stats")
        self.stats.setProperty("role", "muted")
        self.stats.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(toolbar_row(self, filters))
        layout.addWidget(toolbar_row(self, actions))
        layout.addWidget(self.unconfirmed)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.stats)
        # ---- behaviour ----
        self._link_timer = self._timer(LINK_DEBOUNCE_MS, self.refresh)
        for combo in (self.company, self.status, self.network, self.service):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda _d: self.refresh())
        self.link.textChanged.connect(lambda _t: self._link_timer.start())
        self.link.returnPressed.connect(self.refresh)
        self.table.current_changed.connect(lambda _row: self._update_actions())
        self.table.row_activated.connect(lambda row: self.reconcile() if row.state == "unconfirmed"
                                         else self.edit_status())
        self._update_actions()

    # ---- filters ------------------------------------------------------------------------------
    def set_companies(self, companies) -> None:
        self.fill_companies(self.company, companies)

    def set_catalogue(self, networks: dict[str, int], services) -> None:
        for combo, items in ((self.network, [(n, n) for n in networks]),
                             (self.service, [(f"#{s.id} {s.name}", s.id) for s in services])):
            current = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for text, data in items:
                combo.addItem(text, data)
            if combo is self.network:
                self._add_networks(self.table.rows)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)

    def _add_networks(self, rows) -> None:
        """Networks of orders not in the catalogue (manual orders) join the filter's choices."""
        known = {self.network.itemData(i) for i in range(1, self.network.count())}
        for network in sorted({r.network for r in rows} - known):
            self.network.addItem(network, network)

    def show_company(self, company_id: int) -> None:
        index = self.company.findData(company_id)
        if index >= 0:
            self.company.setCurrentIndex(index)

    def order_filter(self) -> OrderFilter:
        status = self.status.currentData()
        return OrderFilter(company_id=self.company.currentData(), state=None if status == "open" else status,
                           open_only=status == "open", network=self.network.currentData(),
                           service_id=self.service.currentData(), link=self.link.text().strip() or None,
                           since=date_of(self.since), until=date_of(self.until))

    def filtered(self) -> bool:
        return self.order_filter() != OrderFilter()

    # ---- loading ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._link_timer.stop()
        flt = self.order_filter()
        orders = self.ctx.desk.orders
        self._submit(lambda: (orders.list(flt), orders.stats()), on_success=self._show, supersede="list",
                     description="Loading orders…")

    def _show(self, result) -> None:
        rows, stats = result
        self.table.set_rows(rows)
        self._add_networks(rows)
        self._show_stats(stats)
        self._show_unconfirmed(rows)
        self._update_actions()
        self.loads += 1

    def _show_stats(self, stats: dict) -> None:
        cur = self.currency
        by_state = ", ".join(f"{STATE_LABELS.get(s, s).lower()} {n:,}" for s, n in sorted(stats["byState"].items()))
        shown = self.table.row_count()
        self.stats.setText(f"{shown:,} shown · {counted(stats['total'], 'order')}, {stats['open']:,} open"
                           + (f" ({by_state})" if by_state else "")
                           + f" · cost {money_text(Decimal(stats['cost']), cur)} · revenue "
                           f"{money_text(Decimal(stats['revenue']), cur)} · profit "
                           f"{money_text(Decimal(stats['profit']), cur)}")

    def _show_unconfirmed(self, rows) -> None:
        waiting = [r for r in rows if r.state == "unconfirmed"]
        if waiting:
            ids = ", ".join(f"#{r.id}" for r in waiting[:5]) + ("…" if len(waiting) > 5 else "")
            self.unconfirmed.setText(
                f"{len(waiting)} order{'s' if len(waiting) != 1 else ''} unconfirmed ({ids}): Fampage's answer was "
                "lost. Check Fampage's order list, then select the order and “Reconcile…” with its Fampage id, "
                "or mark it not placed.")
        self.unconfirmed.setVisible(bool(waiting))

    def on_status_batch(self, events) -> None:
        """A batch of status changes: upsert those rows (unfiltered), or reload (a filter may drop them)."""
        if self.filtered():
            self.refresh()
            return
        ids = list({e.order_id for e in events})
        orders = self.ctx.desk.orders
        self._submit(lambda: (orders.rows(ids), orders.stats()), on_success=self._upserted,
                     description="Updating order statuses…")

    def _upserted(self, result) -> None:
        rows, stats = result
        self.table.upsert_rows(rows)
        self._show_stats(stats)
        self._show_unconfirmed(self.table.rows)
        self._update_actions()
        self.loads += 1

    # ---- actions ------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        applies = order_actions(self.table.selected_rows(), may_edit=self.can_edit)
        for key, button in (("sync", self.sync_button), ("refill", self.refill_button),
                            ("refill_status", self.refill_status_button), ("cancel", self.cancel_button),
                            ("status", self.status_button), ("reconcile", self.reconcile_button),
                            ("invoice", self.invoice_button)):
            self._set_applicable(button, applies[key])

    def _set_applicable(self, button, applies) -> None:
        """Enabled when it applies to a selected order; the tool tip says to how many, or why not."""
        base = button.property("base_tooltip")
        if base is None:
            base = button.toolTip()
            button.setProperty("base_tooltip", base)
        button.setEnabled(applies.enabled)
        if not applies.enabled:
            button.setToolTip(base if not self.can_edit and "Viewers" in base else applies.reason)
        elif applies.skipped:
            button.setToolTip(f"{base}: {len(applies.ids)} of {len(applies.ids) + len(applies.skipped)} selected; "
                              f"{applies.skipped_text()}")
        else:
            button.setToolTip(base)

    def _done(self, text: str) -> None:
        self.last_outcome = text
        self.message.emit(text)
        self.refresh()

    def _report(self, exc: BaseException) -> None:
        if isinstance(exc, GiftDeskError):  # a sentence from Fampage or a check: say it, no traceback
            self.last_outcome = str(exc)
            Prompts.info(self, "Fampage", str(exc))
            self.message.emit(str(exc))
        else:
            self.ctx.report(exc)

    def sync_selected(self) -> None:
        ids = list(order_action("sync", self.table.selected_rows(), may_edit=self.can_edit).ids)
        if not ids:
            return
        orders = self.ctx.desk.orders

        def done(result) -> None:
            errors = f", {len(result.errors)} not found at Fampage" if result.errors else ""
            self._done(f"Synced {result.updated} of {result.requested} order{'s' if result.requested != 1 else ''}: "
                       f"{result.changed} changed{errors}.")
            if result.refunds:
                self.changed.emit()

        self._submit(orders.sync, ids, on_success=done, on_error=self._report, lane="fampage-sync",
                     description="Syncing orders…")

    def refill(self) -> None:
        row = self.table.current_row()
        if row is None:
            return
        self._submit(self.ctx.desk.orders.refill, row.id, lane=("order", row.id), on_error=self._report,
                     on_success=lambda r: self._done(f"Refill {r.refill_id} asked for order #{r.id}."),
                     description="Asking for a refill…")

    def refill_status(self) -> None:
        row = self.table.current_row()
        if row is None:
            return
        self._submit(self.ctx.desk.orders.refill_status, row.id, lane=("order", row.id), on_error=self._report,
                     on_success=lambda r: self._done(f"Refill {r.refill_id} of order #{r.id}: {r.refill_status}."),
                     description="Reading the refill status…")

    def cancel(self) -> None:
        selected = self.table.selected_rows()
        applies = order_action("cancel", selected, may_edit=self.can_edit)
        rows = [r for r in selected if r.id in applies.ids]
        if not rows:
            return
        self._cancel_skipped = applies.skipped_text()
        names = ", ".join(f"#{r.id}" for r in rows[:6]) + ("…" if len(rows) > 6 else "")
        if not Prompts.confirm(self, "Cancel orders",
                               f"Ask Fampage to cancel order{'s' if len(rows) != 1 else ''} {names}? What Fampage "
                               "refunds is credited on the invoice with a credit note.", destructive=True,
                               confirm_text="Cancel orders"):
            return
        desk = self.ctx.desk
        ids = [r.id for r in rows]

        def work():
            outcome = desk.orders.cancel(ids)
            notes = {oid: [i for i in desk.invoices.list(order_id=oid) if i.kind == "credit_note"]
                     for oid, error in outcome.items() if error is None}
            return outcome, notes

        self._submit(work, on_success=self._cancelled, on_error=self._report, lane="fampage-cancel",
                     description="Cancelling at Fampage…")

    def _cancelled(self, result) -> None:
        outcome, notes = result
        lines = []
        for oid, error in sorted(outcome.items()):
            if error is not None:
                lines.append(f"Order #{oid}: Fampage refused: {error}")
                continue
            credit = notes.get(oid) or []
            if credit:
                note = credit[-1]
                status = "issued" if note.number else "draft, issued with its invoice"
                lines.append(f"Order #{oid} canceled: credit note {note.number or f'#{note.id}'} of "
                             f"{money_text(note.total, note.currency)} ({status}).")
            else:
                lines.append(f"Order #{oid}: cancel accepted; Fampage has not reported the refund yet "
                             "(the next sync credits it).")
        if self._cancel_skipped:
            lines.append(self._cancel_skipped[:1].upper() + self._cancel_skipped[1:] + ".")
            self._cancel_skipped = ""
        text = "\n".join(lines)
        Prompts.info(self, "Cancel orders", text)
        self._done(text)
        self.changed.emit()

    def edit_status(self) -> None:
        from giftdesk.gui.fampage.dialogs import OrderStatusDialog

        row = self.table.current_row()
        if row is None or not self.can_edit or row.state in ("unconfirmed", "not_placed"):
            return
        dialog = OrderStatusDialog(self.ctx, row, parent=self)
        self.dialog = dialog
        dialog.accepted.connect(lambda: (self._done(f"Order #{row.id} is now {dialog.result_row.status_raw}."),
                                         self.changed.emit()))
        dialog.open()

    def reconcile(self) -> None:
        row = self.table.current_row()
        if row is None or row.state != "unconfirmed" or not self.can_edit:
            return
        text = Prompts.text(self, f"Reconcile order #{row.id}",
                            f"Fampage's answer to order #{row.id} ({row.service_name} × {row.quantity:,} for "
                            f"{row.company_name}) was lost.\n\nFampage's order id, if it is in Fampage's order list"
                            " (leave empty if the order is not there):")
        if text is None:
            return
        orders = self.ctx.desk.orders
        if text.strip():
            self._submit(orders.reconcile, row.id, text.strip(), on_error=self._report, lane=("order", row.id),
                         on_success=lambda r: (self._done(f"Order #{r.id} is Fampage order {r.provider_order_id}; "
                                                          "invoiced and synced."), self.changed.emit()),
                         description="Reconciling the order…")
        elif Prompts.confirm(self, f"Reconcile order #{row.id}",
                             f"Mark order #{row.id} as not placed? It will count nowhere and get no invoice.",
                             confirm_text="Not placed"):
            self._submit(lambda: orders.reconcile(row.id, not_placed=True), on_error=self._report,
                         lane=("order", row.id), on_success=lambda r: self._done(f"Order #{r.id} marked not placed."),
                         description="Reconciling the order…")

    def _show_invoice(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self._submit(self.ctx.desk.orders.invoice_of, row.id, on_success=self._invoice_found,
                         description="Finding the invoice…")

    def _invoice_found(self, invoice) -> None:
        if invoice is None:
            Prompts.info(self, "Invoice", "This order has no invoice (a manual order recorded without one).")
            return
        self.invoice_wanted.emit(invoice)


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
        head.addWidget(caption)
        head.addWidget(self.balance_label)
        head.addWidget(self.balance_warning)
        head.addSpacing(16)
        head.addWidget(self.sync_label, 1)
        head.addWidget(self.sync_button)
        head.addWidget(self.new_button)

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
        restyle(self.balance_label, "heading")
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

        self.ctx.runner.submit(work, on_success=done, on_error=failed, owner=self, lane="fampage-sync",
                               description="Syncing open orders with Fampage…")

    def new_order(self, company_id: int | None = None) -> None:
        from giftdesk.gui.fampage.new_order import NewOrderDialog

        if not self.ctx.can_edit:
            return
        dialog = NewOrderDialog(self.ctx, self, company_id=company_id)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._placed(dialog.result))
        dialog.open()

    def _placed(self, result) -> None:
        order, invoice = result
        self.message.emit(f"Placed order #{order.id} (Fampage {order.provider_order_id}); draft invoice "
                          f"of {money_text(invoice.total, invoice.currency)}.")
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
