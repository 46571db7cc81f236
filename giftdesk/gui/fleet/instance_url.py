"""Edit the instance URL of an API key: a bad address is said beside the field, the text stays."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from giftdesk.gui.widgets.form_dialog import FormDialog


class InstanceUrlDialog(FormDialog):
    saved = Signal(object)  # the updated KeyRow

    def __init__(self, ctx, row, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Instance URL", parent)
        self.ctx = ctx
        self.row = row
        self.setMinimumWidth(460)
        intro = QLabel(f"Address of the tracker of @{row.tiktok_username} (empty clears it).", self)
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        form = QFormLayout()
        self.url = QLineEdit(row.instance_url or "", self)
        self.url.setObjectName("instance-url")
        self.url.setPlaceholderText("https://tracker.example.com")
        self.url.setClearButtonEnabled(True)
        form.addRow("&Instance URL", self.url)
        self.layout_.addLayout(form)
        self.fields["instance URL"] = self.url  # the service names the field so in its errors
        self.finish_layout()
        self.url.setFocus()

    def on_ok(self) -> None:
        keys, account_id, url = self.ctx.desk.keys, self.row.account_id, self.url.text().strip() or None
        self.submit(keys.set_instance_url, account_id, url, on_success=self._saved,
                    description=f"Saving the instance URL of @{self.row.tiktok_username}…")

    def _saved(self, updated) -> None:
        self.saved.emit(updated)
        self.accept()
