"""Invoices: issued from orders, with their PDFs rendered, written, printed and opened on a worker thread."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from giftdesk.core.private_files import private_folder, write_private
from giftdesk.fampage import operations
from giftdesk.fampage.actions import OrderApplicability, invoice_creation
from giftdesk.gui import theme
from giftdesk.gui.fampage.view_support import (
    COPY_PATH,
    INVOICE_STATUSES,
    SAVE_AS,
    FampageView,
    money_text,
    toolbar_row,
)
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import RIGHT, Column, RowTableView


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


CREATE_TIP = "Draft a new invoice for the voided invoice's order"


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
        self.create_button = self._button("Create invoice", "add", self.create_invoice,
                                          "Draft a new invoice for the voided invoice's order", "create-invoice",
                                          changes=True)
        self.order_invoice: tuple[int, Any, Any] | None = None  # (invoice id, its order, the order's invoice)
        self.select_after_load: int | None = None  # the invoice just drafted
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
        for button in (self.issue_button, self.pay_button, self.void_button, self.create_button, self.save_button,
                       self.open_button, self.print_button, self.zip_button):
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
        self.table.current_changed.connect(lambda _row: (self._update_actions(), self._look_up_order()))
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
        if self.select_after_load is not None and self.table.select_key(self.select_after_load):
            self.select_after_load = None
        self._update_actions()
        self._look_up_order()
        self.loads += 1

    def _update_actions(self) -> None:
        row = self.table.current_row()
        edit = self.can_edit and row is not None
        self.issue_button.setEnabled(edit and row.status == "draft")
        self.pay_button.setEnabled(edit and row.kind == "invoice" and row.status == "sent")
        self.void_button.setEnabled(edit and row.status not in ("void", "paid"))
        for button in (self.save_button, self.open_button, self.print_button):
            button.setEnabled(row is not None)
        applies = self._invoice_creation(row)
        self.create_button.setEnabled(applies.enabled)
        if self.can_edit:
            self.create_button.setToolTip(CREATE_TIP if applies.enabled else applies.reason)

    def _invoice_creation(self, row) -> OrderApplicability:
        if row is None:
            return OrderApplicability("create_invoice", reason="Select a voided invoice first")
        if row.kind != "invoice" or row.order_id is None:
            return OrderApplicability("create_invoice", reason=f"{row.label} is not an order's invoice")
        if row.status != "void":
            return OrderApplicability("create_invoice", reason=f"{row.label} is {row.status}: only a voided "
                                                               "invoice's order can be invoiced again")
        known = self.order_invoice
        if known is None or known[0] != row.id:
            return OrderApplicability("create_invoice", reason="Looking for the order's invoice…")
        return invoice_creation(known[1], known[2], may_edit=self.can_edit)

    def _look_up_order(self) -> None:
        """For a voided invoice: its order and whether it has a standing invoice again (off the GUI thread)."""
        row = self.table.current_row()
        if row is None or row.status != "void" or row.order_id is None or not self.can_edit:
            return
        orders = self.ctx.desk.orders
        self._submit(lambda: (orders.get(row.order_id), orders.invoice_of(row.order_id)),
                     supersede="order-invoice", description="Finding the order's invoice…",
                     on_success=lambda found, invoice_id=row.id: self._order_known(invoice_id, *found))

    def _order_known(self, invoice_id: int, order, invoice) -> None:
        self.order_invoice = (invoice_id, order, invoice)
        self._update_actions()

    def create_invoice(self) -> None:
        row = self.table.current_row()
        if row is None or not self._invoice_creation(row).enabled:
            return
        self.create_button.setEnabled(False)
        self._run(operations.CREATE_INVOICE, self.ctx.desk.invoices.create_for_order, row.order_id,
                  target=row.order_id, on_success=self._created, on_error=self._create_refused)

    def _created(self, invoice) -> None:
        self.message.emit(f"Drafted invoice #{invoice.id} for order #{invoice.order_id}.")
        self.select_after_load = invoice.id
        self.refresh()
        self.changed.emit()

    def _create_refused(self, exc: BaseException) -> None:
        self.order_invoice = None
        self._look_up_order()
        self.ctx.report(exc)

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
            self._run(operations.PAY_INVOICE, self.ctx.desk.invoices.pay, row.id, target=row.id,
                      on_success=lambda r: self._changed(r, "marked paid"))

    def void(self) -> None:
        row = self.table.current_row()
        if row is None or not Prompts.confirm(
                self, "Void invoice", operations.VOID_INVOICE.confirmation(label=row.label), destructive=True,
                confirm_text="Void"):
            return
        self._run(operations.VOID_INVOICE, self.ctx.desk.invoices.void, row.id, target=row.id,
                  on_success=lambda r: self._changed(r, "voided"))

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
