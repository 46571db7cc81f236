"""Administrators: list them and, for admins, add, change roles, reset passwords and delete.

Everyone can open the list; the editing controls are enabled for the admin role only. The rules
(roles, the super admin, password strength, duplicates) live in ``AdminService``: its errors are
shown inline in the small form dialogs, which keep what was typed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.db.models import ROLES
from giftdesk.gui.widgets.form_dialog import FormDialog
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import Column, RowTableView, fmt_datetime
from giftdesk.system.admins import MIN_PASSWORD_LENGTH

ROLE_HINTS = {
    "admin": "admin — everything, including administrators and settings",
    "operator": "operator — customers, accounts and API keys",
    "viewer": "viewer — read-only",
}


UNLOCK_TIP = "Let the selected administrator log in again at once (too many wrong passwords locked the name)"


def _password_field(parent: QWidget, name: str) -> QLineEdit:
    field = QLineEdit(parent)
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def _role_combo(parent: QWidget, current: str | None = None) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName("role")
    for role in ROLES:
        combo.addItem(ROLE_HINTS.get(role, role), role)
    if current is not None and (index := combo.findData(current)) >= 0:
        combo.setCurrentIndex(index)
    return combo


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AddAdminDialog(FormDialog):
    """After ``accepted``, ``result_row`` is the new AdminRow."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Add administrator", parent, ok_text="Add administrator")
        self.ctx = ctx
        self.result_row = None
        self.setMinimumWidth(460)
        form = QFormLayout()
        self.username = QLineEdit(self)
        self.username.setObjectName("username")
        self.username.setPlaceholderText("letters, digits and . _ - @")
        self.password = _password_field(self, "password")
        self.password.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.confirm = _password_field(self, "confirm")
        self.role = _role_combo(self, "operator")
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        form.addRow("&Confirm password", self.confirm)
        form.addRow("&Role", self.role)
        self.layout_.addLayout(form)
        self.fields = {"username": self.username, "password": self.password, "confirm": self.confirm,
                       "role": self.role}
        self.finish_layout()
        self.username.setFocus()

    def on_ok(self) -> None:
        if self.password.text() != self.confirm.text():
            self.show_error("The password and its confirmation differ.", "confirm")
            return
        self.submit(self.ctx.desk.admins.create, self.username.text(), self.password.text(), self.role.currentData(),
                    on_success=self._added, description="Adding the administrator…")

    def handle_error(self, exc: BaseException) -> None:
        super().handle_error(exc)
        from giftdesk.core.errors import ConflictError

        if isinstance(exc, ConflictError):  # the name is taken: point at it
            self.show_error(str(exc), "username")

    def _added(self, row) -> None:
        self.result_row = row
        self.accept()


