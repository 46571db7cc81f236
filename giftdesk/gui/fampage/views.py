"""The Fampage Orders tab's other views: companies, invoices (with their PDFs), analytics, the call log.

Each view is Qt only: it asks ``desk.companies``, ``desk.invoices``, ``desk.invoice_documents``,
``desk.analytics`` and ``desk.fampage`` through ``ctx.runner`` (file work included: PDFs are
rendered and written on a worker thread) and shows rows. The orders view and the tab itself are in
``fampage_orders``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import (
    QDate,
    QMarginsF,
    QPointF,
    QRectF,
    QSizeF,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.private_files import private_folder, write_private
from giftdesk.fampage.money import CURRENCY_SIGNS, format_money
from giftdesk.gui import theme
from giftdesk.gui.chart_scale import value_scale
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.widgets.chart_support import EmptyState, set_scale, show_tip, style_chart, value_axis
from giftdesk.gui.widgets.table_model import (
    RIGHT,
    Column,
    RowTableView,
    fmt_datetime,
)
from giftdesk.fampage.analytics import Totals, to_csv

ANY_DATE = QDate(2000, 1, 1)  # a date edit at its minimum shows "Any"
SAVE_AS, COPY_PATH = "Save as…", "Copy path"
INVOICE_STATUSES = ("draft", "sent", "paid", "void", "overdue")


def money_text(value: Decimal | None, currency: str) -> str:
    return "" if value is None else format_money(value, currency)


def signed_color(value: Decimal | None):
    if not value:
        return None
    c = theme.colors()
    return QColor(c.success if value > 0 else c.error)


def date_edit(parent: QWidget, name: str, tip: str) -> QDateEdit:
    """A date with a calendar; its minimum reads "Any" (no bound)."""
    edit = QDateEdit(parent)
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(ANY_DATE)
    edit.setSpecialValueText("Any")
    edit.setDate(ANY_DATE)
    edit.setToolTip(tip)
    edit.setFixedWidth(edit.fontMetrics().horizontalAdvance("2026-12-31") + 44)
    return edit


def date_of(edit: QDateEdit) -> date | None:
    value = edit.date()
    return None if value == ANY_DATE else date(value.year(), value.month(), value.day())


def toolbar_row(parent: QWidget, layout: QHBoxLayout) -> QScrollArea:
    """A row of filters or buttons that scrolls sideways in a narrow window instead of widening it."""
    holder = QWidget(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    holder.setLayout(layout)
    area = QScrollArea(parent)
    area.setWidget(holder)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    area.setFixedHeight(holder.sizeHint().height() + 2)
    area.setMinimumWidth(200)
    area.setStyleSheet("QScrollArea { background: transparent; } QScrollArea > QWidget > QWidget "
                       "{ background: transparent; }")
    return area


def restyle(widget: QWidget, role: str) -> None:
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def viewer_tip(tip: str) -> str:
    return f"{tip}. Viewers cannot do this: it needs the operator role."


class FampageView(QWidget):
    """What the views share: the runner with this view as owner, buttons, a debounce timer."""

    message = Signal(str)
    dialog = None  # the last dialog the view opened (tests reach it here)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.can_edit = ctx.can_edit
        self.loads = 0  # finished loads (tests wait on it)
        self.currency = ctx.desk.settings.get("invoice.currency")

    def _submit(self, fn, *args, on_success=None, on_error=None, supersede: str | None = None, lane=None,
                description: str):
        return self.ctx.runner.submit(fn, *args, on_success=on_success, on_error=on_error, owner=self, lane=lane,
                                      supersede=(self, supersede) if supersede else None, description=description)

    def _button(self, text: str, icon_name: str | None, slot, tip: str, name: str | None = None,
                changes: bool = False) -> QPushButton:
        """``changes``: the button changes data, so a viewer sees it disabled and is told why."""
        button = QPushButton(theme.icon(icon_name), text, self) if icon_name else QPushButton(text, self)
        button.setToolTip(viewer_tip(tip) if changes and not self.can_edit else tip)
        button.setObjectName(name or text.lower().rstrip("…").replace(" ", "-"))
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _timer(self, interval: int, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval)
        timer.timeout.connect(slot)
        return timer

    def ask_save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        """Where to write a file (tests replace this; a person picks in the file dialog)."""
        path, _ = QFileDialog.getSaveFileName(self, title, suggested, file_filter)
        return path or None

    def fill_companies(self, combo: QComboBox, companies, first: str = "All companies") -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(first, None)
        for company in companies:
            combo.addItem(company.name + (" (archived)" if company.archived else ""), company.id)
        index = combo.findData(current)
        combo.setCurrentIndex(max(0, index))
        combo.blockSignals(False)


# ---- companies ------------------------------------------------------------------------------
def _company_columns(currency: str) -> list[Column]:
    return [
        Column("Name", lambda r: r.company.name, width=170,
               tooltip=lambda r: r.company.notes or None),
        Column("Status", lambda r: "archived" if r.company.archived else r.company.status, width=80),
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
        self.add_button = self._button("Add company…", "add", self.add_company, "Add a client company",
                                       "add-company", changes=True)
        self.edit_button = self._button("Edit…", "edit", self.edit_company, "Edit the selected company",
                                        "edit-company", changes=True)
        self.archive_button = self._button("Archive", "delete", self.archive_company,
                                           "Archive the selected company: it leaves the lists, its orders and "
                                           "invoices stay", "archive-company", changes=True)
        self.orders_button = self._button("Orders", "orders", self._jump_orders, "This company's orders",
                                          "company-orders")
        self.invoices_button = self._button("Invoices", None, self._jump_invoices, "This company's invoices",
                                            "company-invoices")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.archived)
        bar.addSpacing(12)
        for button in (self.add_button, self.edit_button, self.archive_button, self.orders_button,
                       self.invoices_button):
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
        self.totals.setText(f"{len(rows)} compan{'ies' if len(rows) != 1 else 'y'} · spend "
                            f"{money_text(spend, self.currency)} · revenue {money_text(revenue, self.currency)} · "
                            f"profit {money_text(revenue - spend, self.currency)}")
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

    def _jump_orders(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self.show_orders.emit(row.id)

    def _jump_invoices(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self.show_invoices.emit(row.id)


# ---- invoices -------------------------------------------------------------------------------
def _status_color(row):
    c = theme.colors()
    return {"overdue": QColor(c.error), "paid": QColor(c.success), "void": QColor(c.muted),
            "draft": QColor(c.warning)}.get(row.display_status)


def _invoice_columns(numbers: dict[int, str]) -> list[Column]:
    """``numbers``: invoice id -> number, kept up to date by the view (a credit note names its invoice)."""
    return [
        Column("Number", lambda r: r.number or f"draft #{r.id}", sort=lambda r: (r.number or "", r.id), width=150),
        Column("Kind", lambda r: "credit note" if r.kind == "credit_note" else "invoice", width=80),
        Column("Company", lambda r: r.company_name, width=150),
        Column("Order", lambda r: f"#{r.order_id}" if r.order_id else "", sort=lambda r: r.order_id, align=RIGHT,
               width=60),
        Column("Status", lambda r: r.display_status, width=70, foreground=_status_color),
        Column("Total", lambda r: money_text(-r.total if r.kind == "credit_note" else r.total, r.currency),
               sort=lambda r: -r.total if r.kind == "credit_note" else r.total, align=RIGHT, width=95,
               tooltip=lambda r: f"Subtotal {money_text(r.subtotal, r.currency)} + tax {money_text(r.tax, r.currency)}"),
        Column("Credited", lambda r: money_text(r.credited, r.currency) if r.credited else "",
               sort=lambda r: r.credited, align=RIGHT, width=90, header_tooltip="Issued credit notes against it"),
        Column("Balance due", lambda r: money_text(r.balance_due, r.currency) if r.kind == "invoice" else "",
               sort=lambda r: r.balance_due, align=RIGHT, width=95),
        Column("Issued", lambda r: r.issue_date.isoformat() if r.issue_date else "", sort=lambda r: r.issue_date,
               width=90),
        Column("Due", lambda r: r.due_date.isoformat() if r.due_date else "", sort=lambda r: r.due_date, width=90),
        Column("Credit notes", lambda r: (f"{len(r.credit_note_ids)}" if r.credit_note_ids else
                                          f"against {numbers.get(r.credited_invoice_id, f'#{r.credited_invoice_id}')}"
                                          if r.credited_invoice_id else ""),
               sort=lambda r: len(r.credit_note_ids), stretch=True),
    ]


def print_pdf(pdf_path: str, printer) -> int:
    """Paints every page of the PDF on ``printer`` (QPdfDocument renders them); returns the page count."""
    from PySide6.QtPdf import QPdfDocument

    document = QPdfDocument()
    document.load(pdf_path)
    if document.status() != QPdfDocument.Status.Ready:
        raise OSError(f"Could not read the PDF to print ({document.error().name}).")
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("The printer could not be started.")
    try:
        for page in range(document.pageCount()):
            if page:
                printer.newPage()
            target = QSizeF(painter.viewport().size())
            size = document.pagePointSize(page).scaled(target, Qt.AspectRatioMode.KeepAspectRatio)
            # Render at 300 dpi at most (a 1200 dpi A4 page would be a 500 MB image), then scale.
            cap = document.pagePointSize(page) * (300 / 72)
            render = size if size.width() <= cap.width() else cap
            image = document.render(page, render.toSize())
            painter.drawImage(QRectF(QPointF(0, 0), size), image)
    finally:
        painter.end()
    return document.pageCount()


class InvoicesView(FampageView):
    """Invoices and credit notes: issue, mark paid, void; the PDF saved, opened or printed; a month as ZIP."""

    changed = Signal()

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.last_file: str | None = None  # the last PDF/ZIP written (tests and the message)
        self.company = QComboBox(self)
        self.company.setObjectName("invoices-company")
        self.company.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status = QComboBox(self)
        self.status.setObjectName("invoices-status")
        self.status.addItem("All statuses", None)
        for status in INVOICE_STATUSES:
            self.status.addItem(status.capitalize(), status)
        self.issue_button = self._button("Issue", None, self.issue, "Number the draft and send it (with its "
                                         "draft credit notes)", "issue-invoice", changes=True)
        self.pay_button = self._button("Mark paid", None, self.pay, "The client paid this invoice", "pay-invoice", changes=True)
        self.void_button = self._button("Void", "delete", self.void, "Void the invoice (its number stays used)",
                                        "void-invoice", changes=True)
        self.save_button = self._button("Save PDF…", "backup", self.save_pdf, "Save the PDF of the selected "
                                        "invoice", "save-pdf")
        self.open_button = self._button("Open PDF", "show", self.open_pdf, "Open the PDF in your viewer",
                                        "open-pdf")
        self.print_button = self._button("Print…", None, self.print_invoice, "Print the selected invoice",
                                         "print-invoice")
        self.zip_button = self._button("Month as ZIP…", "folder", self.month_zip,
                                       "Every invoice and credit note issued in a month, as one ZIP of PDFs",
                                       "month-zip")
        bar = QHBoxLayout()
        bar.addWidget(self.company)
        bar.addWidget(self.status)
        bar.addStretch(1)
        for button in (self.issue_button, self.pay_button, self.void_button, self.save_button, self.open_button,
                       self.print_button, self.zip_button):
            bar.addWidget(button)
        self.numbers: dict[int, str] = {}
        self.table = RowTableView(_invoice_columns(self.numbers), parent=self, settings_key="fampage-invoices")
        self.table.setObjectName("fampage-invoices")
        self.table.set_empty_text("No invoices yet — placing an order drafts its invoice",
                                  filtered="No invoice matches")
        self.summary = QLabel(self)
        self.summary.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(toolbar_row(self, bar))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self.company.currentIndexChanged.connect(lambda _i: self.refresh())
        self.status.currentIndexChanged.connect(lambda _i: self.refresh())
        self.table.current_changed.connect(lambda _row: self._update_actions())
        self.table.row_activated.connect(lambda _row: self.open_pdf())
        self._update_actions()

    def set_companies(self, companies) -> None:
        self.fill_companies(self.company, companies)

    def show_company(self, company_id: int) -> None:
        index = self.company.findData(company_id)
        if index >= 0:
            self.company.setCurrentIndex(index)

    def refresh(self) -> None:
        company_id, status = self.company.currentData(), self.status.currentData()
        self._submit(lambda: self.ctx.desk.invoices.list(company_id=company_id, status=status),
                     on_success=self._show, supersede="list", description="Loading invoices…")

    def _show(self, rows) -> None:
        self.numbers.update((r.id, r.number) for r in rows if r.number)
        self.table.set_rows(rows)
        due = sum((r.balance_due for r in rows), Decimal(0))
        overdue = sum(1 for r in rows if r.overdue)
        self.summary.setText(f"{len(rows)} document{'s' if len(rows) != 1 else ''} · due "
                             f"{money_text(due, self.currency)}" + (f" · {overdue} overdue" if overdue else ""))
        self._update_actions()
        self.loads += 1

    def _update_actions(self) -> None:
        row = self.table.current_row()
        edit = self.can_edit and row is not None
        self.issue_button.setEnabled(edit and row.status == "draft")
        self.pay_button.setEnabled(edit and row.kind == "invoice" and row.status == "sent")
        self.void_button.setEnabled(edit and row.status not in ("void", "paid"))
        for button in (self.save_button, self.open_button, self.print_button):
            button.setEnabled(row is not None)

    def _changed(self, row, verb: str) -> None:
        self.message.emit(f"{row.label} {verb}.")
        self.refresh()
        self.changed.emit()

    def issue(self) -> None:
        """Asks first (number, due days, tax): issuing takes a gap-free number for good."""
        from giftdesk.gui.fampage.invoice_issue import IssueInvoiceDialog

        row = self.table.current_row()
        if row is None or row.status != "draft" or not self.can_edit:
            return
        dialog = IssueInvoiceDialog(self.ctx, row, self)
        self.dialog = dialog
        dialog.issued.connect(lambda issued: self._changed(issued, "issued"))
        dialog.open()

    def pay(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self._submit(self.ctx.desk.invoices.pay, row.id, on_success=lambda r: self._changed(r, "marked paid"),
                         lane=("invoice", row.id), description="Marking the invoice paid…")

    def void(self) -> None:
        row = self.table.current_row()
        if row is None or not Prompts.confirm(
                self, "Void invoice", f"Void {row.label}? Its number stays used; its credit notes are voided "
                "with it, and the order's revenue drops to zero.", destructive=True, confirm_text="Void"):
            return
        self._submit(self.ctx.desk.invoices.void, row.id, on_success=lambda r: self._changed(r, "voided"),
                     lane=("invoice", row.id), description="Voiding the invoice…")

    # ---- files (rendered and written on a worker thread) ------------------------------------
    def save_pdf(self) -> None:
        row = self.table.current_row()
        if row is None:
            return
        path = self.ask_save_path("Save invoice PDF", f"{row.number or f'draft-{row.id}'}.pdf", "PDF files (*.pdf)")
        if not path:
            return
        documents = self.ctx.desk.invoice_documents

        def write() -> str:
            with open(path, "wb") as out:
                documents.pdf(row.id, out)
            return path

        self._submit(write, on_success=self._written, description="Writing the PDF…")

    def _written(self, path: str) -> None:
        self.last_file = path
        self.message.emit(f"Saved {path}.")

    def _temp_pdf(self, row) -> str:
        """The PDF for a viewer or printer, in the data directory's owner-only folder (worker thread)."""
        folder = private_folder(self.ctx.desk.paths.root)
        documents = self.ctx.desk.invoice_documents
        path = write_private(folder, f"{row.number or f'draft-{row.id}'}.pdf", lambda out: documents.pdf(row.id, out))
        return str(path)

    def open_pdf(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self._submit(self._temp_pdf, row, on_success=self._open_file, description="Preparing the PDF…")

    def _open_file(self, path: str) -> None:
        self.last_file = path
        if QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            return
        choice = Prompts.choose(self, "Open PDF", "No program opened the PDF (is a PDF viewer installed?).",
                                [SAVE_AS, COPY_PATH], detail=f"It is here:\n{path}")
        if choice == SAVE_AS:
            self._save_copy(path)
        elif choice == COPY_PATH:
            QGuiApplication.clipboard().setText(path)
            self.message.emit("Copied the PDF's path.")

    def _save_copy(self, source: str) -> None:
        target = self.ask_save_path("Save invoice PDF", Path(source).name, "PDF files (*.pdf)")
        if not target:
            return

        def copy() -> str:
            shutil.copyfile(source, target)
            return target

        self._submit(copy, on_success=self._written, description="Saving the PDF…")

    def print_invoice(self) -> None:
        row = self.table.current_row()
        if row is not None:
            self._submit(self._temp_pdf, row, on_success=self._print_file, description="Preparing the PDF…")

    def make_printer(self):
        """The printer a person picks (tests replace this with a PDF-file printer); None: cancelled."""
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        return printer if dialog.exec() == QPrintDialog.DialogCode.Accepted else None

    def _print_file(self, path: str) -> None:
        self.last_file = path
        printer = self.make_printer()
        if printer is None:
            return
        try:
            pages = print_pdf(path, printer)
        except ImportError:  # a PySide6 without QtPdf: the system viewer prints it
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))
            self.message.emit("Opened the PDF: print it from your viewer.")
            return
        except OSError as exc:
            self.ctx.report(exc)
            return
        self.message.emit(f"Sent {pages} page{'s' if pages != 1 else ''} to the printer.")

    def month_zip(self) -> None:
        today = date.today()
        text = Prompts.text(self, "Month as ZIP", "Month (YYYY-MM):", f"{today.year}-{today.month:02d}")
        if not text:
            return
        try:
            year, month = (int(part) for part in text.strip().split("-"))
        except ValueError:
            Prompts.info(self, "Month as ZIP", f"'{text}' is not a month such as {today.year}-{today.month:02d}.")
            return
        path = self.ask_save_path("Save the month's invoices", f"invoices-{year}-{month:02d}.zip",
                                  "ZIP archives (*.zip)")
        if not path:
            return
        documents = self.ctx.desk.invoice_documents

        def write():
            with open(path, "wb") as out:
                return path, documents.month_zip(year, month, out)

        def done(result) -> None:
            written, names = result
            self.last_file = written
            self.message.emit(f"Saved {len(names)} PDF{'s' if len(names) != 1 else ''} to {written}.")

        self._submit(write, on_success=done, description="Writing the month's invoices…")


