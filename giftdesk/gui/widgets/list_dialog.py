"""The rows a list dialog puts around its table: a toolbar above it, and below it a line saying
how the last action went (or a summary) beside the Close button."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QWidget,
)

from giftdesk.gui import theme


def toolbar_row(leading: Iterable[QWidget], trailing: Iterable[QWidget] = ()) -> QHBoxLayout:
    """``leading`` at the left, ``trailing`` pushed to the right."""
    bar = QHBoxLayout()
    for widget in leading:
        bar.addWidget(widget)
    bar.addStretch(1)
    for widget in trailing:
        bar.addWidget(widget)
    return bar


class ResultLine(QLabel):
    """A wrapped line whose colour follows its role ("success", "error", "muted", …)."""

    def __init__(self, name: str, role: str = "", selectable: bool = False, parent: QWidget | None = None):
        super().__init__("", parent)
        self.setObjectName(name)
        self.setWordWrap(True)
        if role:
            self.setProperty("role", role)
        if selectable:  # a refusal's sentence can be copied
            self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def say(self, text: str, role: str = "") -> None:
        self.setText(text)
        theme.set_role(self, role)


def closing_row(line: QLabel, dialog: QDialog) -> QLayout:
    """``line`` taking the width, and the dialog's Close button at its right."""
    row = QHBoxLayout()
    row.addWidget(line, 1)
    close = QPushButton("Close")
    close.clicked.connect(dialog.reject)
    row.addWidget(close, 0, Qt.AlignmentFlag.AlignBottom)  # level with the last line when the text wraps
    return row
