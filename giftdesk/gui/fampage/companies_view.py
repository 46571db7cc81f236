"""Per company: the companies the agency bills, with their orders' totals."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from giftdesk.gui.fampage.view_support import (
    FampageView,
    money_text,
    signed_color,
    toolbar_row,
)
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import RIGHT, Column, RowTableView


PENDING = "pending"  # asked through the intake form: waits for an operator's approval


def is_pending(row) -> bool:
    return row.company.status == PENDING and not row.company.archived


def _status_text(row) -> str:
    if row.company.archived:
        return "rejected" if row.company.status == "rejected" else "archived"
    return "pending approval" if is_pending(row) else row.company.status


def _pending_colour(row):
    return QColor(theme.colors().warning) if is_pending(row) else None


def _pending_font(row):
    if not is_pending(row):
        return None
    font = QFont()
    font.setBold(True)
    return font


def _company_columns(currency: str) -> list[Column]:
    return [
        Column("Name", lambda r: r.company.name, width=170,
               tooltip=lambda r: r.company.notes or None, font=_pending_font),
        Column("Status", _status_text, width=115, foreground=_pending_colour,
               tooltip=lambda r: ("Asked to be added through the intake form: approve it to let it order and be "
                                  "billed, or reject it") if is_pending(r) else None),
        Column("Contact", lambda r: r.company.contact_name, width=130),
        Column("E-mail", lambda r: r.company.email, width=170),
        Column("Multiplier", lambda r: f"× {r.company.invoice_multiplier}" if r.company.invoice_multiplier else "",
               sort=lambda r: r.company.invoice_multiplier, align=RIGHT, width=75,
               header_tooltip="The company's invoice multiplier (empty: the one in Settings)"),
        Column("Orders", lambda r: f"{r.totals.orders:,}", sort=lambda r: r.totals.orders, align=RIGHT, width=60),
        Column("Spend", lambda r: money_text(r.totals.cost, r.company.currency), sort=lambda r: r.totals.cost,
               align=RIGHT, width=95, header_tooltip="What Fampage kept for this company's orders"),
        Column("Revenue", lambda r: money_text(r.totals.revenue, r.company.currency),
               sort=lambda r: r.totals.revenue, align=RIGHT, width=95,
               header_tooltip="Invoiced before tax, less credit notes"),
        Column("Profit", lambda r: money_text(r.totals.profit_shown, r.company.currency), sort=lambda r: r.totals.profit,
               align=RIGHT, width=95, foreground=lambda r: signed_color(r.totals.profit)),
        Column("Tax id", lambda r: r.company.tax_id, stretch=True),
    ]


class CompaniesView(FampageView):
    """Companies with spend, revenue and profit; add, edit, archive/restore; jump to their orders/invoices."""

    show_orders = Signal(int)
    show_invoices = Signal(int)
    changed = Signal()

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.dialog = None
        self.search = QLineEdit(self)
        self.search.setObjectName("companies-search")
        self.search.setPlaceholderText("Filter companies")
        self.search.setClearButtonEnabled(True)
        self.archived = QCheckBox("Show archived", self)
        self.archived.setObjectName("show-archived")
        self.pending_only = QCheckBox("Waiting for approval", self)
        self.pending_only.setObjectName("pending-only")
        self.pending_only.setToolTip("Show only the companies that asked through the intake form and wait for "
                                     "an operator to approve or reject them")
        self.add_button = self._button("Add company…", "add", self.add_company, "Add a client company",
                                       "add-company", changes=True)
        self.edit_button = self._button("Edit…", "edit", self.edit_company, "Edit the selected company",
                                        "edit-company", changes=True)
        self.archive_button = self._button("Archive", "delete", self.archive_company,
                                           "Archive the selected company: it leaves the lists, its orders and "
                                           "invoices stay", "archive-company", changes=True)
        self.approve_button = self._button("Approve", None, self.approve_company,
                                           "Approve the selected company: it can order and be billed",
                                           "approve-company", changes=True)
        self.reject_button = self._button("Reject…", None, self.reject_company,
                                          "Reject the selected company, with an optional reason: it is archived",
                                          "reject-company", changes=True)
        self.orders_button = self._button("Orders", "orders", self._jump_orders, "This company's orders",
                                          "company-orders")
        self.invoices_button = self._button("Invoices", None, self._jump_invoices, "This company's invoices",
                                            "company-invoices")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.pending_only)
        bar.addWidget(self.archived)
        bar.addSpacing(12)
        for button in (self.add_button, self.edit_button, self.archive_button, self.approve_button,
                       self.reject_button, self.orders_button, self.invoices_button):
            bar.addWidget(button)
        self.table = RowTableView(_company_columns(self.currency), parent=self, settings_key="fampage-companies")
        self.table.setObjectName("fampage-companies")
        self.table.set_empty_text("No companies yet" + (" — add the first client company" if self.can_edit else ""),
                                  filtered="No company matches the filter")
        self.totals = QLabel(self)
        self.totals.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(toolbar_row(self, bar))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        self.search.textChanged.connect(self.table.set_filter_text)
        self.archived.toggled.connect(lambda _on: self.refresh())
        self.pending_only.toggled.connect(lambda on: self.table.set_predicate(is_pending if on else None))
        self.table.current_changed.connect(lambda _row: self._update_actions())
        self.table.row_activated.connect(lambda _row: self.edit_company())
        self._update_actions()

    def refresh(self) -> None:
        self._submit(self.ctx.desk.analytics.company_overview, self.archived.isChecked(), on_success=self._show,
                     supersede="list", description="Loading companies…")

    def _show(self, rows) -> None:
        self.table.set_rows(rows)
        spend = sum((r.totals.cost for r in rows), Decimal(0))
        revenue = sum((r.totals.revenue for r in rows), Decimal(0))
        pending = sum(1 for r in rows if is_pending(r))
        self.pending_only.setText(f"Waiting for approval ({pending})" if pending else "Waiting for approval")
        self.totals.setText(f"{len(rows)} compan{'ies' if len(rows) != 1 else 'y'} · "
                            + (f"{pending} waiting for approval · " if pending else "")
                            + f"spend {money_text(spend, self.currency)} · revenue "
                            f"{money_text(revenue, self.currency)} · profit {money_text(revenue - spend, self.currency)}")
        self._update_actions()
        self.loads += 1

    def _update_actions(self) -> None:
        row = self.table.current_row()
        self.add_button.setEnabled(self.can_edit)
        self.edit_button.setEnabled(self.can_edit and row is not None)
        self.archive_button.setEnabled(self.can_edit and row is not None)
        self.archive_button.setText("Restore" if row is not None and row.company.archived else "Archive")
        self.orders_button.setEnabled(row is not None)
        self.invoices_button.setEnabled(row is not None)
        pending = row is not None and is_pending(row)
        for button, tip in ((self.approve_button, "Approve the selected company: it can order and be billed"),
                            (self.reject_button, "Reject the selected company, with an optional reason: it is "
                                                 "archived")):
            button.setEnabled(self.can_edit and pending)
            if self.can_edit:
                button.setToolTip(tip if pending else "Select a company first" if row is None
                                  else f"'{row.company.name}' is {_status_text(row)}: only companies pending "
                                       "approval can be approved or rejected")

    def _open(self, dialog) -> None:
        from giftdesk.gui.fampage.dialogs import CompanyDialog  # noqa: F401  (type of dialog)

        self.dialog = dialog
        dialog.accepted.connect(lambda: self._saved(dialog.result_row))
        dialog.open()

    def add_company(self) -> None:
        from giftdesk.gui.fampage.dialogs import CompanyDialog

        if self.can_edit:
            self._open(CompanyDialog(self.ctx, parent=self))

    def edit_company(self) -> None:
        from giftdesk.gui.fampage.dialogs import CompanyDialog

        row = self.table.current_row()
        if self.can_edit and row is not None:
            self._open(CompanyDialog(self.ctx, row.company, parent=self))

    def _saved(self, company) -> None:
        self.message.emit(f"Saved company '{company.name}'.")
        self._after_change(company.id)

    def _after_change(self, company_id: int) -> None:
        def reselect(rows) -> None:
            self._show(rows)
            self.table.select_key(company_id)

        self._submit(self.ctx.desk.analytics.company_overview, self.archived.isChecked(), on_success=reselect,
                     supersede="list", description="Loading companies…")
        self.changed.emit()

    def archive_company(self) -> None:
        row = self.table.current_row()
        if not self.can_edit or row is None:
            return
        company = row.company
        if company.archived:
            self._submit(self.ctx.desk.companies.archive, company.id, False,
                         on_success=lambda c: (self.message.emit(f"Restored '{c.name}'."), self._after_change(c.id)),
                         description="Restoring the company…")
            return
        if not Prompts.confirm(self, "Archive company",
                               f"Archive '{company.name}'? It leaves the lists and cannot order; its orders and "
                               "invoices are kept, and “Show archived” brings it back.", confirm_text="Archive"):
            return
        self._submit(self.ctx.desk.companies.archive, company.id,
                     on_success=lambda c: (self.message.emit(f"Archived '{c.name}'."), self._after_change(c.id)),
                     description="Archiving the company…")

    def approve_company(self) -> None:
        row = self.table.current_row()
        if not self.can_edit or row is None or not is_pending(row):
            return
        self.approve_button.setEnabled(False)
        self._submit(self.ctx.desk.companies.approve, row.company.id,
                     on_success=lambda c: (self.message.emit(f"Approved '{c.name}': it can order now."),
                                           self._after_change(c.id)),
                     on_error=self._refused, description="Approving the company…")

    def reject_company(self) -> None:
        row = self.table.current_row()
        if not self.can_edit or row is None or not is_pending(row):
            return
        reason = Prompts.text(self, "Reject company",
                              f"Reject '{row.company.name}'? It is archived and cannot order.\n"
                              "Reason (optional, kept in the audit log):")
        if reason is None:
            return
        self.reject_button.setEnabled(False)
        self._submit(self.ctx.desk.companies.reject, row.company.id, reason.strip() or None,
                     on_success=lambda c: (self.message.emit(f"Rejected '{c.name}'."), self._after_change(c.id)),
                     on_error=self._refused, description="Rejecting the company…")

    def _refused(self, exc: BaseException) -> None:
        self._update_actions()
        ErrorRoute.report(exc)
        self.refresh()

    def _jump_orders(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self.show_orders.emit(row.id)

    def _jump_invoices(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self.show_invoices.emit(row.id)