# ---- analytics ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SummaryLine:
    key: str
    group: str
    name: str
    totals: Totals


def _totals_columns(first: Column, currency: str) -> list[Column]:
    return [
        first,
        Column("Orders", lambda r: f"{r.totals.orders:,}", sort=lambda r: r.totals.orders, align=RIGHT, width=70),
        Column("Cost", lambda r: money_text(r.totals.cost, currency), sort=lambda r: r.totals.cost, align=RIGHT,
               width=110),
        Column("Revenue", lambda r: money_text(r.totals.revenue, currency), sort=lambda r: r.totals.revenue,
               align=RIGHT, width=110),
        Column("Profit", lambda r: money_text(r.totals.profit_shown, currency), sort=lambda r: r.totals.profit,
               align=RIGHT, width=110, foreground=lambda r: signed_color(r.totals.profit)),
        Column("Margin", lambda r: "" if r.totals.margin is None else f"{r.totals.margin} %",
               sort=lambda r: r.totals.margin, align=RIGHT, width=80),
    ]


def _order_profit_columns() -> list[Column]:
    return [
        Column("#", lambda o: o.id, align=RIGHT, width=55),
        Column("Placed", lambda o: fmt_datetime(o.created_at), sort=lambda o: o.created_at, width=130),
        Column("Company", lambda o: o.company_name, width=130),
        Column("Service", lambda o: o.service_name, width=180),
        Column("Link", lambda o: o.link, width=200, tooltip=lambda o: o.link),
        Column("Quantity", lambda o: f"{o.quantity:,}", sort=lambda o: o.quantity, align=RIGHT, width=70),
        Column("Status", lambda o: o.state.replace("_", " "), width=80, tooltip=lambda o: o.status_raw),
        Column("Cost", lambda o: money_text(o.net_cost, o.currency), sort=lambda o: o.net_cost, align=RIGHT,
               width=90),
        Column("Revenue", lambda o: money_text(o.revenue, o.currency), sort=lambda o: o.revenue, align=RIGHT,
               width=90),
        Column("Profit", lambda o: money_text(o.profit_shown, o.currency), sort=lambda o: o.profit, align=RIGHT,
               stretch=True, foreground=lambda o: signed_color(o.profit)),
    ]