class ChangeRoleDialog(FormDialog):
    def __init__(self, ctx, admin, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Change role", parent, ok_text="Change role")
        self.ctx = ctx
        self.admin = admin
        self.result_row = None
        self.setMinimumWidth(420)
        self.layout_.addWidget(QLabel(f"Role of <b>{_escape(admin.username)}</b> (now {admin.role}):", self))
        self.role = _role_combo(self, admin.role)
        self.layout_.addWidget(self.role)
        self.fields = {"role": self.role}
        self.finish_layout()
        self.role.setFocus()

    def on_ok(self) -> None:
        self.submit(self.ctx.desk.admins.set_role, self.admin.username, self.role.currentData(),
                    on_success=self._changed, description="Changing the role…")

    def _changed(self, row) -> None:
        self.result_row = row
        self.accept()


class ResetPasswordDialog(FormDialog):
    def __init__(self, ctx, admin, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Reset password", parent, ok_text="Reset password")
        self.ctx = ctx
        self.admin = admin
        self.setMinimumWidth(420)
        self.layout_.addWidget(QLabel(f"New password for <b>{_escape(admin.username)}</b>.", self))
        form = QFormLayout()
        self.new = _password_field(self, "new")
        self.new.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.confirm = _password_field(self, "confirm")
        form.addRow("&New password", self.new)
        form.addRow("&Confirm new password", self.confirm)
        self.layout_.addLayout(form)
        self.fields = {"password": self.new, "confirm": self.confirm}  # the service calls it "password"
        self.finish_layout()
        self.new.setFocus()

    def on_ok(self) -> None:
        if self.new.text() != self.confirm.text():
            self.show_error("The new password and its confirmation differ.", "confirm")
            return
        self.submit(self.ctx.desk.admins.reset_password, self.admin.username, self.new.text(),
                    on_success=lambda _: self.accept(), description="Resetting the password…")


class AdministratorsDialog(QDialog):
    """The list of administrators. ``dialog`` is the last form opened from it (tests reach it there)."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.can_edit = ctx.desk.actor.can("admin")
        self.dialog: QDialog | None = None
        self.loaded = False
        self.setWindowTitle("Administrators")
        self.setMinimumSize(780, 380)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        if not self.can_edit:
            note = QLabel(f"You are logged in as a {ctx.desk.actor.role}: the list is read-only. "
                          "An administrator can add, change and remove administrators.", self)
            note.setProperty("role", "banner-warning")
            note.setWordWrap(True)
            layout.addWidget(note)

        columns = [
            Column("Username", lambda a: a.username, sort=lambda a: a.username.casefold()),
            Column("Role", lambda a: a.role),
            Column("Super admin", lambda a: "yes" if a.is_super else "",
                   header_tooltip="The first administrator: always an admin, cannot be deleted"),
            Column("Created", lambda a: fmt_datetime(a.created_at), sort=lambda a: a.created_at),
            Column("Last login", lambda a: fmt_datetime(a.last_login_at, "never"), sort=lambda a: a.last_login_at),
            Column("Locked until", lambda a: fmt_datetime(a.locked_until, ""), sort=lambda a: a.locked_until,
                   header_tooltip="Too many wrong passwords: no login before then, unless an administrator "
                                  "unlocks the name", stretch=True),
        ]
        self.table = RowTableView(columns, parent=self, empty_text="Loading…", settings_key="administrators")
        self.table.setObjectName("admins-table")
        header = self.table.horizontalHeader()
        for i, width in enumerate((150, 80, 95, 130, 130)):
            header.resizeSection(i, width)
        self.table.current_changed.connect(lambda _row: self._update_actions())
        self.table.row_activated.connect(lambda _row: self.change_role() if self.can_edit else None)
        layout.addWidget(self.table, 1)

        actions = QHBoxLayout()
        self.add_button = self._button("&Add…", self.add_admin, "Add an administrator")
        self.role_button = self._button("Change &role…", self.change_role, "Change the selected administrator's role")
        self.reset_button = self._button("Reset &password…", self.reset_password,
                                         "Set a new password for the selected administrator")
        self.unlock_button = self._button("&Unlock", self.unlock_admin, UNLOCK_TIP)
        self.delete_button = self._button("&Delete…", self.delete_admin, "Delete the selected administrator")
        for button in (self.add_button, self.role_button, self.reset_button, self.unlock_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        self.refresh_button = self._button("Re&fresh", self.reload, "Load the list again")
        actions.addWidget(self.refresh_button)
        layout.addLayout(actions)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if not self.can_edit:
            tip = "Only administrators with the admin role can change administrators"
            for button in (self.add_button, self.role_button, self.reset_button, self.unlock_button,
                           self.delete_button):
                button.setToolTip(tip)
        self._update_actions()
        self.reload()

    def _button(self, text: str, slot, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # ---- loading -------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        self.ctx.runner.submit(self.ctx.desk.admins.list,
                               on_success=lambda rows: self._show(rows, select),
                               owner=self, description="Loading administrators…")

    def _show(self, rows, select: str | None) -> None:
        self.table.set_empty_text("No administrators")
        self.table.set_rows(rows)
        if select is not None:
            match = next((r for r in rows if r.username.lower() == select.lower()), None)
            if match is not None:
                self.table.select_key(match.id)
        self.loaded = True
        self._update_actions()

    def selected(self):
        return self.table.current_row()

    def _update_actions(self) -> None:
        chosen = self.selected() is not None
        self.add_button.setEnabled(self.can_edit)
        for button in (self.role_button, self.reset_button, self.delete_button):
            button.setEnabled(self.can_edit and chosen)
        admin = self.selected()
        locked = admin is not None and admin.locked_until is not None
        self.unlock_button.setEnabled(self.can_edit and locked)
        if self.can_edit:
            self.unlock_button.setToolTip(
                UNLOCK_TIP if locked else "Select an administrator first" if admin is None
                else f"'{admin.username}' is not locked: there is nothing to unlock")

    # ---- actions -------------------------------------------------------------------------
    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()
        return dialog

    def add_admin(self) -> AddAdminDialog | None:
        if not self.can_edit:
            return None
        dialog = AddAdminDialog(self.ctx, self)
        dialog.accepted.connect(lambda: self.reload(select=dialog.result_row.username))
        return self._open(dialog)

    def change_role(self) -> ChangeRoleDialog | None:
        admin = self.selected()
        if admin is None or not self.can_edit:
            return None
        dialog = ChangeRoleDialog(self.ctx, admin, self)
        dialog.accepted.connect(lambda: self.reload(select=admin.username))
        return self._open(dialog)

    def reset_password(self) -> ResetPasswordDialog | None:
        admin = self.selected()
        if admin is None or not self.can_edit:
            return None
        dialog = ResetPasswordDialog(self.ctx, admin, self)
        return self._open(dialog)

    def unlock_admin(self) -> None:
        admin = self.selected()
        if admin is None or admin.locked_until is None or not self.can_edit:
            return
        self.unlock_button.setEnabled(False)
        self.ctx.runner.submit(self.ctx.desk.admins.unlock, admin.username,
                               on_success=lambda _: self.reload(select=admin.username),
                               on_error=self._unlock_failed, owner=self, description="Unlocking the administrator…")

    def _unlock_failed(self, exc: BaseException) -> None:
        self._update_actions()
        ErrorRoute.report(exc)

    def delete_admin(self) -> None:
        admin = self.selected()
        if admin is None or not self.can_edit:
            return
        if not Prompts.confirm(self, "Delete administrator",
                               f"Delete the administrator '{admin.username}'? They will no longer be able to log in.",
                               destructive=True):
            return
        self.ctx.runner.submit(self.ctx.desk.admins.delete, admin.username,
                               on_success=lambda _: self.reload(),
                               on_error=ErrorRoute.report, owner=self, description="Deleting the administrator…")
