"""Form dialogs: each submits its work through the job runner and shows service errors inline.

``FormDialog`` is the shared shape: a form, an inline error line, OK/Cancel; ``submit`` runs a
service call off the GUI thread and closes the dialog only when it succeeds, keeping what was
typed when it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError, ValidationError
from giftdesk.gui.errors import ErrorRoute


class FormDialog(QDialog):
    """A dialog with an inline error line and a runner-backed submit."""

    def __init__(self, runner, title: str, parent: QWidget | None = None, ok_text: str = "Save"):
        super().__init__(parent)
        self.runner = runner
        self.setWindowTitle(title)
        self.setModal(True)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setSpacing(10)
        self.error = QLabel(self)
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.on_ok)
        self.buttons.rejected.connect(self.reject)
        self.fields: dict[str, QWidget] = {}  # service field name -> widget, for inline errors
        self._busy = False

    def finish_layout(self) -> None:
        """Call after adding the form: appends the error line and the buttons."""
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.buttons)

    def on_ok(self) -> None:  # override
        self.accept()

    # ---- errors --------------------------------------------------------------------------
    def show_error(self, message: str, field: str | None = None) -> None:
        self.clear_marks()
        widget = self.fields.get(field or "")
        label = self.label_of(widget) if widget is not None else None
        if field and label and message.lower().startswith(field.lower() + " "):
            # Service sentences start with the field's name ("email 'x' is…"): say it as the form does.
            message = label + message[len(field):]
        elif message[:1].islower():
            message = message[0].upper() + message[1:]
        self.error.setText(message)
        self.error.show()
        self._fit_height()
        if widget is not None:
            widget.setProperty("invalid", True)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
            self._watch(widget)
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()

    def _fit_height(self) -> None:
        """Grow to fit the error line: a wrapped sentence must not be drawn over the fields above it."""
        layout = self.layout_
        needed = (layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth()
                  else layout.totalSizeHint().height())
        if needed > self.height():
            self.resize(self.width(), needed)

    def label_of(self, widget: QWidget) -> str | None:
        """The text of the form label whose buddy is ``widget`` ("&E-mail" -> "E-mail")."""
        for label in self.findChildren(QLabel):
            if label.buddy() is widget and label.text():
                return label.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
        return None

    def _watch(self, widget: QWidget) -> None:
        """Editing a field marked invalid clears the mark and the message about it."""
        if widget.property("watched_for_edits"):
            return
        widget.setProperty("watched_for_edits", True)
        signal = getattr(widget, "textChanged", None)
        if signal is not None:
            signal.connect(lambda *_: self._edited(widget))

    def _edited(self, widget: QWidget) -> None:
        if not widget.property("invalid"):
            return
        widget.setProperty("invalid", False)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        if not any(w.property("invalid") for w in self.fields.values()):
            self.error.hide()
            self.error.clear()

    def clear_marks(self) -> None:
        for widget in self.fields.values():
            if widget.property("invalid"):
                widget.setProperty("invalid", False)
                widget.style().unpolish(widget)
                widget.style().polish(widget)

    def clear_error(self) -> None:
        self.clear_marks()
        self.error.hide()
        self.error.clear()

    def handle_error(self, exc: BaseException) -> None:
        """Expected problems stay in the dialog; bugs go to the one error route."""
        self.set_busy(False)
        if isinstance(exc, GiftDeskError):
            self.show_error(str(exc), exc.field if isinstance(exc, ValidationError) else None)
        else:
            ErrorRoute.report(exc)

    # ---- work ----------------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, on_success: Callable[[Any], None], description: str) -> None:
        if self._busy:
            return
        self.clear_error()
        self.set_busy(True)

        def done(result: Any) -> None:
            self.set_busy(False)
            on_success(result)

        self.runner.submit(fn, *args, on_success=done, on_error=self.handle_error,
                           owner=self, description=description)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.ok_button.setEnabled(not busy)
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)

    @property
    def busy(self) -> bool:
        return self._busy


def text_of(widget: QWidget) -> str:
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QLineEdit):
        return widget.text()
    raise TypeError(type(widget))