BAR_MEASURES = (("Revenue", lambda t: t.revenue), ("Cost", lambda t: t.cost), ("Profit", lambda t: t.profit))
NO_ORDERS_CHART = "No orders in these dates: orders placed between them fill this chart"

VIEWS = (("companies", "Per company"), ("summary", "Summary"), ("target", "By target link"),
         ("history", "Company history"))


class ProfitChart(QWidget):
    """Revenue, cost and profit bars per category (QtCharts). Floats only for drawing the bars.

    The money axis starts at 0 (bars are lengths) with room above the tallest bar, ticks at round
    amounts with the currency ("₹1,500"); hovering a bar says its category, measure and amount.
    With nothing to draw, a message says what will fill the chart.
    """

    def __init__(self, parent: QWidget | None = None, currency: str = "INR"):
        super().__init__(parent)
        from PySide6.QtCharts import QChart, QChartView

        self.currency = currency
        self.chart = QChart()
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(QMarginsF(4, 4, 4, 4).toMargins())
        self.view = QChartView(self.chart, self)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.empty = EmptyState(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.categories: list[str] = []
        self.items: list[tuple[str, Totals]] = []
        self.y_axis = None
        self.retheme()
        self.empty.show_message(NO_ORDERS_CHART)

    def retheme(self) -> None:
        style_chart(self.view)
        c = theme.colors()
        for series in self.chart.series():
            for bars, color in zip(series.barSets(), (c.accent, c.warning, c.success), strict=True):
                bars.setColor(QColor(color))
                bars.setBorderColor(QColor(color))

    def set_bars(self, title: str, items: list[tuple[str, Totals]], empty_text: str = NO_ORDERS_CHART) -> None:
        from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet

        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        self.y_axis = None
        self.chart.setTitle(title)
        self.categories = [name for name, _ in items]
        self.items = list(items)
        if not items:
            self.chart.setTitle("")
            self.empty.show_message(empty_text)
            return
        series = QBarSeries()
        for label, pick in BAR_MEASURES:
            bars = QBarSet(label)
            bars.append([float(pick(totals)) for _, totals in items])
            series.append(bars)
        series.hovered.connect(self._hovered)
        self.chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append(self.categories)
        y = value_axis()
        amounts = [float(pick(t)) for _, t in items for _label, pick in BAR_MEASURES]
        sign = CURRENCY_SIGNS.get(self.currency.upper(), "")
        set_scale(y, value_scale(amounts, keep_zero=True, min_span=1.0, target_ticks=6), prefix=sign,
                  unit="" if sign else self.currency.upper())
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        self.y_axis = y
        self.empty.show_message(None)
        self.retheme()

    def bar_text(self, index: int, measure: str) -> str:
        """What hovering a bar says: its category, the measure and the amount."""
        name, totals = self.items[index]
        pick = dict(BAR_MEASURES)[measure]
        return f"{name} · {measure} {money_text(pick(totals), self.currency)}"

    def _hovered(self, status: bool, index: int, bars) -> None:
        show_tip(self.bar_text(index, bars.label()) if status else "")


class AnalyticsView(FampageView):
    """The four analytics views with a date range, a chart and CSV export."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.data = None  # the shown view's data (for CSV)
        self.view = QComboBox(self)
        self.view.setObjectName("analytics-view")
        for key, title in VIEWS:
            self.view.addItem(title, key)
        self.since = date_edit(self, "analytics-since", "Orders placed on or after (Any: no bound)")
        self.until = date_edit(self, "analytics-until", "Orders placed on or before (Any: no bound)")
        self.link = QLineEdit(self)
        self.link.setObjectName("analytics-link")
        self.link.setPlaceholderText("Target link, e.g. tiktok.com/@account")
        self.company = QComboBox(self)
        self.company.setObjectName("analytics-company")
        self.company.setMinimumWidth(180)
        self.refresh_button = self._button("Show", "refresh", self.refresh, "Compute the view", "analytics-show")
        self.export_button = self._button("Export CSV…", "backup", self.export_csv, "This view as CSV",
                                          "analytics-export")
        bar = QHBoxLayout()
        bar.addWidget(self.view)
        bar.addWidget(QLabel("From", self))
        bar.addWidget(self.since)
        bar.addWidget(QLabel("to", self))
        bar.addWidget(self.until)
        bar.addWidget(self.link, 2)
        bar.addWidget(self.company)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)
        cur = self.currency
        self.tables = {
            "companies": RowTableView(_totals_columns(Column("Company", lambda r: r.name, stretch=True), cur),
                                      key=lambda r: r.company_id, parent=self, settings_key="fampage-analytics-co"),
            "summary": RowTableView(_totals_columns(Column("Group", lambda r: f"{r.group}: {r.name}", stretch=True),
                                                    cur), key=lambda r: r.key, parent=self,
                                    settings_key="fampage-analytics-sum"),
            "target": RowTableView(_order_profit_columns(), parent=self, settings_key="fampage-analytics-target"),
            "history": RowTableView(_order_profit_columns(), parent=self, settings_key="fampage-analytics-history"),
        }
        self.stack = QStackedWidget(self)
        for name, table in self.tables.items():
            table.setObjectName(f"analytics-{name}")
            table.set_empty_text({"target": "Type a target link and press Show",
                                  "history": "Pick a company"}.get(name, "No orders in this range"))
            self.stack.addWidget(table)
        self.chart = ProfitChart(self, self.currency)
        self.chart.setMinimumHeight(120)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.chart)
        splitter.setSizes([300, 260])
        self.total = QLabel(self)
        self.total.setObjectName("analytics-total")
        self.total.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(toolbar_row(self, bar))
        layout.addWidget(self.total)
        layout.addWidget(splitter, 1)
        self.view.currentIndexChanged.connect(lambda _i: self._view_changed())
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda _d: self.refresh())
        self.company.currentIndexChanged.connect(lambda _i: self.refresh())
        self.link.returnPressed.connect(self.refresh)
        self._view_changed()

    def set_companies(self, companies) -> None:
        self.fill_companies(self.company, companies, "Pick a company")

    def current_view(self) -> str:
        return self.view.currentData()

    def set_view(self, key: str) -> None:
        self.view.setCurrentIndex(self.view.findData(key))

    def _view_changed(self) -> None:
        key = self.current_view()
        self.stack.setCurrentWidget(self.tables[key])
        self.link.setVisible(key == "target")
        self.company.setVisible(key == "history")
        self.refresh()

    def refresh(self) -> None:
        key, since, until = self.current_view(), date_of(self.since), date_of(self.until)
        analytics = self.ctx.desk.analytics
        if key == "target" and not self.link.text().strip():
            self._show((key, None))
            return
        company_id = self.company.currentData()
        if key == "history" and company_id is None:
            self._show((key, None))
            return
        link = self.link.text().strip()
        calls = {"companies": lambda: analytics.companies(since, until),
                 "summary": lambda: analytics.summary(since, until),
                 "target": lambda: analytics.target(link, since, until, limit=1000),
                 "history": lambda: analytics.history(company_id, since, until, limit=1000)}
        self._submit(lambda: (key, calls[key]()), on_success=self._show, supersede="view",
                     description="Computing analytics…")

    def _show(self, result) -> None:
        key, data = result
        if key != self.current_view():
            return
        self.data = data
        table = self.tables[key]
        if data is None:
            table.set_rows([])
            self.total.setText("")
            self.chart.set_bars("", [], {"target": "Type a target link and press Show to chart its orders",
                                         "history": "Pick a company to chart its orders"}[key])
        elif key == "companies":
            table.set_rows(data)
            grand = Totals(sum(f.totals.orders for f in data), sum((f.totals.cost for f in data), Decimal(0)),
                           sum((f.totals.revenue for f in data), Decimal(0)))
            self._total_text(grand)
            self.chart.set_bars("Revenue, cost and profit per company", [(f.name, f.totals) for f in data[:12]])
        elif key == "summary":
            lines = [SummaryLine(f"{group}:{name}", label, name.replace("_", " ") or "all", totals)
                     for group, label in (("byStatus", "status"), ("byServiceType", "type"), ("byNetwork", "network"))
                     for name, totals in data[group].items()]
            table.set_rows(lines)
            self._total_text(data["total"])
            self.chart.set_bars("Real cost vs revenue by service type",
                                list(data["byServiceType"].items()))
        else:
            table.set_rows(data["orders"])
            self._total_text(data["total"])
            by_status: dict[str, list] = {}
            for order in data["orders"]:
                by_status.setdefault(order.state.replace("_", " "), []).append(order)
            self.chart.set_bars("Revenue, cost and profit by status", [
                (state, Totals(len(orders), sum((o.net_cost for o in orders), Decimal(0)),
                               sum((o.revenue for o in orders), Decimal(0)))) for state, orders in by_status.items()])
        self.export_button.setEnabled(data is not None)
        self.loads += 1

    def _total_text(self, totals: Totals) -> None:
        cur = self.currency
        margin = "" if totals.margin is None else f" · margin {totals.margin} %"
        self.total.setText(f"{totals.orders:,} orders · real cost {money_text(totals.cost, cur)} · revenue "
                           f"{money_text(totals.revenue, cur)} · profit {money_text(totals.profit_shown, cur)}{margin}")

    def export_csv(self) -> None:
        if self.data is None:
            return
        key = self.current_view()
        path = self.ask_save_path("Export analytics", f"analytics-{key}.csv", "CSV files (*.csv)")
        if not path:
            return
        data = self.data
        self._submit(lambda: to_csv(key, data, path), on_success=lambda _t: self.message.emit(f"Exported {path}."),
                     description="Exporting…")

    def retheme(self) -> None:
        self.chart.retheme()
        self._view_changed()


# ---- integration log ------------------------------------------------------------------------
ACTIONS = ("services", "add", "status", "refill", "refill_status", "cancel", "balance")

CALL_COLUMNS = [
    Column("When", lambda c: fmt_datetime(c.at), sort=lambda c: c.at, width=140),
    Column("Action", lambda c: c.action, width=90),
    Column("Result", lambda c: "ok" if c.ok else "failed", width=60,
           foreground=lambda c: None if c.ok else QColor(theme.colors().error)),
    Column("HTTP", lambda c: c.http_status or "", sort=lambda c: c.http_status, align=RIGHT, width=50),
    Column("Time", lambda c: f"{c.duration_ms:,} ms", sort=lambda c: c.duration_ms, align=RIGHT, width=75),
    Column("Company", lambda c: c.company_id or "", sort=lambda c: c.company_id, align=RIGHT, width=70),
    Column("Parameters", lambda c: ", ".join(f"{k}={v}" for k, v in (c.params or {}).items()), width=260,
           tooltip=lambda c: ", ".join(f"{k}={v}" for k, v in (c.params or {}).items()) or None),
    Column("Answer or error", lambda c: (c.error or c.result or "").replace("\n", " ")[:300], stretch=True,
           tooltip=lambda c: (c.error or c.result or "")[:2000] or None),
]


class CallLogView(FampageView):
    """Every call to Fampage (parameters without the key) with filters by action, failure and company."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.action = QComboBox(self)
        self.action.setObjectName("log-action")
        self.action.addItem("All actions", None)
        for action in ACTIONS:
            self.action.addItem(action, action)
        self.failed = QCheckBox("Failed only", self)
        self.failed.setObjectName("log-failed")
        self.company = QComboBox(self)
        self.company.setObjectName("log-company")
        self.company.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = self._button("Refresh", "refresh", self.refresh, "Read the log again", "log-refresh")
        bar = QHBoxLayout()
        bar.addWidget(self.action)
        bar.addWidget(self.company)
        bar.addWidget(self.failed)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        self.table = RowTableView(CALL_COLUMNS, parent=self, settings_key="fampage-calls")
        self.table.setObjectName("fampage-calls")
        self.table.set_empty_text("No calls to Fampage yet", filtered="No call matches")
        self.count = QLabel(self)
        self.count.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(toolbar_row(self, bar))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        self.action.currentIndexChanged.connect(lambda _i: self.refresh())
        self.company.currentIndexChanged.connect(lambda _i: self.refresh())
        self.failed.toggled.connect(lambda _on: self.refresh())

    def set_companies(self, companies) -> None:
        self.fill_companies(self.company, companies)

    def refresh(self) -> None:
        action, company_id = self.action.currentData(), self.company.currentData()
        ok = False if self.failed.isChecked() else None
        self._submit(lambda: self.ctx.desk.fampage.calls(action=action, ok=ok, company_id=company_id, limit=1000),
                     on_success=self._show, supersede="list", description="Loading the Fampage log…")

    def _show(self, rows) -> None:
        self.table.set_rows(rows)
        failed = sum(1 for r in rows if not r.ok)
        self.count.setText(f"{len(rows):,} call{'s' if len(rows) != 1 else ''} (newest 1,000 at most)"
                           + (f" · {failed} failed" if failed else ""))
        self.loads += 1
