"""The main window's status bar: database, Docker engine, tracker endpoint, keyring and busy state.

Docker and endpoint states come from the background runtime (``RuntimeView``); nothing here
talks to the engine or the server.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QPlainTextEdit, QProgressBar,
                               QSizePolicy, QStatusBar, QToolButton, QVBoxLayout, QWidget)

from giftdesk.docker.state import DockerState
from giftdesk.gui import theme
from giftdesk.gui.runtime_view import endpoint_label
from giftdesk.gui.widgets.elided import ElidedLabel

log = logging.getLogger(__name__)

BUSY_SHOW_DELAY_MS = 250  # quick jobs do not flash the progress bar


_PANEL_HINT = "\n\nClick for the engine panel."
HISTORY_SIZE = 100  # messages the history keeps
PERMANENT_MAX_WIDTH = 240  # px: a long state (an endpoint error) is elided, never pushes the message out


class MessagesDialog(QDialog):
    """The last messages with their times, newest last; selectable and copyable."""

    def __init__(self, history, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("messages-dialog")
        self.setWindowTitle("Messages")
        self.resize(720, 380)
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("Copy all", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_all)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.show_history(history)

    def show_history(self, history) -> None:
        lines = [f"{at:%H:%M:%S}  {text}" for at, text in history]
        self.text.setPlainText("\n".join(lines) if lines else "No messages yet.")
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)

    def copy_all(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(self.text.toPlainText())


class StatusBar(QStatusBar):
    """Permanent widgets on the right; messages (``showMessage``) in a message area on the left that
    takes the rest of the width, and a history of the last messages behind the button before it."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        desk = ctx.desk
        self.setSizeGripEnabled(True)

        # Messages: the one feedback after most actions, so they get the room and a history.
        self.history: deque[tuple[datetime, str]] = deque(maxlen=HISTORY_SIZE)
        self.history_button = QToolButton(self)
        self.history_button.setObjectName("status-messages")
        self.history_button.setAutoRaise(True)
        self.history_button.setIcon(theme.icon("logs"))
        self.history_button.setToolTip(f"Messages: the last {HISTORY_SIZE}, with their times")
        self.history_button.clicked.connect(self.open_history)
        self.message_label = ElidedLabel("", self)
        self.message_label.setObjectName("status-message")
        # The rest of the width, whatever the text: the permanent labels keep their compact size, and a
        # long message never widens the window.
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message_label.setMinimumWidth(160)  # in a narrow window the labels give way first
        self.message_label.setCursor(Qt.CursorShape.PointingHandCursor)
        self.message_label.clicked.connect(self.open_history)
        self.messages_dialog: MessagesDialog | None = None
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(lambda: self.message_label.setText(""))
        self.addWidget(self.history_button)
        self.addWidget(self.message_label, 1)

        # Busy: a small indeterminate bar and what is running, after a short delay.
        self.busy = QWidget(self)
        busy_layout = QHBoxLayout(self.busy)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        self.busy_bar = QProgressBar(self.busy)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedSize(80, 12)
        self.busy_bar.setTextVisible(False)
        self.busy_label = ElidedLabel("", self.busy, PERMANENT_MAX_WIDTH)
        busy_layout.addWidget(self.busy_bar)
        busy_layout.addWidget(self.busy_label)
        self.busy.hide()
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.timeout.connect(self._show_busy)
        self._busy_count = 0
        ctx.runner.busy_changed.connect(self.set_busy)

        # Database
        self.database = ElidedLabel("", self, PERMANENT_MAX_WIDTH)
        sqlite = desk.db.sqlite_path
        if sqlite is not None:
            self.database.setText(f"Database: {Path(sqlite).name}")
            self.database.setToolTip(f"SQLite database\n{sqlite}")
        else:
            self.database.setText(f"Database: {desk.db.engine.dialect.name}")
            self.database.setToolTip(desk.db.display_name)
        self.database.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Docker and endpoint (filled by their monitors)
        self.docker = ElidedLabel(DockerState(None).short_label, self, PERMANENT_MAX_WIDTH)
        self.docker.setObjectName("status-docker")
        self.docker.setToolTip(DockerState(None).tooltip + _PANEL_HINT)
        self.docker.setCursor(Qt.CursorShape.PointingHandCursor)
        self.docker.clicked.connect(self.open_engine_panel)
        self.engine_panel = None
        self.endpoint = ElidedLabel("Endpoint: off", self, PERMANENT_MAX_WIDTH)

        # Keyring: the backend in use, and a visible warning when it is the file fallback
        self.keyring = ElidedLabel("Keyring: …", self, PERMANENT_MAX_WIDTH)
        # Choosing the backend imports keyring and may ask D-Bus: off the GUI thread.
        secrets = desk.secrets
        ctx.runner.submit(lambda: (secrets.backend_name, secrets.warning, secrets.is_fallback),
                          on_success=lambda state: self.set_keyring_state(*state),
                          description="Checking the keyring…")

        # Background services (scheduler, fleet watcher, order sync…): one word, details on hover
        self.services = ElidedLabel("", self, PERMANENT_MAX_WIDTH)
        self.services.hide()
        self._service_statuses: dict = {}

        for widget in (self.busy, self.database, self.docker, self.endpoint, self.services, self.keyring):
            self.addPermanentWidget(widget)

    # ---- messages ------------------------------------------------------------------------
    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt)
        """Shown in the message area (whole when the window allows) and kept in the history."""
        text = " ".join((text or "").split())  # one line: a multi-line outcome reads on one
        self.message_label.setText(text)
        if text:
            self.history.append((datetime.now(), text))
            if self.messages_dialog is not None and self.messages_dialog.isVisible():
                self.messages_dialog.show_history(self.history)
        if timeout > 0:
            self._message_timer.start(timeout)
        else:
            self._message_timer.stop()

    def currentMessage(self) -> str:  # noqa: N802 (Qt)
        return self.message_label.text() or super().currentMessage()

    def clearMessage(self) -> None:  # noqa: N802 (Qt)
        self.message_label.setText("")
        super().clearMessage()

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt)
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.PaletteChange:
            self.history_button.setIcon(theme.icon("logs"))  # light or dark strokes with the palette
        super().changeEvent(event)

    def open_history(self) -> None:
        import shiboken6

        if self.messages_dialog is None or not shiboken6.isValid(self.messages_dialog):
            self.messages_dialog = MessagesDialog(self.history, self.window())
            self.messages_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        else:
            self.messages_dialog.show_history(self.history)
        self.messages_dialog.show()
        self.messages_dialog.raise_()
        self.messages_dialog.activateWindow()

    def set_keyring_state(self, backend: str, warning: str | None, is_fallback: bool) -> None:
        if warning or is_fallback:
            self.keyring.setText("⚠ Secrets in a file, not the keyring" if warning else "Keyring: file")
            self.keyring.setProperty("role", "warning" if warning else None)
            self.keyring.setToolTip(warning or f"Secrets are kept in {backend}")
        else:
            self.keyring.setText(f"Keyring: {_short_backend(backend)}")
            self.keyring.setToolTip(f"API keys are stored in the system keyring ({backend})")

    # ---- busy ----------------------------------------------------------------------------
    def set_busy(self, count: int, description: str) -> None:
        self._busy_count = count
        if count <= 0:
            self._busy_timer.stop()
            self.busy.hide()
            return
        text = description or "Working…"
        if count > 1:
            text += f" (+{count - 1})"
        self.busy_label.setText(text)
        if not self.busy.isVisible() and not self._busy_timer.isActive():
            self._busy_timer.start(BUSY_SHOW_DELAY_MS)

    def _show_busy(self) -> None:
        if self._busy_count > 0:
            self.busy.show()

    # ---- monitors ------------------------------------------------------------------------
    def set_service_status(self, status) -> None:
        """Any background service's ``ServiceStatus``; a failing one turns the label into a warning."""
        self._service_statuses[status.name] = status
        statuses = [s for s in self._service_statuses.values() if s.state != "stopped"]
        failing = [s for s in statuses if s.state == "backoff"]
        if not statuses:
            self.services.hide()
            return
        if failing:
            names = ", ".join(s.name for s in failing)
            self.services.setText(f"⚠ Background: {names} failing")
            theme.set_role(self.services, "warning")
        else:
            self.services.setText(f"Background: {len(statuses)} running")
            theme.set_role(self.services, None)
        lines = []
        for s in sorted(statuses, key=lambda s: s.name):
            line = f"{s.name}: {s.state}"
            if s.detail:
                line += f" — {s.detail}"
            if s.state == "backoff" and s.error:
                line += f"\n    {s.error}"
            lines.append(line)
        self.services.setToolTip("Background services\n" + "\n".join(lines))
        self.services.show()

    def set_docker_state(self, state: DockerState) -> None:
        self.docker.setText(state.short_label)
        self.docker.setToolTip(state.tooltip + _PANEL_HINT)
        theme.set_role(self.docker, "muted" if state.reachable is False else None)

    def open_engine_panel(self) -> None:
        import shiboken6

        from giftdesk.gui.fleet.engine_panel import EnginePanel

        if self.engine_panel is not None and shiboken6.isValid(self.engine_panel) and self.engine_panel.isVisible():
            self.engine_panel.refresh()  # one panel: a second click brings it up to date
            self.engine_panel.raise_()
            self.engine_panel.activateWindow()
            return
        self.engine_panel = EnginePanel(self.ctx, parent=self.window())
        self.engine_panel.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.engine_panel.show()

    def set_endpoint_state(self, status) -> None:
        """``status``: the endpoint service's ``ServiceStatus`` (None: not started)."""
        label, tooltip, is_error = endpoint_label(status)
        self.endpoint.setText(label)
        self.endpoint.setToolTip(tooltip)
        theme.set_role(self.endpoint, "error" if is_error else None)


def _short_backend(name: str) -> str:
    """``SecretService.Keyring`` → ``SecretService``; ``macOS.Keyring`` → ``macOS``."""
    head = name.split(" ")[0]
    parts = head.split(".")
    if len(parts) >= 2 and parts[-1] == "Keyring":
        return parts[-2]
    return head
