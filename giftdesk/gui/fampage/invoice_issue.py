"""Issue a draft invoice: the number it will take, its due days and tax rate, then Issue or Cancel.

Issuing takes a permanent, gap-free number and makes the invoice immutable, so it is asked first,
as invoicing apps do; the same service calls as `giftdesk invoice issue ID --due-days --tax-rate`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from giftdesk.gui.widgets.form_dialog import FormDialog

MAX_DUE_DAYS = 3650


class IssueInvoiceDialog(FormDialog):
    issued = Signal(object)  # the issued InvoiceRow

    def __init__(self, ctx, row, parent: QWidget | None = None):
        super().__init__(ctx.runner, f"Issue {row.label}", parent, ok_text="Issue")
        self.ctx = ctx
        self.row = row
        self.setMinimumWidth(440)
        intro = QLabel("Issuing numbers the invoice for good and freezes it: later corrections are credit "
                       "notes. Its credit notes still in draft are issued with it.", self)
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        form = QFormLayout()
        self.number = QLabel("…", self)
        self.number.setObjectName("issue-number")
        self.number.setToolTip("The next number of the series; another invoice issued meanwhile moves it on")
        form.addRow("Number", self.number)
        self.due_days = QSpinBox(self)
        self.due_days.setObjectName("issue-due-days")
        self.due_days.setRange(0, MAX_DUE_DAYS)
        self.due_days.setSuffix(" days")
        self.due_days.setValue(min(MAX_DUE_DAYS, int(ctx.desk.settings.get("invoice.due_days"))))
        form.addRow("&Due in", self.due_days)
        self.tax_rate = QLineEdit(f"{row.tax_rate.normalize():f}" if row.tax_rate is not None else "0", self)
        self.tax_rate.setObjectName("issue-tax-rate")
        form.addRow("&Tax rate (%)", self.tax_rate)
        self.layout_.addLayout(form)
        self.fields["tax rate"] = self.tax_rate  # the service names the field so in its errors
        self.finish_layout()
        self.ok_button.setEnabled(False)  # until the number is known
        self.loads = 0
        invoices = ctx.desk.invoices
        ctx.runner.submit(invoices.number_to_take, row.id, owner=self, on_success=self._numbered,
                          on_error=lambda exc: self.show_error(str(exc)), description="Reading the next number…")

    def _numbered(self, number: str) -> None:
        self.number.setText(number)
        self.ok_button.setEnabled(True)
        self.loads += 1

    def on_ok(self) -> None:
        invoices, invoice_id = self.ctx.desk.invoices, self.row.id
        due_days, tax_rate = self.due_days.value(), self.tax_rate.text().strip()
        current = f"{self.row.tax_rate.normalize():f}" if self.row.tax_rate is not None else "0"

        def issue():
            if tax_rate != current:
                invoices.set_tax(invoice_id, tax_rate)
            return invoices.issue(invoice_id, due_days)

        self.submit(issue, on_success=self._done, description=f"Issuing {self.row.label}…")

    def _done(self, issued) -> None:
        self.issued.emit(issued)
        self.accept()
