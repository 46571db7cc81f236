"""Small dialogs of the Fampage Orders tab: a company's details, an order's manual status.

Both hand what was typed to the services (``desk.companies``, ``desk.orders.set_status``), which
validate it; their sentences come back inline.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QPlainTextEdit, QWidget

from giftdesk.db.fampage_models import COMPANY_STATUSES
from giftdesk.gui.widgets.form_dialog import FormDialog

#: The provider's status words a person can set by hand (the raw text is kept as typed).
MANUAL_STATUSES = ("Pending", "In progress", "Processing", "Completed", "Partial", "Canceled", "Fail", "Refunded")


class CompanyDialog(FormDialog):
    """Add (``company`` None) or edit a client company. After ``accepted``: ``result_row``."""

    def __init__(self, ctx, company=None, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Edit company" if company else "Add company", parent)
        self.ctx = ctx
        self.company = company
        self.result_row = None
        self.setMinimumWidth(460)
        form = QFormLayout()
        self.edits: dict[str, QWidget] = {}
        for key, label in (("name", "&Name"), ("contact_name", "&Contact name"), ("email", "&E-mail"),
                           ("phone", "&Phone"), ("tax_id", "&Tax id"), ("currency", "C&urrency"),
                           ("invoice_multiplier", "Invoice &multiplier")):
            edit = QLineEdit(self)
            edit.setObjectName(f"company-{key}")
            form.addRow(label, edit)
            self.edits[key] = edit
        for key, label in (("address", "&Address"), ("notes", "N&otes")):
            edit = QPlainTextEdit(self)
            edit.setObjectName(f"company-{key}")
            edit.setFixedHeight(64)
            edit.setTabChangesFocus(True)
            form.addRow(label, edit)
            self.edits[key] = edit
        self.status = QComboBox(self)
        self.status.setObjectName("company-status")
        self.status.addItems(COMPANY_STATUSES)
        form.addRow("&Status", self.status)
        default = ctx.desk.settings.get("invoice.multiplier")
        self.edits["invoice_multiplier"].setPlaceholderText(f"{default} (from Settings)")
        self.edits["currency"].setPlaceholderText(ctx.desk.settings.get("invoice.currency"))
        self.layout_.addLayout(form)
        self.fields = {**self.edits, "status": self.status}
        self.finish_layout()
        if company is not None:
            for key, edit in self.edits.items():
                value = getattr(company, key)
                text = "" if value is None else str(value)
                edit.setPlainText(text) if isinstance(edit, QPlainTextEdit) else edit.setText(text)
            self.status.setCurrentText(company.status)

    def values(self) -> dict:
        values = {}
        for key, edit in self.edits.items():
            values[key] = (edit.toPlainText() if isinstance(edit, QPlainTextEdit) else edit.text()).strip() or None
        values["status"] = self.status.currentText()
        if values["currency"] is None:
            values.pop("currency")  # the service's default (Settings) for a new company
        return values

    def on_ok(self) -> None:
        values = self.values()
        companies = self.ctx.desk.companies
        if self.company is None:
            name = values.pop("name")
            self.submit(lambda: companies.create(name, **values), on_success=self._saved,
                        description="Adding the company…")
        else:
            company_id = self.company.id
            self.submit(lambda: companies.update(company_id, **values), on_success=self._saved,
                        description="Saving the company…")

    def _saved(self, row) -> None:
        self.result_row = row
        self.accept()


class OrderStatusDialog(FormDialog):
    """The manual status and stats edit of one order. After ``accepted``: ``result_row``."""

    def __init__(self, ctx, order, parent: QWidget | None = None):
        super().__init__(ctx.runner, f"Status of order #{order.id}", parent)
        self.ctx = ctx
        self.order = order
        self.result_row = None
        form = QFormLayout()
        self.status = QComboBox(self)
        self.status.setObjectName("order-status")
        self.status.setEditable(True)  # any provider word; unknown ones count as pending
        self.status.addItems(MANUAL_STATUSES)
        self.status.setCurrentText(order.status_raw or "Pending")
        form.addRow("&Status", self.status)
        self.remains = QLineEdit("" if order.remains is None else str(order.remains), self)
        self.remains.setObjectName("order-remains")
        form.addRow("&Remains", self.remains)
        self.start_count = QLineEdit("" if order.start_count is None else str(order.start_count), self)
        self.start_count.setObjectName("order-start-count")
        form.addRow("S&tart count", self.start_count)
        self.charge = QLineEdit("" if order.charge is None else str(order.charge), self)
        self.charge.setObjectName("order-charge")
        self.charge.setPlaceholderText(f"{order.cost} (estimate)")
        form.addRow("&Charge", self.charge)
        self.layout_.addLayout(form)
        self.fields = {"status": self.status, "remains": self.remains, "start_count": self.start_count,
                       "charge": self.charge}
        self.finish_layout()

    def on_ok(self) -> None:
        order_id = self.order.id
        status, remains = self.status.currentText(), self.remains.text().strip()
        start, charge = self.start_count.text().strip(), self.charge.text().strip()
        self.submit(lambda: self.ctx.desk.orders.set_status(order_id, status, remains=remains, start_count=start,
                                                            charge=charge or None),
                    on_success=self._saved, description="Saving the status…")

    def _saved(self, row) -> None:
        self.result_row = row
        self.accept()
