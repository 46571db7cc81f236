"""Change the logged-in administrator's own password."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from giftdesk.gui.widgets.form_dialog import FormDialog
from giftdesk.system.admins import MIN_PASSWORD_LENGTH


class ChangePasswordDialog(FormDialog):
    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Change password", parent, ok_text="Change password")
        self.ctx = ctx
        self.setMinimumWidth(420)
        intro = QLabel(f"Changing the password of <b>{ctx.desk.actor.username}</b>.", self)
        self.layout_.addWidget(intro)
        form = QFormLayout()
        self.current = self._password_field("current")
        self.new = self._password_field("new")
        self.new.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.confirm = self._password_field("confirm")
        form.addRow("C&urrent password", self.current)
        form.addRow("&New password", self.new)
        form.addRow("&Confirm new password", self.confirm)
        self.layout_.addLayout(form)
        # The service names the new password "password" in its validation errors.
        self.fields = {"current": self.current, "password": self.new, "confirm": self.confirm}
        self.finish_layout()
        self.current.setFocus()

    def _password_field(self, name: str) -> QLineEdit:
        field = QLineEdit(self)
        field.setObjectName(name)
        field.setEchoMode(QLineEdit.EchoMode.Password)
        return field

    def on_ok(self) -> None:
        if self.new.text() != self.confirm.text():
            self.show_error("The new password and its confirmation differ.", "confirm")
            return
        self.submit(self.ctx.desk.admins.change_password, self.current.text(), self.new.text(),
                    on_success=lambda _: self.accept(), description="Changing the password…")

    def handle_error(self, exc: BaseException) -> None:
        super().handle_error(exc)
        from giftdesk.core.errors import AuthenticationError

        if isinstance(exc, AuthenticationError):
            self.show_error(str(exc), "current")
