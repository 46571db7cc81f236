"""Start-up dialogs: create the first administrator (the super admin), or log in.

Both hash passwords (scrypt, deliberately slow) in the job runner, so the window stays
responsive; wrong passwords and rule violations are shown inline. After ``accepted``,
``actor`` is the logged-in administrator.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from giftdesk import APP_NAME, __version__
from giftdesk.gui import theme
from giftdesk.gui.widgets.form_dialog import FormDialog
from giftdesk.system.passwords import MIN_PASSWORD_LENGTH
from giftdesk.core.context import Actor


def _header(parent: QWidget, title: str, text: str) -> QWidget:
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 6)
    row.setSpacing(14)
    logo = QLabel(box)
    logo.setPixmap(theme.app_icon().pixmap(56, 56))
    logo.setAlignment(Qt.AlignmentFlag.AlignTop)
    row.addWidget(logo)
    words = QVBoxLayout()
    words.setSpacing(4)
    heading = QLabel(title, box)
    heading.setProperty("role", "heading")
    words.addWidget(heading)
    body = QLabel(text, box)
    body.setWordWrap(True)
    body.setProperty("role", "muted")
    words.addWidget(body)
    words.addStretch(1)
    row.addLayout(words, 1)
    return box


class LoginDialog(FormDialog):
    def __init__(self, desk, runner, parent: QWidget | None = None):
        super().__init__(runner, f"{APP_NAME} — Log in", parent, ok_text="Log in")
        self.desk = desk
        self.actor: Actor | None = None
        self.setMinimumWidth(440)
        self.layout_.addWidget(_header(
            self, "Log in to GiftDesk",
            f"Data folder: {desk.paths.root}",
        ))
        form = QFormLayout()
        self.username = QLineEdit(self)
        self.username.setObjectName("username")
        self.password = QLineEdit(self)
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        self.layout_.addLayout(form)
        self.fields = {"username": self.username, "password": self.password}
        self.buttons.button(self.buttons.StandardButton.Cancel).setText("Quit")
        self.finish_layout()
        self.username.setFocus()

    def on_ok(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if not username:
            self.show_error("Enter your username.", "username")
            return
        desk = self.desk  # its administrators' service is looked up (made, the ORM loaded) on the worker
        self.submit(lambda name, secret: desk.admins.authenticate(name, secret), username, password,
                    on_success=self._logged_in, description="Checking the password…")

    def handle_error(self, exc: BaseException) -> None:
        super().handle_error(exc)
        self.password.clear()
        if self.username.text().strip():
            self.password.setFocus()

    def _logged_in(self, actor: Actor) -> None:
        self.actor = actor
        self.accept()


class FirstRunDialog(FormDialog):
    """Creates the first administrator, who becomes the super admin, and logs them in."""

    def __init__(self, desk, runner, parent: QWidget | None = None):
        super().__init__(runner, f"{APP_NAME} — First start", parent, ok_text="Create administrator")
        self.desk = desk
        self.actor: Actor | None = None
        self.setMinimumWidth(500)
        self.layout_.addWidget(_header(
            self, f"Welcome to {APP_NAME} {__version__}",
            "Create the first administrator. This account becomes the super admin: it always keeps "
            "the admin role and cannot be deleted. You can add more administrators later.",
        ))
        form = QFormLayout()
        self.username = QLineEdit(self)
        self.username.setObjectName("username")
        self.username.setPlaceholderText("letters, digits, . _ - @")
        self.password = QLineEdit(self)
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.confirm = QLineEdit(self)
        self.confirm.setObjectName("confirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        form.addRow("&Confirm password", self.confirm)
        self.layout_.addLayout(form)
        where = QLabel(f"Data folder: {desk.paths.root}", self)
        where.setProperty("role", "muted")
        where.setWordWrap(True)
        self.layout_.addWidget(where)
        self.fields = {"username": self.username, "password": self.password, "confirm": self.confirm}
        self.buttons.button(self.buttons.StandardButton.Cancel).setText("Quit")
        self.finish_layout()
        self.username.setFocus()

    def on_ok(self) -> None:
        username, password = self.username.text(), self.password.text()
        if password != self.confirm.text():
            self.show_error("The two passwords differ; type the same password twice.", "confirm")
            return
        self.submit(self._create, username, password, on_success=self._created,
                    description="Creating the administrator…")

    def _create(self, username: str, password: str) -> Actor:
        self.desk.admins.create(username, password)
        return self.desk.admins.authenticate(username, password)

    def _created(self, actor: Actor) -> None:
        self.actor = actor
        self.accept()
