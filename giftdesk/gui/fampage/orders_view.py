"""The orders view: the orders list with its filters, live statuses and the actions on the selected orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError
from giftdesk.core.wording import counted
from giftdesk.fampage.actions import OrderApplicability, invoice_creation, order_action, order_actions
from giftdesk.fampage import operations
from giftdesk.fampage.analytics import UNCOUNTED  # no invoice, no profit until reconciled
from giftdesk.fampage.orders import OrderFilter
from giftdesk.fampage.parse import STATES
from giftdesk.gui import theme
from giftdesk.gui.fampage.view_support import (
    FampageView,
    date_edit,
    date_of,
    money_text,
    signed_color,
    toolbar_row,
)
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import RIGHT, Column, RowTableView, fmt_datetime
from giftdesk.gui.widgets.timers import debounce_timer

EVENT_DEBOUNCE_MS = 250
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
    Column("Invoice", lambda o: "" if o.state in UNCOUNTED else money_text(o.revenue, o.currency),
           sort=lambda o: o.revenue, align=RIGHT, width=85, header_tooltip="Invoiced before tax, less credit notes"),
    Column("Profit", lambda o: "" if o.state in UNCOUNTED else money_text(o.profit_shown, o.currency),
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
        self.create_invoice_button = self._button(
            "Create invoice", "add", self.create_invoice, "Draft a new invoice for the order (its invoice was voided, "
            "or it never had one)", "create-invoice", changes=True)
        self.rates_button = self._button("Rate history", None, self.show_rate_history,
                                         "How the order's service rate changed over time", "order-rate-history")
        self.standing_invoice: tuple[int, Any] | None = None  # (order id, what orders.invoice_of said)
        actions = QHBoxLayout()
        for button in (self.sync_button, self.refill_button, self.refill_status_button, self.cancel_button,
                       self.status_button, self.reconcile_button, self.invoice_button, self.create_invoice_button,
                       self.rates_button):
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
        self._link_timer = debounce_timer(self, LINK_DEBOUNCE_MS, self.refresh)
        for combo in (self.company, self.status, self.network, self.service):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda _d: self.refresh())
        self.link.textChanged.connect(lambda _t: self._link_timer.start())
        self.link.returnPressed.connect(self.refresh)
        self.table.current_changed.connect(lambda _row: self._selection_changed())
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
        self._look_up_invoice()  # an invoice voided or drafted elsewhere changes what "Create invoice" may do
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

        self._set_applicable(self.create_invoice_button, self._invoice_creation())
        order = self._one_selected()
        if order is None:
            rates = OrderApplicability("rates", reason="Select one order to see its service's rates")
        elif order.service_id is None:
            rates = OrderApplicability("rates", reason="This order's service is not in the catalogue")
        else:
            rates = OrderApplicability("rates", ids=(order.id,))
        self._set_applicable(self.rates_button, rates)

    def _one_selected(self):
        rows = self.table.selected_rows()
        return rows[0] if len(rows) == 1 else None

    def _invoice_creation(self):
        order = self._one_selected()
        if len(self.table.selected_rows()) > 1:
            return OrderApplicability("create_invoice", reason="Select one order to create its invoice")
        known = self.standing_invoice
        if order is not None and self.can_edit and (known is None or known[0] != order.id):
            return OrderApplicability("create_invoice", reason="Looking for the order's invoice…")
        return invoice_creation(order, known[1] if known else None, may_edit=self.can_edit)

    def _selection_changed(self) -> None:
        self._update_actions()
        self._look_up_invoice()

    def _look_up_invoice(self) -> None:
        """Whether the selected order has a standing invoice decides "Create invoice": asked off the GUI thread."""
        order = self._one_selected()
        if order is None or not self.can_edit:
            return
        self._submit(self.ctx.desk.orders.invoice_of, order.id, supersede="standing-invoice",
                     on_success=lambda invoice, order_id=order.id: self._invoice_known(order_id, invoice),
                     description="Finding the order's invoice…")

    def _invoice_known(self, order_id: int, invoice) -> None:
        self.standing_invoice = (order_id, invoice)
        self._update_actions()

    def create_invoice(self) -> None:
        order = self._one_selected()
        if order is None or not self._invoice_creation().enabled:
            return
        self.create_invoice_button.setEnabled(False)
        self._run(operations.CREATE_INVOICE, self.ctx.desk.invoices.create_for_order, order.id, target=order.id,
                  on_success=lambda invoice: self._invoice_created(order.id, invoice),
                  on_error=self._create_refused)

    def _invoice_created(self, order_id: int, invoice) -> None:
        self.standing_invoice = (order_id, invoice)
        self._done(f"Drafted invoice #{invoice.id} for order #{order_id}.")
        self.changed.emit()

    def _create_refused(self, exc: BaseException) -> None:
        self.standing_invoice = None
        self._look_up_invoice()
        self.ctx.report(exc)

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

        self._run(operations.SYNC_ORDERS, orders.sync, ids, on_success=done, on_error=self._report)

    def refill(self) -> None:
        row = self.table.current_row()
        if row is None:
            return
        self._run(operations.REFILL, self.ctx.desk.orders.refill, row.id, target=row.id, on_error=self._report,
                  on_success=lambda r: self._done(f"Refill {r.refill_id} asked for order #{r.id}."))

    def refill_status(self) -> None:
        row = self.table.current_row()
        if row is None:
            return
        self._run(operations.REFILL_STATUS, self.ctx.desk.orders.refill_status, row.id, target=row.id,
                  on_error=self._report,
                  on_success=lambda r: self._done(f"Refill {r.refill_id} of order #{r.id}: {r.refill_status}."))

    def cancel(self) -> None:
        selected = self.table.selected_rows()
        applies = order_action("cancel", selected, may_edit=self.can_edit)
        rows = [r for r in selected if r.id in applies.ids]
        if not rows:
            return
        self._cancel_skipped = applies.skipped_text()
        names = ", ".join(f"#{r.id}" for r in rows[:6]) + ("…" if len(rows) > 6 else "")
        question = operations.CANCEL_ORDERS.confirmation(orders=f"order{'s' if len(rows) != 1 else ''} {names}")
        if not Prompts.confirm(self, "Cancel orders", question, destructive=True, confirm_text="Cancel orders"):
            return
        desk = self.ctx.desk
        ids = [r.id for r in rows]

        def work():
            outcome = desk.orders.cancel(ids)
            notes = {oid: [i for i in desk.invoices.list(order_id=oid) if i.kind == "credit_note"]
                     for oid, error in outcome.items() if error is None}
            return outcome, notes

        self._run(operations.CANCEL_ORDERS, work, on_success=self._cancelled, on_error=self._report)

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
        if row is None or not self.can_edit or row.state in UNCOUNTED:
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
            self._run(operations.RECONCILE, orders.reconcile, row.id, text.strip(), target=row.id,
                      on_error=self._report,
                      on_success=lambda r: (self._done(f"Order #{r.id} is Fampage order {r.provider_order_id}; "
                                                       "invoiced and synced."), self.changed.emit()))
        elif Prompts.confirm(self, f"Reconcile order #{row.id}", operations.MARK_NOT_PLACED.confirmation(id=row.id),
                             confirm_text="Not placed"):
            self._run(operations.MARK_NOT_PLACED, lambda: orders.reconcile(row.id, not_placed=True), target=row.id,
                      on_error=self._report, on_success=lambda r: self._done(f"Order #{r.id} marked not placed."))

    def show_rate_history(self) -> None:
        order = self._one_selected()
        if order is None or order.service_id is None:
            return
        self._submit(self.ctx.desk.fampage.service, order.service_id, on_success=self._open_rate_history,
                     description="Finding the service…")

    def _open_rate_history(self, service) -> None:
        from giftdesk.gui.fampage.rate_history import RateHistoryDialog

        dialog = RateHistoryDialog(self.ctx, service, parent=self)
        self.dialog = dialog
        dialog.open()

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
