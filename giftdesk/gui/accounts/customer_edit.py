"""Create or edit a customer; add a TikTok account to one.

The service validates; errors are shown inline and the typed input stays. Viewers get the
same dialog read-only (``read_only``), so they can still read notes.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QWidget

from giftdesk.gui.widgets.form_dialog import FormDialog
from giftdesk.gui.errors import ErrorRoute


class CustomerDialog(FormDialog):
    """``customer`` None: create. After ``accepted``, ``result_row`` is the saved CustomerRow."""

    def __init__(self, ctx, customer=None, parent: QWidget | None = None, read_only: bool = False):
        title = "Add customer" if customer is None else ("Customer" if read_only else "Edit customer")
        super().__init__(ctx.runner, title, parent, ok_text="Add customer" if customer is None else "Save")
        self.ctx = ctx
        self.customer = customer
        self.result_row = None
        self.setMinimumWidth(480)
        form = QFormLayout()
        self.name = QLineEdit(self)
        self.name.setObjectName("name")
        self.name.setPlaceholderText("required")
        self.email = QLineEdit(self)
        self.email.setObjectName("email")
        self.email.setPlaceholderText("name@example.com")
        self.company = QLineEdit(self)
        self.company.setObjectName("company")
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(110)
        form.addRow("&Name", self.name)
        form.addRow("&E-mail", self.email)
        form.addRow("&Company", self.company)
        form.addRow("N&otes", self.notes)
        self.layout_.addLayout(form)
        self.fields = {"name": self.name, "email": self.email, "company": self.company, "notes": self.notes}
        if customer is not None:
            self.name.setText(customer.name)
            self.email.setText(customer.email or "")
            self.company.setText(customer.company or "")
            self.notes.setPlainText(customer.notes or "")
        if read_only:
            for widget in (self.name, self.email, self.company):
                widget.setReadOnly(True)
            self.notes.setReadOnly(True)
            self.ok_button.hide()
            note = QLabel("You have read-only access; an operator or admin can edit customers.", self)
            note.setProperty("role", "muted")
            self.layout_.addWidget(note)
        self.finish_layout()
        self.name.setFocus()

    def values(self) -> dict[str, str]:
        return {
            "name": self.name.text(),
            "email": self.email.text(),
            "company": self.company.text(),
            "notes": self.notes.toPlainText(),
        }

    def on_ok(self) -> None:
        values = self.values()
        customers = self.ctx.desk.customers
        if self.customer is None:
            self.submit(customers.create, values["name"], values["email"], values["company"], values["notes"],
                        on_success=self._saved, description="Adding the customer…")
        else:
            customer_id = self.customer.id
            self.submit(lambda: customers.update(customer_id, **values),
                        on_success=self._saved, description="Saving the customer…")

    def _saved(self, row) -> None:
        self.result_row = row
        self.accept()


class AddAccountDialog(FormDialog):
    """Adds a TikTok account to a customer and, by default, issues its API key.

    After ``accepted``: ``result_row`` is the AccountRow and ``api_key`` the new key (or None).
    """

    def __init__(self, ctx, customer, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Add TikTok account", parent, ok_text="Add account")
        self.ctx = ctx
        self.customer = customer
        self.result_row = None
        self.api_key: str | None = None
        self.setMinimumWidth(420)
        intro = QLabel(f"Add a TikTok account to <b>{_escape(customer.name)}</b>.", self)
        self.layout_.addWidget(intro)
        form = QFormLayout()
        self.handle = QLineEdit(self)
        self.handle.setObjectName("handle")
        self.handle.setPlaceholderText("@username")
        form.addRow("TikTok &handle", self.handle)
        self.generate = QCheckBox("&Generate an API key for its tracker", self)
        self.generate.setChecked(True)
        form.addRow("", self.generate)
        self.layout_.addLayout(form)
        self.fields = {"tiktok": self.handle}
        self.finish_layout()
        self.handle.setFocus()

    def on_ok(self) -> None:
        handle, generate, customer_id = self.handle.text(), self.generate.isChecked(), self.customer.id
        self.submit(self._add, customer_id, handle, generate, on_success=self._added,
                    description="Adding the TikTok account…")

    def _add(self, customer_id: int, handle: str, generate: bool):
        account = self.ctx.desk.customers.add_account(customer_id, handle)
        if not generate:
            return account, None, None
        try:
            return account, self.ctx.desk.keys.generate(account.id), None
        except Exception as exc:  # the account exists now: close the dialog, then report the key failure
            return account, None, exc

    def _added(self, result) -> None:
        self.result_row, self.api_key, key_error = result
        self.accept()
        if key_error is not None:
            ErrorRoute.report(key_error)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
